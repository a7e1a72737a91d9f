/* NIM's talk functions (nim_talk_*), from the generated nim_c_api.h. */
#ifndef NIM_TALK_H
#define NIM_TALK_H
#include "nim_talk_def.h"
#include "nim_c_api.h"
#ifdef __cplusplus
/* NIM declares nim_talk_recall_msg_ex's extra parameters as a C++
   reference; the exported function takes the pointer that reference is in
   the ABI. This overload lets NIM's C++ calls compile unchanged. */
inline void nim_talk_recall_msg_ex(const char *json_msg, const char *notify, nim_talk_recall_msg_func cb,
				   nim_talk_recall_extra_params &extra_params, const void *user_data)
{
	nim_talk_recall_msg_ex(json_msg, notify, cb, &extra_params, user_data);
}
#endif
#endif
