/* NIM's client definitions: enums (NIMLoginState, NIMLogoutType,
   NIMKickReason, NIMClientType, NIMLoginStep, NIMMultiSpotNotifyType,
   NIMAuthType) from the generated nim_c_api.h, and the JSON keys. */
#ifndef NIM_CLIENT_DEF_H
#define NIM_CLIENT_DEF_H
#include "nim_global_def.h"

NIM_JSON_KEY kNIMErrorCode = "err_code";          /**< int, NIMResCode */
NIM_JSON_KEY kNIMLoginStep = "login_step";        /**< int, NIMLoginStep */
NIM_JSON_KEY kNIMRelogin = "relogin";             /**< bool */
NIM_JSON_KEY kNIMRetrying = "retrying";           /**< bool */
NIM_JSON_KEY kNIMOtherClientsPres = "other_clients_pres"; /**< array of presence objects */
NIM_JSON_KEY kNIMPresAppAccount = "app_account";
NIM_JSON_KEY kNIMPresClientType = "client_type";
NIM_JSON_KEY kNIMPresOS = "client_os";
NIM_JSON_KEY kNIMPresMac = "mac";
NIM_JSON_KEY kNIMPresDeviceID = "device_id";
NIM_JSON_KEY kNIMPresLoginTime = "login_time";
NIM_JSON_KEY kNIMPresCustomTag = "custom_tag";
NIM_JSON_KEY kNIMPresCustomClientType = "custom_client_type";
NIM_JSON_KEY kNIMKickoutClientType = "client_type";
NIM_JSON_KEY kNIMKickoutReasonCode = "reason_code";
NIM_JSON_KEY kNIMKickoutReasonDescription = "reason_description";
NIM_JSON_KEY kNIMKickoutCustomClientType = "custom_client_type";
NIM_JSON_KEY kNIMMultiSpotNotifyType = "multi_spot_notiy_type"; /* sic */
NIM_JSON_KEY kNIMKickoutOtherDeviceIDs = "device_ids";
NIM_JSON_KEY kNIMPlatformLoginCustomTag = "custom_tag";
NIM_JSON_KEY kNIMPlatformLoginAuthType = "auth_type";
NIM_JSON_KEY kNIMPlatformLoginEx = "login_ex";
NIM_JSON_KEY kNIMMultiportPushConfigContentKeyOpen = "switch_open"; /**< int, 1: a desktop online mutes mobile push; 2: it does not */
#endif
