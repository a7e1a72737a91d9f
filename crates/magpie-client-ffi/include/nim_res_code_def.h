/* NIM's result codes (enum NIMResCode), from the generated nim_c_api.h. */
#ifndef NIM_RES_CODE_DEF_H
#define NIM_RES_CODE_DEF_H
#include "nim_c_defs.h"
#endif
