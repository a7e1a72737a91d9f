/* NIM's include path src/c_sdk/nim/api/nim_client.h: Magpie's include/nim_client.h. */
#ifndef MAGPIE_NIM_SDK_NIM_SDK_SRC_C_SDK_NIM_API_NIM_CLIENT_H
#define MAGPIE_NIM_SDK_NIM_SDK_SRC_C_SDK_NIM_API_NIM_CLIENT_H
#include "../../../../../include/nim_client.h"
#endif
