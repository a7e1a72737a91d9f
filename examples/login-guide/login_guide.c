/*
 * The C samples of NIM's login guide page "登录登出" (Login and logout),
 * verbatim and in the page's order, each sample between "sample N" markers.
 * Everything outside the samples is scaffolding; the few changes inside them
 * are marked [fix] or [not code] and listed in README.md.
 *
 *   gcc -std=c11 -c -I crates/magpie-client-ffi/nim_sdk examples/login-guide/login_guide.c
 */

/* scaffolding: NIM's definitions. The samples load the SDK's functions
   themselves and name their pointer typedefs after them, so the headers
   declaring the functions (nim_client.h, nim_global.h) are not included. */
#include "public_define/defines/nim_define/nim_global_def.h"
#include "public_define/defines/nim_define/nim_client_def.h"
#include <stddef.h>
#include <dlfcn.h>
#ifdef __cplusplus
/* scaffolding, only when compiled as C++: what the C++-only lines use */
#include <string>
#include <json/json.h>
#endif

/* scaffolding: the Windows app around the samples: the handle of the loaded
   SDK module and GetProcAddress, as dlopen's handle and dlsym. */
void *hInst;
#define GetProcAddress(module, name) dlsym((module), (name))

/* scaffolding: the samples pass nullptr (C++, C23); C11 has NULL */
#ifndef __cplusplus
#define nullptr NULL
#endif

/* ---- sample 1 (客户端代理 / client proxy) ---- */
#define foo foo_1 /* scaffolding: every sample defines foo() */
typedef void(*nim_global_set_proxy)(NIMProxyType, const char*, int, const char*, const char*);
void foo()
{
	nim_global_set_proxy func = (nim_global_set_proxy) GetProcAddress(hInst, "nim_global_set_proxy");
	/* [fix] the sample passes "400", a string, as the int port */
	func(kNIMProxySocks5, "123.123.123.123", 400, "test", "test");
}
#undef foo

/* ---- sample 2 (手动登录 / manual login) ---- */
#define foo foo_2
void CallbackLogin(const char* res, const void *user_data)
{
#ifdef __cplusplus /* [fix] jsoncpp (Json::Value, Json::Reader) is C++: in C these lines are left out */
	Json::Value values;
	Json::Reader reader;
	if (reader.parse(res, values) && values.isObject())
	{
		if (values[kNIMLoginStep].asInt() == kNIMLoginStepLogin && values[kNIMErrorCode].asInt() == 200)
		{
			//...  /* [not code] placeholder of the sample, commented out */
		}
		//...  /* [not code] placeholder of the sample, commented out */
	}
#endif /* __cplusplus */
}

typedef	void(*nim_client_login)(const char *app_key, const char *account, const char *password, const char *json_extension, nim_json_transport_cb_func cb, const void* user_data);

void foo()
{
	nim_client_login func = (nim_client_login) GetProcAddress(hInst, "nim_client_login");
	func("app key", "app account", "token", nullptr, &CallbackLogin, nullptr);
	//app key: 应用标识,不同应用之间的数据(用户,消息,群组等)是完全隔离的。开发自己的应用时,需要替换成自己申请来的app key
	//注意:替换成客户自己的app key之后,请不要对登录密码进行md5加密。
}
#undef foo

/* ---- sample 3 (自动登录 / automatic login: disconnect callback) ---- */
#define foo foo_3
void CallbackDisconnect(const char* res, const void* user_data)
{
	//解析res
}

typedef void(*nim_client_reg_disconnect_cb)(const char *json_extension, nim_json_transport_cb_func cb, const void* user_data);

void foo()
{
	nim_client_reg_disconnect_cb func = (nim_client_reg_disconnect_cb) GetProcAddress(hInst, "nim_client_reg_disconnect_cb");
	func(nullptr, &CallbackDisconnect, nullptr);
}
#undef foo

/* ---- sample 4 (登出 / logout) ---- */
#define foo foo_4
void CallbackLogout(const char* res, const void *user_data)
{
	//...  /* [not code] placeholder of the sample, commented out */
}

/* [fix] the sample declares the parameter as nim::NIMLogoutType, a C++ name: C spells it enum NIMLogoutType */
typedef	void(*nim_client_logout)(enum NIMLogoutType logout_type, const char *json_extension, nim_json_transport_cb_func cb, const void* user_data);

void foo()
{
	nim_client_logout func = (nim_client_logout) GetProcAddress(hInst, "nim_client_logout");
	func(kNIMLogoutAppExit, nullptr, &CallbackLogout, nullptr);
}
#undef foo

/* ---- sample 5 (多端登录 / multispot login notification) ---- */
#define foo foo_5
static void CallbackMutliSpotLogin(const char* json_res, const void* user_data)
{
#ifdef __cplusplus /* [fix] jsoncpp (Json::Reader, Json::Value) and std::string are C++: in C these lines are left out */
	Json::Reader reader;
	Json::Value values;
	if (json_res != nullptr && reader.parse((std::string)json_res, values) && values.isObject())
	{
		//...  /* [not code] placeholder of the sample, commented out */
	}
#endif /* __cplusplus */
}

typedef void(*nim_client_reg_multispot_login_notify_cb)(const char *json_extension, nim_json_transport_cb_func cb, const void *user_data);
void foo()
{
	nim_client_reg_multispot_login_notify_cb func = (nim_client_reg_multispot_login_notify_cb) GetProcAddress(hInst, "nim_client_reg_multispot_login_notify_cb");
	func(nullptr, &CallbackMutliSpotLogin, nullptr);
}
#undef foo

/* ---- sample 6 (被踢 / kicked out notification) ---- */
#define foo foo_6
void CallbackKickout(const char* res, const void* user_data)
{
	//解析res
}

typedef void(*nim_client_reg_kickout_cb)(const char *json_extension, nim_json_transport_cb_func cb, const void* user_data);

void foo()
{
	nim_client_reg_kickout_cb func = (nim_client_reg_kickout_cb) GetProcAddress(hInst, "nim_client_reg_kickout_cb");
	func(nullptr, &CallbackKickout, nullptr);
}
#undef foo

/* scaffolding: main loads the SDK as the Windows app's LoadLibrary would,
   and calls no sample. */
int main(void)
{
	hInst = dlopen("libnim.so", RTLD_NOW);
	return hInst ? 0 : 1;
}
