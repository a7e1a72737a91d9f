/*
 * NIM's C++ API over Magpie's libnim: a header-only wrapper in the shape of
 * NIM's nim_cpp_wrapper (nim::Client, nim::Global and the helper structs),
 * for login (here) and messages (nim_cpp_messaging.h, included at the end:
 * nim::Talk, nim::SystemMsg, nim::Session, nim::MsgLog, nim::DataSync).
 * Link with -lnim; needs nlohmann/json.
 *
 * As in NIM, the C definitions live inside namespace nim (nim::kNIMResSuccess,
 * nim::NIMLogoutType, ...). Callbacks run on the SDK's thread.
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <list>
#include <map>
#include <condition_variable>
#include <mutex>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace nim
{
#include "../../include/nim_c_api.h"
#include "../../include/nim_client_def.h"
#include "../../include/nim_talk_def.h"
#include "../../include/nim_sysmsg_def.h"
#include "../../include/nim_session_def.h"
#include "../../include/nim_session_online_service_def.h"
#include "../../include/nim_msglog_def.h"
#include "../../include/nim_data_sync_def.h"

/** An online device of the account (presence). */
struct OtherClientPres
{
	std::string app_account_;
	NIMClientType client_type_;
	std::string client_os_;
	std::string mac_address_;
	std::string device_id_;
	int64_t login_time_;
	std::string custom_data_;
	int custom_client_type_;
	OtherClientPres() : client_type_(kNIMClientTypeDefault), login_time_(0), custom_client_type_(0) {}
};

/** Login and auto-relogin result. */
struct LoginRes
{
	NIMResCode res_code_;
	bool relogin_;
	NIMLoginStep login_step_;
	std::list<OtherClientPres> other_clients_;
	bool retrying_;
	LoginRes() : res_code_(kNIMResError), relogin_(false), login_step_(kNIMLoginStepLinking), retrying_(true) {}
};

/** Kick-out notification. */
struct KickoutRes
{
	NIMClientType client_type_;
	NIMKickReason kick_reason_;
	std::string kickout_description_;
	int32_t custom_client_type_;
};

/** Multispot notification. */
struct MultiSpotLoginRes
{
	NIMMultiSpotNotifyType notify_type_;
	std::list<OtherClientPres> other_clients_;
};

/** Result of KickOtherClient. */
struct KickOtherRes
{
	NIMResCode res_code_;
	std::list<std::string> device_ids_;
};

/** Login parameters. */
struct LoginParams
{
	std::string custom_data_;
	NIMAuthType auth_type_;
	std::string login_ex_;
	LoginParams() : auth_type_(kNIMAuthTypeDefault) {}
};

/** NIM's init settings (nim::SDKConfig), every member with NIM's default.
 * Init writes them into nim_client_init's JSON under NIM's keys; which ones
 * Magpie honours is in docs/c-api.md ("Init JSON"). */
