/* NIM's system notification functions (nim_sysmsg_*), from the generated nim_c_api.h. */
#ifndef NIM_SYSMSG_H
#define NIM_SYSMSG_H
#include "nim_sysmsg_def.h"
#include "nim_c_api.h"
#endif
