/* NIM's global definitions: the JSON result key, the callback typedefs and
   enum NIMProxyType, from the generated nim_c_api.h. */
#ifndef NIM_GLOBAL_DEF_H
#define NIM_GLOBAL_DEF_H
#include "nim_c_defs.h"

/* JSON keys are constants, as in NIM's headers; unused ones draw no warning. */
#if defined(__GNUC__) || defined(__clang__)
#define NIM_JSON_KEY static const char *const __attribute__((unused))
#else
#define NIM_JSON_KEY static const char *const
#endif
NIM_JSON_KEY kNIMResCode = "err_code"; /**< int, NIMResCode */
#endif