struct SDKConfig
{
	//global_config
	std::string push_cer_name_;
	std::string push_token_;
	std::string database_encrypt_key_;
	bool preload_attach_;
	int preload_image_quality_;
	std::string preload_image_resize_;
	std::string preload_image_name_template_;
	NIMSDKLogLevel sdk_log_level_;
	bool sync_session_ack_;
	int login_max_retry_times_;
	int custom_timeout_;
	bool use_https_;
	bool team_notification_unread_count_;
	bool vchat_miss_unread_count_;
	bool reset_unread_count_when_recall_;
	bool upload_sdk_events_after_login_;
	bool animated_image_thumbnail_enabled_;
	bool client_antispam_;
	bool team_msg_ack_;
	bool need_update_lbs_befor_relogin_;
	bool caching_markread_;
	uint32_t caching_markread_time_;
	uint32_t caching_markread_count_;
	bool enable_user_datafile_backup_;
	bool enable_user_datafile_restore_;
	bool enable_user_datafile_defrestoreproc_;
	std::string user_datafile_localbackup_folder_;
	int ip_protocol_version_;
	bool dedicated_cluste_flag_;
	int hand_shake_type_;
	int nego_key_neca_;
	int comm_neca_;
	std::string server_conf_file_path_;
	//private_server_setting
	bool use_private_server_;
	std::string lbs_address_;
	std::list<std::string> lbs_backup_address_;
	std::string nos_lbs_address_;
	std::string default_link_address_;
	std::string default_link_address_ipv6_;
	std::string default_nos_upload_address_;
	std::string default_nos_upload_host_;
	std::string rsa_public_key_module_;
	int rsa_version_;
	std::string nego_key_neca_key_parta_;
	std::string nego_key_neca_key_partb_;
	int nego_key_neca_key_version_;
	std::string nos_download_address_;
	std::string nos_accelerate_host_;
	std::vector<std::string> nos_accelerate_host_list_;
	std::string nos_accelerate_address_;
	std::string probe_ipv4_url_;
	std::string probe_ipv6_url_;
	std::map<int, int> sync_data_type_list_;
	std::list<std::string> http_dns_server_interface_;
	bool priority_use_cdn_host_;

	SDKConfig()
		: preload_attach_(true), preload_image_quality_(-1), preload_image_name_template_("thumb_"),
		  sdk_log_level_(kNIMSDKLogLevelApp), sync_session_ack_(true), login_max_retry_times_(0),
		  custom_timeout_(30), use_https_(true), team_notification_unread_count_(false),
		  vchat_miss_unread_count_(false), reset_unread_count_when_recall_(false),
		  upload_sdk_events_after_login_(false), animated_image_thumbnail_enabled_(false),
		  client_antispam_(false), team_msg_ack_(false), need_update_lbs_befor_relogin_(false),
		  caching_markread_(false), caching_markread_time_(1000), caching_markread_count_(10),
		  enable_user_datafile_backup_(true), enable_user_datafile_restore_(false),
		  enable_user_datafile_defrestoreproc_(false), ip_protocol_version_(0),
		  dedicated_cluste_flag_(false), hand_shake_type_(1), nego_key_neca_(1), comm_neca_(1),
		  use_private_server_(false), rsa_version_(0), nego_key_neca_key_version_(0),
		  priority_use_cdn_host_(true), custom_client_type_(false, 0)
	{
	}
	void SetCustomClientType(int type) { custom_client_type_ = std::make_pair(true, type); }
	int GetCustomClientType() const { return custom_client_type_.second; }
private:
	std::pair<bool, int> custom_client_type_;
	friend class Client;
};

namespace detail
{
using json = nlohmann::json;

inline json Parse(const char *s)
{
	json v = json::parse(s ? s : "", nullptr, false);
	return v.is_discarded() ? json::object() : v;
}

template <typename T> T Get(const json &v, const char *k, T def)
{
	auto it = v.find(k);
	if (it == v.end() || it->is_null())
		return def;
	try { return it->get<T>(); } catch (...) { return def; }
}

inline std::list<OtherClientPres> ParsePresArray(const json &arr)
{
	std::list<OtherClientPres> out;
	if (!arr.is_array())
		return out;
	for (const auto &p : arr) {
		OtherClientPres o;
		o.app_account_ = Get<std::string>(p, kNIMPresAppAccount, "");
		o.client_type_ = (NIMClientType)Get<int>(p, kNIMPresClientType, 0);
		o.client_os_ = Get<std::string>(p, kNIMPresOS, "");
		o.mac_address_ = Get<std::string>(p, kNIMPresMac, "");
		o.device_id_ = Get<std::string>(p, kNIMPresDeviceID, "");
		o.login_time_ = Get<int64_t>(p, kNIMPresLoginTime, 0);
		o.custom_data_ = Get<std::string>(p, kNIMPresCustomTag, "");
		o.custom_client_type_ = Get<int>(p, kNIMPresCustomClientType, 0);
		out.push_back(o);
	}
	return out;
}

inline std::list<OtherClientPres> ParsePres(const json &v)
{
	auto it = v.find(kNIMOtherClientsPres);
	return it == v.end() ? std::list<OtherClientPres>() : ParsePresArray(*it);
}

inline LoginRes ParseLogin(const char *s)
{
	json v = Parse(s);
	LoginRes r;
	r.res_code_ = (NIMResCode)Get<int>(v, kNIMErrorCode, 0);
	r.relogin_ = Get<bool>(v, kNIMRelogin, false);
	r.login_step_ = (NIMLoginStep)Get<int>(v, kNIMLoginStep, 0);
	r.retrying_ = Get<bool>(v, kNIMRetrying, true);
	r.other_clients_ = ParsePres(v);
	return r;
}
typedef std::function<void(const std::function<void()>&)> Closure_t;
inline std::mutex& ClosureLock() { static std::mutex m; return m; }
inline Closure_t& Closure() { static Closure_t c; return c; }

/** Runs a wrapper callback through the closure of
 * Client::SetCallbackFunction (on the SDK's thread without one). */
inline void Dispatch(const std::function<void()>& f)
{
	Closure_t c;
	{
		std::lock_guard<std::mutex> g(ClosureLock());
		c = Closure();
	}
	if (c) c(f); else f();
}
} // namespace detail

