// Conformance program for NIM's C++ login API (nim::Client, nim::DataSync,
// nim::SDKConfig), written as a NIM desktop app uses it: the names, call order
// and result handling of NIM's C++ SDK, its PC demo and the "登录登出" (login
// and logout) guide. It logs in to a private server given by HOST:PORT.
//
// usage: nim_conformance_cpp DATA_DIR HOST:PORT APP_KEY ACCOUNT TOKEN
//
// Reads one command a line from stdin:
//   login | login2 | time | push on | push off | push get | kick DEVICE_ID
//   | logout_during_login | quit
// and prints one event a line: `EV <name> <compact JSON>`.
// End of stdin is the same as `quit`.
//
// Build (Linux):
//   g++ -Wall -Wextra -std=c++17 -I crates/magpie-client-ffi/nim_sdk
//       examples/conformance/nim_conformance.cpp -o nim_conformance_cpp
//       -L DIR_OF_LIBNIM -lnim -Wl,-rpath,DIR_OF_LIBNIM -lpthread
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "include/nim_cpp_api.h"

namespace
{
using Json = nlohmann::ordered_json;

std::string g_app_key;
std::string g_account;
std::string g_token;

// Output: one event a line, from any thread.
std::mutex g_out_lock;

void EmitLocked(const std::string& name, const Json& json)
{
	std::string line = "EV " + name + " " + json.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
	std::fwrite(line.data(), 1, line.size(), stdout);
	std::fflush(stdout);
}

void Emit(const std::string& name, const Json& json)
{
	std::lock_guard<std::mutex> lock(g_out_lock);
	EmitLocked(name, json);
}

// The account's OTHER online devices, keyed by device id, as NIM's PC demo
// keeps them: seeded from the login result's other_clients_, grown on
// kNIMMultiSpotNotifyTypeImIn, shrunk on kNIMMultiSpotNotifyTypeImOut.
// Guarded by g_out_lock, so a change and its line stay together.
std::map<std::string, nim::OtherClientPres> g_devices;

void EmitDevicesLocked()
{
	Json ids = Json::array();
	for (const auto& d : g_devices)
		ids.push_back(d.first);
	EmitLocked("devices", ids);
}

// Exit: the logout callback of `quit` signals main once it has cleaned up.
std::mutex g_exit_lock;
std::condition_variable g_exit_cond;
bool g_exit_ready = false;

int64_t NowMs()
{
	using namespace std::chrono;
	return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string LoginParamsJson()
{
	nim::LoginParams params;
	params.custom_data_ = "conformance";
	std::string json;
	nim::Client::LoginCustomDataToJson(params, json);
	return json;
}

void OnLoginCallback(const nim::LoginRes& login_res)
{
	std::lock_guard<std::mutex> lock(g_out_lock);
	EmitLocked("login", Json{{"err_code", login_res.res_code_}, {"login_step", login_res.login_step_}});
	if (login_res.res_code_ == nim::kNIMResSuccess && login_res.login_step_ == nim::kNIMLoginStepLogin)
	{
		g_devices.clear();
		for (const auto& pres : login_res.other_clients_)
			g_devices[pres.device_id_] = pres;
		EmitDevicesLocked();
	}
}

void OnReloginCallback(const nim::LoginRes& login_res)
{
	Emit("relogin", Json{{"err_code", login_res.res_code_}, {"login_step", login_res.login_step_}});
}

void OnKickoutCallback(const nim::KickoutRes& res)
{
	Emit("kickout", Json{{"client_type", res.client_type_}, {"reason_code", res.kick_reason_}});
}

void OnDisconnectCallback()
{
	Emit("disconnect", Json::object());
}

void OnMultispotLoginCallback(const nim::MultiSpotLoginRes& res)
{
	std::lock_guard<std::mutex> lock(g_out_lock);
	Json ids = Json::array();
	for (const auto& pres : res.other_clients_)
	{
		ids.push_back(pres.device_id_);
		if (res.notify_type_ == nim::kNIMMultiSpotNotifyTypeImIn)
			g_devices[pres.device_id_] = pres;
		else if (res.notify_type_ == nim::kNIMMultiSpotNotifyTypeImOut)
			g_devices.erase(pres.device_id_);
	}
	EmitLocked("multispot", Json{{"type", res.notify_type_}, {"ids", ids}});
	EmitDevicesLocked();
}

void OnKickOtherCallback(const nim::KickOtherRes& res)
{
	Json ids = Json::array();
	for (const auto& id : res.device_ids_)
		ids.push_back(id);
	Emit("kick_other", Json{{"err_code", res.res_code_}, {"device_ids", ids}});
}

// The SDK asks for the login token (auth types 1 and 2).
void OnReloginRequestToken(std::string* token)
{
	Emit("token", Json::object());
	if (token)
		*token = g_token;
}

void OnSyncMultiportPushConfig(int rescode, bool open)
{
	Emit("push_sync", Json{{"rescode", rescode}, {"open", open}});
}

void OnDataSync(nim::NIMDataSyncType sync_type, nim::NIMDataSyncStatus status, const std::string& data_sync_info)
{
	(void)data_sync_info;
	Emit("data_sync", Json{{"type", sync_type}, {"status", status}});
}

// The program is exiting: clean the SDK up in the logout callback, as NIM's
// guide does, then let main return.
void OnLogoutCallbackAppExit(nim::NIMResCode res_code)
{
	Emit("logout", Json{{"err_code", res_code}});
	nim::Client::Cleanup();
	Emit("cleaned", Json::object());
	std::lock_guard<std::mutex> lock(g_exit_lock);
	g_exit_ready = true;
	g_exit_cond.notify_all();
}

void Login(const nim::Client::LoginCallback& cb)
{
	if (!nim::Client::Login(g_app_key, g_account, g_token, cb, LoginParamsJson()))
		std::cerr << "nim::Client::Login refused its arguments" << std::endl;
}

int QuitAndWait()
{
	nim::Client::Logout(nim::kNIMLogoutAppExit, &OnLogoutCallbackAppExit);
	std::unique_lock<std::mutex> lock(g_exit_lock);
	// NIM: the logout callback can take 1 to 20 s.
	if (!g_exit_cond.wait_for(lock, std::chrono::seconds(30), [] { return g_exit_ready; }))
	{
		std::cerr << "no logout callback within 30 s" << std::endl;
		return 1;
	}
	return 0;
}

std::string Trim(const std::string& s)
{
	size_t end = s.find_last_not_of(" \t\r\n");
	return end == std::string::npos ? std::string() : s.substr(0, end + 1);
}
} // namespace

int main(int argc, char** argv)
{
	if (argc != 6)
	{
		std::cerr << "usage: " << argv[0] << " DATA_DIR HOST:PORT APP_KEY ACCOUNT TOKEN" << std::endl;
		return 2;
	}
	std::string data_dir = argv[1];
	g_app_key = argv[3];
	g_account = argv[4];
	g_token = argv[5];

	// NIM: app_data_dir is a bare directory name, or a full path that ends
	// with a separator.
	if (data_dir.find('/') != std::string::npos && data_dir.back() != '/')
		data_dir += '/';

	nim::SDKConfig cfg;
	cfg.database_encrypt_key_ = "conformance-key";
	cfg.login_max_retry_times_ = 3;
	cfg.custom_timeout_ = 30;
	cfg.sdk_log_level_ = nim::kNIMSDKLogLevelApp;
	cfg.sync_session_ack_ = true;
	cfg.use_https_ = false;
	cfg.preload_attach_ = true;
	cfg.need_update_lbs_befor_relogin_ = false;
	cfg.ip_protocol_version_ = 0;
	cfg.use_private_server_ = true;
	cfg.default_link_address_ = argv[2];
	bool ok = nim::Client::Init(g_app_key, data_dir, "", cfg);
	Emit("init", Json{{"ok", ok}});
	if (!ok)
		return 1;

	// Callbacks run the function directly, on the SDK's thread.
	nim::Client::SetCallbackFunction([](const std::function<void()>& task) { task(); });

	// Every global callback of the login chapter, before the first login.
	nim::Client::RegReloginCb(&OnReloginCallback);
	nim::Client::RegKickoutCb(&OnKickoutCallback);
	nim::Client::RegDisconnectCb(&OnDisconnectCallback);
	nim::Client::RegMultispotLoginCb(&OnMultispotLoginCallback);
	nim::Client::RegKickOtherClientCb(&OnKickOtherCallback);
	nim::Client::RegReloginRequestToeknCb(&OnReloginRequestToken);
	nim::Client::RegSyncMultiportPushConfigCb(&OnSyncMultiportPushConfig);
	nim::DataSync::RegCompleteCb(&OnDataSync);

	int rc = -1;
	std::string line;
	while (rc < 0)
	{
		if (!std::getline(std::cin, line))
		{
			rc = QuitAndWait();
			break;
		}
		line = Trim(line);
		if (line.empty())
			continue;
		if (line == "login")
		{
			Login(&OnLoginCallback);
		}
		else if (line == "login2")
		{
			auto answered = std::make_shared<std::atomic<bool>>(false);
			Login([answered](const nim::LoginRes& login_res) {
				if (answered->exchange(true))
					return;
				Emit("login2", Json{{"err_code", login_res.res_code_}});
			});
		}
		else if (line == "time")
		{
			nim::Client::GetServerCurrentTime([](int rescode, bool calc_local, uint64_t time) {
				int64_t diff = static_cast<int64_t>(time) - NowMs();
				bool time_ok = diff <= 60000 && diff >= -60000;
				Emit("time", Json{{"rescode", rescode}, {"calc_local", calc_local}, {"time_ok", time_ok}});
			}, false);
		}
		else if (line == "push on" || line == "push off")
		{
			nim::Client::SetMultiportPushConfigAsync(line == "push on", [](int rescode, bool open) {
				Emit("push_set", Json{{"rescode", rescode}, {"open", open}});
			});
		}
		else if (line == "push get")
		{
			nim::Client::GetMultiportPushConfigAsync([](int rescode, bool open) {
				Emit("push_get", Json{{"rescode", rescode}, {"open", open}});
			});
		}
		else if (line.compare(0, 5, "kick ") == 0 && line.size() > 5)
		{
			nim::Client::KickOtherClient(std::list<std::string>{line.substr(5)});
		}
		else if (line == "logout_during_login")
		{
			Login(&OnLoginCallback);
			auto started = std::chrono::steady_clock::now();
			nim::Client::Logout(nim::kNIMLogoutChangeAccout, [started](nim::NIMResCode res_code) {
				auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
				Emit("logout", Json{{"err_code", res_code}, {"ms", ms}});
			});
		}
		else if (line == "quit")
		{
			rc = QuitAndWait();
		}
		else
		{
			std::cerr << "unknown command: " << line << std::endl;
		}
	}
	// The SDK was cleaned up inside the logout callback; no callback fires
	// from here on.
	return rc;
}
