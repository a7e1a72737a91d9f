/* NIM's data sync function (nim_data_sync_reg_complete_cb), from the generated nim_c_api.h. */
#ifndef NIM_DATA_SYNC_H
#define NIM_DATA_SYNC_H
#include "nim_data_sync_def.h"
#include "nim_c_api.h"
#endif
