/*
 * NIM's C++ messaging API over Magpie's libnim, in the shape of NIM's
 * nim_cpp_wrapper: nim::Talk, nim::SystemMsg, nim::Session, nim::MsgLog,
 * nim::DataSync and their helper structs (IMMessage, MessageSetting,
 * SendMessageArc, SysMessage, SysMessageSetting, SessionData,
 * SessionDataList, QueryMsglogResult). Included by nim_cpp_api.h.
 * Callbacks run on the SDK's thread.
 */
#pragma once

namespace nim
{

/** NIM's tri-state for optional settings: BS_NOT_INIT leaves the key out. */
enum BoolStatus
{
	BS_NOT_INIT = -1,
	BS_FALSE = 0,
	BS_TRUE = 1,
};

namespace detail
{
/* NIM's nim_talk_def.h keys that Magpie's C headers lack (same names and
 * values as NIM's; kept here so a later C header defining them cannot clash). */
static const char *const kNIMMsgKeyForcePushList = "force_push_list";            /**< string: a JSON array of accids */
static const char *const kNIMMsgKeyForcePushContent = "force_push_content";      /**< string */
static const char *const kNIMMsgKeyIsForcePush = "is_force_push";                /**< int 0/1 */
static const char *const kNIMMsgKeyAntiSpamEnable = "anti_spam_enable";         /**< int 0/1 */
static const char *const kNIMMsgKeyAntiSpamContent = "anti_spam_content";       /**< string */
static const char *const kNIMMsgKeyClientAntiSpam = "client_anti_spam_hitting"; /**< int 0/1 */
static const char *const kNIMMsgKeyAntiSpamBizId = "anti_spam_business_id";     /**< string */
static const char *const kNIMMsgKeyAntiSpamUsingYiDun = "anti_spam_using_yidun"; /**< int */
static const char *const kNIMMsgKeyTeamMsgAck = "team_msg_ack";                  /**< int 0/1 */
static const char *const kNIMMsgKeyYiDunAntiCheating = "yidun_anti_cheating";    /**< string */
static const char *const kNIMMsgKeyLocalKeyTeamMsgAckSent = "team_msg_ack_sent"; /**< local: 0/1 */
static const char *const kNIMMsgKeyLocalKeyTeamMsgUnreadCount = "team_msg_unread_count"; /**< local: int */
/* The thread object of a reply (nim_talk_reply_msg fills it). */
static const char *const kNIMMsgKeyThreadInfo = "thread_info";
static const char *const kNIMMsgKeyReplyMsgFromAccount = "reply_msg_from_account";
static const char *const kNIMMsgKeyReplyMsgToAccount = "replymsg_to_account"; // NIM's spelling
static const char *const kNIMMsgKeyReplyMsgTime = "reply_msg_time";
static const char *const kNIMMsgKeyReplyMsgIdServer = "reply_msg_id_server";
static const char *const kNIMMsgKeyReplyMsgIdClient = "reply_msg_id_client";
static const char *const kNIMMsgKeyThreadMsgFromAccount = "thread_msg_from_account";
static const char *const kNIMMsgKeyThreadMsgToAccount = "thread_msg_to_account";
static const char *const kNIMMsgKeyThreadMsgTime = "thread_msg_time";
static const char *const kNIMMsgKeyThreadMsgIdServer = "thread_msg_id_server";
static const char *const kNIMMsgKeyThreadMsgIdClient = "thread_msg_id_client";
static const char *const kNIMMsgKeyDeleted = "deleted";
/* A broadcast message. */
static const char *const kNIMBroadcastMsgKeyID = "id";                 /**< int64 */
static const char *const kNIMBroadcastMsgKeyFromAccid = "from_accid";  /**< string, may be missing */
static const char *const kNIMBroadcastMsgKeyTime = "time";             /**< int64 */
static const char *const kNIMBroadcastMsgKeyBody = "body";             /**< string */

/** A JSON value sent as JSON text (push_payload, server_ext): null if absent, empty or unreadable. */
inline json JsonText(const json &v, const char *key)
{
	auto it = v.find(key);
	if (it == v.end() || it->is_null())
		return json();
	if (!it->is_string())
		return *it;
	const std::string &s = it->get_ref<const std::string &>();
	if (s.empty())
		return json();
	json p = json::parse(s, nullptr, false);
	return p.is_discarded() ? json() : p;
}
} // namespace detail

/** A message's settings (each left out unless set). */
struct MessageSetting
{
	BoolStatus resend_flag_ = BS_NOT_INIT;
	BoolStatus server_history_saved_ = BS_NOT_INIT;
	BoolStatus roaming_ = BS_NOT_INIT;
	BoolStatus self_sync_ = BS_NOT_INIT;
	BoolStatus need_push_ = BS_NOT_INIT;
	BoolStatus push_need_badge_ = BS_NOT_INIT;
	BoolStatus push_need_prefix_ = BS_NOT_INIT;
	BoolStatus routable_ = BS_NOT_INIT;
	BoolStatus need_offline_ = BS_NOT_INIT;
	nlohmann::json push_payload_;
	std::string push_content_;
	nlohmann::json server_ext_;
	std::string local_ext_;
	BoolStatus is_force_push_ = BS_NOT_INIT;           /**< team messages: force push */
	std::list<std::string> force_push_ids_list_;       /**< team messages: force push to these (empty: all) */
	std::string force_push_content_;
	BoolStatus anti_spam_enable_ = BS_NOT_INIT;
	std::string anti_spam_content_;
	std::string anti_apam_biz_id_;                     // NIM's spelling
	int anti_apam_using_yidun_ = 1;                    // NIM's spelling; always written, as NIM does
	BoolStatus client_anti_spam_hitting_ = BS_NOT_INIT;
	BoolStatus team_msg_need_ack_ = BS_NOT_INIT;
	BoolStatus team_msg_ack_sent_ = BS_NOT_INIT;       /**< local */
	int team_msg_unread_count_ = -1;                   /**< local; -1: left out */
	std::string yidun_anti_cheating_;
	std::string env_config_;
	bool is_update_session_ = true;

	void ToJsonValue(nlohmann::json &v) const
	{
		auto put = [&v](const char *key, BoolStatus b) {
			if (b != BS_NOT_INIT)
				v[key] = b == BS_TRUE ? 1 : 0;
		};
		put(kNIMMsgKeyResendFlag, resend_flag_);
		put(kNIMMsgKeyHistorySave, server_history_saved_);
		put(kNIMMsgKeyMsgRoaming, roaming_);
		put(kNIMMsgKeyMsgSync, self_sync_);
		put(kNIMMsgKeyPushEnable, need_push_);
		put(kNIMMsgKeyPushNeedBadge, push_need_badge_);
		put(kNIMMsgKeyPushNeedPrefix, push_need_prefix_);
		put(kNIMMsgKeyMsgRoutable, routable_);
		put(kNIMMsgKeySetMsgOffline, need_offline_);
		if (!push_payload_.is_null())
			v[kNIMMsgKeyPushPayload] = push_payload_.dump();
		if (!push_content_.empty())
			v[kNIMMsgKeyPushContent] = push_content_;
		if (!server_ext_.is_null())
			v[kNIMMsgKeyServerExt] = server_ext_.dump();
		if (!local_ext_.empty())
			v[kNIMMsgKeyLocalExt] = local_ext_;
		put(detail::kNIMMsgKeyIsForcePush, is_force_push_);
		if (!force_push_content_.empty())
			v[detail::kNIMMsgKeyForcePushContent] = force_push_content_;
		if (!force_push_ids_list_.empty())
			v[detail::kNIMMsgKeyForcePushList] = nlohmann::json(force_push_ids_list_).dump();
		put(detail::kNIMMsgKeyAntiSpamEnable, anti_spam_enable_);
		if (!anti_spam_content_.empty())
			v[detail::kNIMMsgKeyAntiSpamContent] = anti_spam_content_;
		if (!anti_apam_biz_id_.empty())
			v[detail::kNIMMsgKeyAntiSpamBizId] = anti_apam_biz_id_;
		v[detail::kNIMMsgKeyAntiSpamUsingYiDun] = anti_apam_using_yidun_;
		put(detail::kNIMMsgKeyClientAntiSpam, client_anti_spam_hitting_);
		put(detail::kNIMMsgKeyTeamMsgAck, team_msg_need_ack_);
		put(detail::kNIMMsgKeyLocalKeyTeamMsgAckSent, team_msg_ack_sent_);
		if (team_msg_unread_count_ > -1)
			v[detail::kNIMMsgKeyLocalKeyTeamMsgUnreadCount] = team_msg_unread_count_;
		if (!yidun_anti_cheating_.empty())
			v[detail::kNIMMsgKeyYiDunAntiCheating] = yidun_anti_cheating_;
		if (!env_config_.empty())
			v[kNIMMsgKeyEnv] = env_config_;
		if (!is_update_session_)
			v[kNIMMsgKeyIsUpdateSession] = false;
	}

	void ParseMessageSetting(const nlohmann::json &v)
	{
		auto get = [&v](const char *key) -> BoolStatus {
			auto it = v.find(key);
			if (it == v.end() || !(it->is_number() || it->is_boolean()))
				return BS_NOT_INIT;
			return detail::Get<int>(v, key, 0) == 1 ? BS_TRUE : BS_FALSE;
		};
		resend_flag_ = get(kNIMMsgKeyResendFlag);
		server_history_saved_ = get(kNIMMsgKeyHistorySave);
		roaming_ = get(kNIMMsgKeyMsgRoaming);
		self_sync_ = get(kNIMMsgKeyMsgSync);
		need_push_ = get(kNIMMsgKeyPushEnable);
		push_need_badge_ = get(kNIMMsgKeyPushNeedBadge);
		push_need_prefix_ = get(kNIMMsgKeyPushNeedPrefix);
		routable_ = get(kNIMMsgKeyMsgRoutable);
		need_offline_ = get(kNIMMsgKeySetMsgOffline);
		push_payload_ = detail::JsonText(v, kNIMMsgKeyPushPayload);
		push_content_ = detail::Get<std::string>(v, kNIMMsgKeyPushContent, "");
		server_ext_ = detail::JsonText(v, kNIMMsgKeyServerExt);
		local_ext_ = detail::Get<std::string>(v, kNIMMsgKeyLocalExt, "");
		is_force_push_ = get(detail::kNIMMsgKeyIsForcePush);
		force_push_content_ = detail::Get<std::string>(v, detail::kNIMMsgKeyForcePushContent, "");
		force_push_ids_list_.clear();
		nlohmann::json ids = detail::JsonText(v, detail::kNIMMsgKeyForcePushList);
		if (ids.is_array())
			for (const auto &id : ids)
				if (id.is_string())
					force_push_ids_list_.push_back(id.get<std::string>());
		anti_spam_enable_ = get(detail::kNIMMsgKeyAntiSpamEnable);
		anti_spam_content_ = detail::Get<std::string>(v, detail::kNIMMsgKeyAntiSpamContent, "");
		anti_apam_biz_id_ = detail::Get<std::string>(v, detail::kNIMMsgKeyAntiSpamBizId, "");
		anti_apam_using_yidun_ = detail::Get<int>(v, detail::kNIMMsgKeyAntiSpamUsingYiDun, 1);
		client_anti_spam_hitting_ = get(detail::kNIMMsgKeyClientAntiSpam);
		team_msg_need_ack_ = get(detail::kNIMMsgKeyTeamMsgAck);
		team_msg_ack_sent_ = get(detail::kNIMMsgKeyLocalKeyTeamMsgAckSent);
		team_msg_unread_count_ = detail::Get<int>(v, detail::kNIMMsgKeyLocalKeyTeamMsgUnreadCount, -1);
		yidun_anti_cheating_ = detail::Get<std::string>(v, detail::kNIMMsgKeyYiDunAntiCheating, "");
		env_config_ = detail::Get<std::string>(v, kNIMMsgKeyEnv, "");
		is_update_session_ = detail::Get<bool>(v, kNIMMsgKeyIsUpdateSession, true);
	}
};

/** Where a reply sits in its thread (NIM's IMMessageThreadInfo): the replied
 *  message and the thread's root message. */
struct IMMessageThreadInfo
{
	std::string reply_msg_from_account_;
	std::string reply_msg_to_account_;
	uint64_t reply_msg_time_ = 0;
	uint64_t reply_msg_id_server_ = 0;
	std::string reply_msg_id_client_;
	std::string thread_msg_from_account_;
	std::string thread_msg_to_account_;
	uint64_t thread_msg_time_ = 0;
	uint64_t thread_msg_id_server_ = 0;
	std::string thread_msg_id_client_;
	int deleted_ = 0; /**< > 0: the message was recalled or deleted */
};

/** A message (NIM's IMMessage). */
struct IMMessage
{
	NIMResCode rescode_ = kNIMResSuccess;
	NIMMessageFeature feature_ = kNIMMessageFeatureDefault;
	NIMSessionType session_type_ = kNIMSessionTypeP2P;
	std::string receiver_accid_;
	std::string sender_accid_;
	int64_t timetag_ = 0;
	std::string content_;
	NIMMessageType type_ = kNIMMessageTypeUnknown;
	std::string attach_;
	std::string client_msg_id_;
	MessageSetting msg_setting_;
	std::string third_party_callback_ext_;
	int32_t sub_type_ = 0;
	std::string local_res_path_;
	std::string local_talk_id_;
	std::string local_res_id_;
	NIMMsgLogStatus status_ = kNIMMsgLogStatusNone;
	int32_t sub_status_ = 0;
	IMMessageThreadInfo thread_info_;
	NIMClientType readonly_sender_client_type_ = kNIMClientTypeDefault;
	std::string readonly_sender_device_id_;
	std::string readonly_sender_nickname_;
	int64_t readonly_server_id_ = 0;

