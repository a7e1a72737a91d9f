/* NIM's include path src/c_sdk/nim/api/nim_msglog.h: Magpie's include/nim_msglog.h. */
#ifndef MAGPIE_NIM_SDK_NIM_SDK_SRC_C_SDK_NIM_API_NIM_MSGLOG_H
#define MAGPIE_NIM_SDK_NIM_SDK_SRC_C_SDK_NIM_API_NIM_MSGLOG_H
#include "../../../../../include/nim_msglog.h"
#endif
