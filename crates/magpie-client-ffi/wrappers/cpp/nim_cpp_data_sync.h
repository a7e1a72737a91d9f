/* NIM's C++ data_sync API: see nim_cpp_messaging.h. */
#pragma once
#include "nim_cpp_api.h"
