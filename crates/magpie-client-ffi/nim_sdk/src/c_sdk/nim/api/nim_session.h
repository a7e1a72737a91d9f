/* NIM's include path src/c_sdk/nim/api/nim_session.h: Magpie's include/nim_session.h. */
#ifndef MAGPIE_NIM_SDK_NIM_SDK_SRC_C_SDK_NIM_API_NIM_SESSION_H
#define MAGPIE_NIM_SDK_NIM_SDK_SRC_C_SDK_NIM_API_NIM_SESSION_H
#include "../../../../../include/nim_session.h"
#endif