	nlohmann::json ToJsonObject(bool use_to_send) const
	{
		nlohmann::json v;
		v[kNIMMsgKeyToType] = (int)session_type_;
		v[kNIMMsgKeyToAccount] = receiver_accid_;
		v[kNIMMsgKeyFromAccount] = sender_accid_;
		v[kNIMMsgKeyTime] = timetag_;
		v[kNIMMsgKeyType] = (int)type_;
		v[kNIMMsgKeyBody] = content_;
		v[kNIMMsgKeyAttach] = attach_;
		v[kNIMMsgKeyClientMsgid] = client_msg_id_;
		v[kNIMMsgKeySubType] = sub_type_;
		v[kNIMMsgKeyLocalFilePath] = local_res_path_;
		v[kNIMMsgKeyLocalTalkId] = local_talk_id_.empty() ? receiver_accid_ : local_talk_id_;
		v[kNIMMsgKeyLocalResId] = local_res_id_;
		v[kNIMMsgKeyLocalLogStatus] = (int)status_;
		v[kNIMMsgKeyLocalLogSubStatus] = sub_status_;
		msg_setting_.ToJsonValue(v);
		if (!use_to_send) {
			v[kNIMMsgKeyFromClientType] = (int)readonly_sender_client_type_;
			v[kNIMMsgKeyFromDeviceId] = readonly_sender_device_id_;
			v[kNIMMsgKeyFromNick] = readonly_sender_nickname_;
			v[kNIMMsgKeyServerMsgid] = readonly_server_id_;
			v[kNIMMsgKeyThirdPartyCBEXT] = third_party_callback_ext_;
		}
		// Always written, as NIM does (empty ids: not a reply).
		nlohmann::json &t = v[detail::kNIMMsgKeyThreadInfo];
		t[detail::kNIMMsgKeyReplyMsgFromAccount] = thread_info_.reply_msg_from_account_;
		t[detail::kNIMMsgKeyReplyMsgToAccount] = thread_info_.reply_msg_to_account_;
		t[detail::kNIMMsgKeyReplyMsgTime] = thread_info_.reply_msg_time_;
		t[detail::kNIMMsgKeyReplyMsgIdServer] = thread_info_.reply_msg_id_server_;
		t[detail::kNIMMsgKeyReplyMsgIdClient] = thread_info_.reply_msg_id_client_;
		t[detail::kNIMMsgKeyThreadMsgFromAccount] = thread_info_.thread_msg_from_account_;
		t[detail::kNIMMsgKeyThreadMsgToAccount] = thread_info_.thread_msg_to_account_;
		t[detail::kNIMMsgKeyThreadMsgTime] = thread_info_.thread_msg_time_;
		t[detail::kNIMMsgKeyThreadMsgIdServer] = thread_info_.thread_msg_id_server_;
		t[detail::kNIMMsgKeyThreadMsgIdClient] = thread_info_.thread_msg_id_client_;
		t[detail::kNIMMsgKeyDeleted] = thread_info_.deleted_;
		return v;
	}

	std::string ToJsonString(bool use_to_send) const { return ToJsonObject(use_to_send).dump(); }
};

/** A sent message's ack. */
struct SendMessageArc
{
	std::string talk_id_;
	std::string msg_id_;
	NIMResCode rescode_ = kNIMResError;
	int64_t msg_timetag_ = 0;
	std::string third_party_callback_ext_;
};

/** A broadcast message (to every user of the app). */
struct BroadcastMessage
{
	std::string body_;
	int64_t time_ = 0;
	int64_t id_ = 0;
	std::string from_id_;
};

namespace detail
{
inline void ParseMessage(const json &m, IMMessage &msg)
{
	msg.session_type_ = (NIMSessionType)Get<int>(m, kNIMMsgKeyToType, 0);
	msg.receiver_accid_ = Get<std::string>(m, kNIMMsgKeyToAccount, "");
	msg.sender_accid_ = Get<std::string>(m, kNIMMsgKeyFromAccount, "");
	msg.readonly_sender_client_type_ = (NIMClientType)Get<int>(m, kNIMMsgKeyFromClientType, 0);
	msg.readonly_sender_device_id_ = Get<std::string>(m, kNIMMsgKeyFromDeviceId, "");
	msg.readonly_sender_nickname_ = Get<std::string>(m, kNIMMsgKeyFromNick, "");
	msg.timetag_ = Get<int64_t>(m, kNIMMsgKeyTime, 0);
	msg.type_ = (NIMMessageType)Get<int>(m, kNIMMsgKeyType, kNIMMessageTypeUnknown);
	msg.content_ = Get<std::string>(m, kNIMMsgKeyBody, "");
	msg.attach_ = Get<std::string>(m, kNIMMsgKeyAttach, "");
	msg.client_msg_id_ = Get<std::string>(m, kNIMMsgKeyClientMsgid, "");
	msg.readonly_server_id_ = Get<int64_t>(m, kNIMMsgKeyServerMsgid, 0);
	msg.third_party_callback_ext_ = Get<std::string>(m, kNIMMsgKeyThirdPartyCBEXT, "");
	msg.sub_type_ = Get<int>(m, kNIMMsgKeySubType, 0);
	msg.local_res_path_ = Get<std::string>(m, kNIMMsgKeyLocalFilePath, "");
	msg.local_talk_id_ = Get<std::string>(m, kNIMMsgKeyLocalTalkId, "");
	msg.local_res_id_ = Get<std::string>(m, kNIMMsgKeyLocalResId, "");
	msg.status_ = (NIMMsgLogStatus)Get<int>(m, kNIMMsgKeyLocalLogStatus, 0);
	msg.sub_status_ = Get<int>(m, kNIMMsgKeyLocalLogSubStatus, 0);
	msg.msg_setting_.ParseMessageSetting(m);
	auto t = m.find(kNIMMsgKeyThreadInfo);
	if (t != m.end() && t->is_object()) {
		IMMessageThreadInfo &i = msg.thread_info_;
		i.reply_msg_from_account_ = Get<std::string>(*t, kNIMMsgKeyReplyMsgFromAccount, "");
		i.reply_msg_to_account_ = Get<std::string>(*t, kNIMMsgKeyReplyMsgToAccount, "");
		i.reply_msg_time_ = Get<uint64_t>(*t, kNIMMsgKeyReplyMsgTime, 0);
		i.reply_msg_id_server_ = Get<uint64_t>(*t, kNIMMsgKeyReplyMsgIdServer, 0);
		i.reply_msg_id_client_ = Get<std::string>(*t, kNIMMsgKeyReplyMsgIdClient, "");
		i.thread_msg_from_account_ = Get<std::string>(*t, kNIMMsgKeyThreadMsgFromAccount, "");
		i.thread_msg_to_account_ = Get<std::string>(*t, kNIMMsgKeyThreadMsgToAccount, "");
		i.thread_msg_time_ = Get<uint64_t>(*t, kNIMMsgKeyThreadMsgTime, 0);
		i.thread_msg_id_server_ = Get<uint64_t>(*t, kNIMMsgKeyThreadMsgIdServer, 0);
		i.thread_msg_id_client_ = Get<std::string>(*t, kNIMMsgKeyThreadMsgIdClient, "");
		i.deleted_ = Get<int>(*t, kNIMMsgKeyDeleted, 0);
	} else {
		msg.thread_info_ = IMMessageThreadInfo();
	}
}

inline BroadcastMessage ParseBroadcast(const json &v)
{
	BroadcastMessage b;
	b.body_ = Get<std::string>(v, kNIMBroadcastMsgKeyBody, "");
	b.from_id_ = Get<std::string>(v, kNIMBroadcastMsgKeyFromAccid, "");
	b.id_ = Get<int64_t>(v, kNIMBroadcastMsgKeyID, 0);
	b.time_ = Get<int64_t>(v, kNIMBroadcastMsgKeyTime, 0);
	return b;
}

/** A received message's wrapper, or a bare message (as NIM's parser). */
inline IMMessage ParseReceived(const json &v)
{
	IMMessage msg;
	auto c = v.find(kNIMMsgKeyLocalReceiveMsgContent);
	if (c == v.end()) {
		ParseMessage(v, msg);
		return msg;
	}
	msg.rescode_ = (NIMResCode)Get<int>(v, kNIMMsgKeyLocalRescode, 200);
	msg.feature_ = (NIMMessageFeature)Get<int>(v, kNIMMsgKeyLocalMsgFeature, 0);
	ParseMessage(*c, msg);
	return msg;
}

/** A callback slot: the registered function, read under a lock. */
template <typename F> struct Holder
{
	F fn;
	std::mutex lock;
	void Set(const F &f) { std::lock_guard<std::mutex> g(lock); fn = f; }
	F Get() { std::lock_guard<std::mutex> g(lock); return fn; }
};
} // namespace detail

/** A recall notification (NIM's RecallMsgNotify). */
struct RecallMsgNotify
{
	std::string from_id_;
	std::string to_id_;
	std::string msg_id_;
	std::string notify_;
	std::string from_nick_;
	std::string operator_id_;
	std::string attach_;
	std::string callback_ext_; /**< the third-party callback's field (Magpie calls none: empty) */
	NIMSessionType session_type_ = kNIMSessionTypeP2P;
	int64_t notify_timetag_ = 0;
	NIMMessageFeature notify_feature_ = kNIMMessageFeatureDefault;
	bool msglog_exist_ = true;
	int64_t msglog_timetag_ = 0;
};

namespace detail
{
inline RecallMsgNotify ParseRecallNotify(const json &o)
{
	RecallMsgNotify n;
	n.from_id_ = Get<std::string>(o, kNIMRecallMsgKeyFromAccID, "");
	n.to_id_ = Get<std::string>(o, kNIMRecallMsgKeyToAccID, "");
	n.msg_id_ = Get<std::string>(o, kNIMRecallMsgKeyMsgId, "");
	n.notify_ = Get<std::string>(o, kNIMRecallMsgKeyNotify, "");
	n.from_nick_ = Get<std::string>(o, kNIMRecallMsgKeyMsgFromNick, "");
	n.operator_id_ = Get<std::string>(o, kNIMRecallMsgKeyOpeAccID, "");
	n.attach_ = Get<std::string>(o, kNIMRecallMsgKeyAttach, "");
	n.callback_ext_ = Get<std::string>(o, "callback_ext", "");
	n.session_type_ = (NIMSessionType)Get<int>(o, kNIMRecallMsgKeyToType, 0);
	n.notify_timetag_ = Get<int64_t>(o, kNIMRecallMsgKeyTime, 0);
	n.notify_feature_ = (NIMMessageFeature)Get<int>(o, kNIMRecallMsgKeyNotifyFeature, 0);
	n.msglog_exist_ = Get<bool>(o, kNIMRecallMsgKeyMsgExist, true);
	n.msglog_timetag_ = Get<int64_t>(o, kNIMRecallMsgKeyMsgTime, 0);
	return n;
}

inline std::list<RecallMsgNotify> ParseRecallNotifys(const char *content)
{
	std::list<RecallMsgNotify> out;
	json v = Parse(content);
	if (!v.is_array())
		return out;
	for (const auto &o : v)
		out.push_back(ParseRecallNotify(o));
	return out;
}
} // namespace detail

class Talk
{
public:
	typedef std::function<void(const NIMResCode, const std::list<RecallMsgNotify>&)> RecallMsgsCallback;

	/** Recalls a P2P message I sent (within two minutes of its time). */
	static void RecallMsg(const IMMessage &msg, const std::string &notify, const RecallMsgsCallback& cb, const std::string& json_extension = "")
	{
		nim_talk_recall_msg(msg.ToJsonString(false).c_str(), notify.c_str(), json_extension.c_str(), &OnRecallOnce, new RecallMsgsCallback(cb));
	}
	/** As RecallMsg, with push text and payload (unused: Magpie sends no pushes). */
	static void RecallMsg2(const IMMessage &msg, const std::string &notify, const RecallMsgsCallback& cb, const std::string& apnstext = "", const std::string& pushpayload = "", const std::string& json_extension = "")
	{
		nim_talk_recall_msg2(msg.ToJsonString(false).c_str(), notify.c_str(), apnstext.c_str(), pushpayload.c_str(), json_extension.c_str(), &OnRecallOnce, new RecallMsgsCallback(cb));
	}
	/** As RecallMsg, with NIM's extra parameters (their attach goes with the notification). */
	static void RecallMsgEx(const IMMessage &msg, const std::string &notify, const RecallMsgsCallback& cb, nim_talk_recall_extra_params& extra_param)
	{
		nim_talk_recall_msg_ex(msg.ToJsonString(false).c_str(), notify.c_str(), &OnRecallOnce, &extra_param, new RecallMsgsCallback(cb));
	}
	/** Recalls of messages to me, and of mine made on my other devices. */
	static void RegRecallMsgsCallback(const RecallMsgsCallback& cb, const std::string& json_extension = "")
	{
		Recalls().Set(cb);
		nim_talk_reg_recall_msg_cb(json_extension.c_str(), cb ? &OnRecall : nullptr, nullptr);
	}

	typedef std::function<void(const SendMessageArc&)> SendMsgAckCallback;
	typedef std::function<void(const IMMessage&)> ReceiveMsgCallback;
	typedef std::function<void(const std::list<IMMessage>&)> ReceiveMsgsCallback;
	typedef std::function<void(int64_t, int64_t)> FileUpPrgCallback;
	typedef std::function<bool(const IMMessage&)> MessageFilter;
	typedef std::function<bool(const IMMessage&)> TeamNotificationFilter;
	typedef std::function<void(const BroadcastMessage&)> ReceiveBroadcastMsgCallback;
	typedef std::function<void(const std::list<BroadcastMessage>&)> ReceiveBroadcastMsgsCallback;

