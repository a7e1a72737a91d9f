// Conformance program for NIM's C# login API (NIM.ClientAPI, NIM.DataSync.DataSyncAPI,
// NimUtility.NimConfig), written as a NIM desktop app uses it: the names, call order and
// result handling of NIM's C# SDK, its demo and the "登录登出" (login and logout) guide.
//
// usage: mono NimConformance.exe DATA_DIR HOST:PORT APP_KEY ACCOUNT TOKEN
//
// Reads one command a line from stdin:
//   login | login2 | time | push on | push off | push get | kick DEVICE_ID
//   | logout_during_login | quit
// and prints one event a line: `EV <name> <compact JSON>`.
// End of stdin is the same as `quit`.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Text;
using System.Threading;

class NimConformance
{
    static string appKey;
    static string account;
    static string token;

    static readonly object outputLock = new object();
    static readonly ManualResetEvent exitReady = new ManualResetEvent(false);

    // The account's OTHER online devices, keyed by DeviceID, as NIM's demo keeps them:
    // seeded from the login result, grown on ImIn, shrunk on ImOut.
    static readonly object devicesLock = new object();
    static readonly Dictionary<string, NIM.NIMMultiClientLoginInfo> devices =
        new Dictionary<string, NIM.NIMMultiClientLoginInfo>();

    // How often ClientAPI.LoginResultHandler fired (login and auto-relogin results);
    // reported on stderr at exit.
    static int loginEvents;

    static int Main(string[] args)
    {
        if (args.Length < 5)
        {
            Console.Error.WriteLine("usage: mono NimConformance.exe DATA_DIR HOST:PORT APP_KEY ACCOUNT TOKEN");
            return 2;
        }
        string dataDir = args[0];
        string hostPort = args[1];
        appKey = args[2];
        account = args[3];
        token = args[4];

        string version = NIM.ClientAPI.GetVersion();
        Emit("version", "{\"ok\":" + B(!string.IsNullOrEmpty(version)) + "}");

        var config = new NimUtility.NimConfig
        {
            CommonSetting = new NimUtility.SdkCommonSetting
            {
                DataBaseEncryptKey = "conformance-key",
                LogLevel = NimUtility.SdkLogLevel.App,
                UsePriviteServer = true,
                CustomTimeout = 30,
                MaxLoginRetry = 3,
            },
            PrivateServerSetting = new NimUtility.SdkPrivateServerSetting
            {
                LinkServerList = new List<string> { hostPort },
            },
            AppKey = appKey,
        };
        bool ok = NIM.ClientAPI.Init(appKey, dataDir, "", config);
        Emit("init", "{\"ok\":" + B(ok) + "}");
        if (!ok)
            return 1;

        RegisterCallbacks();

        string line;
        while ((line = Console.In.ReadLine()) != null)
        {
            line = line.Trim();
            if (line.Length == 0)
                continue;
            if (line == "quit")
                break;
            Handle(line);
        }

        Quit();
        Console.Error.WriteLine("LoginResultHandler fired " + loginEvents + " times");
        return 0;
    }

    // Every global callback is registered before the first login, as the guide asks.
    static void RegisterCallbacks()
    {
        NIM.ClientAPI.RegAutoReloginCb(OnAutoRelogin);
        NIM.ClientAPI.RegKickoutCb(OnKickout);
        NIM.ClientAPI.RegDisconnectedCb(OnDisconnected);
        NIM.ClientAPI.RegMultiSpotLoginNotifyCb(OnMultiSpotLogin);
        NIM.ClientAPI.RegKickOtherClientCb(OnKickOtherClient);
        NIM.ClientAPI.RegMulitiportPushEnableChangedCb(OnMultiportPushChanged);
        NIM.DataSync.DataSyncAPI.RegCompleteCb(OnDataSyncComplete);
        NIM.ClientAPI.LoginResultHandler += OnLoginResultEvent;
    }

