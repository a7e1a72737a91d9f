/* NIM's session service definitions (nim_session_online_service_*): the
   callback typedefs from the generated nim_c_defs.h, and the JSON keys. */
#ifndef NIM_SESSION_ONLINE_SERVICE_DEF_H
#define NIM_SESSION_ONLINE_SERVICE_DEF_H
#include "nim_global_def.h"

/* A session as the server keeps it. Magpie writes the type under both
   "info_session_type" and "info_session_tpye" (the spelling of NIM's older
   headers), so code built against either reads it. */
NIM_JSON_KEY kMINSessionOLSRVInfoType = "info_session_type";     /**< int, NIMSessionType */
NIM_JSON_KEY kMINSessionOLSRVInfoID = "info_session_id";         /**< string */
NIM_JSON_KEY kMINSessionOLSRVInfoUpdateT = "info_update_time";   /**< uint64 ms, last message or extension change */
NIM_JSON_KEY kMINSessionOLSRVInfoEXT = "info_ext";               /**< string, the app's extension */
NIM_JSON_KEY kMINSessionOLSRVInfoLastMSG = "info_last_msg";      /**< string: the receive callback's JSON of the last message, or its recall notification */
NIM_JSON_KEY kMINSessionOLSRVInfoLastMSGType = "info_last_msg_type"; /**< int, 0 a message, 1 a recall notification */
/* The result of nim_session_online_service_query_session_list. */
NIM_JSON_KEY kMINSessionOLSRVQueryListRESCode = "query_list_res_code";   /**< int */
NIM_JSON_KEY kMINSessionOLSRVQueryListMinTimestamp = "query_list_min_timestamp";
NIM_JSON_KEY kMINSessionOLSRVQueryListMaxTimestamp = "query_list_max_timestamp";
NIM_JSON_KEY kMINSessionOLSRVQueryListNeedLastMsg = "query_list_need_last_msg";
NIM_JSON_KEY kMINSessionOLSRVQueryListLimit = "query_list_limit";
NIM_JSON_KEY kMINSessionOLSRVQueryListHasMore = "query_list_has_more";   /**< bool */
NIM_JSON_KEY kMINSessionOLSRVQueryListInfos = "query_list_sessions";     /**< array of sessions */
/* nim_session_online_service_query_session. */
NIM_JSON_KEY kMINSessionOLSRVQueryType = "query_session_type";
NIM_JSON_KEY kMINSessionOLSRVQueryID = "query_session_id";
/* nim_session_online_service_update_session. */
NIM_JSON_KEY kMINSessionOLSRVUpdateType = "update_session_type";
NIM_JSON_KEY kMINSessionOLSRVUpdateID = "update_session_id";
NIM_JSON_KEY kMINSessionOLSRVUpdateEXT = "update_ext";
/* One item of nim_session_online_service_delete_session's array. */
NIM_JSON_KEY kMINSessionOLSRVDeleteType = "delete_session_type";  /**< int, NIMSessionType */
NIM_JSON_KEY kMINSessionOLSRVDeleteID = "delete_session_id";      /**< string */
#endif