	static void RegSendMsgCb(const SendMsgAckCallback& cb, const std::string& json_extension = "")
	{
		Ack().Set(cb);
		nim_talk_reg_ack_cb(json_extension.c_str(), cb ? &OnAck : nullptr, nullptr);
	}

	static void SendMsg(const std::string& json_msg, const std::string& json_extension = "", FileUpPrgCallback* pcb = nullptr)
	{
		(void)json_extension;
		(void)pcb; // Magpie uploads no files: progress never comes.
		nim_talk_send_msg(json_msg.c_str(), nullptr, nullptr, nullptr);
	}

	static bool StopSendMsg(const std::string& client_msg_id, const NIMMessageType& type, const std::string& json_extension = "")
	{
		detail::json v;
		v[kNIMMsgKeyClientMsgid] = client_msg_id;
		v[kNIMMsgKeyType] = (int)type;
		nim_talk_stop_send_msg(v.dump().c_str(), json_extension.c_str());
		return true;
	}

	static void RegReceiveCb(const ReceiveMsgCallback& cb, const std::string& json_extension = "")
	{
		Receive().Set(cb);
		nim_talk_reg_receive_cb(json_extension.c_str(), cb ? &OnReceive : nullptr, nullptr);
	}

	static void RegReceiveMessagesCb(const ReceiveMsgsCallback& cb, const std::string& json_extension = "")
	{
		Batch().Set(cb);
		nim_talk_reg_receive_msgs_cb(json_extension.c_str(), cb ? &OnBatch : nullptr, nullptr);
	}

	static void RegMessageFilter(const MessageFilter& filter, const std::string& json_extension = "")
	{
		Filter().Set(filter);
		nim_talk_reg_message_filter_cb(json_extension.c_str(), filter ? &OnFilter : nullptr, nullptr);
	}

	/** Team notifications to drop (return true). Magpie has no teams: never called. */
	static void RegTeamNotificationFilter(const TeamNotificationFilter& filter, const std::string& json_extension = "")
	{
		TeamFilter().Set(filter);
		nim_talk_reg_notification_filter_cb(json_extension.c_str(), filter ? &OnTeamFilter : nullptr, nullptr);
	}

	/** Broadcast messages. A Magpie server sends none: never called. */
	static void RegReceiveBroadcastMsgCb(const ReceiveBroadcastMsgCallback& cb, const std::string& json_extension = "")
	{
		Broadcast().Set(cb);
		nim_talk_reg_receive_broadcast_cb(json_extension.c_str(), cb ? &OnBroadcast : nullptr, nullptr);
	}

	/** Broadcast messages in batches. A Magpie server sends none: never called. */
	static void RegReceiveBroadcastMsgsCb(const ReceiveBroadcastMsgsCallback& cb, const std::string& json_extension = "")
	{
		Broadcasts().Set(cb);
		nim_talk_reg_receive_broadcast_msgs_cb(json_extension.c_str(), cb ? &OnBroadcasts : nullptr, nullptr);
	}

	static std::string CreateTextMessage(const std::string& receiver_id, const NIMSessionType session_type, const std::string& client_msg_id, const std::string& content, const MessageSetting& msg_setting, int64_t timetag = 0, int32_t sub_type = 0)
	{
		detail::json v = Base(receiver_id, session_type, client_msg_id, kNIMMessageTypeText, msg_setting, timetag, sub_type);
		v[kNIMMsgKeyBody] = content;
		return v.dump();
	}

	static std::string CreateTipMessage(const std::string& receiver_id, const NIMSessionType session_type, const std::string& client_msg_id, const detail::json& tips, const MessageSetting& msg_setting, int64_t timetag = 0, int32_t sub_type = 0)
	{
		detail::json v = Base(receiver_id, session_type, client_msg_id, kNIMMessageTypeTips, msg_setting, timetag, sub_type);
		v[kNIMMsgKeyBody] = tips.is_string() ? tips.get<std::string>() : tips.dump();
		return v.dump();
	}

	static std::string CreateRetweetMessage(const std::string& src_msg_json, const std::string& client_msg_id, const NIMSessionType retweet_to_session_type, const std::string& retweet_to_session_id, const MessageSetting& msg_setting, int64_t timetag = 0)
	{
		detail::json setting = detail::json::object();
		msg_setting.ToJsonValue(setting);
		char *out = nim_talk_create_retweet_msg(src_msg_json.c_str(), client_msg_id.c_str(), retweet_to_session_type, retweet_to_session_id.c_str(), setting.dump().c_str(), timetag);
		std::string result = out ? out : "";
		nim_global_free_str_buf(out);
		return result;
	}

	static std::string GetAttachmentPathFromMsg(const IMMessage& msg)
	{
		char *out = nim_talk_get_attachment_path_from_msg(msg.ToJsonString(false).c_str());
		std::string result = out ? out : "";
		nim_global_free_str_buf(out);
		return result;
	}

	/** Sends `json_reply_msg` as a reply to `msg` in its thread; the ack goes
	 *  to the send-ack callback. `prg_cb` (kept alive by the caller, as in
	 *  NIM) never fires: Magpie uploads no files. */
	static void ReplyMessage(const IMMessage& msg, const std::string& json_reply_msg, FileUpPrgCallback* prg_cb = nullptr)
	{
		nim_talk_reply_msg(msg.ToJsonString(false).c_str(), json_reply_msg.c_str(), nullptr, prg_cb ? &OnUploadPrg : nullptr, prg_cb);
	}

	static bool ParseIMMessage(const std::string& json_msg, IMMessage& msg)
	{
		detail::json v = detail::json::parse(json_msg, nullptr, false);
		if (v.is_discarded() || !v.is_object())
			return false;
		msg = detail::ParseReceived(v);
		return true;
	}

	static void UnregTalkCb()
	{
		Ack().Set(nullptr);
		Receive().Set(nullptr);
		Batch().Set(nullptr);
		Filter().Set(nullptr);
		TeamFilter().Set(nullptr);
		Broadcast().Set(nullptr);
		Broadcasts().Set(nullptr);
		Recalls().Set(nullptr);
	}

private:
	static detail::json Base(const std::string& receiver_id, NIMSessionType session_type, const std::string& client_msg_id, NIMMessageType type, const MessageSetting& msg_setting, int64_t timetag, int32_t sub_type)
	{
		detail::json v;
		v[kNIMMsgKeyToAccount] = receiver_id;
		v[kNIMMsgKeyToType] = (int)session_type;
		v[kNIMMsgKeyClientMsgid] = client_msg_id;
		v[kNIMMsgKeyType] = (int)type;
		v[kNIMMsgKeyLocalTalkId] = receiver_id;
		msg_setting.ToJsonValue(v);
		if (timetag > 0)
			v[kNIMMsgKeyTime] = timetag;
		if (sub_type > 0)
			v[kNIMMsgKeySubType] = sub_type;
		return v;
	}

	static detail::Holder<SendMsgAckCallback>& Ack() { static detail::Holder<SendMsgAckCallback> h; return h; }
	static detail::Holder<ReceiveMsgCallback>& Receive() { static detail::Holder<ReceiveMsgCallback> h; return h; }
	static detail::Holder<ReceiveMsgsCallback>& Batch() { static detail::Holder<ReceiveMsgsCallback> h; return h; }
	static detail::Holder<MessageFilter>& Filter() { static detail::Holder<MessageFilter> h; return h; }
	static detail::Holder<TeamNotificationFilter>& TeamFilter() { static detail::Holder<TeamNotificationFilter> h; return h; }
	static detail::Holder<ReceiveBroadcastMsgCallback>& Broadcast() { static detail::Holder<ReceiveBroadcastMsgCallback> h; return h; }
	static detail::Holder<ReceiveBroadcastMsgsCallback>& Broadcasts() { static detail::Holder<ReceiveBroadcastMsgsCallback> h; return h; }
	static detail::Holder<RecallMsgsCallback>& Recalls() { static detail::Holder<RecallMsgsCallback> h; return h; }

	static void OnRecall(int rescode, const char *content, const char *, const void *)
	{
		auto f = Recalls().Get();
		if (f)
			f((NIMResCode)rescode, detail::ParseRecallNotifys(content));
	}
	static void OnRecallOnce(int rescode, const char *content, const char *, const void *user_data)
	{
		RecallMsgsCallback *cb = (RecallMsgsCallback *)user_data;
		if (*cb)
			(*cb)((NIMResCode)rescode, detail::ParseRecallNotifys(content));
		delete cb;
	}

	static void OnAck(const char *result, const void *)
	{
		auto f = Ack().Get();
		if (!f) return;
		detail::json v = detail::Parse(result);
		SendMessageArc a;
		a.rescode_ = (NIMResCode)detail::Get<int>(v, kNIMSendAckKeyRescode, 0);
		a.msg_id_ = detail::Get<std::string>(v, kNIMSendAckKeyMsgId, "");
		a.talk_id_ = detail::Get<std::string>(v, kNIMSendAckKeyTalkId, "");
		a.msg_timetag_ = detail::Get<int64_t>(v, kNIMSendAckKeyTimetag, 0);
		a.third_party_callback_ext_ = detail::Get<std::string>(v, kNIMMsgKeyThirdPartyCBEXT, "");
		f(a);
	}
	static void OnReceive(const char *content, const char *, const void *)
	{
		auto f = Receive().Get();
		if (f) f(detail::ParseReceived(detail::Parse(content)));
	}
	static void OnBatch(const char *content, const char *, const void *)
	{
		auto f = Batch().Get();
		if (!f) return;
		std::list<IMMessage> list;
		detail::json v = detail::Parse(content);
		if (v.is_array())
			for (const auto &m : v)
				list.push_back(detail::ParseReceived(m));
		f(list);
	}
	static bool OnFilter(const char *content, const char *, const void *)
	{
		auto f = Filter().Get();
		return f ? f(detail::ParseReceived(detail::Parse(content))) : false;
	}
	static bool OnTeamFilter(const char *content, const char *, const void *)
	{
		auto f = TeamFilter().Get();
		return f ? f(detail::ParseReceived(detail::Parse(content))) : false;
	}
	static void OnBroadcast(const char *content, const char *, const void *)
	{
		auto f = Broadcast().Get();
		if (f) f(detail::ParseBroadcast(detail::Parse(content)));
	}
	static void OnBroadcasts(const char *content, const char *, const void *)
	{
		auto f = Broadcasts().Get();
		if (!f) return;
		std::list<BroadcastMessage> list;
		detail::json v = detail::Parse(content);
		if (v.is_array())
			for (const auto &b : v)
				list.push_back(detail::ParseBroadcast(b));
		f(list);
	}
	static void OnUploadPrg(int64_t uploaded_size, int64_t file_size, const char *, const void *user_data)
	{
		// NIM's: `user_data` is the caller's FileUpPrgCallback, not owned here.
		const FileUpPrgCallback *cb = (const FileUpPrgCallback *)user_data;
		if (cb && *cb)
			(*cb)(uploaded_size, file_size);
	}
};

/** A custom notification's settings (each left out unless set). */
struct SysMessageSetting
{
	BoolStatus need_push_ = BS_NOT_INIT;
	BoolStatus push_need_badge_ = BS_NOT_INIT;
	BoolStatus push_need_prefix_ = BS_NOT_INIT;
	BoolStatus need_offline_ = BS_NOT_INIT;
	nlohmann::json push_payload_;
	std::string push_content_;
	std::string env_config_;
	BoolStatus anti_spam_enable_ = BS_NOT_INIT; /**< NIM's moderation switch (Magpie runs no moderation; carried as given) */
	std::string anti_spam_content_;            /**< the text moderation would read */

	void ToJsonValue(nlohmann::json &v) const
	{
		if (anti_spam_enable_ != BS_NOT_INIT) v[kNIMSysMsgKeyAntiSpamEnable] = anti_spam_enable_ == BS_TRUE ? 1 : 0;
		if (!anti_spam_content_.empty()) v[kNIMSysMsgKeyAntiSpamContent] = anti_spam_content_;
		if (need_push_ != BS_NOT_INIT) v[kNIMSysMsgKeyPushEnable] = need_push_ == BS_TRUE ? 1 : 0;
		if (push_need_badge_ != BS_NOT_INIT) v[kNIMSysMsgKeyPushNeedBadge] = push_need_badge_ == BS_TRUE ? 1 : 0;
		if (push_need_prefix_ != BS_NOT_INIT) v[kNIMSysMsgKeyPushNeedPrefix] = push_need_prefix_ == BS_TRUE ? 1 : 0;
		if (need_offline_ != BS_NOT_INIT) v[kNIMSysMsgKeyCustomSaveFlag] = need_offline_ == BS_TRUE ? 1 : 0;
		if (!push_payload_.is_null()) v[kNIMSysMsgKeyPushPayload] = push_payload_.dump();
		if (!push_content_.empty()) v[kNIMSysMsgKeyCustomApnsText] = push_content_;
		if (!env_config_.empty()) v["env_config"] = env_config_;
	}
};

/** A system notification (NIM's SysMessage). */
struct SysMessage
{
	int64_t timetag_ = 0;
	NIMSysMsgType type_ = kNIMSysMsgTypeUnknown;
	std::string receiver_accid_;
	std::string sender_accid_;
	std::string content_;
	std::string attach_;
	int64_t id_ = 0;
	NIMSysMsgStatus status_ = kNIMSysMsgStatusNone;
	SysMessageSetting msg_setting_;
	NIMResCode rescode_ = kNIMResSuccess;
	NIMMessageFeature feature_ = kNIMMessageFeatureDefault;
	int total_unread_count_ = 0;
	std::string client_msg_id_;
	std::string callbac_ext_; // NIM's spelling
};

namespace detail
{
inline void ParseSysMessageContent(const json &c, SysMessage &m)
{
	m.timetag_ = Get<int64_t>(c, kNIMSysMsgKeyTime, 0);
	m.type_ = (NIMSysMsgType)Get<int>(c, kNIMSysMsgKeyType, kNIMSysMsgTypeUnknown);
	m.receiver_accid_ = Get<std::string>(c, kNIMSysMsgKeyToAccount, "");
	m.sender_accid_ = Get<std::string>(c, kNIMSysMsgKeyFromAccount, "");
	m.content_ = Get<std::string>(c, kNIMSysMsgKeyMsg, "");
	m.attach_ = Get<std::string>(c, kNIMSysMsgKeyAttach, "");
	m.id_ = Get<int64_t>(c, kNIMSysMsgKeyMsgId, 0);
	m.status_ = (NIMSysMsgStatus)Get<int>(c, kNIMSysMsgKeyLocalStatus, 0);
	m.client_msg_id_ = Get<std::string>(c, kNIMSysMsgKeyLocalClientMsgId, "");
	int save = Get<int>(c, kNIMSysMsgKeyCustomSaveFlag, -1);
	m.msg_setting_.need_offline_ = save < 0 ? BS_NOT_INIT : (save == 1 ? BS_TRUE : BS_FALSE);
	m.msg_setting_.push_content_ = Get<std::string>(c, kNIMSysMsgKeyCustomApnsText, "");
	m.callbac_ext_ = Get<std::string>(c, "callback_ext", "");
}
} // namespace detail

class SystemMsg
{
public:
	typedef std::function<void(const SysMessage&)> ReceiveSysmsgCallback;
	typedef std::function<void(const SendMessageArc&)> SendCustomSysmsgCallback;
	typedef std::function<void(int, int, const std::list<SysMessage>&)> QueryMsgCallback;
	typedef std::function<void(NIMResCode, int)> QuerySysmsgUnreadCallback;

