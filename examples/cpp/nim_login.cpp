// The C++ samples of NIM's login guide page "登录登出" (Login and logout) (proxy, login, automatic login, logout, kick-out,
// multispot), completed into one program against Magpie, through the
// header-only wrapper nim_cpp_api.h.
//
// usage: nim_login DATA_DIR HOST:PORT APP_KEY ACCOUNT TOKEN [SOCKS5_PORT]
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include "nim_cpp_api.h"

static std::mutex mu;
static std::condition_variable cv;
static bool login_done, login_ok, kicked, relogged, logged_out;
static int kick_reason, logout_code = -1;

template <typename P> static bool WaitFor(P pred, int seconds)
{
	std::unique_lock<std::mutex> g(mu);
	return cv.wait_for(g, std::chrono::seconds(seconds), pred);
}

void OnLoginCallback(const nim::LoginRes& login_res)
{
	printf("CB login {\"err_code\":%d,\"login_step\":%d}\n", (int)login_res.res_code_, (int)login_res.login_step_);
	fflush(stdout);
	std::lock_guard<std::mutex> g(mu);
	if (login_res.res_code_ == nim::kNIMResSuccess)
	{
		if (login_res.login_step_ == nim::kNIMLoginStepLogin)
		{
			login_ok = login_done = true;
		}
	}
	else
	{
		login_done = true;
	}
	cv.notify_all();
}

void OnDisconnectCallback()
{
	printf("CB disconnect\n");
	fflush(stdout);
}

void OnReloginCallback(const nim::LoginRes& login_res)
{
	printf("CB auto_relogin {\"err_code\":%d,\"login_step\":%d,\"relogin\":%s}\n", (int)login_res.res_code_, (int)login_res.login_step_, login_res.relogin_ ? "true" : "false");
	fflush(stdout);
	std::lock_guard<std::mutex> g(mu);
	if (login_res.res_code_ == nim::kNIMResSuccess && login_res.login_step_ == nim::kNIMLoginStepLogin)
		relogged = true;
	cv.notify_all();
}

void OnKickoutCallback(const nim::KickoutRes& res)
{
	printf("CB kickout {\"client_type\":%d,\"reason_code\":%d}\n", (int)res.client_type_, (int)res.kick_reason_);
	fflush(stdout);
	std::lock_guard<std::mutex> g(mu);
	kick_reason = (int)res.kick_reason_;
	kicked = true;
	cv.notify_all();
}

void OnMultispotLoginCallback(const nim::MultiSpotLoginRes& res)
{
	printf("CB multispot {\"multi_spot_notiy_type\":%d,\"others\":%zu}\n", (int)res.notify_type_, res.other_clients_.size());
	fflush(stdout);
}

int main(int argc, char **argv)
{
	if (argc < 6)
	{
		fprintf(stderr, "usage: %s DATA_DIR HOST:PORT APP_KEY ACCOUNT TOKEN [SOCKS5_PORT]\n", argv[0]);
		return 2;
	}
	nim::SDKConfig config;
	config.use_private_server_ = true;
	config.default_link_address_ = argv[2];
	if (!nim::Client::Init(argv[3], argv[1], "", config))
	{
		fprintf(stderr, "Init failed\n");
		return 1;
	}
	nim::Client::RegDisconnectCb(&OnDisconnectCallback);
	nim::Client::RegReloginCb(&OnReloginCallback);
	nim::Client::RegKickoutCb(&OnKickoutCallback);
	nim::Client::RegMultispotLoginCb(&OnMultispotLoginCallback);

	if (argc > 6)
	{
		nim::Global::SetProxy(nim::kNIMProxySocks5, "127.0.0.1", atoi(argv[6]), "", "");
	}

	nim::Client::Login(argv[3], argv[4], argv[5], &OnLoginCallback);
	if (!WaitFor([] { return login_done; }, 20) || !login_ok)
	{
		fprintf(stderr, "login failed\n");
		return 1;
	}
	printf("READY state=%d\n", (int)nim::Client::GetLoginState());
	fflush(stdout);

	if (!WaitFor([] { return kicked; }, 30))
	{
		fprintf(stderr, "no kick-out\n");
		return 1;
	}
	printf("KICKED reason=%d\n", kick_reason);
	fflush(stdout);

	nim::Client::Relogin();
	if (!WaitFor([] { return relogged; }, 20))
	{
		fprintf(stderr, "relogin failed\n");
		return 1;
	}
	printf("RELOGGED state=%d\n", (int)nim::Client::GetLoginState());
	fflush(stdout);

	nim::Client::Logout(nim::kNIMLogoutAppExit, [](nim::NIMResCode res_code) {
		printf("CB logout {\"err_code\":%d}\n", (int)res_code);
		fflush(stdout);
		std::lock_guard<std::mutex> g(mu);
		logout_code = (int)res_code;
		logged_out = true;
		cv.notify_all();
	});
	if (!WaitFor([] { return logged_out; }, 20) || logout_code != nim::kNIMResSuccess)
	{
		fprintf(stderr, "logout failed (%d)\n", logout_code);
		return 1;
	}
	nim::Client::Cleanup();
	printf("DONE\n");
	return 0;
}
