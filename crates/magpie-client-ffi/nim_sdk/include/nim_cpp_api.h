/* NIM's include path include/nim_cpp_api.h (the C++ umbrella): Magpie's wrappers/cpp/nim_cpp_api.h. */
#ifndef MAGPIE_NIM_SDK_NIM_SDK_INCLUDE_NIM_CPP_API_H
#define MAGPIE_NIM_SDK_NIM_SDK_INCLUDE_NIM_CPP_API_H
#include "../../wrappers/cpp/nim_cpp_api.h"
#endif
