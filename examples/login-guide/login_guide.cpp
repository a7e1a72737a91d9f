// The C++ samples of NIM's login guide page "登录登出" (Login and logout),
// verbatim and in the page's order, each in its own namespace sample_N.
// Everything outside the samples is scaffolding; the few changes inside them
// are marked [fix] or [not code] and listed in README.md.
//
//   g++ -std=c++17 -c -I crates/magpie-client-ffi/nim_sdk examples/login-guide/login_guide.cpp

// scaffolding: NIM's C++ API
#include "include/nim_cpp_api.h"
#include <string>

// scaffolding: the app key sample 2 logs in with
const std::string app_key = "app key";

// ---- sample 1 (客户端代理 / client proxy) ----
namespace sample_1
{
void foo()
{
	// [fix] the sample passes "400", a string, as the int port
	nim::Global::SetProxy(nim::kNIMProxySocks5, "123.123.123.123", 400, "test", "test");
}
} // namespace sample_1

// ---- sample 2 (手动登录 / manual login) ----
namespace sample_2
{
void OnLoginCallback(const nim::LoginRes& login_res)
{
	if (login_res.res_code_ == nim::kNIMResSuccess)
	{
		if (login_res.login_step_ == nim::kNIMLoginStepLogin)
		{
			//···  // [not code] placeholder of the sample, commented out
		}
	}
	else
	{
		//···  // [not code] placeholder of the sample, commented out
	}
}

void foo()
{
	nim::Client::Login(app_key, "app account", "token", &OnLoginCallback);
}
} // namespace sample_2

// ---- sample 3 (自动登录 / automatic login: disconnect callback) ----
namespace sample_3
{
void OnDisconnectCallback()
{
	//···  // [not code] placeholder of the sample, commented out
}

void foo()
{
	nim::Client::RegDisconnectCb(&OnDisconnectCallback);
}
} // namespace sample_3

// ---- sample 4 (登出 / logout) ----
namespace sample_4
{
// scaffolding: the class of the callback the sample defines (NIM demo's LoginCallback)
class LoginCallback
{
public:
	static void OnLogoutCallback(nim::NIMResCode res_code);
};
// scaffolding: foo() passes &OnLogoutCallback unqualified, from outside the
// class: a free callback of that name, handing over to the class's one
void OnLogoutCallback(nim::NIMResCode res_code);

void LoginCallback::OnLogoutCallback(nim::NIMResCode res_code)
{
	//如果是退出程序
	nim::Client::Cleanup();
	//...  // [not code] placeholder of the sample, commented out

	//如果是登出到登录界面,这里不能执行清理SDK工作,否则会报错
	//...  // [not code] placeholder of the sample, commented out
}

void foo()
{
	//登出到登录界面(nim::kNIMLogoutChangeAccout) 或者 退出程序(nim::kNIMLogoutAppExit)
	nim::Client::Logout(nim::kNIMLogoutAppExit, &OnLogoutCallback);
}

void OnLogoutCallback(nim::NIMResCode res_code) { LoginCallback::OnLogoutCallback(res_code); }
} // namespace sample_4

// ---- sample 5 (多端登录 / multispot login notification) ----
namespace sample_5
{
// scaffolding: the sample is code of NIM demo's namespace nim_comp, whose
// class LoginCallback it defines a member of and names as nim_comp::LoginCallback
namespace nim_comp
{
class LoginCallback
{
public:
	static void OnMultispotLoginCallback(const nim::MultiSpotLoginRes& res);
};

void LoginCallback::OnMultispotLoginCallback(const nim::MultiSpotLoginRes& res)
{
	//...  // [not code] placeholder of the sample, commented out
}
// [fix] a statement cannot stand at namespace scope: wrapped in a function
void RegisterMultispotLoginCb()
{
	nim::Client::RegMultispotLoginCb(&nim_comp::LoginCallback::OnMultispotLoginCallback);
}
} // namespace nim_comp
} // namespace sample_5

// ---- sample 6 (被踢 / kicked out notification) ----
namespace sample_6
{
void OnKickoutCallback(const nim::KickoutRes& res)
{
	//···  // [not code] placeholder of the sample, commented out
}

void foo()
{
	nim::Client::RegKickoutCb(&OnKickoutCallback);
}
} // namespace sample_6

// ---- sample 7 (动态登录 / dynamic login: the page's enum NIMAuthType, no language given) ----
namespace sample_7
{
enum NIMAuthType {
	kNIMAuthTypeDefault,        /**< 默认登录方式 */
	kNIMAuthTypeBySecretToken,  /**< 使用 App secret 生成的 token */
	kNIMAuthTypeByAppToken,     /**< 使用第三方回调服务器生成的 token */
};
} // namespace sample_7

// scaffolding: calls no sample
int main()
{
	return 0;
}
