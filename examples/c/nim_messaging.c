/*
 * NIM's messaging API in C against Magpie's libnim.so: what a desktop app
 * does after login. Every callback is registered before the login, as NIM
 * requires, so the offline messages synced at login reach the batch
 * callback.
 *
 * usage: nim_messaging DATA_DIR HOST:PORT APP_KEY ACCOUNT TOKEN PEER
 *
 * It logs in, waits for the offline-message sync (data sync type 2), lists
 * its recent sessions, marks PEER's session read, sends PEER a text message
 * and a stored custom notification, prints READY, waits for a live message
 * and a custom notification from PEER, queries the local and the server
 * history of the session, logs out with kNIMLogoutAppExit, cleans up and
 * exits 0. Every callback is printed as "CB <name> <json>".
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cjson/cJSON.h>
#include "nim_client.h"
#include "nim_talk.h"
#include "nim_sysmsg.h"
#include "nim_session.h"
#include "nim_session_online_service.h"
#include "nim_msglog.h"
#include "nim_data_sync.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int login_ok, login_failed, offline_synced, batch_messages, acked, ack_code = -1;
static int sysmsg_acked, sysmsg_ack_code = -1, live_received, notified, queried, logged_out;
static int sessions_done, unread_done, unread_code = -1, receipt_done;
static char peer[128];
static char live_msg[4096];
static long long first_sent_time; /* the time of c-msg-1, from its ack */

static void set_flag(int *flag, int value)
{
	pthread_mutex_lock(&lock);
	*flag = value;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
}

/* Waits until *flag is set or *failed is, at most `seconds`. */
static int wait_until(int *flag, int *failed, int seconds)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_sec += seconds;
	pthread_mutex_lock(&lock);
	while (!*flag && !(failed && *failed)) {
		if (pthread_cond_timedwait(&cond, &lock, &t) == ETIMEDOUT)
			break;
	}
	int ok = *flag;
	pthread_mutex_unlock(&lock);
	return ok;
}

static int json_int(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(v) ? v->valueint : -1;
}

static void on_login(const char *json, const void *user_data)
{
	(void)user_data;
	printf("CB login %s\n", json);
	fflush(stdout);
	cJSON *v = cJSON_Parse(json);
	int code = json_int(v, kNIMErrorCode), step = json_int(v, kNIMLoginStep);
	cJSON_Delete(v);
	if (code != kNIMResSuccess)
		set_flag(&login_failed, 1);
	else if (step == kNIMLoginStepLogin)
		set_flag(&login_ok, 1);
}

static void on_data_sync(enum NIMDataSyncType type, enum NIMDataSyncStatus status,
			 const char *attachment, const void *user_data)
{
	(void)user_data;
	printf("CB data_sync type=%d status=%d attachment=%s\n", (int)type, (int)status, attachment);
	fflush(stdout);
	if (type == kNIMDataSyncTypeUnreadMsg && status == kNIMDataSyncStatusComplete)
		set_flag(&offline_synced, 1);
}

static void on_receive_batch(const char *content, const char *json_extension, const void *user_data)
{
	(void)json_extension;
	(void)user_data;
	printf("CB receive_batch %s\n", content);
	fflush(stdout);
	cJSON *list = cJSON_Parse(content);
	int n = cJSON_IsArray(list) ? cJSON_GetArraySize(list) : 0;
	cJSON_Delete(list);
	pthread_mutex_lock(&lock);
	batch_messages += n;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
}

static void on_receive(const char *content, const char *json_extension, const void *user_data)
{
	(void)json_extension;
	(void)user_data;
	printf("CB receive %s\n", content);
	fflush(stdout);
	cJSON *v = cJSON_Parse(content);
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(v, kNIMMsgKeyLocalReceiveMsgContent);
	const cJSON *from = cJSON_GetObjectItemCaseSensitive(msg, kNIMMsgKeyFromAccount);
	int live = json_int(v, kNIMMsgKeyLocalMsgFeature) == kNIMMessageFeatureDefault;
	int from_peer = cJSON_IsString(from) && strcmp(from->valuestring, peer) == 0;
	if (live && from_peer) {
		char *text = cJSON_PrintUnformatted(msg);
		snprintf(live_msg, sizeof live_msg, "%s", text ? text : "");
		free(text);
	}
	cJSON_Delete(v);
	if (live && from_peer)
		set_flag(&live_received, 1);
}

/* Read receipts: the peer's (registered, user_data NULL) and the answer to
 * mine ("RECEIPT"); `result` is an array of {talk_id, msg_timetag, status}. */
static void on_status_changed(int res_code, const char *result, const char *json_extension, const void *user_data)
{
	(void)json_extension;
	cJSON *v = cJSON_Parse(result);
	const cJSON *first = cJSON_IsArray(v) ? cJSON_GetArrayItem(v, 0) : NULL;
	const cJSON *talk = cJSON_GetObjectItemCaseSensitive(first, kNIMMsglogStatusChangedKeyTalkID);
	printf("%s code=%d talk_id=%s status=%d\n", user_data ? (const char *)user_data : "STATUS_CHANGED", res_code,
	       cJSON_IsString(talk) ? talk->valuestring : "", json_int(first, kNIMMsglogStatusChangedKeyStatus));
	fflush(stdout);
	cJSON_Delete(v);
	if (user_data)
		set_flag(&receipt_done, 1);
}

