/* NIM's include path src/cpp_sdk/nim/helper/nim_client_helper.h: Magpie's wrappers/cpp/nim_cpp_api.h. */
#ifndef MAGPIE_NIM_SDK_NIM_SDK_SRC_CPP_SDK_NIM_HELPER_NIM_CLIENT_HELPER_H
#define MAGPIE_NIM_SDK_NIM_SDK_SRC_CPP_SDK_NIM_HELPER_NIM_CLIENT_HELPER_H
#include "../../../../../wrappers/cpp/nim_cpp_api.h"
#endif
