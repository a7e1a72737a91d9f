/* NIM's C++ session service API (SessionOnLineService): see nim_cpp_messaging.h. */
#pragma once
#include "nim_cpp_api.h"
