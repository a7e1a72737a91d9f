/* NIM's talk definitions: enums (NIMSessionType, NIMMessageType,
   NIMMessageFeature, NIMMsgLogStatus), the callback typedefs
   (nim_talk_ack_cb_func, nim_talk_receive_cb_func,
   nim_talk_message_filter_func, nim_nos_upload_prg_cb_func) from the
   generated nim_c_defs.h, and the message JSON keys. */
#ifndef NIM_TALK_DEF_H
#define NIM_TALK_DEF_H
#include "nim_global_def.h"

/* The message object. */
NIM_JSON_KEY kNIMMsgKeyToType = "to_type";              /**< int, NIMSessionType */
NIM_JSON_KEY kNIMMsgKeyToAccount = "to_accid";          /**< string, receiver accid */
NIM_JSON_KEY kNIMMsgKeyFromAccount = "from_id";         /**< string, filled by the server */
NIM_JSON_KEY kNIMMsgKeyFromClientType = "from_client_type"; /**< int, NIMClientType, filled by the server */
NIM_JSON_KEY kNIMMsgKeyFromDeviceId = "from_device_id"; /**< string, filled by the server */
NIM_JSON_KEY kNIMMsgKeyFromNick = "from_nick";          /**< string, filled by the server */
NIM_JSON_KEY kNIMMsgKeyTime = "time";                   /**< int64 ms, server time */
NIM_JSON_KEY kNIMMsgKeyType = "msg_type";               /**< int, NIMMessageType */
NIM_JSON_KEY kNIMMsgKeyBody = "msg_body";               /**< string, at most 5000 characters */
NIM_JSON_KEY kNIMMsgKeyAttach = "msg_attach";           /**< string holding JSON text */
NIM_JSON_KEY kNIMMsgKeyClientMsgid = "client_msg_id";   /**< string, a uuid */
NIM_JSON_KEY kNIMMsgKeyServerMsgid = "server_msg_id";   /**< int64 */
NIM_JSON_KEY kNIMMsgKeyResendFlag = "resend_flag";      /**< int, 0 first send, 1 resend */
NIM_JSON_KEY kNIMMsgKeySubType = "msg_sub_type";        /**< int */
NIM_JSON_KEY kNIMMsgKeyThirdPartyCBEXT = "third_party_callback_ext"; /**< string */
NIM_JSON_KEY kNIMMsgKeyEnv = "env_config";              /**< string */
/* Settings: ints 0/1, default 1 unless noted. */
NIM_JSON_KEY kNIMMsgKeyHistorySave = "cloud_history";
NIM_JSON_KEY kNIMMsgKeyMsgRoaming = "roam_msg";
NIM_JSON_KEY kNIMMsgKeyMsgSync = "sync_msg";
NIM_JSON_KEY kNIMMsgKeyPushNeedBadge = "push_need_badge";
NIM_JSON_KEY kNIMMsgKeyPushEnable = "push_enable";
NIM_JSON_KEY kNIMMsgKeyPushNeedPrefix = "push_prefix";
NIM_JSON_KEY kNIMMsgKeyPushContent = "push_content";    /**< string */
NIM_JSON_KEY kNIMMsgKeyPushPayload = "push_payload";    /**< string holding JSON text */
NIM_JSON_KEY kNIMMsgKeyServerExt = "server_ext";        /**< string holding JSON text */
NIM_JSON_KEY kNIMMsgKeyMsgRoutable = "routable_msg";
NIM_JSON_KEY kNIMMsgKeySetMsgOffline = "offline_msg";   /**< 0: delivered to online devices only */
NIM_JSON_KEY kNIMMsgKeyIsUpdateSession = "is_update_session"; /**< bool */
/* Local fields (the SDK's database). */
NIM_JSON_KEY kNIMMsgKeyLocalTalkId = "talk_id";         /**< string, the session id */
NIM_JSON_KEY kNIMMsgKeyLocalFilePath = "local_res_path";
NIM_JSON_KEY kNIMMsgKeyLocalResId = "res_id";
NIM_JSON_KEY kNIMMsgKeyLocalLogStatus = "log_status";   /**< int, NIMMsgLogStatus */
NIM_JSON_KEY kNIMMsgKeyLocalLogSubStatus = "log_sub_status";
NIM_JSON_KEY kNIMMsgKeyLocalExt = "local_ext";
/* The send ack and the receive wrapper. */
NIM_JSON_KEY kNIMSendAckKeyRescode = "rescode";         /**< int, NIMResCode */
NIM_JSON_KEY kNIMSendAckKeyMsgId = "msg_id";            /**< string, the client message id */
NIM_JSON_KEY kNIMSendAckKeyTalkId = "talk_id";          /**< string, the session id */
NIM_JSON_KEY kNIMSendAckKeyTimetag = "msg_timetag";     /**< int64 ms, the server time */
NIM_JSON_KEY kNIMMsgKeyLocalRescode = "rescode";        /**< int, in a received message's wrapper */
NIM_JSON_KEY kNIMMsgKeyLocalMsgFeature = "feature";     /**< int, NIMMessageFeature */
NIM_JSON_KEY kNIMMsgKeyLocalReceiveMsgContent = "content"; /**< object, the message */