/** NIM's helper: the presence objects of a JSON array (the JSON value type
 * is nlohmann::json here, where NIM's wrapper uses jsoncpp's). True when
 * `array_objs` is an array. */
inline bool ParseOtherClientsPres(const nlohmann::json array_objs, std::list<OtherClientPres> &outs)
{
	if (!array_objs.is_array())
		return false;
	outs = detail::ParsePresArray(array_objs);
	return true;
}

inline void UnregNIMCallback();

class Client
{
public:
	typedef std::function<void(const LoginRes&)> LoginCallback;
	typedef std::function<void(std::string*)> ReloginRequestTokenCallback;
	typedef std::function<void(NIMResCode)> LogoutCallback;
	typedef std::function<void(const KickoutRes&)> KickoutCallback;
	typedef std::function<void(void)> DisconnectCallback;
	typedef std::function<void(const MultiSpotLoginRes&)> MultiSpotLoginCallback;
	typedef std::function<void(const KickOtherRes&)> KickOtherCallback;
	typedef std::function<void(int, bool)> MultiportPushConfigCallback;
	typedef std::function<void(int, bool, uint64_t)> GetCurrentServerTimeCallback;
	typedef std::function<void(const std::function<void()>&)> SDKClosure;

	/** NIM's init: the JSON NIM's wrapper builds from `config` (plus
	 * custom_timeout, which NIM's C++ wrapper leaves out and its C# wrapper
	 * sends), then nim_client_init. */
	static bool Init(const std::string& app_key, const std::string& app_data_dir, const std::string& app_install_dir, const SDKConfig &config)
	{
		Config() = config;
		detail::json g;
		g[kNIMDataBaseEncryptKey] = config.database_encrypt_key_;
		g[kNIMPreloadAttach] = config.preload_attach_;
		g[kNIMPreloadAttachImageNameTemplate] = config.preload_image_name_template_;
		g[kNIMPreloadImageQuality] = config.preload_image_quality_;
		g[kNIMPreloadImageResize] = config.preload_image_resize_;
		g[kNIMSDKLogLevel] = (int)config.sdk_log_level_;
		g[kNIMPushCerName] = config.push_cer_name_;
		g[kNIMPushToken] = config.push_token_;
		g[kNIMSyncSessionAck] = config.sync_session_ack_;
		g[kNIMLoginRetryMaxTimes] = config.login_max_retry_times_;
		g["custom_timeout"] = config.custom_timeout_;
		g[kNIMUseHttps] = config.use_https_;
		g[kNIMTeamNotificationUnreadCount] = config.team_notification_unread_count_;
		g[kNIMVChatMissUnreadCount] = config.vchat_miss_unread_count_;
		g[kNIMResetUnreadCountWhenRecall] = config.reset_unread_count_when_recall_;
		g[kNIMUploadSDKEventsAfterLogin] = config.upload_sdk_events_after_login_;
		g[kNIMAnimatedImageThumbnailEnabled] = config.animated_image_thumbnail_enabled_;
		g[kNIMClientAntispam] = config.client_antispam_;
		if (config.custom_client_type_.first)
			g[kNIMCustomClientType] = config.custom_client_type_.second;
		g[kNIMTeamMessageAckEnabled] = config.team_msg_ack_;
		g[kNIMNeedUpdateLBSBeforRelogin] = config.need_update_lbs_befor_relogin_;
		g[kNIMCachingMarkreadEnabled] = config.caching_markread_;
		g[kNIMCachingMarkreadTime] = config.caching_markread_time_;
		g[kNIMCachingMarkreadCount] = config.caching_markread_count_;
		g[kNIMEnableUserDataFileLocalBackup] = config.enable_user_datafile_backup_;
		g[kNIMEnableUserDataFileLocalRestore] = config.enable_user_datafile_restore_;
		g[kNIMEnableUserDataFileDefRestoreProc] = config.enable_user_datafile_defrestoreproc_;
		g[kNIMUserDataFileLocalBackupFolder] = config.user_datafile_localbackup_folder_;
		g[kNIMDedicatedClusteFlag] = config.dedicated_cluste_flag_;
		g[kNIMHandShakeType] = config.hand_shake_type_;
		g[kNIMNegoKeyNECA] = config.nego_key_neca_;
		g[kNIMCommNECA] = config.comm_neca_;
		g[kNIMIPProtVersion] = config.ip_protocol_version_;
		g[kNIMPriorityUseCdnHost] = config.priority_use_cdn_host_;
		for (const auto &kv : config.sync_data_type_list_)
			g[kNIMSyncDataTypeConfig].push_back({{kNIMSyncDataTypeConfigKey, kv.first}, {kNIMSyncDataTypeConfigValue, kv.second}});
		detail::json j;
		if (!config.server_conf_file_path_.empty())
			j[kNIMServerConfFilePath] = config.server_conf_file_path_;
		if (config.use_private_server_) {
			detail::json p;
			p[kNIMLbsAddress] = config.lbs_address_;
			p[kNIMNosLbsAddress] = config.nos_lbs_address_;
			p[kNIMDefaultLinkAddress] = config.default_link_address_;
			p[kNIMDefaultLinkAddressIPV6] = config.default_link_address_ipv6_;
			p[kNIMDefaultNosUploadAddress] = config.default_nos_upload_address_;
			p[kNIMDefaultNosUploadHost] = config.default_nos_upload_host_;
			p[kNIMRsaPublicKeyModule] = config.rsa_public_key_module_;
			p[kNIMRsaVersion] = config.rsa_version_;
			p[kNIMDownloadAddressTemplate] = config.nos_download_address_;
			p[kNIMAccelerateHost] = config.nos_accelerate_host_;
			if (!config.nos_accelerate_host_list_.empty())
				p[kMINAccelerateHostList] = config.nos_accelerate_host_list_;
			p[kNIMAccelerateAddressTemplate] = config.nos_accelerate_address_;
			p[kNIMNegoKeyNECAKeyPA] = config.nego_key_neca_key_parta_;
			p[kNIMNegoKeyNECAKeyPB] = config.nego_key_neca_key_partb_;
			p[kNIMNegoKeyNECAKeyV] = config.nego_key_neca_key_version_;
			p[kNIMProbeIPV4URL] = config.probe_ipv4_url_;
			p[kNIMProbeIPV6URL] = config.probe_ipv6_url_;
			if (!config.http_dns_server_interface_.empty())
				p[kNIMHttpDNSServerInterface] = config.http_dns_server_interface_;
			if (!config.lbs_backup_address_.empty())
				p[kNIMLbsBackupAddress] = config.lbs_backup_address_;
			j[kNIMPrivateServerSetting] = p;
		}
		j[kNIMGlobalConfig] = g;
		j[kNIMAppKey] = app_key;
		return nim_client_init(app_data_dir.c_str(), app_install_dir.c_str(), j.dump().c_str());
	}

