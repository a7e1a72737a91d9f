/* NIM's C++ msglog API: see nim_cpp_messaging.h. */
#pragma once
#include "nim_cpp_api.h"