	static void RegSysmsgCb(const ReceiveSysmsgCallback& cb, const std::string& json_extension = "")
	{
		Receive().Set(cb);
		nim_sysmsg_reg_sysmsg_cb(json_extension.c_str(), cb ? &OnReceive : nullptr, nullptr);
	}

	static void RegSendCustomSysmsgCb(const SendCustomSysmsgCallback& cb, const std::string& json_extension = "")
	{
		Ack().Set(cb);
		nim_sysmsg_reg_custom_notification_ack_cb(json_extension.c_str(), cb ? &OnAck : nullptr, nullptr);
	}

	static void SendCustomNotificationMsg(const std::string& json_msg)
	{
		nim_sysmsg_send_custom_notification(json_msg.c_str(), nullptr);
	}

	static std::string CreateCustomNotificationMsg(const std::string& receiver_id, const NIMSysMsgType type, const std::string& client_msg_id, const std::string& content, const SysMessageSetting& msg_setting, int64_t timetag = 0)
	{
		detail::json v;
		v[kNIMSysMsgKeyToAccount] = receiver_id;
		v[kNIMSysMsgKeyType] = (int)type;
		v[kNIMSysMsgKeyAttach] = content;
		v[kNIMSysMsgKeyLocalClientMsgId] = client_msg_id;
		msg_setting.ToJsonValue(v);
		if (timetag > 0)
			v[kNIMSysMsgKeyTime] = timetag;
		return v.dump();
	}

	static bool QueryMsgAsync(int limit_count, int64_t last_time, const QueryMsgCallback& cb, const std::string& json_extension = "")
	{
		QueryMsgCallback *heap = new QueryMsgCallback(cb);
		nim_sysmsg_query_msg_async(limit_count, last_time, json_extension.c_str(), &OnQuery, heap);
		return true;
	}

	static void QueryUnreadCount(const QuerySysmsgUnreadCallback& cb, const std::string& json_extension = "")
	{
		QuerySysmsgUnreadCallback *heap = new QuerySysmsgUnreadCallback(cb);
		nim_sysmsg_query_unread_count(json_extension.c_str(), &OnUnread, heap);
	}

	typedef std::function<void(NIMResCode, int64_t, int)> SetStatusCallback;
	typedef SetStatusCallback DeleteCallback;
	typedef std::function<void(NIMResCode, int)> ReadAllCallback;
	typedef ReadAllCallback DeleteAllCallback;
	typedef ReadAllCallback BatchSetCallback;

	static bool SetStatusAsync(int64_t msg_id, NIMSysMsgStatus status, const SetStatusCallback& cb, const std::string& json_extension = "")
	{
		nim_sysmsg_set_status_async(msg_id, status, json_extension.c_str(), &OnResEx, new SetStatusCallback(cb));
		return true;
	}
	static void ReadAllAsync(const ReadAllCallback& cb, const std::string& json_extension = "")
	{
		nim_sysmsg_read_all_async(json_extension.c_str(), &OnRes, new ReadAllCallback(cb));
	}
	static bool DeleteAsync(int64_t msg_id, const DeleteCallback& cb, const std::string& json_extension = "")
	{
		nim_sysmsg_delete_async(msg_id, json_extension.c_str(), &OnResEx, new DeleteCallback(cb));
		return true;
	}
	static void DeleteAllAsync(const DeleteAllCallback& cb, const std::string& json_extension = "")
	{
		nim_sysmsg_delete_all_async(json_extension.c_str(), &OnRes, new DeleteAllCallback(cb));
	}
	static void SetStatusByTypeAsync(NIMSysMsgType type, NIMSysMsgStatus status, const BatchSetCallback& cb, const std::string& json_extension = "")
	{
		nim_sysmsg_set_logs_status_by_type_async(type, status, json_extension.c_str(), &OnRes, new BatchSetCallback(cb));
	}
	static void DeleteByTypeAsync(NIMSysMsgType type, const BatchSetCallback& cb, const std::string& json_extension = "")
	{
		nim_sysmsg_delete_logs_by_type_async(type, json_extension.c_str(), &OnRes, new BatchSetCallback(cb));
	}

	static void UnregSysmsgCb()
	{
		Receive().Set(nullptr);
		Ack().Set(nullptr);
	}

private:
	static detail::Holder<ReceiveSysmsgCallback>& Receive() { static detail::Holder<ReceiveSysmsgCallback> h; return h; }
	static detail::Holder<SendCustomSysmsgCallback>& Ack() { static detail::Holder<SendCustomSysmsgCallback> h; return h; }

	static void OnReceive(const char *content, const char *, const void *)
	{
		auto f = Receive().Get();
		if (!f) return;
		detail::json v = detail::Parse(content);
		SysMessage m;
		m.rescode_ = (NIMResCode)detail::Get<int>(v, kNIMSysMsgKeyLocalRescode, 200);
		m.feature_ = (NIMMessageFeature)detail::Get<int>(v, kNIMSysMsgKeyLocalFeature, 0);
		m.total_unread_count_ = detail::Get<int>(v, kNIMSysMsgKeyLocalUnreadCount, 0);
		auto c = v.find(kNIMSysMsgKeyLocalContent);
		if (c != v.end())
			detail::ParseSysMessageContent(*c, m);
		f(m);
	}
	static void OnAck(const char *result, const void *)
	{
		auto f = Ack().Get();
		if (!f) return;
		detail::json v = detail::Parse(result);
		SendMessageArc a;
		a.msg_id_ = detail::Get<std::string>(v, kNIMSendSysMsgAckKeyMsgId, "");
		a.talk_id_ = detail::Get<std::string>(v, kNIMSendSysMsgAckKeyTalkId, "");
		a.rescode_ = (NIMResCode)detail::Get<int>(v, kNIMSendSysMsgAckKeyRescode, 0);
		f(a);
	}
	static void OnQuery(int count, const char *result, const char *, const void *user_data)
	{
		QueryMsgCallback *cb = (QueryMsgCallback *)user_data;
		detail::json v = detail::Parse(result);
		std::list<SysMessage> list;
		auto c = v.find(kNIMSysMsglogQueryKeyContent);
		if (c != v.end() && c->is_array())
			for (const auto &item : *c) {
				SysMessage m;
				detail::ParseSysMessageContent(item, m);
				list.push_back(m);
			}
		if (*cb)
			(*cb)(count, detail::Get<int>(v, kNIMSysMsglogQueryKeyUnreadCount, 0), list);
		delete cb;
	}
	static void OnResEx(int res_code, int64_t msg_id, int unread_count, const char *, const void *user_data)
	{
		SetStatusCallback *cb = (SetStatusCallback *)user_data;
		if (*cb)
			(*cb)((NIMResCode)res_code, msg_id, unread_count);
		delete cb;
	}
	static void OnRes(int res_code, int unread_count, const char *, const void *user_data)
	{
		ReadAllCallback *cb = (ReadAllCallback *)user_data;
		if (*cb)
			(*cb)((NIMResCode)res_code, unread_count);
		delete cb;
	}
	static void OnUnread(int res_code, int unread_count, const char *, const void *user_data)
	{
		QuerySysmsgUnreadCallback *cb = (QuerySysmsgUnreadCallback *)user_data;
		if (*cb)
			(*cb)((NIMResCode)res_code, unread_count);
		delete cb;
	}
};

/** A session's stick-top information (NIM v7.6): kept on the server for
 *  every device of the account. */
struct StickTopSessionInfo
{
	bool top_ = false;
	std::string id_;
	NIMSessionType type_ = kNIMSessionTypeP2P;
	std::string ext_;
	int64_t create_time_ = 0;
	int64_t update_time_ = 0;
};

/** A recent session (NIM's SessionData). Magpie's session items do not
 *  carry `stick_top_info_` (it stays empty): read the stick-top list. */
struct SessionData
{
	std::string id_;
	NIMSessionType type_ = kNIMSessionTypeP2P;
	int unread_count_ = 0;
	NIMSessionCommand command_ = kNIMSessionCommandAdd;
	std::string msg_id_;
	std::string msg_sender_accid_;
	int64_t msg_timetag_ = 0;
	NIMMessageType msg_type_ = kNIMMessageTypeUnknown;
	std::string msg_content_;
	std::string msg_attach_;
	NIMMsgLogStatus msg_status_ = kNIMMsgLogStatusNone;
	int msg_sub_status_ = 0;
	bool last_updated_msg_ = true;
	bool placed_on_top_ = false;
	std::string extend_data_;
	bool is_robot_session_ = false;
	StickTopSessionInfo stick_top_info_;
};

/** A stick-top session: its information, and the session as this device
 *  has it (empty when it has none). */
struct StickTopSession
{
	StickTopSessionInfo stick_top_info_;
	SessionData session_data_;
};

/** The account's stick-top sessions, the most recently set first. */
struct StickTopSessionList
{
	std::list<StickTopSession> sessions_;
};

/** A list of sessions and the total unread count. */
struct SessionDataList
{
	int count_ = 0;
	int unread_count_ = 0;
	std::list<SessionData> sessions_;
};

namespace detail
{
inline SessionData ParseSession(const json &v)
{
	SessionData s;
	s.id_ = Get<std::string>(v, kNIMSessionId, "");
	s.type_ = (NIMSessionType)Get<int>(v, kNIMSessionType, 0);
	s.unread_count_ = Get<int>(v, kNIMSessionUnreadCount, 0);
	s.command_ = (NIMSessionCommand)Get<int>(v, kNIMSessionCommand, 0);
	s.msg_id_ = Get<std::string>(v, kNIMSessionMsgClientID, "");
	s.msg_sender_accid_ = Get<std::string>(v, kNIMSessionMsgFromAccount, "");
	s.msg_timetag_ = Get<int64_t>(v, kNIMSessionMsgTime, 0);
	s.msg_type_ = (NIMMessageType)Get<int>(v, kNIMSessionMsgType, kNIMMessageTypeUnknown);
	s.msg_content_ = Get<std::string>(v, kNIMSessionMsgBody, "");
	s.msg_attach_ = Get<std::string>(v, kNIMSessionMsgAttach, "");
	s.msg_status_ = (NIMMsgLogStatus)Get<int>(v, kNIMSessionMsgStatus, 0);
	s.msg_sub_status_ = Get<int>(v, kNIMSessionMsgSubStatus, 0);
	s.last_updated_msg_ = Get<bool>(v, kNIMSessionLastUpdatedMsg, true);
	s.placed_on_top_ = Get<bool>(v, kNIMSessionOnTop, false);
	s.extend_data_ = Get<std::string>(v, kNIMSessionExtendedData, "");
	s.is_robot_session_ = Get<bool>(v, kNIMSessionRobotFlag, false);
	return s;
}

inline StickTopSession ParseStickTopSession(const json &v)
{
	StickTopSession s;
	s.stick_top_info_.top_ = Get<bool>(v, kNIMSessionStickTopInfoTop, false);
	s.stick_top_info_.id_ = Get<std::string>(v, kNIMSessionStickTopInfoSessionId, "");
	s.stick_top_info_.type_ = (NIMSessionType)Get<int>(v, kNIMSessionStickTopInfoType, 0);
	s.stick_top_info_.ext_ = Get<std::string>(v, kNIMSessionStickTopInfoExt, "");
	s.stick_top_info_.create_time_ = Get<int64_t>(v, kNIMSessionStickTopInfoCreateTime, 0);
	s.stick_top_info_.update_time_ = Get<int64_t>(v, kNIMSessionStickTopInfoUpdateTime, 0);
	auto d = v.find(kNIMSessionStickTopSessionData);
	if (d != v.end() && d->is_object())
		s.session_data_ = ParseSession(*d);
	return s;
}
} // namespace detail

class Session
{
public:
	typedef std::function<void(NIMResCode, const SessionData&, int)> ChangeCallback;
	typedef std::function<void(int, const SessionDataList&)> QuerySessionListCallabck; // NIM's spelling
	typedef ChangeCallback DeleteRecentSessionCallabck;                                 // NIM's spelling
	typedef ChangeCallback SetUnreadCountZeroCallback;

	static void RegChangeCb(const ChangeCallback& cb, const std::string& json_extension = "")
	{
		Change().Set(cb);
		nim_session_reg_change_cb(json_extension.c_str(), cb ? &OnChange : nullptr, nullptr);
	}

