/* NIM's include path public_define/nim_util_include.h: Magpie's include/nim_global_def.h. */
#ifndef MAGPIE_NIM_SDK_NIM_SDK_PUBLIC_DEFINE_NIM_UTIL_INCLUDE_H
#define MAGPIE_NIM_SDK_NIM_SDK_PUBLIC_DEFINE_NIM_UTIL_INCLUDE_H
#include "../../include/nim_global_def.h"
#endif
