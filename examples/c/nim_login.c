/*
 * The C samples of NIM's login guide page "登录登出" (Login and logout) (proxy, login, automatic login, logout, kick-out,
 * multispot), completed into one program against Magpie's libnim.so.
 * As in that guide, every function is looked up by name: dlopen/dlsym where the
 * guide uses GetProcAddress.
 *
 * usage: nim_login DATA_DIR HOST:PORT APP_KEY ACCOUNT TOKEN [SOCKS5_PORT]
 * It logs in, prints READY, waits to be kicked out by another device, logs in
 * again with nim_client_relogin, logs out with kNIMLogoutAppExit, cleans up
 * and exits 0. Every callback is printed as "CB <name> <json>".
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cjson/cJSON.h>
#include "nim_client_def.h"
#include "nim_global_def.h"

static void *hInst;
#define GetProcAddress(h, name) dlsym(h, name)

/* One event at a time, waited for with a timeout. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int login_ok, login_failed, kicked, relogin_ok, logged_out, logout_code = -1, kick_reason;

static void signal_event(void) { pthread_cond_broadcast(&cond); }

/* Waits until *flag is set (or *failed, when given), at most `seconds`. */
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

static int wait_for(int *flag, int seconds) { return wait_until(flag, NULL, seconds); }

static int json_int(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(v) ? v->valueint : -1;
}

/* The guide's CallbackLogin, with cJSON in place of Json::Reader. */
void CallbackLogin(const char* res, const void *user_data)
{
	(void)user_data;
	printf("CB login %s\n", res);
	fflush(stdout);
	cJSON *values = cJSON_Parse(res);
	if (values && cJSON_IsObject(values)) {
		pthread_mutex_lock(&lock);
		if (json_int(values, kNIMLoginStep) == kNIMLoginStepLogin && json_int(values, kNIMErrorCode) == 200)
			login_ok = 1;
		else if (json_int(values, kNIMErrorCode) != 200)
			login_failed = 1;
		signal_event();
		pthread_mutex_unlock(&lock);
	}
	cJSON_Delete(values);
}

void CallbackDisconnect(const char* res, const void* user_data)
{
	(void)user_data;
	printf("CB disconnect %s\n", res);
	fflush(stdout);
}

void CallbackAutoRelogin(const char* res, const void* user_data)
{
	(void)user_data;
	printf("CB auto_relogin %s\n", res);
	fflush(stdout);
	cJSON *values = cJSON_Parse(res);
	if (values && json_int(values, kNIMErrorCode) == 200 && json_int(values, kNIMLoginStep) == kNIMLoginStepLogin) {
		pthread_mutex_lock(&lock);
		relogin_ok = 1;
		signal_event();
		pthread_mutex_unlock(&lock);
	}
	cJSON_Delete(values);
}

void CallbackKickout(const char* res, const void* user_data)
{
	(void)user_data;
	printf("CB kickout %s\n", res);
	fflush(stdout);
	cJSON *values = cJSON_Parse(res);
	pthread_mutex_lock(&lock);
	kick_reason = values ? json_int(values, kNIMKickoutReasonCode) : -1;
	kicked = 1;
	signal_event();
	pthread_mutex_unlock(&lock);
	cJSON_Delete(values);
}

void CallbackMultispotLogin(const char* res, const void* user_data)
{
	(void)user_data;
	printf("CB multispot %s\n", res);
	fflush(stdout);
}

void CallbackLogout(const char* res, const void* user_data)
{
	(void)user_data;
	printf("CB logout %s\n", res);
	fflush(stdout);
	cJSON *values = cJSON_Parse(res);
	pthread_mutex_lock(&lock);
	logout_code = values ? json_int(values, kNIMResCode) : -1;
	logged_out = 1;
	signal_event();
	pthread_mutex_unlock(&lock);
	cJSON_Delete(values);
}

typedef bool(*nim_client_init)(const char *app_data_dir, const char *app_install_dir, const char *json_extension);
typedef void(*nim_client_cleanup)(const char *json_extension);
typedef void(*nim_global_set_proxy)(NIMProxyType, const char*, int, const char*, const char*);
typedef void(*nim_client_login)(const char *app_key, const char *account, const char *password, const char *json_extension, nim_json_transport_cb_func cb, const void* user_data);
typedef void(*nim_client_reg_disconnect_cb)(const char *json_extension, nim_json_transport_cb_func cb, const void* user_data);
typedef void(*nim_client_reg_auto_relogin_cb)(const char *json_extension, nim_json_transport_cb_func cb, const void* user_data);
typedef void(*nim_client_reg_kickout_cb)(const char *json_extension, nim_json_transport_cb_func cb, const void* user_data);
typedef void(*nim_client_reg_multispot_login_notify_cb)(const char *json_extension, nim_json_transport_cb_func cb, const void* user_data);
typedef void(*nim_client_relogin)(const char *json_extension);
typedef void(*nim_client_logout)(NIMLogoutType logout_type, const char *json_extension, nim_json_transport_cb_func cb, const void* user_data);
typedef int(*nim_client_get_login_state)(const char *json_extension);