static void on_ack(const char *result, const void *user_data)
{
	(void)user_data;
	printf("CB ack %s\n", result);
	fflush(stdout);
	cJSON *v = cJSON_Parse(result);
	ack_code = json_int(v, kNIMSendAckKeyRescode);
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(v, kNIMSendAckKeyMsgId);
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(v, kNIMSendAckKeyTimetag);
	if (cJSON_IsString(id) && strcmp(id->valuestring, "c-msg-1") == 0 && cJSON_IsNumber(t))
		first_sent_time = (long long)t->valuedouble;
	cJSON_Delete(v);
	set_flag(&acked, 1);
}

static void on_sysmsg(const char *content, const char *json_extension, const void *user_data)
{
	(void)json_extension;
	(void)user_data;
	printf("CB sysmsg %s\n", content);
	fflush(stdout);
	set_flag(&notified, 1);
}

static void on_sysmsg_ack(const char *result, const void *user_data)
{
	(void)user_data;
	printf("CB sysmsg_ack %s\n", result);
	fflush(stdout);
	cJSON *v = cJSON_Parse(result);
	sysmsg_ack_code = json_int(v, kNIMSendSysMsgAckKeyRescode);
	cJSON_Delete(v);
	set_flag(&sysmsg_acked, 1);
}

static void on_session_change(int rescode, const char *result, int total_unread_counts,
			      const char *json_extension, const void *user_data)
{
	(void)json_extension;
	(void)user_data;
	printf("CB session_change rescode=%d total_unread=%d %s\n", rescode, total_unread_counts, result);
	fflush(stdout);
}

static void on_sessions(int total_unread_count, const char *result, const char *json_extension,
			const void *user_data)
{
	(void)json_extension;
	(void)user_data;
	printf("SESSIONS total_unread=%d %s\n", total_unread_count, result);
	fflush(stdout);
	set_flag(&sessions_done, 1);
}

static void on_unread_zero(int rescode, const char *result, int total_unread_counts,
			   const char *json_extension, const void *user_data)
{
	(void)json_extension;
	(void)user_data;
	printf("UNREAD_ZERO rescode=%d total_unread=%d %s\n", rescode, total_unread_counts, result);
	fflush(stdout);
	unread_code = rescode;
	set_flag(&unread_done, 1);
}

static void on_query(int res_code, const char *id, enum NIMSessionType to_type, const char *result,
		     const char *json_extension, const void *user_data)
{
	(void)json_extension;
	printf("%s code=%d id=%s type=%d %s\n", (const char *)user_data, res_code, id, (int)to_type, result);
	fflush(stdout);
	set_flag(&queried, 1);
}

static void on_logout(const char *json, const void *user_data)
{
	(void)user_data;
	printf("CB logout %s\n", json);
	fflush(stdout);
	set_flag(&logged_out, 1);
}

/* One local operation at a time: its callback prints a line and sets `step`. */
static int step;
static char last_sysmsg_id[32];

static int next_step(int seconds)
{
	int ok = wait_until(&step, NULL, seconds);
	step = 0;
	return ok;
}

static void say_and_step(const char *line)
{
	printf("%s\n", line);
	fflush(stdout);
	set_flag(&step, 1);
}

static void on_sessions_excluding(int total_unread_count, const char *result, const char *json_extension,
				  const void *user_data)
{
	cJSON *v = cJSON_Parse(result);
	cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItem(v, "content"), 0);
	cJSON *last = first ? cJSON_GetObjectItem(first, "msg_client_id") : NULL;
	printf("%s count=%d total_unread=%d last=%s ext=%s\n", (const char *)user_data,
	       cJSON_GetArraySize(cJSON_GetObjectItem(v, "content")), total_unread_count,
	       cJSON_IsString(last) ? last->valuestring : "", json_extension);
	fflush(stdout);
	cJSON_Delete(v);
	set_flag(&step, 1);
}

static void on_hasmore(int rescode, const SessionRoamMsgHasMoreTagInfo *tag, const void *user_data)
{
	printf("%s code=%d id=%s type=%d time=%llu server_id=%llu\n", (const char *)user_data, rescode,
	       tag->session_tag_info.session_id, (int)tag->session_tag_info.to_type,
	       (unsigned long long)tag->message_time_tag, (unsigned long long)tag->message_server_id);
	fflush(stdout);
	set_flag(&step, 1);
}

static void on_hasmore_all(int rescode, const SessionRoamMsgHasMoreTagInfo *tags, int size, const void *user_data)
{
	printf("%s code=%d size=%d first=%s\n", (const char *)user_data, rescode, size,
	       size > 0 ? tags[0].session_tag_info.session_id : "");
	fflush(stdout);
	set_flag(&step, 1);
}

static void on_hasmore_code(int rescode, const void *user_data)
{
	printf("%s code=%d\n", (const char *)user_data, rescode);
	fflush(stdout);
	set_flag(&step, 1);
}

static void on_by_id(int res_code, const char *msg_id, const char *result, const char *json_extension,
		     const void *user_data)
{
	(void)json_extension;
	char line[512];
	cJSON *v = cJSON_Parse(result);
	const cJSON *body = cJSON_GetObjectItemCaseSensitive(v, kNIMMsgKeyBody);
	const cJSON *ext = cJSON_GetObjectItemCaseSensitive(v, kNIMMsgKeyLocalExt);
	snprintf(line, sizeof line, "%s code=%d id=%s body=%s local_ext=%s", (const char *)user_data, res_code,
		 msg_id, cJSON_IsString(body) ? body->valuestring : "", cJSON_IsString(ext) ? ext->valuestring : "");
	cJSON_Delete(v);
	say_and_step(line);
}

