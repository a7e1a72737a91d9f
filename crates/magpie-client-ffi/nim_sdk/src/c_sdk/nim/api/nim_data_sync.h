/* NIM's include path src/c_sdk/nim/api/nim_data_sync.h: Magpie's include/nim_data_sync.h. */
#ifndef MAGPIE_NIM_SDK_NIM_SDK_SRC_C_SDK_NIM_API_NIM_DATA_SYNC_H
#define MAGPIE_NIM_SDK_NIM_SDK_SRC_C_SDK_NIM_API_NIM_DATA_SYNC_H
#include "../../../../../include/nim_data_sync.h"
#endif
