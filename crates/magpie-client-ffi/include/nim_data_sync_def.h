/* NIM's data sync definitions: enums NIMDataSyncType and NIMDataSyncStatus
   and the callback typedef nim_data_sync_cb_func, from the generated
   nim_c_defs.h. */
#ifndef NIM_DATA_SYNC_DEF_H
#define NIM_DATA_SYNC_DEF_H
#include "nim_global_def.h"
#endif
