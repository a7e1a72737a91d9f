/* NIM's C++ sysmsg API: see nim_cpp_messaging.h. */
#pragma once
#include "nim_cpp_api.h"
