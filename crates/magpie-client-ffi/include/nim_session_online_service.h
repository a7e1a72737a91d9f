/* NIM's session service functions (nim_session_online_service_*), from the
   generated nim_c_api.h. */
#ifndef NIM_SESSION_ONLINE_SERVICE_H
#define NIM_SESSION_ONLINE_SERVICE_H
#include "nim_session_online_service_def.h"
#include "nim_c_api.h"
#endif