    static void Handle(string line)
    {
        string[] parts = line.Split(new[] { ' ' }, StringSplitOptions.RemoveEmptyEntries);
        string cmd = parts[0];
        string arg = parts.Length > 1 ? parts[1] : null;
        switch (cmd)
        {
            case "login":
                NIM.ClientAPI.Login(appKey, account, token, HandleLoginResult);
                break;
            case "login2":
                {
                    int seen = 0;
                    NIM.ClientAPI.Login(appKey, account, token, result =>
                    {
                        if (Interlocked.Increment(ref seen) != 1)
                            return;
                        Emit("login2", "{\"err_code\":" + Code(result == null ? (int?)null : (int)result.Code) + "}");
                    });
                }
                break;
            case "time":
                // NIM's C# ClientAPI has no wrapper for nim_client_get_server_current_time.
                Emit("time", "{\"skipped\":true}");
                break;
            case "push":
                if (arg == "on")
                {
                    // switch_open 1: while the desktop is online, mobile gets no push.
                    NIM.ClientAPI.DisableMultiportPush(OnPushSet);
                }
                else if (arg == "off")
                {
                    // switch_open 2: mobile keeps getting push.
                    NIM.ClientAPI.EnableMultiportPush(OnPushSet);
                }
                else if (arg == "get")
                {
                    NIM.ClientAPI.IsMultiportPushEnabled((response, param) =>
                        Emit("push_get", PushJson(response, param)));
                }
                else
                {
                    Console.Error.WriteLine("unknown command: " + line);
                }
                break;
            case "kick":
                if (arg == null)
                {
                    Console.Error.WriteLine("usage: kick DEVICE_ID");
                    break;
                }
                NIM.ClientAPI.KickOtherClients(new NIM.NIMKickoutOtherDeviceInfo
                {
                    DeviceIDs = new List<string> { arg },
                });
                break;
            case "logout_during_login":
                {
                    NIM.ClientAPI.Login(appKey, account, token, HandleLoginResult);
                    var watch = Stopwatch.StartNew();
                    NIM.ClientAPI.Logout(NIM.NIMLogoutType.kNIMLogoutChangeAccout, result =>
                    {
                        long ms = watch.ElapsedMilliseconds;
                        Emit("logout", "{\"err_code\":" + Code(result == null ? (int?)null : (int)result.Code) + ",\"ms\":" + ms + "}");
                    });
                }
                break;
            default:
                Console.Error.WriteLine("unknown command: " + line);
                break;
        }
    }

    // Logs out for app exit; Cleanup runs inside the logout callback, after which Main returns.
    static void Quit()
    {
        NIM.ClientAPI.Logout(NIM.NIMLogoutType.kNIMLogoutAppExit, result =>
        {
            Emit("logout", "{\"err_code\":" + Code(result == null ? (int?)null : (int)result.Code) + "}");
            NIM.ClientAPI.Cleanup();
            Emit("cleaned", "{}");
            exitReady.Set();
        });
        if (!exitReady.WaitOne(TimeSpan.FromSeconds(60)))
        {
            Console.Error.WriteLine("no logout callback within 60 s");
            Environment.Exit(1);
        }
    }

    // ----- callbacks (on the SDK's thread) -----

    static void HandleLoginResult(NIM.NIMLoginResult result)
    {
        if (result == null)
        {
            Emit("login", "{\"err_code\":null,\"login_step\":null}");
            return;
        }
        Emit("login", "{\"err_code\":" + (int)result.Code + ",\"login_step\":" + (int)result.LoginStep + "}");
        if (result.LoginStep == NIM.NIMLoginStep.kNIMLoginStepLogin && result.Code == NIM.ResponseCode.kNIMResSuccess)
            SeedDevices(result.LoginedClients);
    }

    static void OnLoginResultEvent(object sender, NIM.LoginResultEventArgs e)
    {
        Interlocked.Increment(ref loginEvents);
    }

    static void OnAutoRelogin(NIM.NIMLoginResult result)
    {
        if (result == null)
        {
            Emit("relogin", "{\"err_code\":null,\"login_step\":null}");
            return;
        }
        Emit("relogin", "{\"err_code\":" + (int)result.Code + ",\"login_step\":" + (int)result.LoginStep + "}");
        if (result.LoginStep == NIM.NIMLoginStep.kNIMLoginStepLogin && result.Code == NIM.ResponseCode.kNIMResSuccess)
            SeedDevices(result.LoginedClients);
    }