	static void QueryAllRecentSessionAsync(const QuerySessionListCallabck& cb, const std::string& json_extension = "")
	{
		QuerySessionListCallabck *heap = new QuerySessionListCallabck(cb);
		nim_session_query_all_recent_session_async(json_extension.c_str(), &OnList, heap);
	}

	static bool DeleteRecentSession(NIMSessionType to_type, const std::string& id, const DeleteRecentSessionCallabck& cb, const std::string& json_extension = "")
	{
		ChangeCallback *heap = new ChangeCallback(cb);
		nim_session_delete_recent_session_async(to_type, id.c_str(), json_extension.c_str(), &OnOnce, heap);
		return true;
	}

	/** As DeleteRecentSession; with `delete_roaming` the session's messages go
	 *  too: on this device and the server's roaming copies (the server's history
	 *  stays). false (and no callback) for an empty id, as in NIM. */
	static bool DeleteRecentSessionEx(NIMSessionType to_type, const std::string& id, const DeleteRecentSessionCallabck& cb, bool delete_roaming)
	{
		if (id.empty())
			return false;
		nim_session_delete_recent_session_async_ex(to_type, id.c_str(), delete_roaming, &OnOnce, new ChangeCallback(cb));
		return true;
	}

	typedef std::function<void(NIMResCode, NIMSessionType, const std::string& session_id)> DeleteSessionRoammsgCallback;

	/** The session's roaming messages leave the server: devices of this account that
	 *  log in later do not get them (the server's history and the local one stay).
	 *  false (and no callback) for an empty id, as in NIM. */
	static bool DeleteSessionRoamingMessage(NIMSessionType to_type, const std::string& id, const DeleteSessionRoammsgCallback& cb, const std::string& json_extension = "")
	{
		if (id.empty())
			return false;
		nim_session_delete_session_roaming_async(to_type, id.c_str(), json_extension.c_str(), &OnRoamingDeleted, new DeleteSessionRoammsgCallback(cb));
		return true;
	}

	static bool SetUnreadCountZeroAsync(NIMSessionType to_type, const std::string& id, const SetUnreadCountZeroCallback& cb, const std::string& json_extension = "")
	{
		ChangeCallback *heap = new ChangeCallback(cb);
		nim_session_set_unread_count_zero_async(to_type, id.c_str(), json_extension.c_str(), &OnOnce, heap);
		return true;
	}

	typedef ChangeCallback DeleteAllRecentSessionCallabck; // NIM's spelling
	typedef ChangeCallback SetSessionTopCallback;
	typedef ChangeCallback SetSessionExtendDataCallback;
	typedef ChangeCallback SetAllUnreadCountZeroCallback;
	typedef std::function<void(NIMResCode, const SessionData&)> QuerySessionDataCallback;

	static void QueryLastFewSessionAsync(int limit, const QuerySessionListCallabck& cb, const std::string& json_extension = "")
	{
		nim_session_query_last_few_session_async(limit, json_extension.c_str(), &OnList, new QuerySessionListCallabck(cb));
	}
	static void DeleteAllRecentSession(const DeleteAllRecentSessionCallabck& cb, const std::string& json_extension = "")
	{
		nim_session_delete_all_recent_session_async(json_extension.c_str(), &OnOnce, new ChangeCallback(cb));
	}
	static void SetSessionTop(NIMSessionType to_type, const std::string& id, bool top, const SetSessionTopCallback& cb, const std::string& json_extension = "")
	{
		nim_session_set_top(to_type, id.c_str(), top, json_extension.c_str(), &OnOnce, new ChangeCallback(cb));
	}
	static void SetSessionExtendData(NIMSessionType to_type, const std::string& id, const std::string& data, const SetSessionExtendDataCallback& cb, const std::string& json_extension = "")
	{
		nim_session_set_extend_data(to_type, id.c_str(), data.c_str(), json_extension.c_str(), &OnOnce, new ChangeCallback(cb));
	}
	static bool SetAllUnreadCountZeroAsync(const SetAllUnreadCountZeroCallback& cb, const std::string& json_extension = "")
	{
		nim_session_reset_all_unread_count_async(json_extension.c_str(), &OnOnce, new ChangeCallback(cb));
		return true;
	}
	static void QuerySessionDataById(NIMSessionType to_type, const std::string& id, const QuerySessionDataCallback& cb, const std::string& json_extension = "")
	{
		nim_session_query_sessiondata_by_id_async(to_type, id.c_str(), json_extension.c_str(), &OnById, new QuerySessionDataCallback(cb));
	}

	/** One session to mark read (SetMultiUnreadCountZeroAsync). */
	struct MultiUnreadCountZeroInfo
	{
		std::string id_;
		NIMSessionType type_ = kNIMSessionTypeP2P;
	};
	typedef std::function<void(NIMResCode, const std::list<SessionData>&, int)> SetMultiUnreadCountZeroCallback;

	static bool SetMultiUnreadCountZeroAsync(bool super_team, const std::list<MultiUnreadCountZeroInfo>& list, const SetMultiUnreadCountZeroCallback& cb)
	{
		detail::json v = detail::json::array();
		for (const auto &i : list)
			v.push_back({{"type", (int)i.type_}, {"id", i.id_}});
		nim_session_set_multi_unread_count_zero_async(super_team, v.dump().c_str(), &OnMulti, new SetMultiUnreadCountZeroCallback(cb));
		return true;
	}

	/** Every session, each with its newest message not of type
	 *  `last_msg_excluded_type` as its last message (kNIMMessageTypeUnknown
	 *  excludes nothing). */
	static void QueryAllRecentSessionAsync(NIMMessageType last_msg_excluded_type, const QuerySessionListCallabck& cb, const std::string& json_extension = "")
	{
		nim_session_query_all_recent_session_with_last_msg_excluded_type_async(json_extension.c_str(), &OnList, last_msg_excluded_type, new QuerySessionListCallabck(cb));
	}

	/** As above, leaving out several types. */
	static void QueryAllRecentSessionAsync(const std::list<NIMMessageType>& last_msg_excluded_type_list, const QuerySessionListCallabck& cb, const std::string& json_extension = "")
	{
		detail::json v = detail::json::array();
		for (auto t : last_msg_excluded_type_list)
			v.push_back((int)t);
		nim_session_query_all_recent_session_with_last_msg_excluded_type_async_ex(json_extension.c_str(), &OnList, v.dump().c_str(), new QuerySessionListCallabck(cb));
	}

	typedef std::function<int(const std::string&)> BadgeCountCallback;

	/** The app icon's badge number, asked for by NIM's iOS SDK only: a
	 *  desktop SDK never calls it. */
	static void RegBadgeCountCb(const BadgeCountCallback& cb, const std::string& json_extension = "")
	{
		Badge().Set(cb);
		nim_session_reg_badge_count_cb(json_extension.c_str(), &OnBadge, nullptr);
	}

	typedef std::function<void(NIMResCode, const SessionRoamMsgHasMoreTagInfo&)> QueryHasmoreRoammsgCallback;
	typedef std::function<void(NIMResCode, const std::list<SessionRoamMsgHasMoreTagInfo>&)> QueryAllHasmoreRoammsgCallback;
	typedef std::function<void(NIMResCode)> UpdateHasmoreRoammsgCallback;
	typedef std::function<void(NIMResCode)> DeleteHasmoreRoammsgCallback;

	/** A session's has-more-roaming tag (the server keeps messages of it
	 *  older than the one the tag names). */
	static void QueryHasmoreRoammsg(const std::string& session_id, NIMSessionType to_type, const QueryHasmoreRoammsgCallback& cb)
	{
		SessionMainTagInfo info = MainTag(session_id, to_type);
		nim_session_query_session_hasmore_roammsg(&info, &OnHasmore, new QueryHasmoreRoammsgCallback(cb));
	}

	/** Every has-more-roaming tag, newest first. */
	static void QueryAllHasmoreRoammsg(const QueryAllHasmoreRoammsgCallback& cb)
	{
		nim_session_query_all_session_hasmore_roammsg(&OnAllHasmore, new QueryAllHasmoreRoammsgCallback(cb));
	}

	/** Tags the session of `msg`: the server keeps messages older than it. */
	static void UpdateHasmoreRoammsg(const IMMessage& msg, const UpdateHasmoreRoammsgCallback& cb)
	{
		nim_session_update_session_hasmore_roammsg(msg.ToJsonString(false).c_str(), &OnCode, new UpdateHasmoreRoammsgCallback(cb));
	}

	/** Removes a session's has-more-roaming tag. */
	static void DeleteHasmoreRoammsg(const std::string& session_id, NIMSessionType to_type, const DeleteHasmoreRoammsgCallback& cb)
	{
		SessionMainTagInfo info = MainTag(session_id, to_type);
		nim_session_delete_session_hasmore_roammsg(&info, &OnCode, new DeleteHasmoreRoammsgCallback(cb));
	}

	typedef std::function<void(const StickTopSession&)> SetToStickTopSessionNotifyCallback;
	typedef std::function<void(const std::string& session_id, NIMSessionType)> CancelStickTopSessionNotifyCallback;
	typedef std::function<void(const StickTopSession&)> UpdateStickTopSessionNotifyCallback;
	typedef std::function<void(NIMResCode, const StickTopSession&)> SetToStickTopSessionCallback;
	typedef std::function<void(NIMResCode, const std::string& session_id, NIMSessionType)> CancelStickTopSessionCallback;
	typedef std::function<void(NIMResCode, const StickTopSession&)> UpdateStickTopSessionCallback;
	typedef std::function<void(NIMResCode, const StickTopSessionList&)> QueryStickTopSessionListCallback;

	/** Another device of the account put a session on top. */
	static void RegSetToStickTopSessionNotifyCB(const SetToStickTopSessionNotifyCallback& cb)
	{
		StickSet().Set(cb);
		nim_session_reg_set_to_stick_top_notify_cb(cb ? &OnStickSet : nullptr, nullptr);
	}
	/** Another device of the account took a session off the top. */
	static void RegCancelStickTopSessionNotifyCB(const CancelStickTopSessionNotifyCallback& cb)
	{
		StickCancel().Set(cb);
		nim_session_reg_cancell_stick_top_notify_cb(cb ? &OnStickCancel : nullptr, nullptr);
	}
	/** Another device of the account changed a stick-top extension. */
	static void RegUpdateStickTopSessionNotifyCB(const UpdateStickTopSessionNotifyCallback& cb)
	{
		StickUpdate().Set(cb);
		nim_session_reg_update_stick_top_notify_cb(cb ? &OnStickUpdate : nullptr, nullptr);
	}
	/** The account's stick-top sessions, as the server keeps them. */
	static void QueryStickTopSessionList(const QueryStickTopSessionListCallback& cb)
	{
		nim_session_query_stick_top_session_list(&OnStickList, new QueryStickTopSessionListCallback(cb));
	}
	/** Puts a session on top for every device of the account (or replaces
	 *  the extension of one on top). */
	static void SetToStickTopSession(const std::string& session_id, NIMSessionType to_type, const std::string& ext, const SetToStickTopSessionCallback& cb)
	{
		nim_session_set_to_stick_top(session_id.c_str(), to_type, ext.c_str(), &OnStickOne, new SetToStickTopSessionCallback(cb));
	}
	/** Changes the extension of a session on top (404 when it is not). */
	static void UpdateToStickTopSession(const std::string& session_id, NIMSessionType to_type, const std::string& ext, const UpdateStickTopSessionCallback& cb)
	{
		nim_session_update_stick_top(session_id.c_str(), to_type, ext.c_str(), &OnStickOne, new UpdateStickTopSessionCallback(cb));
	}
	/** Takes a session off the top (404 when it is not on top). */
	static void CancelToStickTopSession(const std::string& session_id, NIMSessionType to_type, const CancelStickTopSessionCallback& cb)
	{
		nim_session_cancel_stick_top(session_id.c_str(), to_type, &OnStickCancelled, new CancelStickTopSessionCallback(cb));
	}

	static void UnregSessionCb()
	{
		Change().Set(nullptr);
		Badge().Set(nullptr);
		RegSetToStickTopSessionNotifyCB(nullptr);
		RegCancelStickTopSessionNotifyCB(nullptr);
		RegUpdateStickTopSessionNotifyCB(nullptr);
	}

private:
	static detail::Holder<ChangeCallback>& Change() { static detail::Holder<ChangeCallback> h; return h; }

