//! The committed headers must be what cbindgen generates from this crate:
//! `nim_c_defs.h` (enums and callback types, like NIM's *_def.h headers) and
//! `nim_c_api.h` (the function declarations). Run with MAGPIE_BLESS_HEADER=1
//! to rewrite them.

use std::path::{Path, PathBuf};

const ENUMS: [&str; 23] = [
    "NIMSDKLogLevel",
    "NIMSDKException",
    "NIMDBOperation",
    "NIMProxyDetectStep",
    "NIMMsgLogQueryRange",
    "NIMSessionType",
    "NIMMessageType",
    "NIMMessageFeature",
    "NIMMsgLogStatus",
    "NIMSessionCommand",
    "NIMSysMsgType",
    "NIMSysMsgStatus",
    "NIMMsglogQuerySource",
    "NIMDataSyncType",
    "NIMDataSyncStatus",
    "NIMLoginState",
    "NIMLogoutType",
    "NIMLoginStep",
    "NIMKickReason",
    "NIMClientType",
    "NIMMultiSpotNotifyType",
    "NIMAuthType",
    "NIMProxyType",
];
const TYPES: [&str; 59] = [
    "NIMDeleteMessagesSelfParam",
    "NIMDeleteSessionHistoryMessagesNotifyInfo",
    "nim_msglog_delete_history_online_res_cb_func_ex",
    "nim_msglog_delete_history_online_notify_cb_func",
    "NIMQueryMsgOnlineAsyncParam",
    "NIMQueryMsgByKeywordOnlineAsyncParam",
    "nim_session_online_service_query_session_list_cb_func",
    "nim_session_online_service_query_session_cb_func",
    "nim_session_online_service_update_session_cb_func",
    "nim_session_online_service_delete_session_cb_func",
    "nim_session_online_service_session_changed_cb_func",
    "nim_session_delete_session_roaming_cb_func",
    "nim_msglog_delete_history_online_res_cb_func",
    "nim_msglog_delete_message_self_res_cb_func",
    "nim_msglog_delete_message_self_notify_cb_func",
    "nim_session_set_to_stick_top_cb_func",
    "nim_session_update_stick_top_cb_func",
    "nim_session_cancel_stick_top_cb_func",
    "nim_session_query_stick_top_session_list_cb_func",
    "nim_session_set_to_stick_top_notify_cb_func",
    "nim_session_update_stick_top_notify_cb_func",
    "nim_session_cancel_stick_top_notify_cb_func",
    "nim_client_multiport_push_config_cb_func",
    "nim_client_get_server_current_time_cb_func",
    "nim_global_detect_proxy_cb_func",
    "nim_msglog_import_prg_cb_func",
    "nim_session_multi_change_cb_func",
    "nim_talk_team_notification_filter_func",
    "nim_talk_receive_broadcast_cb_func",
    "nim_msglog_query_single_cb_func",
    "nim_msglog_res_cb_func",
    "nim_msglog_res_ex_cb_func",
    "nim_msglog_modify_res_cb_func",
    "nim_session_query_sessiondata_by_id_cb_func",
    "SessionMainTagInfo",
    "nim_session_badge_count_cb_func",
    "SessionRoamMsgHasMoreTagInfo",
    "nim_session_query_session_hasmore_roammsg_cb_func",
    "nim_session_query_all_session_hasmore_roammsg_cb_func",
    "nim_session_update_session_hasmore_roammsg_cb_func",
    "nim_session_delete_session_hasmore_roammsg_cb_func",
    "nim_sysmsg_res_ex_cb_func",
    "nim_json_transport_cb_func",
    "nim_relogin_request_token_cb_func",
    "nim_talk_ack_cb_func",
    "nim_talk_receive_cb_func",
    "nim_talk_message_filter_func",
    "nim_nos_upload_prg_cb_func",
    "nim_custom_sysmsg_ack_cb_func",
    "nim_sysmsg_receive_cb_func",
    "nim_sysmsg_query_cb_func",
    "nim_sysmsg_res_cb_func",
    "nim_session_change_cb_func",
    "nim_session_query_recent_session_cb_func",
    "nim_msglog_query_cb_func",
    "nim_msglog_status_changed_cb_func",
    "nim_talk_recall_msg_func",
    "nim_talk_recall_extra_params",
    "nim_data_sync_cb_func",
];
const FUNCTIONS: [&str; 120] = [
    "nim_msglog_delete_messages_self_async",
    "nim_msglog_delete_history_online_async_ex",
    "nim_msglog_register_delete_history_messages_callback",
    "nim_msglog_query_msg_online_async2",
    "nim_msglog_query_msg_by_keyword_online_async",
    "nim_msglog_query_msg_by_options_async_ex",
    "nim_session_online_service_query_session_list",
    "nim_session_online_service_query_session",
    "nim_session_online_service_update_session",
    "nim_session_online_service_delete_session",
    "nim_session_online_service_reg_session_changed",
    "nim_session_delete_session_roaming_async",
    "nim_msglog_delete_history_online_async",
    "nim_msglog_delete_message_self_async",
    "nim_msglog_register_delete_msgs_self_callback",
    "nim_session_set_to_stick_top",
    "nim_session_update_stick_top",
    "nim_session_cancel_stick_top",
    "nim_session_query_stick_top_session_list",
    "nim_session_reg_set_to_stick_top_notify_cb",
    "nim_session_reg_update_stick_top_notify_cb",
    "nim_session_reg_cancell_stick_top_notify_cb",
    "nim_client_get_server_current_time",
    "nim_client_update_apns_token",
    "nim_client_reg_sync_multiport_push_config_cb",
    "nim_client_set_multiport_push_config",
    "nim_client_get_multiport_push_config",
    "nim_global_detect_proxy",
    "nim_msglog_query_msg_by_options_async",
    "nim_msglog_batch_status_delete_async_ex",
    "nim_msglog_delete_by_session_type_async_ex",
    "nim_msglog_delete_all_async_ex",
    "nim_msglog_delete_by_time_async",
    "nim_msglog_delete_by_time_async_ex",
    "nim_msglog_export_db_async",
    "nim_msglog_import_db_async",
    "nim_session_set_multi_unread_count_zero_async",
    "nim_session_delete_recent_session_async_ex",
    "nim_global_free_str_buf",
    "nim_global_free_buf",
    "nim_talk_create_retweet_msg",
    "nim_talk_get_attachment_path_from_msg",
    "nim_talk_reply_msg",
    "nim_talk_reg_notification_filter_cb",
    "nim_talk_reg_receive_broadcast_cb",
    "nim_talk_reg_receive_broadcast_msgs_cb",
    "nim_msglog_query_msg_by_id_async",
    "nim_msglog_batch_status_read_async",
    "nim_msglog_set_status_async",
    "nim_msglog_set_sub_status_async",
    "nim_msglog_insert_msglog_async",
    "nim_msglog_batch_status_delete_async",
    "nim_msglog_delete_by_session_type_async",
    "nim_msglog_delete_async",
    "nim_msglog_delete_all_async",
    "nim_msglog_read_all_async",
    "nim_msglog_update_localext_async",
    "nim_msglog_send_receipt_async",
    "nim_talk_recall_msg",
    "nim_talk_recall_msg2",
    "nim_talk_recall_msg_ex",
    "nim_talk_reg_recall_msg_cb",
    "nim_msglog_query_be_readed",
    "nim_msglog_query_receipt_sent",
    "nim_msglog_reg_status_changed_cb",
    "nim_session_query_sessiondata_by_id_async",
    "nim_session_query_last_few_session_async",
    "nim_session_query_all_recent_session_with_last_msg_excluded_type_async",
    "nim_session_query_all_recent_session_with_last_msg_excluded_type_async_ex",
    "nim_msglog_query_the_message_of_the_specified_type_async",
    "nim_session_query_session_hasmore_roammsg",
    "nim_session_query_all_session_hasmore_roammsg",
    "nim_session_update_session_hasmore_roammsg",
    "nim_session_delete_session_hasmore_roammsg",
    "nim_session_reg_badge_count_cb",
    "nim_session_delete_all_recent_session_async",
    "nim_session_set_top",
    "nim_session_set_extend_data",
    "nim_session_reset_all_unread_count_async",
    "nim_sysmsg_set_status_async",
    "nim_sysmsg_read_all_async",
    "nim_sysmsg_delete_async",
    "nim_sysmsg_delete_all_async",
    "nim_sysmsg_set_logs_status_by_type_async",
    "nim_sysmsg_delete_logs_by_type_async",
    "nim_talk_send_msg",
    "nim_talk_stop_send_msg",
    "nim_talk_reg_ack_cb",
    "nim_talk_reg_receive_cb",
    "nim_talk_reg_receive_msgs_cb",
    "nim_talk_reg_message_filter_cb",
    "nim_sysmsg_reg_sysmsg_cb",
    "nim_sysmsg_send_custom_notification",
    "nim_sysmsg_reg_custom_notification_ack_cb",
    "nim_sysmsg_query_msg_async",
    "nim_sysmsg_query_unread_count",
    "nim_session_reg_change_cb",
    "nim_session_query_all_recent_session_async",
    "nim_session_delete_recent_session_async",
    "nim_session_set_unread_count_zero_async",
    "nim_msglog_query_msg_async",
    "nim_msglog_query_msg_online_async",
    "nim_data_sync_reg_complete_cb",
    "nim_client_init",
    "nim_client_cleanup",
    "nim_client_cleanup2",
    "nim_client_login",
    "nim_client_get_login_state",
    "nim_client_relogin",
    "nim_client_logout",
    "nim_client_kick_other_client",
    "nim_client_reg_disconnect_cb",
    "nim_client_reg_auto_relogin_cb",
    "nim_client_reg_kickout_cb",
    "nim_client_reg_multispot_login_notify_cb",
    "nim_client_reg_kickout_other_client_cb",
    "nim_client_reg_relogin_request_token_cb",
    "nim_global_set_proxy",
    "nim_client_version",
    "nim_client_current_user_account",
];