	/** The callbacks of nim::Client, nim::Global and nim::DataSync go
	 * through `callback` (e.g. to post it to the UI thread); an empty
	 * function calls them on the SDK's thread. The messaging classes'
	 * callbacks run on the SDK's thread. */
	static void SetCallbackFunction(const SDKClosure& callback)
	{
		std::lock_guard<std::mutex> g(detail::ClosureLock());
		detail::Closure() = callback;
	}

	/** The config of the last Init. */
	static const SDKConfig& GetSDKConfig() { return Config(); }

	static void Cleanup(const std::string& json_extension = "")
	{
		nim_client_cleanup(json_extension.c_str());
	}

	/** Cleanup that waits for nim_client_cleanup2's callback. */
	static void Cleanup2(const std::string& json_extension = "")
	{
		struct Done { std::mutex m; std::condition_variable cv; bool done = false; } d;
		nim_client_cleanup2(&OnCleanup2, json_extension.c_str(), &d);
		std::unique_lock<std::mutex> g(d.m);
		d.cv.wait(g, [&] { return d.done; });
	}

	static void LoginCustomDataToJson(const std::string& custom_data, std::string& strValue)
	{
		detail::json j;
		j[kNIMPresCustomTag] = custom_data;
		strValue = j.dump();
	}

	static void LoginCustomDataToJson(const LoginParams& params, std::string& loginParams)
	{
		detail::json j;
		j[kNIMPresCustomTag] = params.custom_data_;
		j[kNIMPresAuthType] = (int)params.auth_type_;
		j[kNIMPresLoginExData] = params.login_ex_;
		loginParams = j.dump();
	}