static void on_msg_res(int res_code, const char *msg_id, const char *json_extension, const void *user_data)
{
	(void)json_extension;
	char line[256];
	snprintf(line, sizeof line, "%s code=%d id=%s", (const char *)user_data, res_code, msg_id);
	say_and_step(line);
}

static void on_msg_res_ex(int res_code, const char *uid, enum NIMSessionType to_type, const char *json_extension,
			  const void *user_data)
{
	(void)json_extension;
	char line[256];
	snprintf(line, sizeof line, "%s code=%d uid=%s type=%d", (const char *)user_data, res_code, uid, (int)to_type);
	say_and_step(line);
}

static void on_modify(int res_code, const char *json_extension, const void *user_data)
{
	(void)json_extension;
	char line[128];
	snprintf(line, sizeof line, "%s code=%d", (const char *)user_data, res_code);
	say_and_step(line);
}

static void on_session_op(int rescode, const char *result, int total_unread_counts, const char *json_extension,
			  const void *user_data)
{
	(void)json_extension;
	char line[1024];
	snprintf(line, sizeof line, "%s code=%d total_unread=%d %s", (const char *)user_data, rescode,
		 total_unread_counts, result);
	say_and_step(line);
}

static void on_session_by_id(int rescode, const char *result, const void *user_data)
{
	char line[1024];
	snprintf(line, sizeof line, "%s code=%d %s", (const char *)user_data, rescode, result);
	say_and_step(line);
}

static void on_sysmsg_query(int count, const char *result, const char *json_extension, const void *user_data)
{
	(void)json_extension;
	char line[1024];
	cJSON *v = cJSON_Parse(result);
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(v, kNIMSysMsglogQueryKeyContent);
	const cJSON *first = cJSON_IsArray(list) ? cJSON_GetArrayItem(list, 0) : NULL;
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(first, kNIMSysMsgKeyMsgId);
	snprintf(last_sysmsg_id, sizeof last_sysmsg_id, "%lld", cJSON_IsNumber(id) ? (long long)id->valuedouble : 0LL);
	cJSON_Delete(v);
	snprintf(line, sizeof line, "%s count=%d first_id=%s", (const char *)user_data, count, last_sysmsg_id);
	say_and_step(line);
}

static void on_sysmsg_res_ex(int res_code, int64_t msg_id, int unread_count, const char *json_extension,
			     const void *user_data)
{
	(void)json_extension;
	char line[128];
	snprintf(line, sizeof line, "%s code=%d id=%lld unread=%d", (const char *)user_data, res_code,
		 (long long)msg_id, unread_count);
	say_and_step(line);
}

static void on_sysmsg_res(int res_code, int unread_count, const char *json_extension, const void *user_data)
{
	(void)json_extension;
	char line[128];
	snprintf(line, sizeof line, "%s code=%d unread=%d", (const char *)user_data, res_code, unread_count);
	say_and_step(line);
}

static void on_import_progress(int64_t imported_count, int64_t total_count, const char *json_extension,
			       const void *user_data)
{
	(void)json_extension;
	(void)user_data;
	printf("PROGRESS %lld/%lld\n", (long long)imported_count, (long long)total_count);
	fflush(stdout);
}

static void on_multi(int rescode, const char *result, int total_unread_counts, const void *user_data)
{
	char line[1024];
	snprintf(line, sizeof line, "%s code=%d total_unread=%d %s", (const char *)user_data, rescode,
		 total_unread_counts, result);
	say_and_step(line);
}

static void on_recall(int rescode, const char *content, const char *json_extension, const void *user_data)
{
	(void)json_extension;
	char line[256];
	cJSON *v = cJSON_Parse(content);
	const cJSON *first = cJSON_IsArray(v) ? cJSON_GetArrayItem(v, 0) : NULL;
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(first, kNIMRecallMsgKeyMsgId);
	const cJSON *exist = cJSON_GetObjectItemCaseSensitive(first, kNIMRecallMsgKeyMsgExist);
	snprintf(line, sizeof line, "%s code=%d msg_id=%s exist=%d", (const char *)user_data, rescode,
		 cJSON_IsString(id) ? id->valuestring : "", cJSON_IsTrue(exist));
	cJSON_Delete(v);
	say_and_step(line);
}

/* Stick-top sessions: the results, and what another device of the account did. */
static int stick_notified;

static void on_stick_session(int rescode, const char *stick_session, const void *user_data)
{
	char line[2048];
	snprintf(line, sizeof line, "%s code=%d %s", (const char *)user_data, rescode, stick_session);
	say_and_step(line);
}

static void on_stick_cancel(int rescode, const char *session_id, enum NIMSessionType to_type, const void *user_data)
{
	char line[256];
	snprintf(line, sizeof line, "%s code=%d id=%s type=%d", (const char *)user_data, rescode, session_id,
		 (int)to_type);
	say_and_step(line);
}

static void on_stick_set_notify(const char *stick_session, const void *user_data)
{
	(void)user_data;
	printf("CB stick_top_set %s\n", stick_session);
	fflush(stdout);
	set_flag(&stick_notified, 1);
}

static void on_stick_update_notify(const char *stick_session, const void *user_data)
{
	(void)user_data;
	printf("CB stick_top_update %s\n", stick_session);
	fflush(stdout);
}

static void on_stick_cancel_notify(const char *session_id, enum NIMSessionType to_type, const void *user_data)
{
	(void)user_data;
	printf("CB stick_top_cancel id=%s type=%d\n", session_id, (int)to_type);
	fflush(stdout);
}

