/*
 * NIM's C++ messaging API (nim::Talk, nim::SystemMsg, nim::Session,
 * nim::MsgLog, nim::DataSync) against Magpie's libnim: what a desktop app
 * does after login, as examples/c/nim_messaging.c does in C.
 *
 * usage: nim_messaging DATA_DIR HOST:PORT APP_KEY ACCOUNT TOKEN PEER
 *
 * Prints one line per step (SYNCED, SESSIONS, UNREAD_ZERO, ACK, SYSMSG_ACK,
 * READY, LIVE, NOTE, LOCAL, ONLINE, DONE) and exits 0, or prints FAILED and
 * exits 1.
 */
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "nim_cpp_api.h"

namespace
{
std::mutex lock;
std::condition_variable changed;

/* Waits until `done()` holds, at most `seconds`. */
template <typename F> bool WaitFor(F done, int seconds)
{
	std::unique_lock<std::mutex> g(lock);
	return changed.wait_for(g, std::chrono::seconds(seconds), done);
}

void Notify() { changed.notify_all(); }

void Say(const std::string &line)
{
	std::printf("%s\n", line.c_str());
	std::fflush(stdout);
}

std::string Join(std::vector<std::string> v, const char *sep)
{
	std::string out;
	for (size_t i = 0; i < v.size(); i++)
		out += (i ? sep : "") + v[i];
	return out;
}

int Fail(const char *what)
{
	Say(std::string("FAILED ") + what);
	return 1;
}
} // namespace