	static void OnChange(int rescode, const char *result, int total, const char *, const void *)
	{
		auto f = Change().Get();
		if (f) f((NIMResCode)rescode, detail::ParseSession(detail::Parse(result)), total);
	}
	static void OnOnce(int rescode, const char *result, int total, const char *, const void *user_data)
	{
		ChangeCallback *cb = (ChangeCallback *)user_data;
		if (*cb)
			(*cb)((NIMResCode)rescode, detail::ParseSession(detail::Parse(result)), total);
		delete cb;
	}
	static void OnMulti(int rescode, const char *result, int total, const void *user_data)
	{
		SetMultiUnreadCountZeroCallback *cb = (SetMultiUnreadCountZeroCallback *)user_data;
		std::list<SessionData> list;
		detail::json v = detail::Parse(result);
		if (v.is_array())
			for (const auto &item : v)
				list.push_back(detail::ParseSession(item));
		if (*cb)
			(*cb)((NIMResCode)rescode, list, total);
		delete cb;
	}
	static detail::Holder<BadgeCountCallback>& Badge() { static detail::Holder<BadgeCountCallback> h; return h; }
	static detail::Holder<SetToStickTopSessionNotifyCallback>& StickSet() { static detail::Holder<SetToStickTopSessionNotifyCallback> h; return h; }
	static detail::Holder<CancelStickTopSessionNotifyCallback>& StickCancel() { static detail::Holder<CancelStickTopSessionNotifyCallback> h; return h; }
	static detail::Holder<UpdateStickTopSessionNotifyCallback>& StickUpdate() { static detail::Holder<UpdateStickTopSessionNotifyCallback> h; return h; }
	static void OnStickSet(const char *stick_session, const void *)
	{
		auto f = StickSet().Get();
		if (f) f(detail::ParseStickTopSession(detail::Parse(stick_session)));
	}
	static void OnStickUpdate(const char *stick_session, const void *)
	{
		auto f = StickUpdate().Get();
		if (f) f(detail::ParseStickTopSession(detail::Parse(stick_session)));
	}
	static void OnStickCancel(const char *session_id, NIMSessionType to_type, const void *)
	{
		auto f = StickCancel().Get();
		if (f) f(session_id ? session_id : "", to_type);
	}
	static void OnStickOne(int rescode, const char *stick_session, const void *user_data)
	{
		SetToStickTopSessionCallback *cb = (SetToStickTopSessionCallback *)user_data;
		if (*cb)
			(*cb)((NIMResCode)rescode, detail::ParseStickTopSession(detail::Parse(stick_session)));
		delete cb;
	}
	static void OnStickCancelled(int rescode, const char *session_id, NIMSessionType to_type, const void *user_data)
	{
		CancelStickTopSessionCallback *cb = (CancelStickTopSessionCallback *)user_data;
		if (*cb)
			(*cb)((NIMResCode)rescode, session_id ? session_id : "", to_type);
		delete cb;
	}
	static void OnStickList(int rescode, const char *result, const void *user_data)
	{
		QueryStickTopSessionListCallback *cb = (QueryStickTopSessionListCallback *)user_data;
		StickTopSessionList list;
		detail::json v = detail::Parse(result);
		if (v.is_array())
			for (const auto &item : v)
				list.sessions_.push_back(detail::ParseStickTopSession(item));
		if (*cb)
			(*cb)((NIMResCode)rescode, list);
		delete cb;
	}
	static int OnBadge(const char *json_extension, const void *)
	{
		BadgeCountCallback f = Badge().Get();
		return f ? f(json_extension ? json_extension : "") : 0;
	}
	static SessionMainTagInfo MainTag(const std::string& session_id, NIMSessionType to_type)
	{
		SessionMainTagInfo info;
		memset(&info, 0, sizeof info);
		info.to_type = to_type;
		memcpy(info.session_id, session_id.data(), std::min(session_id.size(), sizeof info.session_id - 1));
		return info;
	}
	static void OnHasmore(int rescode, const SessionRoamMsgHasMoreTagInfo *tag, const void *user_data)
	{
		QueryHasmoreRoammsgCallback *cb = (QueryHasmoreRoammsgCallback *)user_data;
		if (*cb)
			(*cb)((NIMResCode)rescode, *tag);
		delete cb;
	}
	static void OnAllHasmore(int rescode, const SessionRoamMsgHasMoreTagInfo *tags, int size, const void *user_data)
	{
		QueryAllHasmoreRoammsgCallback *cb = (QueryAllHasmoreRoammsgCallback *)user_data;
		std::list<SessionRoamMsgHasMoreTagInfo> list(tags, tags + size);
		if (*cb)
			(*cb)((NIMResCode)rescode, list);
		delete cb;
	}
	static void OnRoamingDeleted(int rescode, const char *to_type, const char *id, const void *user_data)
	{
		DeleteSessionRoammsgCallback *cb = (DeleteSessionRoammsgCallback *)user_data;
		if (*cb)
			(*cb)((NIMResCode)rescode, (NIMSessionType)atoi(to_type ? to_type : "0"), id ? id : "");
		delete cb;
	}
	static void OnCode(int rescode, const void *user_data)
	{
		std::function<void(NIMResCode)> *cb = (std::function<void(NIMResCode)> *)user_data;
		if (*cb)
			(*cb)((NIMResCode)rescode);
		delete cb;
	}
	static void OnById(int rescode, const char *result, const void *user_data)
	{
		QuerySessionDataCallback *cb = (QuerySessionDataCallback *)user_data;
		if (*cb)
			(*cb)((NIMResCode)rescode, detail::ParseSession(detail::Parse(result)));
		delete cb;
	}
	static void OnList(int total, const char *result, const char *, const void *user_data)
	{
		QuerySessionListCallabck *cb = (QuerySessionListCallabck *)user_data;
		detail::json v = detail::Parse(result);
		SessionDataList list;
		list.count_ = detail::Get<int>(v, kNIMSessionListCount, 0);
		list.unread_count_ = detail::Get<int>(v, kNIMSessionListUnreadCount, 0);
		auto c = v.find(kNIMSessionListContent);
		if (c != v.end() && c->is_array())
			for (const auto &item : *c)
				list.sessions_.push_back(detail::ParseSession(item));
		if (*cb)
			(*cb)(total, list);
		delete cb;
	}
};

/** A history query's answer. */
struct QueryMsglogResult
{
	int count_ = 0;
	NIMMsglogQuerySource source_ = kNIMMsglogQuerySourceLocal;
	std::list<IMMessage> msglogs_;
};

/** A message status change: every message of mine in `talk_id_` up to
 *  `msg_timetag_` is now `status_` (kNIMMsgLogStatusReceipt: the peer read it). */
struct MessageStatusChanged
{
	NIMMsgLogStatus status_ = kNIMMsgLogStatusNone;
	std::string talk_id_;
	int64_t msg_timetag_ = 0;
};

/** The result of a read receipt, and what the status-changed callback gets. */
struct MessageStatusChangedResult
{
	NIMResCode rescode_ = kNIMResSuccess;
	std::list<MessageStatusChanged> results_;

	MessageStatusChangedResult(int rescode, const std::string &json) : rescode_((NIMResCode)rescode)
	{
		detail::json v = detail::Parse(json.c_str());
		if (!v.is_array())
			return;
		for (const auto &o : v) {
			MessageStatusChanged c;
			c.status_ = (NIMMsgLogStatus)detail::Get<int>(o, kNIMMsglogStatusChangedKeyStatus, 0);
			c.talk_id_ = detail::Get<std::string>(o, kNIMMsglogStatusChangedKeyTalkID, "");
			c.msg_timetag_ = detail::Get<int64_t>(o, kNIMMsglogStatusChangedKeyMsgTimetag, 0);
			results_.push_back(c);
		}
	}
};

/** One message another device of the account deleted one way. */
struct DeleteMsglogSelfNotifyItemInfo
{
	std::string session_id_; /**< the session (the peer) */
	std::string client_id_;  /**< the message's client id */
	std::string ext_;        /**< the app's extension */
};

/** What the one-way deletion callback gets. */
struct DeleteMsglogSelfNotifyParam
{
	std::list<DeleteMsglogSelfNotifyItemInfo> item_list; /**< the messages deleted */
};

class MsgLog
{
public:
	typedef std::function<void(const MessageStatusChangedResult&)> MessageStatusChangedCallback;
	typedef std::function<void(const DeleteMsglogSelfNotifyParam&)> DeleteMsglogSelfNotifyCallback;
	typedef std::function<void(NIMResCode res_code)> DeleteMsglogSelfCallback;
	typedef std::function<void(const NIMResCode res_code, const std::string& accid)> DeleteHistoryOnLineAsyncCallback;
	typedef std::function<void(const NIMResCode res_code, const std::string& accid, NIMSessionType to_type, uint64_t time, const std::string& ext)> DeleteHistoryOnLineAsyncExCallback;
	typedef std::function<void(const std::list<NIMDeleteSessionHistoryMessagesNotifyInfo>& info_list)> DeleteHistoryOnLineNotifyCallback;

	/** Server histories another device of the account cleared with notify_self. */
	static void RegDeleteHistoryMessagesNotify(const DeleteHistoryOnLineNotifyCallback& cb)
	{
		HistoryNotify().Set(cb);
		nim_msglog_register_delete_history_messages_callback(cb ? &OnHistoryNotify : nullptr, nullptr);
	}
	/** NIM 8: clears my server history of a session (and its roaming copies); with
	 *  notify_self my other devices are told, with `ext`. */
	static void DeleteHistoryOnlineAsync(const std::string& accid, NIMSessionType to_type, bool notify_self, const std::string& ext, const DeleteHistoryOnLineAsyncExCallback& cb)
	{
		nim_msglog_delete_history_online_async_ex(accid.c_str(), to_type, notify_self, ext.c_str(), &OnDeleteHistoryEx, new DeleteHistoryOnLineAsyncExCallback(cb));
	}

	/** Messages another device of the account deleted one way (already gone here). */
	static void RegDeleteMsglogSelfNotify(const DeleteMsglogSelfNotifyCallback& cb)
	{
		DeleteSelfNotify().Set(cb);
		nim_msglog_register_delete_msgs_self_callback(cb ? &OnDeleteSelfNotify : nullptr, nullptr);
	}
	/** Clears my server history of the P2P session with `accid` (with `delete_roaming`,
	 *  my devices that have not received its messages never will); local histories and
	 *  the peer's stay. */
	static void DeleteHistoryOnlineAsync(const std::string& accid, bool delete_roaming, const std::string& json_extension, const DeleteHistoryOnLineAsyncCallback& cb)
	{
		nim_msglog_delete_history_online_async(accid.c_str(), delete_roaming, json_extension.c_str(), &OnDeleteHistory, new DeleteHistoryOnLineAsyncCallback(cb));
	}
	/** Deletes `msg` for me only: here, on the server and on my other devices (which get
	 *  `ext`); the peer keeps it. */
	static void DeleteMessageSelfAsync(const IMMessage& msg, const std::string ext, const DeleteMsglogSelfCallback& cb)
	{
		nim_msglog_delete_message_self_async(msg.ToJsonString(false).c_str(), ext.c_str(), "", &OnDeleteSelf, new DeleteMsglogSelfCallback(cb));
	}

	/** Deletes several messages for me only, each with its `ext`, in order. */
	static void DeleteMessageSelfAsync(const std::list<std::tuple<IMMessage, std::string>>& msgs, const DeleteMsglogSelfCallback& cb)
	{
		std::vector<NIMDeleteMessagesSelfParam> items;
		for (const auto &it : msgs) {
			const IMMessage &msg = std::get<0>(it);
			const std::string &ext = std::get<1>(it);
			NIMDeleteMessagesSelfParam p;
			memset(&p, 0, sizeof p);
			p.to_type_ = msg.session_type_;
			msg.sender_accid_.copy(p.from_account, sizeof p.from_account - 1);
			msg.receiver_accid_.copy(p.to_account, sizeof p.to_account - 1);
			p.server_id = msg.readonly_server_id_;
			msg.client_msg_id_.copy(p.client_id, sizeof p.client_id - 1);
			p.time = msg.timetag_;
			ext.copy(p.ext, sizeof p.ext - 1);
			items.push_back(p);
		}
		nim_msglog_delete_messages_self_async(items.data(), (int)items.size(), &OnDeleteSelf, new DeleteMsglogSelfCallback(cb));
	}

	/** Sends the sender of `json_msg` (a received P2P message) a read receipt up to its time. */
	static void SendReceiptAsync(const std::string& json_msg, const MessageStatusChangedCallback& cb)
	{
		nim_msglog_send_receipt_async(json_msg.c_str(), "", &OnStatusOnce, new MessageStatusChangedCallback(cb));
	}
	/** Whether the peer has read this message of mine. */
	static bool QuerySentMessageBeReaded(const IMMessage& msg)
	{
		return nim_msglog_query_be_readed(msg.ToJsonString(false).c_str(), "");
	}
	/** Whether a read receipt covering this received message was sent. */
	static bool QueryReceivedMsgReceiptSent(const IMMessage& msg)
	{
		return nim_msglog_query_receipt_sent(msg.ToJsonString(false).c_str(), "");
	}
	/** Peers' read receipts of my messages. */
	static void RegMessageStatusChangedCb(const MessageStatusChangedCallback& cb, const std::string& json_extension = "")
	{
		StatusChanged().Set(cb);
		nim_msglog_reg_status_changed_cb(json_extension.c_str(), cb ? &OnStatusChanged : nullptr, nullptr);
	}

	typedef std::function<void(NIMResCode, const std::string&, NIMSessionType, const QueryMsglogResult&)> QueryMsgCallback;

	static bool QueryMsgAsync(const std::string& account_id, NIMSessionType to_type, int limit_count, int64_t anchor_msg_time, const QueryMsgCallback& cb, const std::string& json_extension = "")
	{
		QueryMsgCallback *heap = new QueryMsgCallback(cb);
		nim_msglog_query_msg_async(account_id.c_str(), to_type, limit_count, anchor_msg_time, json_extension.c_str(), &OnQuery, heap);
		return true;
	}

	static bool QueryMsgOnlineAsync(const std::string& id, NIMSessionType to_type, int limit_count, int64_t from_time, int64_t end_time, int64_t end_msg_id, bool reverse, bool need_save_to_local, const QueryMsgCallback& cb, const std::string& json_extension = "")
	{
		QueryMsgCallback *heap = new QueryMsgCallback(cb);
		nim_msglog_query_msg_online_async(id.c_str(), to_type, limit_count, from_time, end_time, end_msg_id, reverse, need_save_to_local, json_extension.c_str(), &OnQuery, heap);
		return true;
	}

	/** NIM's parameters of an online history query (MsgLog::QueryMsgOnlineAsync). */
	class QueryMsgOnlineAsyncParam
	{
	public:
		std::string id_;                        /**< the peer's accid */
		NIMSessionType to_type_ = kNIMSessionTypeP2P;
		int limit_count_ = 20;                  /**< at most 100 */
		int64_t from_time_ = 0;                 /**< ms */
		int64_t end_time_ = 0;                  /**< ms */
		int64_t end_msg_id_ = 0;                /**< server id of the previous page's last message, left out */
		bool reverse_ = true;                   /**< true: oldest first from from_time_ */
		bool need_save_to_local_ = true;
		bool auto_download_attachment_ = true;
		std::vector<NIMMessageType> msg_type_list_; /**< the types to get, or with is_exclusion_type_ to leave out */
		bool is_exclusion_type_ = false;
	};

