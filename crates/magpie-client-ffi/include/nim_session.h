/* NIM's session functions (nim_session_*), from the generated nim_c_api.h. */
#ifndef NIM_SESSION_H
#define NIM_SESSION_H
#include "nim_session_def.h"
#include "nim_c_api.h"
#endif