	static bool Login(const std::string& app_key, const std::string& account, const std::string& password, const LoginCallback& cb, const std::string& json_extension = "")
	{
		if (app_key.empty() || account.empty() || password.empty())
			return false;
		// One callback per call, never freed (as NIM's wrapper): the login's
		// steps reach this call's function, a refusal only this one.
		LoginCallback *heap = new LoginCallback(cb);
		nim_client_login(app_key.c_str(), account.c_str(), password.c_str(), json_extension.c_str(), &OnLogin, heap);
		return true;
	}

	static NIMLoginState GetLoginState(const std::string& json_extension = "")
	{
		return (NIMLoginState)nim_client_get_login_state(json_extension.c_str());
	}

	static void Relogin(const std::string& json_extension = "")
	{
		nim_client_relogin(json_extension.c_str());
	}

	static void Logout(NIMLogoutType logout_type, const LogoutCallback& cb, const std::string& json_extension = "")
	{
		// Deleted after its one call, as NIM's wrapper does.
		LogoutCallback *heap = cb ? new LogoutCallback(cb) : nullptr;
		nim_client_logout(logout_type, json_extension.c_str(), &OnLogout, heap);
	}

	static bool KickOtherClient(const std::list<std::string>& client_ids)
	{
		if (client_ids.empty())
			return false;
		detail::json j;
		j[kNIMKickoutOtherDeviceIDs] = client_ids;
		nim_client_kick_other_client(j.dump().c_str());
		return true;
	}

	static void RegReloginCb(const LoginCallback& cb, const std::string& json_extension = "")
	{
		Slot<LoginCallback>::Set(ReloginSlot(), cb);
		nim_client_reg_auto_relogin_cb(json_extension.c_str(), &OnRelogin, nullptr);
	}