	/** The online history query with NIM's parameter object: false (and no
	 *  callback) for an empty id or a limit of 0 or less, as in NIM. A type
	 *  list asks for those types (every type but them with
	 *  is_exclusion_type_); with a type list nothing is saved locally. */
	static bool QueryMsgOnlineAsync(const QueryMsgOnlineAsyncParam& param, const QueryMsgCallback& cb)
	{
		if (param.id_.empty() || param.limit_count_ <= 0)
			return false;
		NIMQueryMsgOnlineAsyncParam p;
		p.to_type_ = param.to_type_;
		p.limit_count_ = param.limit_count_;
		p.from_time_ = param.from_time_;
		p.end_time_ = param.end_time_;
		p.end_msg_id_ = param.end_msg_id_;
		p.reverse_ = param.reverse_;
		p.need_save_to_local_ = param.msg_type_list_.empty() && param.need_save_to_local_;
		p.auto_download_attachment_ = param.auto_download_attachment_;
		p.msg_type_list_ = const_cast<NIMMessageType *>(param.msg_type_list_.data());
		p.type_list_length_ = (int)param.msg_type_list_.size();
		p.is_exclusion_type_ = param.is_exclusion_type_;
		nim_msglog_query_msg_online_async2(param.id_.c_str(), p, &OnQuery, new QueryMsgCallback(cb));
		return true;
	}

	/** NIM's parameters of a keyword search of the server's history. */
	class QueryMsgByKeywordOnlineParam
	{
	public:
		std::string id_;                        /**< the peer's accid */
		std::string keyword_;                   /**< in a text's body or a file's name, ignoring case */
		NIMSessionType to_type_ = kNIMSessionTypeP2P;
		int limit_count_ = 20;                  /**< at most 100 */
		int64_t from_time_ = 0;                 /**< ms */
		int64_t end_time_ = 0;                  /**< ms */
		bool reverse_ = true;                   /**< true: oldest first from from_time_ */
	};

	/** Searches the server's history of a session for a keyword: false (and
	 *  no callback) for an empty id or keyword or a limit of 0 or less, as
	 *  in NIM. */
	static bool QueryMsgByKeywordOnlineAsync(const QueryMsgByKeywordOnlineParam& param, const QueryMsgCallback& cb)
	{
		if (param.id_.empty() || param.keyword_.empty() || param.limit_count_ <= 0)
			return false;
		NIMQueryMsgByKeywordOnlineAsyncParam p;
		p.to_type_ = param.to_type_;
		p.limit = param.limit_count_;
		p.from_time_ = param.from_time_;
		p.end_time_ = param.end_time_;
		p.reverse_ = param.reverse_;
		nim_msglog_query_msg_by_keyword_online_async(param.id_.c_str(), param.keyword_.c_str(), p, &OnQuery, new QueryMsgCallback(cb));
		return true;
	}

	typedef std::function<void(NIMResCode, const std::string&, const IMMessage&)> QuerySingleMsgCallback;
	typedef std::function<void(NIMResCode, const std::string&, NIMSessionType)> ModifyMultipleMsglogCallback;
	typedef ModifyMultipleMsglogCallback BatchStatusReadCallback;
	typedef ModifyMultipleMsglogCallback BatchStatusDeleteCallback;
	typedef ModifyMultipleMsglogCallback DeleteBySessionTypeCallback;
	typedef std::function<void(NIMResCode, const std::string&)> ModifySingleMsglogCallback;
	typedef ModifySingleMsglogCallback SetStatusCallback;
	typedef ModifySingleMsglogCallback SetSubStatusCallback;
	typedef ModifySingleMsglogCallback UpdateLocalExtCallback;
	typedef ModifySingleMsglogCallback WriteMsglogCallback;
	typedef ModifySingleMsglogCallback DeleteCallback;
	typedef std::function<void(NIMResCode)> DBFunctionCallback;
	typedef DBFunctionCallback DeleteAllCallback;

	static bool QueryMsgByIDAysnc(const std::string& client_msg_id, const QuerySingleMsgCallback& cb, const std::string& json_extension = "") // NIM's spelling
	{
		nim_msglog_query_msg_by_id_async(client_msg_id.c_str(), json_extension.c_str(), &OnSingle, new QuerySingleMsgCallback(cb));
		return true;
	}
	static bool BatchStatusReadAsync(const std::string& account_id, NIMSessionType to_type, const BatchStatusReadCallback& cb, const std::string& json_extension = "")
	{
		nim_msglog_batch_status_read_async(account_id.c_str(), to_type, json_extension.c_str(), &OnMultiple, new ModifyMultipleMsglogCallback(cb));
		return true;
	}
	static bool BatchStatusDeleteAsync(const std::string& account_id, NIMSessionType to_type, const BatchStatusDeleteCallback& cb, const std::string& json_extension = "")
	{
		nim_msglog_batch_status_delete_async(account_id.c_str(), to_type, json_extension.c_str(), &OnMultiple, new ModifyMultipleMsglogCallback(cb));
		return true;
	}
	static bool SetStatusAsync(const std::string& msg_id, NIMMsgLogStatus msglog_status, const SetStatusCallback& cb, const std::string& json_extension = "")
	{
		nim_msglog_set_status_async(msg_id.c_str(), msglog_status, json_extension.c_str(), &OnSingleModify, new ModifySingleMsglogCallback(cb));
		return true;
	}
	static bool SetSubStatusAsync(const std::string& msg_id, int msglog_sub_status, const SetSubStatusCallback& cb, const std::string& json_extension = "")
	{
		nim_msglog_set_sub_status_async(msg_id.c_str(), msglog_sub_status, json_extension.c_str(), &OnSingleModify, new ModifySingleMsglogCallback(cb));
		return true;
	}
	static bool WriteMsglogToLocalAsync(const std::string& talk_id, const IMMessage& msg, bool need_update_session, const WriteMsglogCallback& cb, const std::string& json_extension = "")
	{
		nim_msglog_insert_msglog_async(talk_id.c_str(), msg.ToJsonString(false).c_str(), need_update_session, json_extension.c_str(), &OnSingleModify, new ModifySingleMsglogCallback(cb));
		return true;
	}
	static bool DeleteBySessionTypeAsync(bool delete_sessions, NIMSessionType to_type, const DeleteBySessionTypeCallback& cb, const std::string& json_extension = "")
	{
		nim_msglog_delete_by_session_type_async(delete_sessions, to_type, json_extension.c_str(), &OnMultiple, new ModifyMultipleMsglogCallback(cb));
		return true;
	}
	static bool DeleteAsync(const std::string& session_id, NIMSessionType to_type, const std::string& msg_id, const DeleteCallback& cb, const std::string& json_extension = "")
	{
		nim_msglog_delete_async(session_id.c_str(), to_type, msg_id.c_str(), json_extension.c_str(), &OnSingleModify, new ModifySingleMsglogCallback(cb));
		return true;
	}
	static bool DeleteAllAsync(bool delete_sessions, const DeleteAllCallback& cb, const std::string& json_extension = "")
	{
		nim_msglog_delete_all_async(delete_sessions, json_extension.c_str(), &OnDb, new DBFunctionCallback(cb));
		return true;
	}
	static bool ReadAllAsync(const DBFunctionCallback& cb, const std::string& json_extension = "")
	{
		nim_msglog_read_all_async(json_extension.c_str(), &OnDb, new DBFunctionCallback(cb));
		return true;
	}
	static bool UpdateLocalExtAsync(const std::string& msg_id, const std::string& local_ext, const UpdateLocalExtCallback& cb, const std::string& json_extension = "")
	{
		nim_msglog_update_localext_async(msg_id.c_str(), local_ext.c_str(), json_extension.c_str(), &OnSingleModify, new ModifySingleMsglogCallback(cb));
		return true;
	}

	typedef std::function<void(int64_t, int64_t)> ImportDbPrgCallback;

	static bool ExportDbAsync(const std::string& dst_path, const DBFunctionCallback& cb, const std::string& json_extension = "")
	{
		nim_msglog_export_db_async(dst_path.c_str(), json_extension.c_str(), &OnDb, new DBFunctionCallback(cb));
		return true;
	}
	static bool ImportDbAsync(const std::string& src_path, const DBFunctionCallback& cb, const ImportDbPrgCallback& prg_cb, const std::string& json_extension = "")
	{
		nim_msglog_import_db_async(src_path.c_str(), json_extension.c_str(), &OnDb, new DBFunctionCallback(cb), &OnImportPrg, new ImportDbPrgCallback(prg_cb));
		return true;
	}
	/** Local messages of one session of the given types (NIM 8.x). */
	static bool QueryMsgOfSpecifiedTypeInASessionAsync(NIMSessionType to_type, const std::string& id, int limit_count, int64_t from_time, int64_t end_time, const std::string& end_client_msg_id, bool reverse, std::list<NIMMessageType> msg_type, const QueryMsgCallback& cb, const std::string& json_extension = "")
	{
		detail::json v = detail::json::array();
		for (auto t : msg_type)
			v.push_back((int)t);
		nim_msglog_query_the_message_of_the_specified_type_async(to_type, id.c_str(), limit_count, from_time, end_time, end_client_msg_id.c_str(), reverse, v.dump().c_str(), json_extension.c_str(), &OnQuery, new QueryMsgCallback(cb));
		return true;
	}

	/** NIM's parameters of a local search by options (QueryMsgByOptionsAsyncEx). */
	class QueryMsgByOptionsAsyncParam
	{
	public:
		NIMMsgLogQueryRange query_range_ = kNIMMsgLogQueryRangeP2P;
		std::list<std::string> ids_;            /**< one session id for a P2P range */
		int limit_count_ = 100;
		int64_t from_time_ = 0;
		int64_t end_time_ = 0;
		std::string end_client_msg_id_;         /**< left out of the result */
		bool reverse_ = false;
		NIMMessageType msg_type_ = kNIMMessageTypeUnknown; /**< Unknown: every type */
		int msg_sub_type_ = 0;
		std::string search_content_;
		std::string ToJsonString() const
		{
			detail::json v = detail::json::object();
			v[kNIMQueryMsgByOptionsAsyncKeyQueryRange] = (int)query_range_;
			v[kNIMQueryMsgByOptionsAsyncKeyIDS] = ids_;
			v[kNIMQueryMsgByOptionsAsyncKeyLimit] = limit_count_;
			v[kNIMQueryMsgByOptionsAsyncKeyFromTime] = from_time_;
			v[kNIMQueryMsgByOptionsAsyncKeyEndTime] = end_time_;
			v[kNIMQueryMsgByOptionsAsyncKeyEndClientMSGID] = end_client_msg_id_;
			v[kNIMQueryMsgByOptionsAsyncKeyReverse] = reverse_;
			v[kNIMQueryMsgByOptionsAsyncKeyMsgType] = (int)msg_type_;
			v[kNIMQueryMsgByOptionsAsyncKeyMsgSubType] = msg_sub_type_;
			v[kNIMQueryMsgByOptionsAsyncKeySearchContent] = search_content_;
			return v.dump();
		}
	};

	/** The local search by options, the options in one object. */
	static bool QueryMsgByOptionsAsyncEx(const QueryMsgByOptionsAsyncParam& param, const QueryMsgCallback& cb)
	{
		nim_msglog_query_msg_by_options_async_ex(param.ToJsonString().c_str(), &OnQuery, new QueryMsgCallback(cb));
		return true;
	}

