/* NIM's include path src/cpp_sdk/nim/api/nim_cpp_session.h: Magpie's wrappers/cpp/nim_cpp_api.h. */
#ifndef MAGPIE_NIM_SDK_NIM_SDK_SRC_CPP_SDK_NIM_API_NIM_CPP_SESSION_H
#define MAGPIE_NIM_SDK_NIM_SDK_SRC_CPP_SDK_NIM_API_NIM_CPP_SESSION_H
#include "../../../../../wrappers/cpp/nim_cpp_api.h"
#endif