/* Deletions for this account only: one message (one way), the server's
   history of a session, and what another device of the account deleted. */
static int delete_self_notified;

static void on_delete_self(int res_code, const void *user_data)
{
	char line[64];
	snprintf(line, sizeof line, "%s code=%d", (const char *)user_data, res_code);
	say_and_step(line);
}

static void on_delete_history(int res_code, const char *accid, const void *user_data)
{
	char line[256];
	snprintf(line, sizeof line, "%s code=%d accid=%s", (const char *)user_data, res_code, accid);
	say_and_step(line);
}

static void on_delete_history_ex(int res_code, const char *accid, enum NIMSessionType to_type, uint64_t time,
				 const char *ext, const void *user_data)
{
	char line[256];
	snprintf(line, sizeof line, "%s code=%d accid=%s type=%d ext=%s timed=%d", (const char *)user_data, res_code,
		 accid, (int)to_type, ext, time > 0);
	say_and_step(line);
}

static void on_delete_roaming(int rescode, const char *to_type, const char *id, const void *user_data)
{
	char line[256];
	snprintf(line, sizeof line, "%s code=%d type=%s id=%s", (const char *)user_data, rescode, to_type, id);
	say_and_step(line);
}

static void on_delete_self_notify(const char *infos, const void *user_data)
{
	(void)user_data;
	printf("CB delete_self %s\n", infos);
	fflush(stdout);
	set_flag(&delete_self_notified, 1);
}

/* The server's sessions (NIM's session service): results, and a change
   another device of the account made. */
static int olsess_notified;

static void on_olsess_result(int rescode, const char *result, const void *user_data)
{
	char line[8192];
	snprintf(line, sizeof line, "%s code=%d %s", (const char *)user_data, rescode, result);
	say_and_step(line);
}

static void on_olsess_code(int rescode, const void *user_data)
{
	char line[128];
	snprintf(line, sizeof line, "%s code=%d", (const char *)user_data, rescode);
	say_and_step(line);
}

static void on_olsess_changed(const char *session_info, const void *user_data)
{
	(void)user_data;
	printf("CB olsess_changed %s\n", session_info);
	fflush(stdout);
	set_flag(&olsess_notified, 1);
}

static int fail(const char *what)
{
	printf("FAILED %s\n", what);
	fflush(stdout);
	return 1;
}

