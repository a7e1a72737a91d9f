/* NIM's message history functions (nim_msglog_*), from the generated nim_c_api.h. */
#ifndef NIM_MSGLOG_H
#define NIM_MSGLOG_H
#include "nim_msglog_def.h"
#include "nim_c_api.h"
#endif