    static void OnKickout(NIM.NIMKickoutResult result)
    {
        if (result == null)
        {
            Emit("kickout", "{\"client_type\":null,\"reason_code\":null,\"dump_ok\":false}");
            return;
        }
        // NIM's sample shows r.Dump() in a MessageBox.
        string dump = result.Dump();
        Emit("kickout", "{\"client_type\":" + (int)result.ClientType + ",\"reason_code\":" + (int)result.KickReason
            + ",\"dump_ok\":" + B(!string.IsNullOrEmpty(dump)) + "}");
    }

    static void OnDisconnected()
    {
        Emit("disconnect", "{}");
    }

    static void OnMultiSpotLogin(NIM.NIMMultiSpotLoginNotifyResult result)
    {
        if (result == null)
        {
            Emit("multispot", "{\"type\":null,\"ids\":[]}");
            return;
        }
        var clients = result.OtherClients ?? new List<NIM.NIMMultiClientLoginInfo>();
        var ids = clients.Select(c => c == null ? null : c.DeviceID).ToList();
        Emit("multispot", "{\"type\":" + (int)result.NotifyType + ",\"ids\":" + StrArray(ids) + "}");
        string list;
        lock (devicesLock)
        {
            bool online = result.NotifyType == NIM.NIMMultiSpotNotifyType.kNIMMultiSpotNotifyTypeImIn;
            foreach (var c in clients)
            {
                if (c == null)
                    continue;
                string key = c.DeviceID ?? "";
                if (online)
                    devices[key] = c;
                else
                    devices.Remove(key);
            }
            list = DevicesJson();
        }
        Emit("devices", list);
    }

    static void OnKickOtherClient(NIM.NIMKickOtherResult result)
    {
        if (result == null)
        {
            Emit("kick_other", "{\"err_code\":null,\"device_ids\":[]}");
            return;
        }
        Emit("kick_other", "{\"err_code\":" + (int)result.ResCode + ",\"device_ids\":"
            + StrArray(result.DeviceIDs ?? new List<string>()) + "}");
    }

    static void OnPushSet(NIM.ResponseCode response, NIM.ConfigMultiportPushParam param)
    {
        Emit("push_set", PushJson(response, param));
    }

    static void OnMultiportPushChanged(NIM.ResponseCode response, NIM.ConfigMultiportPushParam param)
    {
        Emit("push_sync", PushJson(response, param));
    }

    static void OnDataSyncComplete(NIM.DataSync.NIMDataSyncType syncType, NIM.DataSync.NIMDataSyncStatus status, string jsonAttachment)
    {
        Emit("data_sync", "{\"type\":" + (int)syncType + ",\"status\":" + (int)status + "}");
    }

    // ----- helpers -----

    static void SeedDevices(List<NIM.NIMMultiClientLoginInfo> clients)
    {
        string list;
        lock (devicesLock)
        {
            devices.Clear();
            if (clients != null)
            {
                foreach (var c in clients)
                {
                    if (c != null)
                        devices[c.DeviceID ?? ""] = c;
                }
            }
            list = DevicesJson();
        }
        Emit("devices", list);
    }

    static string DevicesJson()
    {
        var keys = devices.Keys.ToList();
        keys.Sort(StringComparer.Ordinal);
        return StrArray(keys);
    }

    // open = switch_open == 1, i.e. !Enabled.
    static string PushJson(NIM.ResponseCode response, NIM.ConfigMultiportPushParam param)
    {
        return "{\"rescode\":" + (int)response + ",\"open\":" + (param == null ? "null" : B(!param.Enabled)) + "}";
    }

    static void Emit(string name, string json)
    {
        lock (outputLock)
        {
            Console.Out.Write("EV " + name + " " + json + "\n");
            Console.Out.Flush();
        }
    }

    static string B(bool b)
    {
        return b ? "true" : "false";
    }

    static string Code(int? code)
    {
        return code.HasValue ? code.Value.ToString() : "null";
    }

    static string StrArray(IEnumerable<string> items)
    {
        var sb = new StringBuilder("[");
        bool first = true;
        foreach (var s in items)
        {
            if (!first)
                sb.Append(',');
            first = false;
            sb.Append(Str(s));
        }
        return sb.Append(']').ToString();
    }

    static string Str(string s)
    {
        if (s == null)
            return "null";
        var sb = new StringBuilder("\"");
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (c < 0x20)
                        sb.AppendFormat("\\u{0:x4}", (int)c);
                    else
                        sb.Append(c);
                    break;
            }
        }
        return sb.Append('"').ToString();
    }
}
