/* NIM's include path src/c_sdk/nim/api/nim_global.h: Magpie's include/nim_global.h. */
#ifndef MAGPIE_NIM_SDK_NIM_SDK_SRC_C_SDK_NIM_API_NIM_GLOBAL_H
#define MAGPIE_NIM_SDK_NIM_SDK_SRC_C_SDK_NIM_API_NIM_GLOBAL_H
#include "../../../../../include/nim_global.h"
#endif
