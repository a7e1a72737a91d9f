/* NIM's talk functions (nim_talk_*), from the generated nim_c_api.h. */
#ifndef NIM_TALK_H
#define NIM_TALK_H
#include "nim_talk_def.h"
#include "nim_c_api.h"
#endif
