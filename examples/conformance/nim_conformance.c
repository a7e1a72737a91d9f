/*
 * Conformance program for NIM's C login API (nim_client_*, nim_data_sync_*),
 * written as a NIM desktop app uses it: the names, call order and result
 * handling of NIM's C SDK, its PC demo and the "登录登出" (login and logout)
 * guide. It logs in to a private server given by HOST:PORT.
 *
 * usage: nim_conformance DATA_DIR HOST:PORT APP_KEY ACCOUNT TOKEN
 *
 * Reads one command a line from stdin:
 *   login | login2 | time | push on | push off | push get | kick DEVICE_ID
 *   | logout_during_login | quit
 * and prints one event a line: `EV <name> <compact JSON>`.
 * End of stdin is the same as `quit`.
 *
 * Build (Linux):
 *   gcc -Wall -Wextra -std=c11 -I crates/magpie-client-ffi/nim_sdk \
 *       examples/conformance/nim_conformance.c -o nim_conformance \
 *       -L DIR_OF_LIBNIM -lnim -Wl,-rpath,DIR_OF_LIBNIM -lpthread
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "src/c_sdk/nim/api/nim_client.h"
#include "src/c_sdk/nim/api/nim_global.h"
#include "src/c_sdk/nim/api/nim_data_sync.h"
#include "public_define/defines/nim_define/nim_client_def.h"
#include "public_define/defines/nim_define/nim_global_def.h"
#include "public_define/defines/nim_define/nim_data_sync_def.h"
#include "public_define/defines/nim_define/nim_res_code_def.h"

/* ------------------------------------------------------------------------ */
/* A growable string                                                         */
/* ------------------------------------------------------------------------ */

typedef struct {
	char *p;
	size_t len, cap;
} sbuf;

static void sb_grow(sbuf *b, size_t more)
{
	if (b->len + more + 1 <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < b->len + more + 1)
		cap *= 2;
	char *p = realloc(b->p, cap);
	if (!p) {
		perror("realloc");
		exit(1);
	}
	b->p = p;
	b->cap = cap;
}