	static bool QueryMsgByOptionsAsync(NIMMsgLogQueryRange query_range, const std::list<std::string>& ids, int limit_count, int64_t from_time, int64_t end_time, const std::string& end_client_msg_id, bool reverse, NIMMessageType msg_type, const std::string& search_content, const QueryMsgCallback& cb, const std::string& json_extension = "")
	{
		detail::json list = ids;
		nim_msglog_query_msg_by_options_async(query_range, list.dump().c_str(), limit_count, from_time, end_time, end_client_msg_id.c_str(), reverse, msg_type, search_content.c_str(), json_extension.c_str(), &OnQuery, new QueryMsgCallback(cb));
		return true;
	}

private:
	static detail::Holder<MessageStatusChangedCallback>& StatusChanged() { static detail::Holder<MessageStatusChangedCallback> h; return h; }
	static detail::Holder<DeleteMsglogSelfNotifyCallback>& DeleteSelfNotify() { static detail::Holder<DeleteMsglogSelfNotifyCallback> h; return h; }
	static void OnDeleteSelfNotify(const char *infos, const void *)
	{
		DeleteMsglogSelfNotifyCallback f = DeleteSelfNotify().Get();
		if (!f)
			return;
		DeleteMsglogSelfNotifyParam p;
		detail::json v = detail::Parse(infos);
		if (v.is_array())
			for (const auto &o : v) {
				DeleteMsglogSelfNotifyItemInfo i;
				i.session_id_ = detail::Get<std::string>(o, kNIMDELMSGSelfNotifyKeySessionID, "");
				i.client_id_ = detail::Get<std::string>(o, kNIMDELMSGSelfNotifyKeyMsgClientID, "");
				i.ext_ = detail::Get<std::string>(o, kNIMDELMSGSelfNotifyKeyEXT, "");
				p.item_list.push_back(i);
			}
		f(p);
	}
	static void OnDeleteSelf(int res_code, const void *user_data)
	{
		DeleteMsglogSelfCallback *cb = (DeleteMsglogSelfCallback *)user_data;
		if (*cb)
			(*cb)((NIMResCode)res_code);
		delete cb;
	}
	static void OnDeleteHistory(int res_code, const char *accid, const void *user_data)
	{
		DeleteHistoryOnLineAsyncCallback *cb = (DeleteHistoryOnLineAsyncCallback *)user_data;
		if (*cb)
			(*cb)((NIMResCode)res_code, accid ? accid : "");
		delete cb;
	}
	static void OnDeleteHistoryEx(int res_code, const char *accid, NIMSessionType to_type, uint64_t time, const char *ext, const void *user_data)
	{
		DeleteHistoryOnLineAsyncExCallback *cb = (DeleteHistoryOnLineAsyncExCallback *)user_data;
		if (*cb)
			(*cb)((NIMResCode)res_code, accid ? accid : "", to_type, time, ext ? ext : "");
		delete cb;
	}
	static detail::Holder<DeleteHistoryOnLineNotifyCallback>& HistoryNotify() { static detail::Holder<DeleteHistoryOnLineNotifyCallback> h; return h; }
	static void OnHistoryNotify(NIMDeleteSessionHistoryMessagesNotifyInfo *head, int count, const void *)
	{
		DeleteHistoryOnLineNotifyCallback f = HistoryNotify().Get();
		std::list<NIMDeleteSessionHistoryMessagesNotifyInfo> list;
		for (int i = 0; head && i < count; i++)
			list.push_back(head[i]);
		if (f)
			f(list);
	}
	static void OnStatusChanged(int rescode, const char *result, const char *, const void *)
	{
		MessageStatusChangedCallback f = StatusChanged().Get();
		if (f)
			f(MessageStatusChangedResult(rescode, result ? result : ""));
	}
	static void OnStatusOnce(int rescode, const char *result, const char *, const void *user_data)
	{
		MessageStatusChangedCallback *cb = (MessageStatusChangedCallback *)user_data;
		if (*cb)
			(*cb)(MessageStatusChangedResult(rescode, result ? result : ""));
		delete cb;
	}
	static void OnImportPrg(int64_t imported, int64_t total, const char *, const void *user_data)
	{
		// Called once, at the end, before the result (which owns nothing of this).
		ImportDbPrgCallback *cb = (ImportDbPrgCallback *)user_data;
		if (*cb)
			(*cb)(imported, total);
		delete cb;
	}
	static void OnSingle(int res_code, const char *msg_id, const char *result, const char *, const void *user_data)
	{
		QuerySingleMsgCallback *cb = (QuerySingleMsgCallback *)user_data;
		IMMessage msg;
		detail::json v = detail::Parse(result);
		if (v.is_object() && !v.empty())
			detail::ParseMessage(v, msg);
		if (*cb)
			(*cb)((NIMResCode)res_code, msg_id ? msg_id : "", msg);
		delete cb;
	}
	static void OnMultiple(int res_code, const char *uid, enum NIMSessionType to_type, const char *, const void *user_data)
	{
		ModifyMultipleMsglogCallback *cb = (ModifyMultipleMsglogCallback *)user_data;
		if (*cb)
			(*cb)((NIMResCode)res_code, uid ? uid : "", to_type);
		delete cb;
	}
	static void OnSingleModify(int res_code, const char *msg_id, const char *, const void *user_data)
	{
		ModifySingleMsglogCallback *cb = (ModifySingleMsglogCallback *)user_data;
		if (*cb)
			(*cb)((NIMResCode)res_code, msg_id ? msg_id : "");
		delete cb;
	}
	static void OnDb(int res_code, const char *, const void *user_data)
	{
		DBFunctionCallback *cb = (DBFunctionCallback *)user_data;
		if (*cb)
			(*cb)((NIMResCode)res_code);
		delete cb;
	}
	static void OnQuery(int res_code, const char *id, enum NIMSessionType to_type, const char *result, const char *, const void *user_data)
	{
		QueryMsgCallback *cb = (QueryMsgCallback *)user_data;
		detail::json v = detail::Parse(result);
		QueryMsglogResult r;
		r.count_ = detail::Get<int>(v, kNIMMsglogQueryKeyCount, 0);
		r.source_ = (NIMMsglogQuerySource)detail::Get<int>(v, kNIMMsglogQueryKeySource, 0);
		auto c = v.find(kNIMMsglogQueryKeyContent);
		if (c != v.end() && c->is_array())
			for (const auto &m : *c) {
				IMMessage msg;
				detail::ParseMessage(m, msg);
				r.msglogs_.push_back(msg);
			}
		if (*cb)
			(*cb)((NIMResCode)res_code, id ? id : "", to_type, r);
		delete cb;
	}
};

class DataSync
{
public:
	typedef std::function<void(NIMDataSyncType, NIMDataSyncStatus, const std::string&)> DataSyncCallback;

	static void RegCompleteCb(const DataSyncCallback& cb)
	{
		Complete().Set(cb);
		nim_data_sync_reg_complete_cb(cb ? &OnComplete : nullptr, nullptr);
	}

	static void UnregDataSyncCb() { Complete().Set(nullptr); }

private:
	static detail::Holder<DataSyncCallback>& Complete() { static detail::Holder<DataSyncCallback> h; return h; }
	static void OnComplete(enum NIMDataSyncType sync_type, enum NIMDataSyncStatus status, const char *json_attachment, const void *)
	{
		auto f = Complete().Get();
		std::string info = json_attachment ? json_attachment : "";
		if (f) detail::Dispatch([=] { f(sync_type, status, info); });
	}
};

/** NIM's session service helpers: the session object, the list result and
 *  the deletion parameter. */
class SessionOnLineServiceHelper
{
public:
	/** A session as the server keeps it. */
	struct SessionInfo
	{
		SessionInfo() : type_(kNIMSessionTypeP2P), update_time_(0), last_message_type_(0) {}
		std::string id_;
		NIMSessionType type_;
		/** The app's extension. */
		std::string ext_;
		/** The last message's JSON (see GetLastMessage). */
		std::string last_message_;
		/** The last message or extension change, ms. */
		uint64_t update_time_;
		/** 0 a message, 1 the recall notification of one. */
		int last_message_type_;
		/** The last message: GetLastMessage<0>() a message, GetLastMessage<1>() a recall. */
		template <int type>
		auto GetLastMessage() const -> typename std::enable_if<type == 0, IMMessage>::type
		{
			return detail::ParseReceived(detail::Parse(last_message_.c_str()));
		}
		template <int type>
		auto GetLastMessage() const -> typename std::enable_if<type == 1, RecallMsgNotify>::type
		{
			return detail::ParseRecallNotify(detail::Parse(last_message_.c_str()));
		}
	};
	typedef std::list<SessionInfo> SessionList;

	/** A page of sessions. */
	struct QuerySessionListResult
	{
		QuerySessionListResult() : res_code(kNIMResSuccess), has_more_(false) {}
		NIMResCode res_code;
		SessionList session_list_;
		bool has_more_;
	};
	typedef QuerySessionListResult QureySessionListResult; // NIM's older spelling

	/** The sessions to delete. */
	struct DeleteSessionParam
	{
		void AddSession(NIMSessionType to_type, std::string session_id) { delete_list_.emplace_back(to_type, session_id); }
		std::list<std::pair<NIMSessionType, std::string>> delete_list_;
	};

	static bool ParseSessionInfo(const std::string& session_json, SessionInfo& session)
	{
		detail::json v = detail::Parse(session_json.c_str());
		if (!v.is_object())
			return false;
		session = Info(v);
		return true;
	}
	static bool ParseQuerySessionListResult(const std::string& result_json, QuerySessionListResult& result)
	{
		detail::json v = detail::Parse(result_json.c_str());
		if (!v.is_object())
			return false;
		result.res_code = (NIMResCode)detail::Get<int>(v, kMINSessionOLSRVQueryListRESCode, (int)result.res_code);
		result.has_more_ = detail::Get<bool>(v, kMINSessionOLSRVQueryListHasMore, false);
		auto list = v.find(kMINSessionOLSRVQueryListInfos);
		if (list != v.end() && list->is_array())
			for (const auto &item : *list)
				result.session_list_.push_back(Info(item));
		return true;
	}
	static bool ParseQureySessionListResult(const std::string& result_json, QuerySessionListResult& result) // NIM's older spelling
	{
		return ParseQuerySessionListResult(result_json, result);
	}
	static std::string DeleteSessionParamToJsonString(const DeleteSessionParam& param)
	{
		detail::json list = detail::json::array();
		for (const auto &it : param.delete_list_)
			list.push_back({{kMINSessionOLSRVDeleteType, (int)it.first}, {kMINSessionOLSRVDeleteID, it.second}});
		return list.dump();
	}

private:
	static SessionInfo Info(const detail::json &v)
	{
		SessionInfo s;
		s.type_ = (NIMSessionType)detail::Get<int>(v, kMINSessionOLSRVInfoType, 0);
		s.id_ = detail::Get<std::string>(v, kMINSessionOLSRVInfoID, "");
		s.update_time_ = detail::Get<uint64_t>(v, kMINSessionOLSRVInfoUpdateT, 0);
		s.ext_ = detail::Get<std::string>(v, kMINSessionOLSRVInfoEXT, "");
		s.last_message_ = detail::Get<std::string>(v, kMINSessionOLSRVInfoLastMSG, "");
		s.last_message_type_ = detail::Get<int>(v, kMINSessionOLSRVInfoLastMSGType, 0);
		return s;
	}
};

/** NIM's session service: the account's sessions as the server keeps them. */
class SessionOnLineService
{
public:
	typedef std::function<void(NIMResCode, const SessionOnLineServiceHelper::SessionInfo&)> QuerySessionInfoCallback;
	typedef std::function<void(const SessionOnLineServiceHelper::QuerySessionListResult&)> QuerySessionListCallabck; // NIM's spelling
	typedef std::function<void(NIMResCode)> UpdateSessionInfoCallback;
	typedef std::function<void(NIMResCode)> DeleteSessionInfoCallback;
	typedef std::function<void(const SessionOnLineServiceHelper::SessionInfo&)> SessionChangedCallback;

	/** Sessions another device of the account changed (a new extension). */
	static void RegSessionChanged(const SessionChangedCallback& cb)
	{
		Changed().Set(cb);
		nim_session_online_service_reg_session_changed(cb ? &OnChanged : nullptr, nullptr);
	}
	/** A page, newest first: update times from min_time to max_time (0: no
	 *  bound), at most limit (100 at most and by default). */
	static void QuerySessionList(uint64_t min_time, uint64_t max_time, bool need_last_msg, int limit, const QuerySessionListCallabck& cb)
	{
		nim_session_online_service_query_session_list(min_time, max_time, need_last_msg, limit, &OnList, new QuerySessionListCallabck(cb));
	}
	/** One session (404 when the account has none with that peer). */
	static void QuerySession(NIMSessionType to_type, const std::string& session_id, const QuerySessionInfoCallback& cb)
	{
		nim_session_online_service_query_session(to_type, session_id.c_str(), &OnOne, new QuerySessionInfoCallback(cb));
	}
	/** Sets a session's extension for every device of the account. */
	static void UpdateSession(NIMSessionType to_type, const std::string& session_id, const std::string& ext, const UpdateSessionInfoCallback& cb)
	{
		nim_session_online_service_update_session(to_type, session_id.c_str(), ext.c_str(), &OnCode, new UpdateSessionInfoCallback(cb));
	}
	/** Takes sessions off the list (until their next message). */
	static void DeleteSession(const SessionOnLineServiceHelper::DeleteSessionParam& param, const DeleteSessionInfoCallback& cb)
	{
		std::string list = SessionOnLineServiceHelper::DeleteSessionParamToJsonString(param);
		nim_session_online_service_delete_session(list.c_str(), &OnCode, new DeleteSessionInfoCallback(cb));
	}
	static void UnregSessionOnLineServiceCb() { RegSessionChanged(nullptr); }

private:
	static detail::Holder<SessionChangedCallback>& Changed() { static detail::Holder<SessionChangedCallback> h; return h; }
	static void OnChanged(const char *session_info, const void *)
	{
		auto f = Changed().Get();
		SessionOnLineServiceHelper::SessionInfo info;
		SessionOnLineServiceHelper::ParseSessionInfo(session_info ? session_info : "", info);
		if (f) f(info);
	}
	static void OnList(int rescode, const char *result, const void *user_data)
	{
		QuerySessionListCallabck *cb = (QuerySessionListCallabck *)user_data;
		SessionOnLineServiceHelper::QuerySessionListResult list;
		list.res_code = (NIMResCode)rescode;
		SessionOnLineServiceHelper::ParseQuerySessionListResult(result ? result : "", list);
		list.res_code = (NIMResCode)rescode;
		if (*cb)
			(*cb)(list);
		delete cb;
	}
	static void OnOne(int rescode, const char *result, const void *user_data)
	{
		QuerySessionInfoCallback *cb = (QuerySessionInfoCallback *)user_data;
		SessionOnLineServiceHelper::SessionInfo info;
		SessionOnLineServiceHelper::ParseSessionInfo(result ? result : "", info);
		if (*cb)
			(*cb)((NIMResCode)rescode, info);
		delete cb;
	}
	static void OnCode(int rescode, const void *user_data)
	{
		UpdateSessionInfoCallback *cb = (UpdateSessionInfoCallback *)user_data;
		if (*cb)
			(*cb)((NIMResCode)rescode);
		delete cb;
	}
};

/** NIM's UnregNIMCallback: clears every callback the wrapper holds (client,
 * talk, system messages, sessions, data sync). */
inline void UnregNIMCallback()
{
	Client::UnregClientCb();
	Talk::UnregTalkCb();
	SystemMsg::UnregSysmsgCb();
	Session::UnregSessionCb();
	SessionOnLineService::UnregSessionOnLineServiceCb();
	DataSync::UnregDataSyncCb();
}

} // namespace nim
