/* NIM's session definitions: enum NIMSessionCommand, the callback typedefs
   (nim_session_change_cb_func, nim_session_query_recent_session_cb_func)
   from the generated nim_c_defs.h, and the JSON keys. */
#ifndef NIM_SESSION_DEF_H
#define NIM_SESSION_DEF_H
#include "nim_global_def.h"

NIM_JSON_KEY kNIMSessionId = "id";                      /**< string, peer accid */
NIM_JSON_KEY kNIMSessionType = "type";                  /**< int, NIMSessionType */
NIM_JSON_KEY kNIMSessionUnreadCount = "unread_count";   /**< int */
NIM_JSON_KEY kNIMSessionCommand = "command";            /**< int, NIMSessionCommand */
NIM_JSON_KEY kNIMSessionMsgClientID = "msg_client_id";
NIM_JSON_KEY kNIMSessionMsgFromAccount = "msg_from_account";
NIM_JSON_KEY kNIMSessionMsgTime = "msg_time";           /**< int64 ms */
NIM_JSON_KEY kNIMSessionMsgType = "msg_type";           /**< int, NIMMessageType */
NIM_JSON_KEY kNIMSessionMsgBody = "msg_body";
NIM_JSON_KEY kNIMSessionMsgAttach = "msg_attach";
NIM_JSON_KEY kNIMSessionMsgStatus = "msg_status";       /**< int, NIMMsgLogStatus */
NIM_JSON_KEY kNIMSessionMsgSubStatus = "msg_sub_status";
NIM_JSON_KEY kNIMSessionLastUpdatedMsg = "last_updated_msg"; /**< bool */
NIM_JSON_KEY kNIMSessionOnTop = "top";                  /**< bool */
NIM_JSON_KEY kNIMSessionExtendedData = "extend_data";   /**< string */
NIM_JSON_KEY kNIMSessionRobotFlag = "robot_session";    /**< bool */
/* The list a query returns. */
NIM_JSON_KEY kNIMSessionListCount = "count";
NIM_JSON_KEY kNIMSessionListUnreadCount = "unread_counts";
NIM_JSON_KEY kNIMSessionListContent = "content";
/* A stick-top session (nim_session_set_to_stick_top and its siblings). */
NIM_JSON_KEY kNIMSessionStickTopInfoTop = "top";                 /**< bool */
NIM_JSON_KEY kNIMSessionStickTopInfoSessionId = "id";
NIM_JSON_KEY kNIMSessionStickTopInfoType = "type";               /**< int, NIMSessionType */
NIM_JSON_KEY kNIMSessionStickTopInfoExt = "ext";
NIM_JSON_KEY kNIMSessionStickTopInfoCreateTime = "create_time";  /**< int64 ms */
NIM_JSON_KEY kNIMSessionStickTopInfoUpdateTime = "update_time";  /**< int64 ms */
NIM_JSON_KEY kNIMSessionStickTopSessionData = "session_data";   /**< object, a session item */
/* NIM puts a session's stick-top object in its item under this key; Magpie's
   session items do not carry it (read the list instead). */
NIM_JSON_KEY kNIMSessionStickTopInfo = "stick_top_info";
#endif