static void sb_putn(sbuf *b, const char *s, size_t n)
{
	sb_grow(b, n);
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_puts(sbuf *b, const char *s) { sb_putn(b, s, strlen(s)); }

static void sb_printf(sbuf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	sb_grow(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* A JSON string literal, quotes included. */
static void sb_json_str(sbuf *b, const char *s)
{
	sb_puts(b, "\"");
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		switch (*c) {
		case '"': sb_puts(b, "\\\""); break;
		case '\\': sb_puts(b, "\\\\"); break;
		case '\b': sb_puts(b, "\\b"); break;
		case '\f': sb_puts(b, "\\f"); break;
		case '\n': sb_puts(b, "\\n"); break;
		case '\r': sb_puts(b, "\\r"); break;
		case '\t': sb_puts(b, "\\t"); break;
		default:
			if (*c < 0x20)
				sb_printf(b, "\\u%04x", *c);
			else
				sb_putn(b, (const char *)c, 1);
		}
	}
	sb_puts(b, "\"");
}

/* `"key":` */
static void sb_json_key(sbuf *b, const char *key)
{
	sb_json_str(b, key);
	sb_puts(b, ":");
}

static void sb_free(sbuf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* ------------------------------------------------------------------------ */
/* A small JSON reader for the callbacks' payloads                           */
/* ------------------------------------------------------------------------ */

typedef enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ } jtype;

typedef struct jval {
	jtype type;
	int boolean;
	double num;
	char *str;          /* J_STR */
	char *key;          /* set when a member of an object */
	struct jval *child; /* J_ARR, J_OBJ: first element */
	struct jval *next;  /* next sibling */
} jval;

typedef struct {
	const char *s;
	int depth;
} jparser;

static void jfree(jval *v)
{
	while (v) {
		jval *next = v->next;
		jfree(v->child);
		free(v->str);
		free(v->key);
		free(v);
		v = next;
	}
}

static void jskip_ws(jparser *p)
{
	while (*p->s == ' ' || *p->s == '\t' || *p->s == '\n' || *p->s == '\r')
		p->s++;
}

static int jhex4(const char *s, unsigned *out)
{
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		char c = s[i];
		v <<= 4;
		if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
		else return 0;
	}
	*out = v;
	return 1;
}

static void sb_utf8(sbuf *b, unsigned cp)
{
	char u[4];
	size_t n;
	if (cp < 0x80) { u[0] = (char)cp; n = 1; }
	else if (cp < 0x800) { u[0] = (char)(0xC0 | (cp >> 6)); u[1] = (char)(0x80 | (cp & 0x3F)); n = 2; }
	else if (cp < 0x10000) { u[0] = (char)(0xE0 | (cp >> 12)); u[1] = (char)(0x80 | ((cp >> 6) & 0x3F)); u[2] = (char)(0x80 | (cp & 0x3F)); n = 3; }
	else { u[0] = (char)(0xF0 | (cp >> 18)); u[1] = (char)(0x80 | ((cp >> 12) & 0x3F)); u[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); u[3] = (char)(0x80 | (cp & 0x3F)); n = 4; }
	sb_putn(b, u, n);
}

/* Parses a string at p->s (which points at the opening quote). */
static char *jparse_string(jparser *p)
{
	sbuf b = {0};
	p->s++;
	sb_puts(&b, "");
	for (;;) {
		char c = *p->s;
		if (c == '\0') goto fail;
		if (c == '"') { p->s++; return b.p; }
		if (c != '\\') { sb_putn(&b, p->s, 1); p->s++; continue; }
		p->s++;
		c = *p->s++;
		switch (c) {
		case '"': sb_puts(&b, "\""); break;
		case '\\': sb_puts(&b, "\\"); break;
		case '/': sb_puts(&b, "/"); break;
		case 'b': sb_puts(&b, "\b"); break;
		case 'f': sb_puts(&b, "\f"); break;
		case 'n': sb_puts(&b, "\n"); break;
		case 'r': sb_puts(&b, "\r"); break;
		case 't': sb_puts(&b, "\t"); break;
		case 'u': {
			unsigned cp;
			if (!jhex4(p->s, &cp)) goto fail;
			p->s += 4;
			if (cp >= 0xD800 && cp < 0xDC00 && p->s[0] == '\\' && p->s[1] == 'u') {
				unsigned lo;
				if (jhex4(p->s + 2, &lo) && lo >= 0xDC00 && lo < 0xE000) {
					cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
					p->s += 6;
				}
			}
			sb_utf8(&b, cp);
			break;
		}
		default: goto fail;
		}
	}
fail:
	sb_free(&b);
	return NULL;
}

static jval *jparse_value(jparser *p);

static jval *jnew(jtype t)
{
	jval *v = calloc(1, sizeof *v);
	if (!v) {
		perror("calloc");
		exit(1);
	}
	v->type = t;
	return v;
}

static jval *jparse_container(jparser *p, int is_obj)
{
	jval *v = jnew(is_obj ? J_OBJ : J_ARR);
	jval **tail = &v->child;
	char close = is_obj ? '}' : ']';
	p->s++;
	jskip_ws(p);
	if (*p->s == close) { p->s++; return v; }
	for (;;) {
		char *key = NULL;
		jskip_ws(p);
		if (is_obj) {
			if (*p->s != '"' || !(key = jparse_string(p))) goto fail;
			jskip_ws(p);
			if (*p->s != ':') { free(key); goto fail; }
			p->s++;
		}
		jval *item = jparse_value(p);
		if (!item) { free(key); goto fail; }
		item->key = key;
		*tail = item;
		tail = &item->next;
		jskip_ws(p);
		if (*p->s == ',') { p->s++; continue; }
		if (*p->s == close) { p->s++; return v; }
		goto fail;
	}
fail:
	jfree(v);
	return NULL;
}

static jval *jparse_value(jparser *p)
{
	jskip_ws(p);
	if (++p->depth > 64) return NULL;
	jval *v = NULL;
	char c = *p->s;
	if (c == '{' || c == '[') {
		v = jparse_container(p, c == '{');
	} else if (c == '"') {
		char *s = jparse_string(p);
		if (s) { v = jnew(J_STR); v->str = s; }
	} else if (strncmp(p->s, "true", 4) == 0) {
		v = jnew(J_BOOL); v->boolean = 1; p->s += 4;
	} else if (strncmp(p->s, "false", 5) == 0) {
		v = jnew(J_BOOL); p->s += 5;
	} else if (strncmp(p->s, "null", 4) == 0) {
		v = jnew(J_NULL); p->s += 4;
	} else if (c == '-' || (c >= '0' && c <= '9')) {
		char *end;
		double d = strtod(p->s, &end);
		if (end != p->s) { v = jnew(J_NUM); v->num = d; p->s = end; }
	}
	p->depth--;
	return v;
}

/* Parses a whole document; NULL when it is not JSON. Free with jfree. */
static jval *jparse(const char *s)
{
	if (!s) return NULL;
	jparser p = { s, 0 };
	jval *v = jparse_value(&p);
	if (!v) return NULL;
	jskip_ws(&p);
	if (*p.s != '\0') { jfree(v); return NULL; }
	return v;
}

static const jval *jget(const jval *obj, const char *key)
{
	if (!obj || obj->type != J_OBJ) return NULL;
	for (const jval *m = obj->child; m; m = m->next)
		if (m->key && strcmp(m->key, key) == 0) return m;
	return NULL;
}

/* An int as jsoncpp's asInt() reads it: numbers, booleans; else the default. */
static int jint(const jval *v, int def)
{
	if (!v) return def;
	if (v->type == J_NUM) return (int)v->num;
	if (v->type == J_BOOL) return v->boolean;
	if (v->type == J_STR) return atoi(v->str);
	return def;
}

static const char *jstr(const jval *v)
{
	return (v && v->type == J_STR) ? v->str : NULL;
}

/* ------------------------------------------------------------------------ */
/* Output: one event a line, from any thread                                 */
/* ------------------------------------------------------------------------ */

static pthread_mutex_t g_out_lock = PTHREAD_MUTEX_INITIALIZER;

/* Call with g_out_lock held. */
static void emit_locked(const char *name, const char *json)
{
	fprintf(stdout, "EV %s %s\n", name, json);
	fflush(stdout);
}

static void emit(const char *name, const char *json)
{
	pthread_mutex_lock(&g_out_lock);
	emit_locked(name, json);
	pthread_mutex_unlock(&g_out_lock);
}

static const char *json_bool(int b) { return b ? "true" : "false"; }

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------------ */
/* The account's other online devices, keyed by device id, as NIM's PC demo  */
/* keeps them: seeded from the login result's other_clients_pres, grown on   */
/* kNIMMultiSpotNotifyTypeImIn, shrunk on kNIMMultiSpotNotifyTypeImOut.      */
/* The map is guarded by g_out_lock, so a change and its line stay together. */
/* ------------------------------------------------------------------------ */

static char **g_devices;    /* sorted, unique */
static size_t g_ndevices;

static void devices_add(const char *id)
{
	size_t i = 0;
	while (i < g_ndevices && strcmp(g_devices[i], id) < 0) i++;
	if (i < g_ndevices && strcmp(g_devices[i], id) == 0) return;
	char **d = realloc(g_devices, (g_ndevices + 1) * sizeof *d);
	if (!d) { perror("realloc"); exit(1); }
	g_devices = d;
	memmove(g_devices + i + 1, g_devices + i, (g_ndevices - i) * sizeof *d);
	g_devices[i] = strdup(id);
	g_ndevices++;
}

static void devices_remove(const char *id)
{
	for (size_t i = 0; i < g_ndevices; i++) {
		if (strcmp(g_devices[i], id) == 0) {
			free(g_devices[i]);
			memmove(g_devices + i, g_devices + i + 1, (g_ndevices - i - 1) * sizeof *g_devices);
			g_ndevices--;
			return;
		}
	}
}

static void devices_clear(void)
{
	for (size_t i = 0; i < g_ndevices; i++) free(g_devices[i]);
	free(g_devices);
	g_devices = NULL;
	g_ndevices = 0;
}

/* Call with g_out_lock held. */
static void devices_emit_locked(void)
{
	sbuf b = {0};
	sb_puts(&b, "[");
	for (size_t i = 0; i < g_ndevices; i++) {
		if (i) sb_puts(&b, ",");
		sb_json_str(&b, g_devices[i]);
	}
	sb_puts(&b, "]");
	emit_locked("devices", b.p);
	sb_free(&b);
}

/* ------------------------------------------------------------------------ */
/* Program state                                                             */
/* ------------------------------------------------------------------------ */

static const char *g_app_key;
static const char *g_account;
static const char *g_token;
static char *g_token_buf;      /* the buffer handed to the SDK when it asks for the token */
static char *g_login_params;   /* NIM's login json_extension */

static pthread_mutex_t g_exit_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_exit_cond = PTHREAD_COND_INITIALIZER;
static int g_exit_ready;

static atomic_int g_login2_answered;

/* user_data tags, so one callback function can serve several calls */
static const char kTagPushSet[] = "push_set";
static const char kTagPushGet[] = "push_get";

typedef struct {
	int64_t started_ms; /* monotonic time of the logout call */
	int app_exit;       /* kNIMLogoutAppExit: clean up inside the callback */
} logout_ctx;

static logout_ctx g_logout_change; /* logout_during_login */
static logout_ctx g_logout_exit;   /* quit */

/* ------------------------------------------------------------------------ */
/* Callbacks                                                                 */
/* ------------------------------------------------------------------------ */

/* Login result: fires once per NIMLoginStep. */
static void CallbackLogin(const char *json_params, const void *user_data)
{
	(void)user_data;
	jval *values = jparse(json_params);
	int err_code = jint(jget(values, kNIMErrorCode), kNIMResError);
	int step = jint(jget(values, kNIMLoginStep), kNIMLoginStepLinking);

	pthread_mutex_lock(&g_out_lock);
	sbuf b = {0};
	sb_printf(&b, "{\"%s\":%d,\"%s\":%d}", kNIMErrorCode, err_code, kNIMLoginStep, step);
	emit_locked("login", b.p);
	sb_free(&b);
	if (step == kNIMLoginStepLogin && err_code == kNIMResSuccess) {
		devices_clear();
		const jval *pres = jget(values, kNIMOtherClientsPres);
		if (pres && pres->type == J_ARR) {
			for (const jval *c = pres->child; c; c = c->next) {
				const char *id = jstr(jget(c, kNIMPresDeviceID));
				if (id) devices_add(id);
			}
		}
		devices_emit_locked();
	}
	pthread_mutex_unlock(&g_out_lock);
	jfree(values);
}

/* Second login while logged in: print only the first answer. */
static void CallbackLogin2(const char *json_params, const void *user_data)
{
	(void)user_data;
	if (atomic_exchange(&g_login2_answered, 1) != 0)
		return;
	jval *values = jparse(json_params);
	int err_code = jint(jget(values, kNIMErrorCode), kNIMResError);
	jfree(values);
	char buf[64];
	snprintf(buf, sizeof buf, "{\"%s\":%d}", kNIMErrorCode, err_code);
	emit("login2", buf);
}

static void CallbackAutoRelogin(const char *json_params, const void *user_data)
{
	(void)user_data;
	jval *values = jparse(json_params);
	int err_code = jint(jget(values, kNIMErrorCode), kNIMResError);
	int step = jint(jget(values, kNIMLoginStep), kNIMLoginStepLinking);
	jfree(values);
	char buf[96];
	snprintf(buf, sizeof buf, "{\"%s\":%d,\"%s\":%d}", kNIMErrorCode, err_code, kNIMLoginStep, step);
	emit("relogin", buf);
}

static void CallbackKickout(const char *json_params, const void *user_data)
{
	(void)user_data;
	jval *values = jparse(json_params);
	int client_type = jint(jget(values, kNIMKickoutClientType), kNIMClientTypeDefault);
	int reason = jint(jget(values, kNIMKickoutReasonCode), 0);
	jfree(values);
	char buf[96];
	snprintf(buf, sizeof buf, "{\"client_type\":%d,\"reason_code\":%d}", client_type, reason);
	emit("kickout", buf);
}

static void CallbackDisconnect(const char *json_params, const void *user_data)
{
	(void)json_params;
	(void)user_data;
	emit("disconnect", "{}");
}

static void CallbackMutliSpotLogin(const char *json_res, const void *user_data)
{
	(void)user_data;
	jval *values = jparse(json_res);
	int type = jint(jget(values, kNIMMultiSpotNotifyType), 0);
	const jval *pres = jget(values, kNIMOtherClientsPres);

	pthread_mutex_lock(&g_out_lock);
	sbuf b = {0};
	sb_printf(&b, "{\"type\":%d,\"ids\":[", type);
	int first = 1;
	if (pres && pres->type == J_ARR) {
		for (const jval *c = pres->child; c; c = c->next) {
			const char *id = jstr(jget(c, kNIMPresDeviceID));
			if (!id) continue;
			if (!first) sb_puts(&b, ",");
			first = 0;
			sb_json_str(&b, id);
			if (type == kNIMMultiSpotNotifyTypeImIn)
				devices_add(id);
			else if (type == kNIMMultiSpotNotifyTypeImOut)
				devices_remove(id);
		}
	}
	sb_puts(&b, "]}");
	emit_locked("multispot", b.p);
	sb_free(&b);
	devices_emit_locked();
	pthread_mutex_unlock(&g_out_lock);
	jfree(values);
}

static void CallbackKickOther(const char *json_params, const void *user_data)
{
	(void)user_data;
	jval *values = jparse(json_params);
	int err_code = jint(jget(values, kNIMKickoutOtherResErrorCode), kNIMResError);
	const jval *ids = jget(values, kNIMKickoutOtherResDeviceIDs);
	sbuf b = {0};
	sb_printf(&b, "{\"%s\":%d,\"%s\":[", kNIMErrorCode, err_code, kNIMKickoutOtherDeviceIDs);
	int first = 1;
	if (ids && ids->type == J_ARR) {
		for (const jval *c = ids->child; c; c = c->next) {
			if (c->type != J_STR) continue;
			if (!first) sb_puts(&b, ",");
			first = 0;
			sb_json_str(&b, c->str);
		}
	}
	sb_puts(&b, "]}");
	emit("kick_other", b.p);
	sb_free(&b);
	jfree(values);
}

/* The SDK asks for the login token (auth types 1 and 2): point it at a buffer
 * this program owns; the SDK copies it before the callback returns. */
static void CallbackReloginRequestToken(char **auth_token, uint32_t *length, const char *json_params, const void *user_data)
{
	(void)json_params;
	(void)user_data;
	emit("token", "{}");
	if (auth_token) *auth_token = g_token_buf;
	if (length) *length = (uint32_t)strlen(g_token_buf);
}

static int push_open_from_content(const char *content)
{
	jval *values = jparse(content);
	int open = jint(jget(values, kNIMMultiportPushConfigContentKeyOpen), 0) == 1;
	jfree(values);
	return open;
}

/* Set and get of the multiport push switch; user_data says which. */
static void CallbackMultiportPushConfig(int rescode, const char *content, const char *json_params, const void *user_data)
{
	(void)json_params;
	char buf[64];
	snprintf(buf, sizeof buf, "{\"rescode\":%d,\"open\":%s}", rescode, json_bool(push_open_from_content(content)));
	emit(user_data == kTagPushGet ? "push_get" : "push_set", buf);
}

static void CallbackSyncMultiportPushConfig(int rescode, const char *content, const char *json_params, const void *user_data)
{
	(void)json_params;
	(void)user_data;
	char buf[64];
	snprintf(buf, sizeof buf, "{\"rescode\":%d,\"open\":%s}", rescode, json_bool(push_open_from_content(content)));
	emit("push_sync", buf);
}

static void CallbackGetServerCurrentTime(int rescode, bool calc_local, uint64_t time, const void *user_data)
{
	(void)user_data;
	int64_t diff = (int64_t)time - now_ms();
	int time_ok = diff <= 60000 && diff >= -60000;
	char buf[96];
	snprintf(buf, sizeof buf, "{\"rescode\":%d,\"calc_local\":%s,\"time_ok\":%s}", rescode, json_bool(calc_local), json_bool(time_ok));
	emit("time", buf);
}

static void CallbackDataSync(enum NIMDataSyncType sync_type, enum NIMDataSyncStatus status, const char *json_attachment, const void *user_data)
{
	(void)json_attachment;
	(void)user_data;
	char buf[64];
	snprintf(buf, sizeof buf, "{\"type\":%d,\"status\":%d}", (int)sync_type, (int)status);
	emit("data_sync", buf);
}

static void CallbackLogout(const char *json_params, const void *user_data)
{
	const logout_ctx *ctx = user_data;
	jval *values = jparse(json_params);
	int err_code = jint(jget(values, kNIMLogoutErrorCode), kNIMResError);
	jfree(values);
	char buf[96];
	if (ctx && ctx->app_exit) {
		snprintf(buf, sizeof buf, "{\"%s\":%d}", kNIMErrorCode, err_code);
		emit("logout", buf);
		/* The program is exiting: clean the SDK up here, after the logout
		 * callback, as NIM's guide says. */
		nim_client_cleanup("");
		emit("cleaned", "{}");
		pthread_mutex_lock(&g_exit_lock);
		g_exit_ready = 1;
		pthread_cond_signal(&g_exit_cond);
		pthread_mutex_unlock(&g_exit_lock);
	} else {
		int64_t ms = ctx ? mono_ms() - ctx->started_ms : -1;
		snprintf(buf, sizeof buf, "{\"%s\":%d,\"ms\":%lld}", kNIMErrorCode, err_code, (long long)ms);
		emit("logout", buf);
	}
}

/* ------------------------------------------------------------------------ */
/* Init JSON and commands                                                    */
/* ------------------------------------------------------------------------ */

/* NIM's init json_extension: app_key, global_config, private_server_setting. */
static char *build_init_json(const char *app_key, const char *link)
{
	sbuf b = {0};
	sb_puts(&b, "{");
	sb_json_key(&b, kNIMAppKey);
	sb_json_str(&b, app_key);
	sb_puts(&b, ",");
	sb_json_key(&b, kNIMGlobalConfig);
	sb_puts(&b, "{");
	sb_json_key(&b, kNIMDataBaseEncryptKey);
	sb_json_str(&b, "conformance-key");
	sb_puts(&b, ",");
	sb_json_key(&b, kNIMLoginRetryMaxTimes);
	sb_puts(&b, "3,");
	/* NIM's nim_client_def.h has no constant for this key (its C++ SDKConfig
	 * calls the member custom_timeout_). */
	sb_json_key(&b, "custom_timeout");
	sb_puts(&b, "30,");
	sb_json_key(&b, kNIMSDKLogLevel);
	sb_printf(&b, "%d,", (int)kNIMSDKLogLevelApp);
	sb_json_key(&b, kNIMSyncSessionAck);
	sb_puts(&b, "true,");
	sb_json_key(&b, kNIMUseHttps);
	sb_puts(&b, "false,");
	sb_json_key(&b, kNIMPreloadAttach);
	sb_puts(&b, "true,");
	sb_json_key(&b, kNIMNeedUpdateLBSBeforRelogin);
	sb_puts(&b, "false,");
	sb_json_key(&b, kNIMIPProtVersion);
	sb_puts(&b, "0");
	sb_puts(&b, "},");
	sb_json_key(&b, kNIMPrivateServerSetting);
	sb_puts(&b, "{");
	sb_json_key(&b, kNIMDefaultLinkAddress);
	sb_json_str(&b, link);
	sb_puts(&b, "}}");
	return b.p;
}

/* NIM's login json_extension (what nim::Client::LoginCustomDataToJson makes). */
static char *build_login_params(void)
{
	sbuf b = {0};
	sb_puts(&b, "{");
	sb_json_key(&b, kNIMPresCustomTag);
	sb_json_str(&b, "conformance");
	sb_puts(&b, ",");
	sb_json_key(&b, kNIMPresAuthType);
	sb_printf(&b, "%d,", (int)kNIMAuthTypeDefault);
	sb_json_key(&b, kNIMPresLoginExData);
	sb_json_str(&b, "");
	sb_puts(&b, "}");
	return b.p;
}

static void do_login(nim_json_transport_cb_func cb)
{
	nim_client_login(g_app_key, g_account, g_token, g_login_params, cb, NULL);
}

static void do_push_set(int on)
{
	sbuf b = {0};
	sb_puts(&b, "{");
	sb_json_key(&b, kNIMMultiportPushConfigContentKeyOpen);
	sb_printf(&b, "%d}", on ? 1 : 2);
	nim_client_set_multiport_push_config(b.p, "", &CallbackMultiportPushConfig, kTagPushSet);
	sb_free(&b);
}

static void do_kick(const char *device_id)
{
	sbuf b = {0};
	sb_puts(&b, "{");
	sb_json_key(&b, kNIMKickoutOtherDeviceIDs);
	sb_puts(&b, "[");
	sb_json_str(&b, device_id);
	sb_puts(&b, "]}");
	nim_client_kick_other_client(b.p);
	sb_free(&b);
}

/* Logs out for exit and waits until the logout callback has cleaned up. */
static int quit_and_wait(void)
{
	g_logout_exit.started_ms = mono_ms();
	g_logout_exit.app_exit = 1;
	nim_client_logout(kNIMLogoutAppExit, "", &CallbackLogout, &g_logout_exit);

	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 30; /* NIM: the logout callback can take 1 to 20 s */
	int ready;
	pthread_mutex_lock(&g_exit_lock);
	while (!g_exit_ready) {
		if (pthread_cond_timedwait(&g_exit_cond, &g_exit_lock, &deadline) == ETIMEDOUT)
			break;
	}
	ready = g_exit_ready;
	pthread_mutex_unlock(&g_exit_lock);
	if (!ready) {
		fprintf(stderr, "no logout callback within 30 s\n");
		return 1;
	}
	return 0;
}

static void trim(char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
}

int main(int argc, char **argv)
{
	if (argc != 6) {
		fprintf(stderr, "usage: %s DATA_DIR HOST:PORT APP_KEY ACCOUNT TOKEN\n", argv[0]);
		return 2;
	}
	const char *data_dir = argv[1];
	const char *link = argv[2];
	g_app_key = argv[3];
	g_account = argv[4];
	g_token = argv[5];
	g_token_buf = strdup(g_token);
	g_login_params = build_login_params();

	/* NIM: app_data_dir is a bare directory name, or a full path that ends
	 * with a separator. */
	sbuf dir = {0};
	sb_puts(&dir, data_dir);
	if (strchr(data_dir, '/') && dir.len && dir.p[dir.len - 1] != '/')
		sb_puts(&dir, "/");

	char *init_json = build_init_json(g_app_key, link);
	bool ok = nim_client_init(dir.p, "", init_json);
	free(init_json);
	sb_free(&dir);
	emit("init", ok ? "{\"ok\":true}" : "{\"ok\":false}");
	if (!ok) {
		free(g_login_params);
		free(g_token_buf);
		return 1;
	}

	/* Every global callback of the login chapter, before the first login. */
	nim_client_reg_auto_relogin_cb("", &CallbackAutoRelogin, NULL);
	nim_client_reg_kickout_cb("", &CallbackKickout, NULL);
	nim_client_reg_disconnect_cb("", &CallbackDisconnect, NULL);
	nim_client_reg_multispot_login_notify_cb("", &CallbackMutliSpotLogin, NULL);
	nim_client_reg_kickout_other_client_cb("", &CallbackKickOther, NULL);
	nim_client_reg_relogin_request_token_cb("", &CallbackReloginRequestToken, NULL);
	nim_client_reg_sync_multiport_push_config_cb("", &CallbackSyncMultiportPushConfig, NULL);
	nim_data_sync_reg_complete_cb(&CallbackDataSync, NULL);

	char *line = NULL;
	size_t cap = 0;
	int rc = -1;
	while (rc < 0) {
		if (getline(&line, &cap, stdin) < 0) {
			rc = quit_and_wait();
			break;
		}
		trim(line);
		if (line[0] == '\0')
			continue;
		if (strcmp(line, "login") == 0) {
			do_login(&CallbackLogin);
		} else if (strcmp(line, "login2") == 0) {
			atomic_store(&g_login2_answered, 0);
			do_login(&CallbackLogin2);
		} else if (strcmp(line, "time") == 0) {
			nim_client_get_server_current_time(false, &CallbackGetServerCurrentTime, "", NULL);
		} else if (strcmp(line, "push on") == 0) {
			do_push_set(1);
		} else if (strcmp(line, "push off") == 0) {
			do_push_set(0);
		} else if (strcmp(line, "push get") == 0) {
			nim_client_get_multiport_push_config("", &CallbackMultiportPushConfig, kTagPushGet);
		} else if (strncmp(line, "kick ", 5) == 0 && line[5] != '\0') {
			do_kick(line + 5);
		} else if (strcmp(line, "logout_during_login") == 0) {
			do_login(&CallbackLogin);
			g_logout_change.app_exit = 0;
			g_logout_change.started_ms = mono_ms();
			nim_client_logout(kNIMLogoutChangeAccout, "", &CallbackLogout, &g_logout_change);
		} else if (strcmp(line, "quit") == 0) {
			rc = quit_and_wait();
		} else {
			fprintf(stderr, "unknown command: %s\n", line);
		}
	}
	free(line);

	/* The SDK was cleaned up inside the logout callback; no callback fires
	 * from here on. */
	pthread_mutex_lock(&g_out_lock);
	devices_clear();
	pthread_mutex_unlock(&g_out_lock);
	free(g_login_params);
	free(g_token_buf);
	return rc;
}