int main(int argc, char **argv)
{
	if (argc < 6) {
		fprintf(stderr, "usage: %s DATA_DIR HOST:PORT APP_KEY ACCOUNT TOKEN [SOCKS5_PORT]\n", argv[0]);
		return 2;
	}
	hInst = dlopen("libnim.so", RTLD_NOW);
	if (!hInst) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		return 2;
	}
	char init_json[512];
	snprintf(init_json, sizeof init_json,
		"{\"app_key\":\"%s\",\"global_config\":{\"login_retry_max_times\":3},\"private_server_setting\":{\"link\":[\"%s\"]}}",
		argv[3], argv[2]);
	nim_client_init init = (nim_client_init) GetProcAddress(hInst, "nim_client_init");
	if (!init(argv[1], "", init_json)) {
		fprintf(stderr, "nim_client_init failed\n");
		return 1;
	}

	/* Register the global callbacks before the first login (the guide: 登录前注册, register before logging in). */
	((nim_client_reg_disconnect_cb) GetProcAddress(hInst, "nim_client_reg_disconnect_cb"))(NULL, &CallbackDisconnect, NULL);
	((nim_client_reg_auto_relogin_cb) GetProcAddress(hInst, "nim_client_reg_auto_relogin_cb"))(NULL, &CallbackAutoRelogin, NULL);
	((nim_client_reg_kickout_cb) GetProcAddress(hInst, "nim_client_reg_kickout_cb"))(NULL, &CallbackKickout, NULL);
	((nim_client_reg_multispot_login_notify_cb) GetProcAddress(hInst, "nim_client_reg_multispot_login_notify_cb"))(NULL, &CallbackMultispotLogin, NULL);

	/* Client proxy (the guide passes "400"; the parameter is an int). */
	if (argc > 6) {
		nim_global_set_proxy func = (nim_global_set_proxy) GetProcAddress(hInst, "nim_global_set_proxy");
		func(kNIMProxySocks5, "127.0.0.1", atoi(argv[6]), "", "");
	}

	/* Manual login. */
	nim_client_login login = (nim_client_login) GetProcAddress(hInst, "nim_client_login");
	login(argv[3], argv[4], argv[5], NULL, &CallbackLogin, NULL);
	if (!wait_until(&login_ok, &login_failed, 20)) {
		fprintf(stderr, "login failed\n");
		return 1;
	}
	nim_client_get_login_state state = (nim_client_get_login_state) GetProcAddress(hInst, "nim_client_get_login_state");
	printf("READY state=%d\n", state(NULL));
	fflush(stdout);

	/* Kicked out by another device. */
	if (!wait_for(&kicked, 30)) {
		fprintf(stderr, "no kick-out\n");
		return 1;
	}
	printf("KICKED reason=%d state=%d\n", kick_reason, state(NULL));
	fflush(stdout);

	/* Log in again by hand: the result comes through the auto-relogin callback. */
	((nim_client_relogin) GetProcAddress(hInst, "nim_client_relogin"))(NULL);
	if (!wait_for(&relogin_ok, 20)) {
		fprintf(stderr, "relogin failed\n");
		return 1;
	}
	printf("RELOGGED state=%d\n", state(NULL));
	fflush(stdout);

	/* Log out, wait for the callback, then clean up (the guide: 清理SDK必须在收到退出回调后执行, clean up only after the logout callback). */
	((nim_client_logout) GetProcAddress(hInst, "nim_client_logout"))(kNIMLogoutAppExit, NULL, &CallbackLogout, NULL);
	if (!wait_for(&logged_out, 20) || logout_code != 200) {
		fprintf(stderr, "logout failed (%d)\n", logout_code);
		return 1;
	}
	((nim_client_cleanup) GetProcAddress(hInst, "nim_client_cleanup"))(NULL);
	dlclose(hInst);
	printf("DONE\n");
	return 0;
}
