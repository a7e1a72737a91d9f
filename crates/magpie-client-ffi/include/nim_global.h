/* NIM's global functions (nim_global_set_proxy), from the generated nim_c_api.h. */
#ifndef NIM_GLOBAL_H
#define NIM_GLOBAL_H
#include "nim_global_def.h"
#include "nim_c_api.h"
#endif