int main(int argc, char **argv)
{
	if (argc < 7) {
		std::fprintf(stderr, "usage: %s DATA_DIR HOST:PORT APP_KEY ACCOUNT TOKEN PEER\n", argv[0]);
		return 2;
	}
	const std::string peer = argv[6];
	nim::SDKConfig config;
	config.use_private_server_ = true;
	config.default_link_address_ = argv[2];
	if (!nim::Client::Init(argv[3], argv[1], "", config))
		return Fail("init");

	bool logged_in = false, login_failed = false, synced = false, acked = false, note_acked = false;
	bool live = false, noted = false, logged_out = false;
	std::vector<nim::IMMessage> batch;
	nim::IMMessage live_msg;
	nim::SendMessageArc ack, note_ack;

	// Every callback before the first login.
	nim::DataSync::RegCompleteCb([&](nim::NIMDataSyncType type, nim::NIMDataSyncStatus status, const std::string &) {
		std::lock_guard<std::mutex> g(lock);
		Say("DATA_SYNC type=" + std::to_string((int)type) + " status=" + std::to_string((int)status));
		if (type == nim::kNIMDataSyncTypeUnreadMsg && status == nim::kNIMDataSyncStatusComplete)
			synced = true;
		Notify();
	});
	nim::Talk::RegReceiveMessagesCb([&](const std::list<nim::IMMessage> &list) {
		std::lock_guard<std::mutex> g(lock);
		batch.insert(batch.end(), list.begin(), list.end());
	});
	nim::Talk::RegReceiveCb([&](const nim::IMMessage &msg) {
		std::lock_guard<std::mutex> g(lock);
		if (msg.feature_ == nim::kNIMMessageFeatureDefault && msg.sender_accid_ == peer) {
			Say("LIVE feature=" + std::to_string((int)msg.feature_) + " body=" + msg.content_);
			live_msg = msg;
			live = true;
			Notify();
		}
	});
	nim::Talk::RegSendMsgCb([&](const nim::SendMessageArc &a) {
		std::lock_guard<std::mutex> g(lock);
		ack = a;
		acked = true;
		Notify();
	});
	nim::SystemMsg::RegSysmsgCb([&](const nim::SysMessage &m) {
		std::lock_guard<std::mutex> g(lock);
		Say("NOTE from=" + m.sender_accid_ + " attach=" + m.attach_);
		noted = true;
		Notify();
	});
	nim::SystemMsg::RegSendCustomSysmsgCb([&](const nim::SendMessageArc &a) {
		std::lock_guard<std::mutex> g(lock);
		note_ack = a;
		note_acked = true;
		Notify();
	});
	nim::Session::RegChangeCb([](nim::NIMResCode, const nim::SessionData &, int) {});
	bool stuck_elsewhere = false;
	std::string stuck_ext;
	nim::Session::RegSetToStickTopSessionNotifyCB([&](const nim::StickTopSession &s) {
		std::lock_guard<std::mutex> g(lock);
		stuck_ext = s.stick_top_info_.ext_;
		stuck_elsewhere = true;
		Notify();
	});
	nim::Session::RegUpdateStickTopSessionNotifyCB([](const nim::StickTopSession &) {});
	nim::Session::RegCancelStickTopSessionNotifyCB([](const std::string &, nim::NIMSessionType) {});
	// A server session another device of this account changed.
	bool olsess_changed = false;
	std::string olsess_note;
	nim::SessionOnLineService::RegSessionChanged([&](const nim::SessionOnLineServiceHelper::SessionInfo &i) {
		std::lock_guard<std::mutex> g(lock);
		olsess_note = "OLNOTE id=" + i.id_ + " ext=" + i.ext_;
		olsess_changed = true;
		Notify();
	});
	nim::Session::RegBadgeCountCb([](const std::string &) { return 0; });
	// Messages another device of this account deleted one way.
	bool deleted_elsewhere = false;
	std::string deleted_items;
	nim::MsgLog::RegDeleteMsglogSelfNotify([&](const nim::DeleteMsglogSelfNotifyParam &p) {
		std::lock_guard<std::mutex> g(lock);
		for (const auto &i : p.item_list)
			deleted_items += (deleted_items.empty() ? "" : ",") + i.session_id_ + "/" + i.client_id_ + "/" + i.ext_;
		deleted_elsewhere = true;
		Notify();
	});
	// The peer's read receipts of my messages.
	nim::MsgLog::RegMessageStatusChangedCb([&](const nim::MessageStatusChangedResult &r) {
		std::lock_guard<std::mutex> g(lock);
		for (const auto &c : r.results_)
			Say("STATUS_CHANGED code=" + std::to_string((int)r.rescode_) + " talk_id=" + c.talk_id_ + " status=" + std::to_string((int)c.status_));
	});
	// Team notifications and broadcasts never come from a Magpie server:
	// registered, then cleared again.
	nim::Talk::RegTeamNotificationFilter([](const nim::IMMessage &) { return false; });
	nim::Talk::RegReceiveBroadcastMsgCb([](const nim::BroadcastMessage &) {});
	nim::Talk::RegReceiveBroadcastMsgsCb([](const std::list<nim::BroadcastMessage> &) {});
	nim::Talk::RegTeamNotificationFilter(nullptr);
	nim::Talk::RegReceiveBroadcastMsgCb(nullptr);
	nim::Talk::RegReceiveBroadcastMsgsCb(nullptr);
	// NIM's signatures, compiled but not run here (a reply and a session
	// deletion would change what the steps below report).
	void (*reply)(const nim::IMMessage &, const std::string &, nim::Talk::FileUpPrgCallback *) = &nim::Talk::ReplyMessage;
	bool (*delete_session_ex)(nim::NIMSessionType, const std::string &, const nim::Session::DeleteRecentSessionCallabck &, bool) = &nim::Session::DeleteRecentSessionEx;
	(void)reply;
	(void)delete_session_ex;

	nim::Client::Login(argv[3], argv[4], argv[5], [&](const nim::LoginRes &r) {
		std::lock_guard<std::mutex> g(lock);
		if (r.res_code_ != nim::kNIMResSuccess)
			login_failed = true;
		else if (r.login_step_ == nim::kNIMLoginStepLogin)
			logged_in = true;
		Notify();
	});
	if (!WaitFor([&] { return logged_in || login_failed; }, 20) || !logged_in)
		return Fail("login");
	if (!WaitFor([&] { return synced; }, 20))
		return Fail("offline sync");
	{
		std::lock_guard<std::mutex> g(lock);
		std::vector<std::string> ids, features;
		for (const auto &m : batch) {
			ids.push_back(m.client_msg_id_);
			features.push_back(std::to_string((int)m.feature_));
		}
		Say("SYNCED batch=" + std::to_string(batch.size()) + " ids=" + Join(ids, ",") + " features=" + Join(features, ","));
	}

	bool listed = false;
	nim::Session::QueryAllRecentSessionAsync([&](int total, const nim::SessionDataList &list) {
		std::lock_guard<std::mutex> g(lock);
		std::string first = list.sessions_.empty() ? "" : list.sessions_.front().id_ + ":" + std::to_string(list.sessions_.front().unread_count_);
		Say("SESSIONS total_unread=" + std::to_string(total) + " count=" + std::to_string(list.count_) + " first=" + first);
		listed = true;
		Notify();
	});
	if (!WaitFor([&] { return listed; }, 10))
		return Fail("sessions");

	bool zeroed = false;
	nim::Session::SetUnreadCountZeroAsync(nim::kNIMSessionTypeP2P, peer, [&](nim::NIMResCode code, const nim::SessionData &, int total) {
		std::lock_guard<std::mutex> g(lock);
		Say("UNREAD_ZERO rescode=" + std::to_string((int)code) + " total_unread=" + std::to_string(total));
		zeroed = true;
		Notify();
	});
	if (!WaitFor([&] { return zeroed; }, 10))
		return Fail("unread zero");

	nim::MessageSetting setting;
	// NIM's team, moderation and force-push settings, at their defaults.
	setting.is_force_push_ = nim::BS_NOT_INIT;
	setting.force_push_ids_list_.clear();
	setting.force_push_content_.clear();
	setting.anti_spam_enable_ = nim::BS_NOT_INIT;
	setting.anti_spam_content_.clear();
	setting.anti_apam_biz_id_.clear();
	setting.anti_apam_using_yidun_ = 1;
	setting.client_anti_spam_hitting_ = nim::BS_NOT_INIT;
	setting.team_msg_need_ack_ = nim::BS_NOT_INIT;
	setting.team_msg_ack_sent_ = nim::BS_NOT_INIT;
	setting.team_msg_unread_count_ = -1;
	setting.yidun_anti_cheating_.clear();
	nim::Talk::SendMsg(nim::Talk::CreateTextMessage(peer, nim::kNIMSessionTypeP2P, "cpp-msg-1", "hello from C++", setting));
	if (!WaitFor([&] { return acked; }, 10))
		return Fail("send");
	Say("ACK rescode=" + std::to_string((int)ack.rescode_) + " msg_id=" + ack.msg_id_ + " talk_id=" + ack.talk_id_ + " timetag=" + std::to_string(ack.msg_timetag_));

	nim::SysMessageSetting note_setting;
	note_setting.need_offline_ = nim::BS_TRUE;
	nim::SystemMsg::SendCustomNotificationMsg(nim::SystemMsg::CreateCustomNotificationMsg(peer, nim::kNIMSysMsgTypeCustomP2PMsg, "cpp-note-1", "{\"typing\":true}", note_setting));
	if (!WaitFor([&] { return note_acked; }, 10))
		return Fail("custom notification");
	Say("SYSMSG_ACK rescode=" + std::to_string((int)note_ack.rescode_) + " msg_id=" + note_ack.msg_id_ + " talk_id=" + note_ack.talk_id_);

	Say("READY");
	if (!WaitFor([&] { return live; }, 30))
		return Fail("live message");
	if (!WaitFor([&] { return noted; }, 30))
		return Fail("notification");

	// A read receipt for the peer's live message.
	{
		bool receipted = false;
		bool before = nim::MsgLog::QueryReceivedMsgReceiptSent(live_msg);
		nim::MsgLog::SendReceiptAsync(live_msg.ToJsonString(false), [&](const nim::MessageStatusChangedResult &r) {
			std::lock_guard<std::mutex> g(lock);
			for (const auto &c : r.results_)
				Say("RECEIPT code=" + std::to_string((int)r.rescode_) + " talk_id=" + c.talk_id_ + " status=" + std::to_string((int)c.status_));
			receipted = true;
			Notify();
		});
		if (!WaitFor([&] { return receipted; }, 10))
			return Fail("receipt");
		bool after = nim::MsgLog::QueryReceivedMsgReceiptSent(live_msg);
		Say(std::string("RECEIPT_SENT before=") + (before ? "1" : "0") + " after=" + (after ? "1" : "0"));
	}

	for (const char *which : {"LOCAL", "ONLINE"}) {
		bool done = false;
		auto report = [&, which](nim::NIMResCode code, const std::string &, nim::NIMSessionType, const nim::QueryMsglogResult &r) {
			std::lock_guard<std::mutex> g(lock);
			std::vector<std::string> bodies;
			for (const auto &m : r.msglogs_)
				bodies.push_back(m.content_);
			std::sort(bodies.begin(), bodies.end());
			Say(std::string(which) + " code=" + std::to_string((int)code) + " count=" + std::to_string(r.count_) + " source=" + std::to_string((int)r.source_) + " bodies=" + Join(bodies, "|"));
			done = true;
			Notify();
		};
		if (std::string(which) == "LOCAL")
			nim::MsgLog::QueryMsgAsync(peer, nim::kNIMSessionTypeP2P, 50, 0, report);
		else
			nim::MsgLog::QueryMsgOnlineAsync(peer, nim::kNIMSessionTypeP2P, 50, 0, 0, 0, false, false, report);
		if (!WaitFor([&] { return done; }, 10))
			return Fail(which);
	}

	// The online query with NIM's parameter object: text only, then every
	// type but text.
	for (bool exclude : {false, true}) {
		bool done = false;
		nim::MsgLog::QueryMsgOnlineAsyncParam param;
		param.id_ = peer;
		param.limit_count_ = 50;
		param.msg_type_list_ = {nim::kNIMMessageTypeText};
		param.is_exclusion_type_ = exclude;
		bool started = nim::MsgLog::QueryMsgOnlineAsync(param, [&, exclude](nim::NIMResCode code, const std::string &, nim::NIMSessionType, const nim::QueryMsglogResult &r) {
			std::lock_guard<std::mutex> g(lock);
			Say(std::string(exclude ? "ONLINE_NOT_TEXT" : "ONLINE_TEXT") + " code=" + std::to_string((int)code) + " count=" + std::to_string(r.count_));
			done = true;
			Notify();
		});
		if (!started || !WaitFor([&] { return done; }, 10))
			return Fail("online query with a parameter object");
	}
	// A keyword search of the server's history, and a local search with
	// its options in one object.
	{
		bool done = false;
		nim::MsgLog::QueryMsgByKeywordOnlineParam kp;
		kp.id_ = peer;
		kp.keyword_ = "OFFLINE";
		kp.limit_count_ = 10;
		bool started = nim::MsgLog::QueryMsgByKeywordOnlineAsync(kp, [&](nim::NIMResCode code, const std::string &, nim::NIMSessionType, const nim::QueryMsglogResult &r) {
			std::lock_guard<std::mutex> g(lock);
			Say("KEYWORD code=" + std::to_string((int)code) + " count=" + std::to_string(r.count_) +
			    " first=" + (r.msglogs_.empty() ? std::string() : r.msglogs_.front().content_));
			done = true;
			Notify();
		});
		if (!started || !WaitFor([&] { return done; }, 10))
			return Fail("keyword search");
		done = false;
		nim::MsgLog::QueryMsgByOptionsAsyncParam op;
		op.query_range_ = nim::kNIMMsgLogQueryRangeAllP2P;
		op.limit_count_ = 10;
		op.search_content_ = "offline";
		nim::MsgLog::QueryMsgByOptionsAsyncEx(op, [&](nim::NIMResCode code, const std::string &, nim::NIMSessionType, const nim::QueryMsglogResult &r) {
			std::lock_guard<std::mutex> g(lock);
			Say("SEARCHEX code=" + std::to_string((int)code) + " count=" + std::to_string(r.count_));
			done = true;
			Notify();
		});
		if (!WaitFor([&] { return done; }, 10))
			return Fail("search with an options object");
	}
	{
		nim::MsgLog::QueryMsgOnlineAsyncParam empty;
		if (nim::MsgLog::QueryMsgOnlineAsync(empty, nullptr))
			return Fail("an empty id is refused");
	}

	// Local operations.
	bool step = false;
	auto done = [&](const std::string &line) {
		std::lock_guard<std::mutex> g(lock);
		Say(line);
		step = true;
		Notify();
	};
	auto next = [&](const char *what) {
		bool ok = WaitFor([&] { return step; }, 10);
		step = false;
		if (!ok)
			Fail(what);
		return ok;
	};
	nim::MsgLog::UpdateLocalExtAsync("dog-offline-1", "{\"pinned\":true}", [&](nim::NIMResCode code, const std::string &id) {
		done("LOCALEXT code=" + std::to_string((int)code) + " id=" + id);
	});
	if (!next("local ext"))
		return 1;
	nim::MsgLog::QueryMsgByIDAysnc("dog-offline-1", [&](nim::NIMResCode code, const std::string &, const nim::IMMessage &m) {
		done("BYID code=" + std::to_string((int)code) + " body=" + m.content_ + " local_ext=" + m.msg_setting_.local_ext_);
	});
	if (!next("by id"))
		return 1;
	nim::Session::SetSessionTop(nim::kNIMSessionTypeP2P, peer, true, [&](nim::NIMResCode code, const nim::SessionData &s, int) {
		done("TOP code=" + std::to_string((int)code) + " top=" + std::to_string((int)s.placed_on_top_));
	});
	if (!next("top"))
		return 1;
	nim::SystemMsg::ReadAllAsync([&](nim::NIMResCode code, int unread) {
		done("SYSREADALL code=" + std::to_string((int)code) + " unread=" + std::to_string(unread));
	});
	if (!next("sysmsg read all"))
		return 1;
	nim::MsgLog::QueryMsgByOptionsAsync(nim::kNIMMsgLogQueryRangeAllP2P, {}, 10, 0, 0, "", false, nim::kNIMMessageTypeUnknown, "OFFLINE",
		[&](nim::NIMResCode code, const std::string &, nim::NIMSessionType, const nim::QueryMsglogResult &r) {
			done("SEARCH code=" + std::to_string((int)code) + " count=" + std::to_string(r.count_));
		});
	if (!next("search"))
		return 1;
	nim::Session::QueryAllRecentSessionAsync(nim::kNIMMessageTypeText, [&](int, const nim::SessionDataList &l) {
		done("NOTEXT count=" + std::to_string(l.count_) + " last=" + (l.sessions_.empty() ? std::string() : l.sessions_.front().msg_id_));
	});
	if (!next("sessions without text"))
		return 1;
	nim::Session::QueryAllRecentSessionAsync(std::list<nim::NIMMessageType>{nim::kNIMMessageTypeCustom}, [&](int, const nim::SessionDataList &l) {
		done("NOCUSTOM count=" + std::to_string(l.count_) + " has_last=" + std::to_string(!l.sessions_.empty() && !l.sessions_.front().msg_id_.empty()));
	});
	if (!next("sessions without custom"))
		return 1;
	nim::MsgLog::QueryMsgOfSpecifiedTypeInASessionAsync(nim::kNIMSessionTypeP2P, peer, 100, 0, 0, "", false, {nim::kNIMMessageTypeText},
		[&](nim::NIMResCode code, const std::string &, nim::NIMSessionType, const nim::QueryMsglogResult &r) {
			done("TEXTONLY code=" + std::to_string((int)code) + " count=" + std::to_string(r.count_));
		});
	if (!next("messages of a type"))
		return 1;
	nim::IMMessage old;
	old.session_type_ = nim::kNIMSessionTypeP2P;
	old.receiver_accid_ = peer;
	old.sender_accid_ = peer;
	old.readonly_server_id_ = 77;
	old.timetag_ = 1700000000000LL;
	old.client_msg_id_ = "cpp-old-1";
	nim::Session::UpdateHasmoreRoammsg(old, [&](nim::NIMResCode code) { done("HASMORESET code=" + std::to_string((int)code)); });
	if (!next("has-more tag set"))
		return 1;
	nim::Session::QueryHasmoreRoammsg(peer, nim::kNIMSessionTypeP2P, [&](nim::NIMResCode code, const SessionRoamMsgHasMoreTagInfo &t) {
		done("HASMORE code=" + std::to_string((int)code) + " id=" + t.session_tag_info.session_id + " server_id=" + std::to_string(t.message_server_id));
	});
	if (!next("has-more tag"))
		return 1;
	nim::Session::QueryAllHasmoreRoammsg([&](nim::NIMResCode code, const std::list<SessionRoamMsgHasMoreTagInfo> &l) {
		done("HASMOREALL code=" + std::to_string((int)code) + " size=" + std::to_string(l.size()));
	});
	if (!next("has-more tags"))
		return 1;
	nim::Session::DeleteHasmoreRoammsg(peer, nim::kNIMSessionTypeP2P, [&](nim::NIMResCode code) { done("HASMOREDEL code=" + std::to_string((int)code)); });
	if (!next("has-more tag removed"))
		return 1;
	// Another device of this account put the peer's session on top.
	if (!WaitFor([&] { return stuck_elsewhere; }, 30))
		return Fail("stick-top notification");
	Say("STICKNOTE ext=" + stuck_ext);
	nim::Session::UpdateToStickTopSession(peer, nim::kNIMSessionTypeP2P, "{\"from\":\"C++\"}", [&](nim::NIMResCode code, const nim::StickTopSession &s) {
		done("STICKUPD code=" + std::to_string((int)code) + " ext=" + s.stick_top_info_.ext_ + " session=" + s.session_data_.id_);
	});
	if (!next("stick-top update"))
		return 1;
	nim::Session::QueryStickTopSessionList([&](nim::NIMResCode code, const nim::StickTopSessionList &l) {
		done("STICKLIST code=" + std::to_string((int)code) + " size=" + std::to_string(l.sessions_.size()) +
		     " first=" + (l.sessions_.empty() ? std::string() : l.sessions_.front().stick_top_info_.id_));
	});
	if (!next("stick-top list"))
		return 1;
	nim::Session::CancelToStickTopSession(peer, nim::kNIMSessionTypeP2P, [&](nim::NIMResCode code, const std::string &id, nim::NIMSessionType t) {
		done("STICKCANCEL code=" + std::to_string((int)code) + " id=" + id + " type=" + std::to_string((int)t));
	});
	if (!next("stick-top cancel"))
		return 1;
	nim::Session::SetToStickTopSession(peer, nim::kNIMSessionTypeP2P, "", [&](nim::NIMResCode code, const nim::StickTopSession &s) {
		done("STICKSET code=" + std::to_string((int)code) + " top=" + std::to_string((int)s.stick_top_info_.top_));
	});
	if (!next("stick-top set"))
		return 1;
	// The server's sessions: the phone gave the peer's session an extension.
	if (!WaitFor([&] { return olsess_changed; }, 30))
		return Fail("server session notification");
	Say(olsess_note);
	nim::SessionOnLineService::QuerySessionList(0, 0, true, 10, [&](const nim::SessionOnLineServiceHelper::QuerySessionListResult &r) {
		std::string first, type, last;
		if (!r.session_list_.empty()) {
			const auto &s = r.session_list_.front();
			first = s.id_;
			type = std::to_string((int)s.type_);
			last = std::to_string(s.last_message_type_);
		}
		done("OLLIST code=" + std::to_string((int)r.res_code) + " has_more=" + std::to_string((int)r.has_more_) +
		     " first=" + first + " type=" + type + " last=" + last);
	});
	if (!next("server session list"))
		return 1;
	nim::SessionOnLineService::UpdateSession(nim::kNIMSessionTypeP2P, peer, "{\"from\":\"C++\"}", [&](nim::NIMResCode code) {
		done("OLUPD code=" + std::to_string((int)code));
	});
	if (!next("server session update"))
		return 1;
	nim::SessionOnLineService::QuerySession(nim::kNIMSessionTypeP2P, peer, [&](nim::NIMResCode code, const nim::SessionOnLineServiceHelper::SessionInfo &i) {
		done("OLGET code=" + std::to_string((int)code) + " id=" + i.id_ + " ext=" + i.ext_ +
		     " last=" + (i.GetLastMessage<0>().client_msg_id_.empty() ? "none" : "message"));
	});
	if (!next("server session"))
		return 1;
	nim::SessionOnLineServiceHelper::DeleteSessionParam del;
	del.AddSession(nim::kNIMSessionTypeP2P, peer);
	nim::SessionOnLineService::DeleteSession(del, [&](nim::NIMResCode code) { done("OLDEL code=" + std::to_string((int)code)); });
	if (!next("server session delete"))
		return 1;
	nim::SessionOnLineService::QuerySession(nim::kNIMSessionTypeP2P, peer, [&](nim::NIMResCode code, const nim::SessionOnLineServiceHelper::SessionInfo &) {
		done("OLGONE code=" + std::to_string((int)code));
	});
	if (!next("server session after delete"))
		return 1;
	nim::Session::SetMultiUnreadCountZeroAsync(false, {nim::Session::MultiUnreadCountZeroInfo{peer, nim::kNIMSessionTypeP2P}},
		[&](nim::NIMResCode code, const std::list<nim::SessionData> &list, int total) {
			done("MULTI code=" + std::to_string((int)code) + " sessions=" + std::to_string(list.size()) + " total_unread=" + std::to_string(total));
		});
	if (!next("multi unread zero"))
		return 1;
	const std::string exported = std::string(argv[1]) + "/exported.db";
	nim::MsgLog::ExportDbAsync(exported, [&](nim::NIMResCode code) { done("EXPORT code=" + std::to_string((int)code)); });
	if (!next("export"))
		return 1;
	nim::MsgLog::DeleteAllAsync(true, [&](nim::NIMResCode code) { done("DELETEALL code=" + std::to_string((int)code)); });
	if (!next("delete all"))
		return 1;
	int64_t imported = -1;
	nim::MsgLog::ImportDbAsync(exported, [&](nim::NIMResCode code) { done("IMPORT code=" + std::to_string((int)code) + " imported=" + std::to_string(imported)); },
		[&](int64_t n, int64_t) { imported = n; });
	if (!next("import"))
		return 1;
	nim::MessageSetting rt_setting;
	rt_setting.need_push_ = nim::BS_FALSE;
	const std::string rt = nim::Talk::CreateRetweetMessage("{\"msg_type\":0,\"msg_body\":\"offline 0\",\"client_msg_id\":\"x\"}", "cpp-rt-1", nim::kNIMSessionTypeP2P, peer, rt_setting);
	nim::IMMessage parsed;
	nim::Talk::ParseIMMessage(rt, parsed);
	const nim::IMMessageThreadInfo &no_thread = parsed.thread_info_; // a retweet is no reply
	(void)no_thread;
	Say("RETWEET to=" + parsed.receiver_accid_ + " id=" + parsed.client_msg_id_ + " body=" + parsed.content_ + " push=" + std::to_string((int)parsed.msg_setting_.need_push_));

	// The peer's live message deleted for this account only (the peer keeps
	// it), then this account's server history of the peer, roaming included.
	nim::MsgLog::DeleteMessageSelfAsync(live_msg, "from C++", [&](nim::NIMResCode code) { done("DELSELF code=" + std::to_string((int)code)); });
	if (!next("one-way deletion"))
		return 1;
	nim::MsgLog::DeleteHistoryOnlineAsync(peer, true, "", [&](const nim::NIMResCode code, const std::string &accid) {
		done("DELHISTORY code=" + std::to_string((int)code) + " accid=" + accid);
	});
	if (!next("server history deleted"))
		return 1;
	nim::MsgLog::QueryMsgOnlineAsync(peer, nim::kNIMSessionTypeP2P, 50, 0, 0, 0, false, false,
		[&](nim::NIMResCode code, const std::string &, nim::NIMSessionType, const nim::QueryMsglogResult &r) {
			done("CLEARED code=" + std::to_string((int)code) + " count=" + std::to_string(r.count_));
		});
	if (!next("server history after deleting it"))
		return 1;
	nim::Session::DeleteSessionRoamingMessage(nim::kNIMSessionTypeP2P, peer, [&](nim::NIMResCode code, nim::NIMSessionType t, const std::string &id) {
		done("DELROAM code=" + std::to_string((int)code) + " type=" + std::to_string((int)t) + " id=" + id);
	});
	if (!next("roaming messages deleted"))
		return 1;
	// Another device of this account deletes a message one way.
	Say("DELETE_SELF_READY");
	if (!WaitFor([&] { return deleted_elsewhere; }, 30))
		return Fail("one-way deletion notification");
	Say("DELSELFNOTE " + deleted_items);

	nim::Client::Logout(nim::kNIMLogoutAppExit, [&](nim::NIMResCode) {
		std::lock_guard<std::mutex> g(lock);
		logged_out = true;
		Notify();
	});
	if (!WaitFor([&] { return logged_out; }, 20))
		return Fail("logout");
	nim::Talk::UnregTalkCb();
	nim::SystemMsg::UnregSysmsgCb();
	nim::Session::UnregSessionCb();
	nim::DataSync::UnregDataSyncCb();
	nim::Client::Cleanup();
	Say("DONE");
	return 0;
}
