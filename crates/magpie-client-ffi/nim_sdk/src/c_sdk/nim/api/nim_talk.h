/* NIM's include path src/c_sdk/nim/api/nim_talk.h: Magpie's include/nim_talk.h. */
#ifndef MAGPIE_NIM_SDK_NIM_SDK_SRC_C_SDK_NIM_API_NIM_TALK_H
#define MAGPIE_NIM_SDK_NIM_SDK_SRC_C_SDK_NIM_API_NIM_TALK_H
#include "../../../../../include/nim_talk.h"
#endif