	static void RegReloginRequestToeknCb(const ReloginRequestTokenCallback& cb, const std::string& json_extension = "")
	{
		Slot<ReloginRequestTokenCallback>::Set(TokenSlot(), cb);
		nim_client_reg_relogin_request_token_cb(json_extension.c_str(), &OnToken, nullptr);
	}

	static void RegKickoutCb(const KickoutCallback& cb, const std::string& json_extension = "")
	{
		Slot<KickoutCallback>::Set(KickoutSlot(), cb);
		nim_client_reg_kickout_cb(json_extension.c_str(), &OnKickout, nullptr);
	}

	static void RegDisconnectCb(const DisconnectCallback& cb, const std::string& json_extension = "")
	{
		Slot<DisconnectCallback>::Set(DisconnectSlot(), cb);
		nim_client_reg_disconnect_cb(json_extension.c_str(), &OnDisconnect, nullptr);
	}

	static void RegMultispotLoginCb(const MultiSpotLoginCallback& cb, const std::string& json_extension = "")
	{
		Slot<MultiSpotLoginCallback>::Set(MultispotSlot(), cb);
		nim_client_reg_multispot_login_notify_cb(json_extension.c_str(), &OnMultispot, nullptr);
	}

	static void RegKickOtherClientCb(const KickOtherCallback& cb, const std::string& json_extension = "")
	{
		Slot<KickOtherCallback>::Set(KickOtherSlot(), cb);
		nim_client_reg_kickout_other_client_cb(json_extension.c_str(), &OnKickOther, nullptr);
	}

	static void RegSyncMultiportPushConfigCb(const MultiportPushConfigCallback& cb, const std::string& json_extension = "")
	{
		Slot<MultiportPushConfigCallback>::Set(PushSyncSlot(), cb);
		nim_client_reg_sync_multiport_push_config_cb(json_extension.c_str(), &OnPushSync, nullptr);
	}

	/** switch_on: while a desktop is online, mobile devices get no push ({"switch_open":1}); off: 2. */
	static void SetMultiportPushConfigAsync(bool switch_on, const MultiportPushConfigCallback& cb, const std::string& json_extension = "")
	{
		detail::json j;
		j[kNIMMultiportPushConfigContentKeyOpen] = switch_on ? 1 : 2;
		MultiportPushConfigCallback *heap = cb ? new MultiportPushConfigCallback(cb) : nullptr;
		nim_client_set_multiport_push_config(j.dump().c_str(), json_extension.c_str(), &OnPushConfig, heap);
	}

	static void GetMultiportPushConfigAsync(const MultiportPushConfigCallback& cb, const std::string& json_extension = "")
	{
		MultiportPushConfigCallback *heap = cb ? new MultiportPushConfigCallback(cb) : nullptr;
		nim_client_get_multiport_push_config(json_extension.c_str(), &OnPushConfig, heap);
	}

	static std::string GetSDKVersion() { return nim_client_version(); }
	static std::string GetCurrentUserAccount() { return nim_client_current_user_account(); }

	static void GetServerCurrentTime(const Client::GetCurrentServerTimeCallback& cb, bool calc_local = false)
	{
		GetCurrentServerTimeCallback *heap = cb ? new GetCurrentServerTimeCallback(cb) : nullptr;
		nim_client_get_server_current_time(calc_local, &OnServerTime, "", heap);
	}

