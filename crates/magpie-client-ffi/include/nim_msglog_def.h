/* NIM's message history definitions: enum NIMMsglogQuerySource, the
   callback typedef nim_msglog_query_cb_func from the generated
   nim_c_defs.h, and the JSON keys of a query result. */
#ifndef NIM_MSGLOG_DEF_H
#define NIM_MSGLOG_DEF_H
#include "nim_talk_def.h"

NIM_JSON_KEY kNIMMsglogQueryKeyCount = "count";         /**< int */
NIM_JSON_KEY kNIMMsglogQueryKeySource = "source";       /**< int, NIMMsglogQuerySource */
NIM_JSON_KEY kNIMMsglogQueryKeyContent = "content";     /**< array of message objects */
#endif
