/* NIM's include path public_define/defines/nim_define/nim_msglog_def.h: Magpie's include/nim_msglog_def.h. */
#ifndef MAGPIE_NIM_SDK_NIM_SDK_PUBLIC_DEFINE_DEFINES_NIM_DEFINE_NIM_MSGLOG_DEF_H
#define MAGPIE_NIM_SDK_NIM_SDK_PUBLIC_DEFINE_DEFINES_NIM_DEFINE_NIM_MSGLOG_DEF_H
#include "../../../../include/nim_msglog_def.h"
#endif