	/** Clears the registered client callbacks (not the token and
	 * multiport push ones, as NIM's wrapper). */
	static void UnregClientCb()
	{
		Slot<LoginCallback>::Set(ReloginSlot(), nullptr);
		Slot<KickoutCallback>::Set(KickoutSlot(), nullptr);
		Slot<DisconnectCallback>::Set(DisconnectSlot(), nullptr);
		Slot<MultiSpotLoginCallback>::Set(MultispotSlot(), nullptr);
		Slot<KickOtherCallback>::Set(KickOtherSlot(), nullptr);
	}

private:
	static SDKConfig& Config() { static SDKConfig c; return c; }
	static void Run(const std::function<void()>& f) { detail::Dispatch(f); }
	static void OnCleanup2(const char *, const void *user_data)
	{
		struct Done { std::mutex m; std::condition_variable cv; bool done = false; };
		Done *d = (Done *)user_data;
		std::lock_guard<std::mutex> g(d->m);
		d->done = true;
		d->cv.notify_all();
	}
	static void OnPushSync(int rescode, const char *content, const char *, const void *)
	{
		auto f = Slot<MultiportPushConfigCallback>::Get(PushSyncSlot());
		bool open = rescode == kNIMResSuccess && detail::Get<int>(detail::Parse(content), kNIMMultiportPushConfigContentKeyOpen, 0) == 1;
		if (f) Run([=] { f(rescode, open); });
	}
	static void OnPushConfig(int rescode, const char *content, const char *, const void *user_data)
	{
		MultiportPushConfigCallback *cb = (MultiportPushConfigCallback *)user_data;
		if (!cb) return;
		bool open = rescode == kNIMResSuccess && detail::Get<int>(detail::Parse(content), kNIMMultiportPushConfigContentKeyOpen, 0) == 1;
		MultiportPushConfigCallback f = *cb;
		delete cb;
		Run([=] { f(rescode, open); });
	}
	static void OnServerTime(int rescode, bool calc_local, uint64_t time, const void *user_data)
	{
		GetCurrentServerTimeCallback *cb = (GetCurrentServerTimeCallback *)user_data;
		if (!cb) return;
		GetCurrentServerTimeCallback f = *cb;
		delete cb;
		Run([=] { f(rescode, calc_local, time); });
	}
	template <typename F> struct Slot
	{
		F fn;
		std::mutex lock;
		static void Set(Slot &s, const F &f) { std::lock_guard<std::mutex> g(s.lock); s.fn = f; }
		static F Get(Slot &s) { std::lock_guard<std::mutex> g(s.lock); return s.fn; }
	};
	static Slot<LoginCallback>& ReloginSlot() { static Slot<LoginCallback> s; return s; }
	static Slot<ReloginRequestTokenCallback>& TokenSlot() { static Slot<ReloginRequestTokenCallback> s; return s; }
	static Slot<KickoutCallback>& KickoutSlot() { static Slot<KickoutCallback> s; return s; }
	static Slot<DisconnectCallback>& DisconnectSlot() { static Slot<DisconnectCallback> s; return s; }
	static Slot<MultiSpotLoginCallback>& MultispotSlot() { static Slot<MultiSpotLoginCallback> s; return s; }
	static Slot<KickOtherCallback>& KickOtherSlot() { static Slot<KickOtherCallback> s; return s; }
	static Slot<MultiportPushConfigCallback>& PushSyncSlot() { static Slot<MultiportPushConfigCallback> s; return s; }

