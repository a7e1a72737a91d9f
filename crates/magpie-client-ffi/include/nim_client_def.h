/* NIM's client definitions: the enums (NIMLoginState, NIMLogoutType,
   NIMKickReason, NIMClientType, NIMLoginStep, NIMMultiSpotNotifyType,
   NIMAuthType) and callback typedefs (nim_client_multiport_push_config_cb_func,
   nim_client_get_server_current_time_cb_func) from the generated
   nim_c_defs.h, and every JSON key constant of NIM's nim_client_def.h, with
   NIM's names and spellings ("befor", "cluste", "notiy", kMINAccelerateHostList
   are NIM's own). */
#ifndef NIM_CLIENT_DEF_H
#define NIM_CLIENT_DEF_H
#include "nim_global_def.h"

/** Do-not-disturb result (NIM's iOS setting; declared for completeness). */
typedef void (*nim_client_dnd_cb_func)(int rescode, const char *content, const char *json_params, const void *user_data);

NIM_JSON_KEY kNIMMultiportPushConfigContentKeyOpen = "switch_open";
NIM_JSON_KEY kNIMDndShowDetail = "show_detail";
NIM_JSON_KEY kNIMDndOpened = "switch_open";
NIM_JSON_KEY kNIMDndFromH = "fromh";
NIM_JSON_KEY kNIMDndFromM = "fromm";
NIM_JSON_KEY kNIMDndToH = "toh";
NIM_JSON_KEY kNIMDndToM = "tom";
NIM_JSON_KEY kNIMAppKey = "app_key";
NIM_JSON_KEY kNIMGlobalConfig = "global_config";
NIM_JSON_KEY kNIMDataBaseEncryptKey = "db_encrypt_key";
NIM_JSON_KEY kNIMPreloadAttach = "preload_attach";
NIM_JSON_KEY kNIMPreloadImageQuality = "preload_image_quality";
NIM_JSON_KEY kNIMPreloadImageResize = "preload_image_resize";
NIM_JSON_KEY kNIMPreloadAttachImageNameTemplate = "preload_image_name_template";
NIM_JSON_KEY kNIMSDKLogLevel = "sdk_log_level";
NIM_JSON_KEY kNIMPushCerName = "push_cer_name";
NIM_JSON_KEY kNIMPushToken = "push_token";
NIM_JSON_KEY kNIMSyncSessionAck = "sync_session_ack";
NIM_JSON_KEY kNIMLoginRetryMaxTimes = "login_retry_max_times";
NIM_JSON_KEY kNIMUseHttps = "use_https";
NIM_JSON_KEY kNIMTeamNotificationUnreadCount = "team_notification_unread_count";
NIM_JSON_KEY kNIMVChatMissUnreadCount = "vchat_miss_unread_count";
NIM_JSON_KEY kNIMResetUnreadCountWhenRecall = "reset_unread_count_when_recall";
NIM_JSON_KEY kNIMUploadSDKEventsAfterLogin = "upload_sdk_events_after_login";
NIM_JSON_KEY kNIMAnimatedImageThumbnailEnabled = "animated_image_thumbnail_enabled";
NIM_JSON_KEY kNIMClientAntispam = "client_antispam";
NIM_JSON_KEY kNIMTeamMessageAckEnabled = "team_msg_ack";
NIM_JSON_KEY kNIMNeedUpdateLBSBeforRelogin = "need_update_lbs_befor_relogin";
NIM_JSON_KEY kNIMCustomClientType = "custom_client_type";
NIM_JSON_KEY kNIMServerConfFilePath = "server_conf_file_path";
NIM_JSON_KEY kNIMPrivateServerSetting = "private_server_setting";
NIM_JSON_KEY kNIMPrivateEnableHttps = "https_enabled";
NIM_JSON_KEY kNIMLbsAddress = "lbs";
NIM_JSON_KEY kNIMLbsBackupAddress = "lbs.backup";
NIM_JSON_KEY kNIMNosLbsAddress = "nos_lbs";
NIM_JSON_KEY kNIMDefaultLinkAddress = "link";
NIM_JSON_KEY kNIMDefaultLinkAddressIPV6 = "link_ipv6";
NIM_JSON_KEY kNIMDefaultNosUploadAddress = "nos_uploader";
NIM_JSON_KEY kNIMDefaultNosUploadHost = "nos_uploader_host";
NIM_JSON_KEY kNIMRsaPublicKeyModule = "module";
NIM_JSON_KEY kNIMRsaVersion = "version";
NIM_JSON_KEY kNIMDownloadAddressTemplate = "nos_downloader";
NIM_JSON_KEY kNIMAccelerateHost = "nos_accelerate_host";
NIM_JSON_KEY kMINAccelerateHostList = "nos_accelerate_host_list";
NIM_JSON_KEY kNIMAccelerateAddressTemplate = "nos_accelerate";
NIM_JSON_KEY kNIMCachingMarkreadEnabled = "caching_markread_enabled";
NIM_JSON_KEY kNIMCachingMarkreadTime = "caching_markread_time";
NIM_JSON_KEY kNIMCachingMarkreadCount = "caching_markread_count";
NIM_JSON_KEY kNIMUserDataFileLocalBackupFolder = "user_datafile_localbackup_folder";
NIM_JSON_KEY kNIMEnableUserDataFileLocalBackup = "enable_user_datafile_backup";
NIM_JSON_KEY kNIMEnableUserDataFileLocalRestore = "enable_user_datafile_restore";
NIM_JSON_KEY kNIMEnableUserDataFileDefRestoreProc = "enable_user_datafile_defrestoreproc";
NIM_JSON_KEY kNIMDedicatedClusteFlag = "dedicated_cluste_flag";
NIM_JSON_KEY kNIMHandShakeType = "hand_shake_type";
NIM_JSON_KEY kNIMNegoKeyNECA = "nego_key_neca";
NIM_JSON_KEY kNIMNegoKeyNECAKeyPA = "nego_key_enca_key_parta";
NIM_JSON_KEY kNIMNegoKeyNECAKeyPB = "nego_key_enca_key_partb";
NIM_JSON_KEY kNIMNegoKeyNECAKeyV = "nego_key_enca_key_version";
NIM_JSON_KEY kNIMCommNECA = "comm_enca";
NIM_JSON_KEY kNIMIPProtVersion = "ip_protocol_version";
NIM_JSON_KEY kNIMProbeIPV4URL = "probe_ipv4_url";
NIM_JSON_KEY kNIMProbeIPV6URL = "probe_ipv6_url";
NIM_JSON_KEY kNIMSyncDataTypeConfig = "sync_data_type_config";
NIM_JSON_KEY kNIMSyncDataTypeConfigKey = "key";
NIM_JSON_KEY kNIMSyncDataTypeConfigValue = "value";
NIM_JSON_KEY kNIMHttpDNSServerInterface = "httpdns_server_interface";
NIM_JSON_KEY kNIMPriorityUseCdnHost = "priority_use_cdn_host";
NIM_JSON_KEY kNIMKickoutOtherDeviceIDs = "device_ids";
NIM_JSON_KEY kNIMErrorCode = "err_code";
NIM_JSON_KEY kNIMRelogin = "relogin";
NIM_JSON_KEY kNIMLoginStep = "login_step";
NIM_JSON_KEY kNIMRetrying = "retrying";
NIM_JSON_KEY kNIMOtherClientsPres = "other_clients_pres";
NIM_JSON_KEY kNIMPresAppAccount = "app_account";
NIM_JSON_KEY kNIMPresClientType = "client_type";
NIM_JSON_KEY kNIMPresOS = "client_os";
NIM_JSON_KEY kNIMPresMac = "mac";
NIM_JSON_KEY kNIMPresDeviceID = "device_id";
NIM_JSON_KEY kNIMPresLoginTime = "login_time";
NIM_JSON_KEY kNIMPresCustomTag = "custom_tag";
NIM_JSON_KEY kNIMPresAuthType = "auth_type";
NIM_JSON_KEY kNIMPresLoginExData = "login_ex";
NIM_JSON_KEY kNIMPresCustomClientType = "custom_client_type";
NIM_JSON_KEY kNIMMultiSpotNotifyType = "multi_spot_notiy_type";
NIM_JSON_KEY kNIMLogoutErrorCode = "err_code";
NIM_JSON_KEY kNIMKickoutClientType = "client_type";
NIM_JSON_KEY kNIMKickoutReasonCode = "reason_code";
NIM_JSON_KEY kNIMKickoutReasonDescription = "reason_description";
NIM_JSON_KEY kNIMKickoutReasonCustomClientType = "custom_client_type";
NIM_JSON_KEY kNIMKickoutOtherResErrorCode = "err_code";
NIM_JSON_KEY kNIMKickoutOtherResDeviceIDs = "device_ids";
#endif