fn generate(
    dir: &Path,
    guard: &str,
    include: &[&str],
    exclude: &[&str],
    includes: &[&str],
) -> Vec<u8> {
    let mut config = cbindgen::Config {
        language: cbindgen::Language::C,
        include_guard: Some(guard.into()),
        cpp_compat: true,
        style: cbindgen::Style::Both,
        documentation: true,
        header: Some(
            "/* NIM's C API over Magpie. Generated by cbindgen from crates/magpie-client-ffi;\n   do not edit: run `MAGPIE_BLESS_HEADER=1 cargo test -p magpie-client-ffi --test header`. */"
                .into(),
        ),
        includes: includes.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    };
    config.export.include = include.iter().map(|s| s.to_string()).collect();
    config.export.exclude = exclude.iter().map(|s| s.to_string()).collect();
    config.enumeration.prefix_with_name = false;
    let mut out = Vec::new();
    cbindgen::Builder::new()
        .with_crate(dir)
        .with_config(config)
        .generate()
        .expect("cbindgen")
        .write(&mut out);
    out
}

#[test]
fn the_committed_headers_are_current() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let defs = generate(
        &dir,
        "MAGPIE_NIM_C_DEFS_H",
        &[ENUMS.as_slice(), &TYPES].concat(),
        &FUNCTIONS,
        &[],
    );
    let api = generate(
        &dir,
        "MAGPIE_NIM_C_API_H",
        &[],
        &[ENUMS.as_slice(), &TYPES].concat(),
        &["nim_c_defs.h"],
    );
    // The enum parameters are `int` in Rust (a value C passes can never be
    // an invalid Rust enum); the header names NIM's enum types, the same
    // ABI, so NIM's own prototypes of these functions do not conflict.
    let api = String::from_utf8(api)
        .unwrap()
        .replace(
            "void nim_client_logout(int logout_type,",
            "void nim_client_logout(enum NIMLogoutType logout_type,",
        )
        .replace(
            "void nim_global_set_proxy(int type,",
            "void nim_global_set_proxy(enum NIMProxyType type,",
        )
        .replace(
            "void nim_global_detect_proxy(int type,",
            "void nim_global_detect_proxy(enum NIMProxyType type,",
        )
        .replace(
            " int last_msg_excluded_type,",
            " enum NIMMessageType last_msg_excluded_type,",
        )
        .replace(
            "void nim_msglog_query_the_message_of_the_specified_type_async(int to_type,",
            "void nim_msglog_query_the_message_of_the_specified_type_async(enum NIMSessionType to_type,",
        )
        .into_bytes();
    // The same for the session type inside NIM's tag struct.
    let defs = String::from_utf8(defs)
        .unwrap()
        .replace(
            "  /**\n   * NIMSessionType.\n   */\n  int to_type;\n} SessionMainTagInfo;",
            "  /**\n   * NIMSessionType.\n   */\n  enum NIMSessionType to_type;\n} SessionMainTagInfo;",
        )
        .into_bytes();
    for (name, content) in [("nim_c_defs.h", defs), ("nim_c_api.h", api)] {
        let path = dir.join("include").join(name);
        if std::env::var_os("MAGPIE_BLESS_HEADER").is_some() {
            std::fs::write(&path, &content).unwrap();
        }
        let committed = std::fs::read(&path).unwrap_or_default();
        assert!(
            committed == content,
            "include/{name} is stale: run MAGPIE_BLESS_HEADER=1 cargo test -p magpie-client-ffi --test header"
        );
    }
}