	static void OnLogin(const char *json, const void *user_data)
	{
		const LoginCallback *cb = (const LoginCallback *)user_data;
		if (cb && *cb) {
			LoginCallback f = *cb;
			LoginRes r = detail::ParseLogin(json);
			Run([=] { f(r); });
		}
	}
	static void OnRelogin(const char *json, const void *) { auto f = Slot<LoginCallback>::Get(ReloginSlot()); if (f) { LoginRes r = detail::ParseLogin(json); Run([=] { f(r); }); } }
	static void OnDisconnect(const char *, const void *) { auto f = Slot<DisconnectCallback>::Get(DisconnectSlot()); if (f) Run(f); }
	static void OnLogout(const char *json, const void *user_data)
	{
		LogoutCallback *cb = (LogoutCallback *)user_data;
		if (cb) {
			NIMResCode code = (NIMResCode)detail::Get<int>(detail::Parse(json), kNIMResCode, 0);
			LogoutCallback f = *cb;
			delete cb;
			Run([=] { f(code); });
		}
	}
	static void OnKickout(const char *json, const void *)
	{
		auto f = Slot<KickoutCallback>::Get(KickoutSlot());
		if (!f) return;
		detail::json v = detail::Parse(json);
		KickoutRes r;
		r.client_type_ = (NIMClientType)detail::Get<int>(v, kNIMKickoutClientType, 0);
		r.kick_reason_ = (NIMKickReason)detail::Get<int>(v, kNIMKickoutReasonCode, 0);
		r.kickout_description_ = detail::Get<std::string>(v, kNIMKickoutReasonDescription, "");
		r.custom_client_type_ = detail::Get<int>(v, kNIMKickoutReasonCustomClientType, 0);
		Run([=] { f(r); });
	}
	static void OnMultispot(const char *json, const void *)
	{
		auto f = Slot<MultiSpotLoginCallback>::Get(MultispotSlot());
		if (!f) return;
		detail::json v = detail::Parse(json);
		MultiSpotLoginRes r;
		r.notify_type_ = (NIMMultiSpotNotifyType)detail::Get<int>(v, kNIMMultiSpotNotifyType, 0);
		r.other_clients_ = detail::ParsePres(v);
		Run([=] { f(r); });
	}
	static void OnKickOther(const char *json, const void *)
	{
		auto f = Slot<KickOtherCallback>::Get(KickOtherSlot());
		if (!f) return;
		detail::json v = detail::Parse(json);
		KickOtherRes r;
		r.res_code_ = (NIMResCode)detail::Get<int>(v, kNIMErrorCode, 0);
		r.device_ids_ = detail::Get<std::list<std::string>>(v, kNIMKickoutOtherDeviceIDs, {});
		Run([=] { f(r); });
	}
	static void OnToken(char **auth_token, uint32_t *length, const char *, const void *)
	{
		// The token lives in a wrapper-owned string until the next request.
		static std::string token;
		token.clear();
		auto f = Slot<ReloginRequestTokenCallback>::Get(TokenSlot());
		if (f) f(&token);
		*auth_token = (char *)token.c_str();
		*length = (uint32_t)token.length();
	}
};

class Global
{
public:
	typedef std::function<void(bool conncet, NIMProxyDetectStep step, const std::string& json_extension)> DetectProxyCallback;

	static void FreeStrBuf(char *str) { nim_global_free_str_buf(str); }
	static void FreeBuf(void *data) { nim_global_free_buf(data); }

	static void SetProxy(NIMProxyType type, const std::string& host, int port, const std::string& user, const std::string& password)
	{
		nim_global_set_proxy(type, host.c_str(), port, user.c_str(), password.c_str());
	}

	/** Tests a proxy for real; the callback fires once, with
	 * kNIMProxyDetectStepAllComplete. */
	static void DetectProxy(NIMProxyType type, const std::string& host, int port, const std::string& user, const std::string& password, const Global::DetectProxyCallback& callback)
	{
		DetectProxyCallback *heap = callback ? new DetectProxyCallback(callback) : nullptr;
		nim_global_detect_proxy(type, host.c_str(), port, user.c_str(), password.c_str(), &OnDetect, heap);
	}

private:
	static void OnDetect(bool connect, NIMProxyDetectStep step, const char *json_params, const void *user_data)
	{
		DetectProxyCallback *cb = (DetectProxyCallback *)user_data;
		if (!cb) return;
		DetectProxyCallback f = *cb;
		std::string info = json_params ? json_params : "";
		delete cb;
		detail::Dispatch([=] { f(connect, step, info); });
	}
};

} // namespace nim

#include "nim_cpp_messaging.h"

/* NIM's C structs of the session API are global in NIM's headers; here the
 * C headers sit inside namespace nim, so both spellings work. */
using nim::SessionMainTagInfo;
using nim::NIMQueryMsgOnlineAsyncParam;
using nim::NIMQueryMsgByKeywordOnlineAsyncParam;
using nim::NIMDeleteSessionHistoryMessagesNotifyInfo;
using nim::NIMDeleteMessagesSelfParam;
using nim::SessionRoamMsgHasMoreTagInfo;