/* A recall notification (nim_talk_recall_msg_func's content is an array of these). */
NIM_JSON_KEY kNIMRecallMsgKeyToType = "to_type";          /**< int, NIMSessionType */
NIM_JSON_KEY kNIMRecallMsgKeyFromAccID = "from_id";       /**< string, the message's sender */
NIM_JSON_KEY kNIMRecallMsgKeyToAccID = "to_id";           /**< string, the message's receiver */
NIM_JSON_KEY kNIMRecallMsgKeyMsgId = "msg_id";            /**< string, the message's client id */
NIM_JSON_KEY kNIMRecallMsgKeyNotify = "notify";           /**< string, the app's notification text */
NIM_JSON_KEY kNIMRecallMsgKeyTime = "time";               /**< int64 ms, when it was recalled */
NIM_JSON_KEY kNIMRecallMsgKeyNotifyFeature = "feature";   /**< int, NIMMessageFeature */
NIM_JSON_KEY kNIMRecallMsgKeyMsgExist = "msg_exist";      /**< bool, the message was in this device's history */
NIM_JSON_KEY kNIMRecallMsgKeyMsgTime = "msg_time";        /**< int64 ms, the message's time */
NIM_JSON_KEY kNIMRecallMsgKeyMsgFromNick = "from_nick";   /**< string, the sender's nickname */
NIM_JSON_KEY kNIMRecallMsgKeyOpeAccID = "operator_id";    /**< string, who recalled it */
NIM_JSON_KEY kNIMRecallMsgKeyAttach = "attach";           /**< string, app-defined attachment */
/* nim_msglog_query_msg_by_options_async_ex's JSON object (in NIM's nim_talk_def.h too). */
NIM_JSON_KEY kNIMQueryMsgByOptionsAsyncKeyQueryRange = "query_range";        /**< int, NIMMsgLogQueryRange */
NIM_JSON_KEY kNIMQueryMsgByOptionsAsyncKeyIDS = "ids";                       /**< array of session ids */
NIM_JSON_KEY kNIMQueryMsgByOptionsAsyncKeyLimit = "limit_count";             /**< int, at most 100 */
NIM_JSON_KEY kNIMQueryMsgByOptionsAsyncKeyFromTime = "from_time";            /**< int64 ms */
NIM_JSON_KEY kNIMQueryMsgByOptionsAsyncKeyEndTime = "end_time";              /**< int64 ms */
NIM_JSON_KEY kNIMQueryMsgByOptionsAsyncKeyEndClientMSGID = "end_client_msg_id"; /**< string, left out */
NIM_JSON_KEY kNIMQueryMsgByOptionsAsyncKeyReverse = "reverse";               /**< bool */
NIM_JSON_KEY kNIMQueryMsgByOptionsAsyncKeyMsgType = "msg_type";              /**< int, NIMMessageType (1000: every type) */
NIM_JSON_KEY kNIMQueryMsgByOptionsAsyncKeyMsgSubType = "msg_sub_type";       /**< int */
NIM_JSON_KEY kNIMQueryMsgByOptionsAsyncKeySearchContent = "search_content";  /**< string */
/* The NOS scene of an attachment's upload_tag (NIM's default). */
NIM_JSON_KEY kNIMNosDefaultTagIM = "nim_default_im";
#endif
