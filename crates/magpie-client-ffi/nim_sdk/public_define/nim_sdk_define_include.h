/* NIM's include path public_define/nim_sdk_define_include.h (the definitions inside namespace nim): Magpie's wrappers/cpp/nim_cpp_api.h. */
#ifndef MAGPIE_NIM_SDK_NIM_SDK_PUBLIC_DEFINE_NIM_SDK_DEFINE_INCLUDE_H
#define MAGPIE_NIM_SDK_NIM_SDK_PUBLIC_DEFINE_NIM_SDK_DEFINE_INCLUDE_H
#include "../../wrappers/cpp/nim_cpp_api.h"
#endif
