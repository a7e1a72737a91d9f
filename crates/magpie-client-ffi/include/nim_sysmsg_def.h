/* NIM's system notification definitions: enums (NIMSysMsgType,
   NIMSysMsgStatus), the callback typedefs (nim_custom_sysmsg_ack_cb_func,
   nim_sysmsg_receive_cb_func, nim_sysmsg_query_cb_func,
   nim_sysmsg_res_cb_func) from the generated nim_c_defs.h, and the JSON keys. */
#ifndef NIM_SYSMSG_DEF_H
#define NIM_SYSMSG_DEF_H
#include "nim_global_def.h"

NIM_JSON_KEY kNIMSysMsgKeyTime = "msg_time";            /**< int64 ms */
NIM_JSON_KEY kNIMSysMsgKeyType = "msg_type";            /**< int, NIMSysMsgType (100 for custom) */
NIM_JSON_KEY kNIMSysMsgKeyToAccount = "to_account";     /**< string, receiver */
NIM_JSON_KEY kNIMSysMsgKeyFromAccount = "from_account"; /**< string, filled by the server */
NIM_JSON_KEY kNIMSysMsgKeyMsg = "msg";                  /**< string */
NIM_JSON_KEY kNIMSysMsgKeyAttach = "attach";            /**< string, the app's content */
NIM_JSON_KEY kNIMSysMsgKeyMsgId = "msg_id";             /**< int64, 0 for custom notifications */
NIM_JSON_KEY kNIMSysMsgKeyLocalStatus = "log_status";   /**< int, NIMSysMsgStatus */
NIM_JSON_KEY kNIMSysMsgKeyLocalClientMsgId = "client_msg_id"; /**< string, a uuid */
NIM_JSON_KEY kNIMSysMsgKeyCustomSaveFlag = "custom_save_flag"; /**< int, 1: kept for an offline receiver */
NIM_JSON_KEY kNIMSysMsgKeyCustomApnsText = "custom_apns_text";
NIM_JSON_KEY kNIMSysMsgKeyPushPayload = "push_payload";
NIM_JSON_KEY kNIMSysMsgKeyPushEnable = "push_enable";
NIM_JSON_KEY kNIMSysMsgKeyPushNeedBadge = "push_need_badge";
NIM_JSON_KEY kNIMSysMsgKeyPushNeedPrefix = "push_prefix"; /**< int, default 0 */
NIM_JSON_KEY kNIMSysMsgKeyAntiSpamEnable = "anti_spam_enable";
NIM_JSON_KEY kNIMSysMsgKeyAntiSpamContent = "anti_spam_content";
/* The custom notification ack. */
NIM_JSON_KEY kNIMSendSysMsgAckKeyMsgId = "msg_id";      /**< string, the client message id */
NIM_JSON_KEY kNIMSendSysMsgAckKeyTalkId = "talk_id";    /**< string, the receiver */
NIM_JSON_KEY kNIMSendSysMsgAckKeyRescode = "rescode";   /**< int, NIMResCode */
/* The receive wrapper and the query result. */
NIM_JSON_KEY kNIMSysMsgKeyLocalRescode = "rescode";
NIM_JSON_KEY kNIMSysMsgKeyLocalFeature = "feature";
NIM_JSON_KEY kNIMSysMsgKeyLocalUnreadCount = "unread_count";
NIM_JSON_KEY kNIMSysMsgKeyLocalContent = "content";
NIM_JSON_KEY kNIMSysMsglogQueryKeyCount = "count";
NIM_JSON_KEY kNIMSysMsglogQueryKeyUnreadCount = "unread_count";
NIM_JSON_KEY kNIMSysMsglogQueryKeyContent = "content";
#endif
