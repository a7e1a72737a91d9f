/* NIM's client functions (nim_client_*), from the generated nim_c_api.h. */
#ifndef NIM_CLIENT_H
#define NIM_CLIENT_H
#include "nim_client_def.h"
#include "nim_c_api.h"
#endif