int main(int argc, char **argv)
{
	if (argc < 7) {
		fprintf(stderr, "usage: %s DATA_DIR HOST:PORT APP_KEY ACCOUNT TOKEN PEER\n", argv[0]);
		return 2;
	}
	snprintf(peer, sizeof peer, "%s", argv[6]);
	char config[512];
	snprintf(config, sizeof config,
		 "{\"app_key\":\"%s\",\"private_server_setting\":{\"link\":\"%s\"}}", argv[3], argv[2]);
	if (!nim_client_init(argv[1], "", config))
		return fail("nim_client_init");

	/* Every callback before the first login. */
	nim_data_sync_reg_complete_cb(on_data_sync, NULL);
	nim_talk_reg_ack_cb("", on_ack, NULL);
	nim_talk_reg_receive_cb("", on_receive, NULL);
	nim_talk_reg_receive_msgs_cb("", on_receive_batch, NULL);
	nim_sysmsg_reg_sysmsg_cb("", on_sysmsg, NULL);
	nim_sysmsg_reg_custom_notification_ack_cb("", on_sysmsg_ack, NULL);
	nim_session_reg_change_cb("", on_session_change, NULL);
	nim_msglog_reg_status_changed_cb("", on_status_changed, NULL);
	nim_session_reg_set_to_stick_top_notify_cb(on_stick_set_notify, NULL);
	nim_session_reg_update_stick_top_notify_cb(on_stick_update_notify, NULL);
	nim_session_reg_cancell_stick_top_notify_cb(on_stick_cancel_notify, NULL);
	nim_session_online_service_reg_session_changed(on_olsess_changed, NULL);
	nim_msglog_register_delete_msgs_self_callback(on_delete_self_notify, NULL);

	nim_client_login(argv[3], argv[4], argv[5], "", on_login, NULL);
	if (!wait_until(&login_ok, &login_failed, 20))
		return fail("login");
	if (!wait_until(&offline_synced, NULL, 20))
		return fail("offline sync");
	printf("SYNCED batch_messages=%d\n", batch_messages);
	fflush(stdout);

	nim_session_query_all_recent_session_async("", on_sessions, NULL);
	if (!wait_until(&sessions_done, NULL, 10))
		return fail("sessions");
	nim_session_set_unread_count_zero_async(kNIMSessionTypeP2P, peer, "", on_unread_zero, NULL);
	if (!wait_until(&unread_done, NULL, 10) || unread_code != kNIMResSuccess)
		return fail("unread zero");

	char msg[512];
	snprintf(msg, sizeof msg,
		 "{\"%s\":%d,\"%s\":\"%s\",\"%s\":%d,\"%s\":\"hello from C\",\"%s\":\"c-msg-1\"}",
		 kNIMMsgKeyToType, kNIMSessionTypeP2P, kNIMMsgKeyToAccount, peer, kNIMMsgKeyType,
		 kNIMMessageTypeText, kNIMMsgKeyBody, kNIMMsgKeyClientMsgid);
	nim_talk_send_msg(msg, "", NULL, NULL);
	if (!wait_until(&acked, NULL, 10) || ack_code != kNIMResSuccess)
		return fail("send");

	char note[512];
	snprintf(note, sizeof note,
		 "{\"%s\":\"%s\",\"%s\":%d,\"%s\":\"{\\\"typing\\\":true}\",\"%s\":\"c-note-1\",\"%s\":1}",
		 kNIMSysMsgKeyToAccount, peer, kNIMSysMsgKeyType, kNIMSysMsgTypeCustomP2PMsg,
		 kNIMSysMsgKeyAttach, kNIMSysMsgKeyLocalClientMsgId, kNIMSysMsgKeyCustomSaveFlag);
	nim_sysmsg_send_custom_notification(note, "");
	if (!wait_until(&sysmsg_acked, NULL, 10) || sysmsg_ack_code != kNIMResSuccess)
		return fail("custom notification");

	/* A retweet of a message dog sent, and a reply to it in its thread. */
	const char *src = "{\"to_type\":0,\"to_accid\":\"cat\",\"from_id\":\"dog\",\"msg_type\":0,"
			  "\"msg_body\":\"offline 0\",\"client_msg_id\":\"dog-offline-0\",\"server_msg_id\":1,\"time\":1}";
	char *rt = nim_talk_create_retweet_msg(src, "c-rt-1", kNIMSessionTypeP2P, peer, "{\"push_enable\":0}", 0);
	if (!rt)
		return fail("create retweet");
	printf("RETWEET %s\n", rt);
	acked = 0;
	nim_talk_send_msg(rt, "", NULL, NULL);
	nim_global_free_str_buf(rt);
	if (!wait_until(&acked, NULL, 10) || ack_code != kNIMResSuccess)
		return fail("send retweet");
	char *path = nim_talk_get_attachment_path_from_msg(src);
	printf("PATH [%s]\n", path ? path : "(null)");
	nim_global_free_buf(path);
	char reply[256];
	snprintf(reply, sizeof reply, "{\"to_type\":0,\"to_accid\":\"%s\",\"msg_type\":0,\"msg_body\":\"re: offline 0\",\"client_msg_id\":\"c-re-1\"}", peer);
	acked = 0;
	nim_talk_reply_msg(src, reply, "", NULL, NULL);
	if (!wait_until(&acked, NULL, 10) || ack_code != kNIMResSuccess)
		return fail("reply");
	printf("REPLIED\n");
	nim_talk_reg_notification_filter_cb("", NULL, NULL);
	nim_talk_reg_receive_broadcast_cb("", NULL, NULL);
	nim_talk_reg_receive_broadcast_msgs_cb("", NULL, NULL);

	printf("READY\n");
	fflush(stdout);
	if (!wait_until(&live_received, NULL, 30))
		return fail("live message");
	if (!wait_until(&notified, NULL, 30))
		return fail("notification");

	/* Another device of this account put the peer's session on top; this
	   one changes the extension, lists, takes it off, and puts it back. */
	if (!wait_until(&stick_notified, NULL, 30))
		return fail("stick-top notification");
	nim_session_update_stick_top(peer, kNIMSessionTypeP2P, "{\"from\":\"C\"}", on_stick_session, "STICKUPD");
	if (!next_step(10))
		return fail("update stick top");
	nim_session_query_stick_top_session_list(on_stick_session, "STICKLIST");
	if (!next_step(10))
		return fail("stick-top list");
	nim_session_cancel_stick_top(peer, kNIMSessionTypeP2P, on_stick_cancel, "STICKCANCEL");
	if (!next_step(10))
		return fail("cancel stick top");
	nim_session_cancel_stick_top(peer, kNIMSessionTypeP2P, on_stick_cancel, "STICKGONE");
	if (!next_step(10))
		return fail("cancel stick top again");
	nim_session_query_stick_top_session_list(on_stick_session, "STICKEMPTY");
	if (!next_step(10))
		return fail("stick-top list after cancel");
	nim_session_set_to_stick_top(peer, kNIMSessionTypeP2P, "", on_stick_session, "STICKSET");
	if (!next_step(10))
		return fail("set stick top");

	/* The server's sessions: the phone gave the peer's session an
	   extension; this device lists, changes and deletes it. */
	if (!wait_until(&olsess_notified, NULL, 30))
		return fail("server session notification");
	nim_session_online_service_query_session_list(0, 0, true, 10, on_olsess_result, "OLLIST");
	if (!next_step(10))
		return fail("server session list");
	nim_session_online_service_update_session(kNIMSessionTypeP2P, peer, "{\"from\":\"C\"}", on_olsess_code, "OLUPD");
	if (!next_step(10))
		return fail("server session update");
	nim_session_online_service_query_session(kNIMSessionTypeP2P, peer, on_olsess_result, "OLGET");
	if (!next_step(10))
		return fail("server session");
	{
		char list[256];
		snprintf(list, sizeof list, "[{\"%s\":%d,\"%s\":\"%s\"}]", kMINSessionOLSRVDeleteType,
			 (int)kNIMSessionTypeP2P, kMINSessionOLSRVDeleteID, peer);
		nim_session_online_service_delete_session(list, on_olsess_code, "OLDEL");
	}
	if (!next_step(10))
		return fail("server session delete");
	nim_session_online_service_query_session(kNIMSessionTypeP2P, peer, on_olsess_result, "OLGONE");
	if (!next_step(10))
		return fail("server session after delete");

	/* A read receipt for the peer's live message. */
	int sent_before = nim_msglog_query_receipt_sent(live_msg, "");
	nim_msglog_send_receipt_async(live_msg, "", on_status_changed, "RECEIPT");
	if (!wait_until(&receipt_done, NULL, 10))
		return fail("receipt");
	printf("RECEIPT_SENT before=%d after=%d\n", sent_before, nim_msglog_query_receipt_sent(live_msg, ""));
	/* The peer's receipt (STATUS_CHANGED, before its live message) covers c-msg-1. */
	char mine[512];
	snprintf(mine, sizeof mine, "{\"%s\":0,\"%s\":\"%s\",\"%s\":\"%s\",\"%s\":%lld,\"%s\":\"c-msg-1\"}",
		 kNIMMsgKeyToType, kNIMMsgKeyToAccount, peer, kNIMMsgKeyFromAccount, argv[4], kNIMMsgKeyTime,
		 first_sent_time, kNIMMsgKeyClientMsgid);
	printf("BE_READED %d\n", nim_msglog_query_be_readed(mine, ""));
	fflush(stdout);

	nim_msglog_query_msg_async(peer, kNIMSessionTypeP2P, 50, 0, "", on_query, "LOCAL");
	if (!wait_until(&queried, NULL, 10))
		return fail("local history");
	queried = 0;
	nim_msglog_query_msg_online_async(peer, kNIMSessionTypeP2P, 50, 0, 0, 0, false, false, "",
					  on_query, "ONLINE");
	if (!wait_until(&queried, NULL, 10))
		return fail("server history");

	/* The local operations. */
	nim_msglog_update_localext_async("dog-offline-1", "{\"pinned\":true}", "", on_msg_res, "LOCALEXT");
	if (!next_step(10))
		return fail("update local ext");
	nim_msglog_query_msg_by_id_async("dog-offline-1", "", on_by_id, "BYID");
	if (!next_step(10))
		return fail("query by id");
	char tip[512];
	snprintf(tip, sizeof tip,
		 "{\"%s\":%d,\"%s\":\"%s\",\"%s\":%d,\"%s\":\"a local tip\",\"%s\":\"c-local-1\",\"%s\":%lld}",
		 kNIMMsgKeyToType, kNIMSessionTypeP2P, kNIMMsgKeyToAccount, peer, kNIMMsgKeyType, kNIMMessageTypeTips,
		 kNIMMsgKeyBody, kNIMMsgKeyClientMsgid, kNIMMsgKeyTime, (long long)time(NULL) * 1000 + 60000);
	nim_msglog_insert_msglog_async(peer, tip, true, "", on_msg_res, "INSERT");
	if (!next_step(10))
		return fail("insert");
	nim_session_set_top(kNIMSessionTypeP2P, peer, true, "", on_session_op, "TOP");
	if (!next_step(10))
		return fail("set top");
	nim_session_set_extend_data(kNIMSessionTypeP2P, peer, "{\"draft\":\"hi\"}", "", on_session_op, "EXTEND");
	if (!next_step(10))
		return fail("extend data");
	nim_session_query_sessiondata_by_id_async(kNIMSessionTypeP2P, peer, "", on_session_by_id, "BYSESSION");
	if (!next_step(10))
		return fail("session by id");
	nim_msglog_delete_async(peer, kNIMSessionTypeP2P, "c-local-1", "", on_msg_res, "DELETE");
	if (!next_step(10))
		return fail("delete");
	nim_msglog_query_msg_by_id_async("c-local-1", "", on_by_id, "GONE");
	if (!next_step(10))
		return fail("query deleted");
	nim_msglog_set_status_async("dog-live-1", kNIMMsgLogStatusUnread, "", on_msg_res, "SETSTATUS");
	if (!next_step(10))
		return fail("set status");
	nim_msglog_batch_status_read_async(peer, kNIMSessionTypeP2P, "", on_msg_res_ex, "BATCHREAD");
	if (!next_step(10))
		return fail("batch read");
	queried = 0;
	nim_msglog_query_msg_by_options_async(kNIMMsgLogQueryRangeAllP2P, "[]", 10, 0, 0, "", false,
					      kNIMMessageTypeUnknown, "OFFLINE", "", on_query, "SEARCH");
	if (!wait_until(&queried, NULL, 10))
		return fail("search");
	/* The same search with its options in JSON; the server's history of
	   text messages only (the options in NIM's struct); a keyword search
	   of the server's history. */
	queried = 0;
	nim_msglog_query_msg_by_options_async_ex(
		"{\"query_range\":101,\"ids\":[],\"limit_count\":10,\"msg_type\":1000,\"search_content\":\"OFFLINE\"}",
		on_query, "SEARCHEX");
	if (!wait_until(&queried, NULL, 10))
		return fail("search by JSON options");
	{
		enum NIMMessageType only_text[] = {kNIMMessageTypeText};
		NIMQueryMsgOnlineAsyncParam op;
		memset(&op, 0, sizeof op);
		op.to_type_ = kNIMSessionTypeP2P;
		op.limit_count_ = 50;
		op.msg_type_list_ = only_text;
		op.type_list_length_ = 1;
		queried = 0;
		nim_msglog_query_msg_online_async2(peer, op, on_query, "ONLINE2");
		if (!wait_until(&queried, NULL, 10))
			return fail("server history by type");
		NIMQueryMsgByKeywordOnlineAsyncParam kp;
		memset(&kp, 0, sizeof kp);
		kp.to_type_ = kNIMSessionTypeP2P;
		kp.limit = 10;
		kp.reverse_ = true;
		queried = 0;
		nim_msglog_query_msg_by_keyword_online_async(peer, "offline", kp, on_query, "KEYWORD");
		if (!wait_until(&queried, NULL, 10))
			return fail("server history by keyword");
	}
	/* An old custom message, so the session's messages are not all text. */
	char custom[300];
	snprintf(custom, sizeof custom,
		 "{\"to_type\":0,\"to_accid\":\"%s\",\"msg_type\":%d,\"msg_attach\":\"{\\\"k\\\":1}\",\"client_msg_id\":\"c-custom-1\",\"time\":1000}",
		 peer, kNIMMessageTypeCustom);
	nim_msglog_insert_msglog_async(peer, custom, false, "", on_msg_res, "INSERTCUSTOM");
	if (!next_step(10))
		return fail("insert custom");
	/* The session list without text as the last message, and with. */
	nim_session_query_all_recent_session_with_last_msg_excluded_type_async("", on_sessions_excluding,
									       kNIMMessageTypeText, "NOTEXT");
	if (!next_step(10))
		return fail("sessions without text");
	nim_session_query_all_recent_session_with_last_msg_excluded_type_async("", on_sessions_excluding,
									       kNIMMessageTypeUnknown, "ALLTYPES");
	if (!next_step(10))
		return fail("sessions of every type");
	nim_session_query_all_recent_session_with_last_msg_excluded_type_async_ex("", on_sessions_excluding, "[0,100]",
										  "NOTEXTNORCUSTOM");
	if (!next_step(10))
		return fail("sessions without text or custom");
	nim_session_query_all_recent_session_with_last_msg_excluded_type_async_ex("", on_sessions_excluding, "text",
										  "BADLIST");
	if (!next_step(10))
		return fail("sessions with a bad list");
	queried = 0;
	nim_msglog_query_the_message_of_the_specified_type_async(kNIMSessionTypeP2P, peer, 0, 0, 0, "", true, "[0]", "",
								 on_query, "TEXTONLY");
	if (!wait_until(&queried, NULL, 10))
		return fail("messages of a type");
	queried = 0;
	nim_msglog_query_the_message_of_the_specified_type_async(kNIMSessionTypeP2P, peer, 0, 0, 0, "", true, "[100]", "",
								 on_query, "CUSTOMONLY");
	if (!wait_until(&queried, NULL, 10))
		return fail("messages of another type");
	/* A has-more-roaming tag set, read, listed and removed. */
	char tagged[256];
	snprintf(tagged, sizeof tagged,
		 "{\"to_type\":0,\"from_id\":\"%s\",\"to_accid\":\"%s\",\"server_msg_id\":4242,\"time\":1700000000000,\"client_msg_id\":\"c-old-1\"}",
		 peer, argv[4]);
	nim_session_update_session_hasmore_roammsg(tagged, on_hasmore_code, "HASMORESET");
	if (!next_step(10))
		return fail("has-more tag set");
	SessionMainTagInfo key;
	memset(&key, 0, sizeof key);
	strncpy(key.session_id, peer, sizeof key.session_id - 1);
	key.to_type = kNIMSessionTypeP2P;
	nim_session_query_session_hasmore_roammsg(&key, on_hasmore, "HASMORE");
	if (!next_step(10))
		return fail("has-more tag");
	nim_session_query_all_session_hasmore_roammsg(on_hasmore_all, "HASMOREALL");
	if (!next_step(10))
		return fail("has-more tags");
	nim_session_delete_session_hasmore_roammsg(&key, on_hasmore_code, "HASMOREDEL");
	if (!next_step(10))
		return fail("has-more tag removed");
	nim_session_query_session_hasmore_roammsg(&key, on_hasmore, "HASMOREGONE");
	if (!next_step(10))
		return fail("has-more tag after removal");
	nim_sysmsg_query_msg_async(10, 0, "", on_sysmsg_query, "SYSQUERY");
	if (!next_step(10))
		return fail("sysmsg query");
	nim_sysmsg_set_status_async(atoll(last_sysmsg_id), kNIMSysMsgStatusRead, "", on_sysmsg_res_ex, "SYSSTATUS");
	if (!next_step(10))
		return fail("sysmsg status");
	nim_sysmsg_delete_logs_by_type_async(kNIMSysMsgTypeCustomP2PMsg, "", on_sysmsg_res, "SYSDELTYPE");
	if (!next_step(10))
		return fail("sysmsg delete by type");
	nim_sysmsg_query_msg_async(10, 0, "", on_sysmsg_query, "SYSQUERY2");
	if (!next_step(10))
		return fail("sysmsg query again");
	char exported[600];
	snprintf(exported, sizeof exported, "%s/exported.db", argv[1]);
	nim_msglog_export_db_async(exported, "", on_modify, "EXPORT");
	if (!next_step(10))
		return fail("export");
	nim_msglog_delete_all_async(false, "", on_modify, "DELETEALL");
	if (!next_step(10))
		return fail("delete all");
	queried = 0;
	nim_msglog_query_msg_async(peer, kNIMSessionTypeP2P, 50, 0, "", on_query, "EMPTY");
	if (!wait_until(&queried, NULL, 10))
		return fail("local history after delete");
	nim_msglog_import_db_async(exported, "", on_modify, "IMPORT", on_import_progress, NULL);
	if (!next_step(10))
		return fail("import");
	queried = 0;
	nim_msglog_query_msg_async(peer, kNIMSessionTypeP2P, 50, 0, "", on_query, "IMPORTED");
	if (!wait_until(&queried, NULL, 10))
		return fail("local history after import");
	nim_session_set_multi_unread_count_zero_async(false, "[{\"type\":0,\"id\":\"dog\"}]", on_multi, "MULTI");
	if (!next_step(10))
		return fail("multi unread zero");
	nim_msglog_delete_by_time_async(peer, kNIMSessionTypeP2P, 0, (uint64_t)time(NULL) * 1000 + 3600000, "",
					on_modify, "DELBYTIME");
	if (!next_step(10))
		return fail("delete by time");
	queried = 0;
	nim_msglog_query_msg_async(peer, kNIMSessionTypeP2P, 50, 0, "", on_query, "AFTERTIME");
	if (!wait_until(&queried, NULL, 10))
		return fail("local history after delete by time");
	/* The server still has them: a query that does not save leaves the local
	   history empty, one that saves brings the messages back into it. */
	queried = 0;
	nim_msglog_query_msg_online_async(peer, kNIMSessionTypeP2P, 50, 0, 0, 0, false, false, "",
					  on_query, "NOSAVE");
	if (!wait_until(&queried, NULL, 10))
		return fail("server history, not saved");
	queried = 0;
	nim_msglog_query_msg_async(peer, kNIMSessionTypeP2P, 50, 0, "", on_query, "STILLEMPTY");
	if (!wait_until(&queried, NULL, 10))
		return fail("local history after a query that does not save");
	queried = 0;
	nim_msglog_query_msg_online_async(peer, kNIMSessionTypeP2P, 50, 0, 0, 0, false, true, "",
					  on_query, "SAVE");
	if (!wait_until(&queried, NULL, 10))
		return fail("server history, saved");
	queried = 0;
	nim_msglog_query_msg_async(peer, kNIMSessionTypeP2P, 50, 0, "", on_query, "RESTORED");
	if (!wait_until(&queried, NULL, 10))
		return fail("local history after a query that saves");
	nim_session_delete_recent_session_async_ex(kNIMSessionTypeP2P, peer, true, on_session_op, "DELETEEX");
	if (!next_step(10))
		return fail("delete session ex");
	nim_session_delete_all_recent_session_async("", on_session_op, "SESSIONSGONE");
	if (!next_step(10))
		return fail("delete sessions");
	sessions_done = 0;
	nim_session_query_all_recent_session_async("", on_sessions, NULL);
	if (!wait_until(&sessions_done, NULL, 10))
		return fail("sessions after delete");

	/* A message sent and taken back. */
	char oops[256];
	snprintf(oops, sizeof oops,
		 "{\"to_type\":0,\"to_accid\":\"%s\",\"msg_type\":0,\"msg_body\":\"oops\",\"client_msg_id\":\"c-recall-1\"}", peer);
	acked = 0;
	nim_talk_send_msg(oops, "", NULL, NULL);
	if (!wait_until(&acked, NULL, 10) || ack_code != kNIMResSuccess)
		return fail("send the message to recall");
	nim_talk_recall_msg(oops, "cat took it back", "", on_recall, "RECALL");
	if (!next_step(10))
		return fail("recall");

	/* Dog's live message deleted for this account only: gone here, still
	   dog's. Then this account's server history of dog, roaming included. */
	nim_msglog_delete_message_self_async(live_msg, "from C", "", on_delete_self, "DELSELF");
	if (!next_step(10))
		return fail("one-way deletion");
	nim_msglog_query_msg_by_id_async("dog-live-1", "", on_by_id, "DELSELFGONE");
	if (!next_step(10))
		return fail("query the message deleted one way");
	/* Two of this account's own messages at once. */
	{
		NIMDeleteMessagesSelfParam two[2];
		const char *ids[2] = {"c-rt-1", "c-re-1"};
		memset(two, 0, sizeof two);
		for (int i = 0; i < 2; i++) {
			two[i].to_type_ = kNIMSessionTypeP2P;
			strncpy(two[i].from_account, argv[4], sizeof two[i].from_account - 1);
			strncpy(two[i].to_account, peer, sizeof two[i].to_account - 1);
			strncpy(two[i].client_id, ids[i], sizeof two[i].client_id - 1);
			strncpy(two[i].ext, "both", sizeof two[i].ext - 1);
		}
		nim_msglog_delete_messages_self_async(two, 2, on_delete_self, "DELSELFS");
		if (!next_step(10))
			return fail("one-way deletion of two messages");
	}
	nim_msglog_delete_history_online_async(peer, true, "", on_delete_history, "DELHISTORY");
	if (!next_step(10))
		return fail("delete the server history");
	queried = 0;
	nim_msglog_query_msg_online_async(peer, kNIMSessionTypeP2P, 50, 0, 0, 0, false, false, "",
					  on_query, "CLEARED");
	if (!wait_until(&queried, NULL, 10))
		return fail("server history after deleting it");
	nim_session_delete_session_roaming_async(kNIMSessionTypeP2P, peer, "", on_delete_roaming, "DELROAM");
	if (!next_step(10))
		return fail("delete the session's roaming messages");
	/* NIM 8's form: this account's other devices are told. */
	nim_msglog_delete_history_online_async_ex(peer, kNIMSessionTypeP2P, true, "from C", on_delete_history_ex,
						  "DELHISTEX");
	if (!next_step(10))
		return fail("delete the server history, telling the other devices");
	/* Another device of this account deletes a message one way. */
	printf("DELETE_SELF_READY\n");
	fflush(stdout);
	if (!wait_until(&delete_self_notified, NULL, 30))
		return fail("one-way deletion notification");

	nim_client_logout(kNIMLogoutAppExit, "", on_logout, NULL);
	if (!wait_until(&logged_out, NULL, 20))
		return fail("logout");
	nim_client_cleanup("");
	printf("DONE\n");
	fflush(stdout);
	return 0;
}
