/* NIM's message history definitions: enum NIMMsglogQuerySource, the
   callback typedefs (nim_msglog_query_cb_func, nim_msglog_status_changed_cb_func,
   the deletion callbacks) from the generated nim_c_defs.h, and the JSON keys
   of a query result, a status change and a one-way deletion. */
#ifndef NIM_MSGLOG_DEF_H
#define NIM_MSGLOG_DEF_H
#include "nim_talk_def.h"

NIM_JSON_KEY kNIMMsglogQueryKeyCount = "count";         /**< int */
NIM_JSON_KEY kNIMMsglogQueryKeySource = "source";       /**< int, NIMMsglogQuerySource */
NIM_JSON_KEY kNIMMsglogQueryKeyContent = "content";     /**< array of message objects */

/* A message status change (P2P read receipts): an array of these objects. */
NIM_JSON_KEY kNIMMsglogStatusChangedKeyTalkID = "talk_id";         /**< string, the session */
NIM_JSON_KEY kNIMMsglogStatusChangedKeyMsgTimetag = "msg_timetag"; /**< int64, messages up to this time, ms */
NIM_JSON_KEY kNIMMsglogStatusChangedKeyStatus = "status";          /**< int, NIMMsgLogStatus (7, receipt) */

/* A one-way deletion another device made (nim_msglog_register_delete_msgs_self_callback):
   an array of these objects. */
NIM_JSON_KEY kNIMDELMSGSelfNotifyKeySessionID = "session_id";  /**< string, the session (the peer) */
NIM_JSON_KEY kNIMDELMSGSelfNotifyKeyMsgClientID = "client_id"; /**< string, the message's client id */
NIM_JSON_KEY kNIMDELMSGSelfNotifyKeyEXT = "ext";               /**< string, the app's extension */

/* The json_extension of nim_msglog_query_msg_online_async. */
NIM_JSON_KEY kNIMMsglogJsonExtKeyNeedAutoDownloadAttachment = "need_auto_download_attachment"; /**< bool (attachments are not downloaded by Magpie's SDK) */
NIM_JSON_KEY kNIMMsglogJsonExtKeyQueryMsgTypeList = "query_msg_type_list";                     /**< array of NIMMessageType: only these types */
/* nim_msglog_query_msg_async's json_extension. */
NIM_JSON_KEY kNIMMsglogQueryJsonExtensionKeyDirection = "direction"; /**< int, NIMMsglogSearchDirection (default kForward) */
NIM_JSON_KEY kNIMMsglogQueryJsonExtensionKeyReverse = "reverse";     /**< bool, the page in the opposite order */
NIM_JSON_KEY kNIMMsglogQueryJsonExtensionKeyEndTime = "endtime";     /**< int64 ms, where the page stops (0: none) */
/** The direction of a local history query from its anchor time. */
enum NIMMsglogSearchDirection
{
	kForward = 0,  /**< back in time from the anchor, newest first */
	kBackward = 1, /**< forward in time from the anchor, oldest first */
};
#endif
