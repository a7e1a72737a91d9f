/* NIM's include path public_define/defines/nim_define/nim_global_def.h: Magpie's include/nim_global_def.h. */
#ifndef MAGPIE_NIM_SDK_NIM_SDK_PUBLIC_DEFINE_DEFINES_NIM_DEFINE_NIM_GLOBAL_DEF_H
#define MAGPIE_NIM_SDK_NIM_SDK_PUBLIC_DEFINE_DEFINES_NIM_DEFINE_NIM_GLOBAL_DEF_H
#include "../../../../include/nim_global_def.h"
#endif
