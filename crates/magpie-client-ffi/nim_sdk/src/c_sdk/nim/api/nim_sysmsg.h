/* NIM's include path src/c_sdk/nim/api/nim_sysmsg.h: Magpie's include/nim_sysmsg.h. */
#ifndef MAGPIE_NIM_SDK_NIM_SDK_SRC_C_SDK_NIM_API_NIM_SYSMSG_H
#define MAGPIE_NIM_SDK_NIM_SDK_SRC_C_SDK_NIM_API_NIM_SYSMSG_H
#include "../../../../../include/nim_sysmsg.h"
#endif
