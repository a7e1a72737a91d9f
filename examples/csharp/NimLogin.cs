// The C# samples of NIM's login guide page "登录登出" (Login and logout) (proxy, login, automatic login, logout, kick-out,
// multispot), completed into one program against Magpie, through NIM.cs.
//
// usage: mono NimLogin.exe DATA_DIR HOST:PORT APP_KEY ACCOUNT TOKEN [SOCKS5_PORT]
using System;
using System.Threading;

class NimLogin
{
    static readonly ManualResetEvent loginDone = new ManualResetEvent(false);
    static readonly ManualResetEvent kicked = new ManualResetEvent(false);
    static readonly ManualResetEvent relogged = new ManualResetEvent(false);
    static bool loginOk;
    static int kickReason;

    static void Say(string line)
    {
        Console.WriteLine(line);
        Console.Out.Flush();
    }

    private static void HandleLoginResult(NIM.NIMLoginResult result)
    {
        Say(string.Format("CB login {{\"err_code\":{0},\"login_step\":{1}}}", (int)result.Code, (int)result.LoginStep));
        if (result.LoginStep == NIM.NIMLoginStep.kNIMLoginStepLogin)
        {
            if (result.Code == NIM.ResponseCode.kNIMResSuccess)
            {
                loginOk = true;
            }
            loginDone.Set();
        }
        else if (result.Code != NIM.ResponseCode.kNIMResSuccess)
        {
            loginDone.Set();
        }
    }

    static int Main(string[] args)
    {
        if (args.Length < 5)
        {
            Console.Error.WriteLine("usage: NimLogin.exe DATA_DIR HOST:PORT APP_KEY ACCOUNT TOKEN [SOCKS5_PORT]");
            return 2;
        }
        var config = new NimUtility.NimConfig
        {
            CommonSetting = new NimUtility.SdkCommonSetting { UsePriviteServer = true },
            PrivateServerSetting = new NimUtility.SdkPrivateServerSetting { LinkServer = args[1] },
            AppKey = args[2],
        };
        if (!NIM.ClientAPI.Init(args[0], "", config))
        {
            Console.Error.WriteLine("Init failed");
            return 1;
        }

        NIM.ClientAPI.RegDisconnectedCb(() =>
        {
            Say("CB disconnect");
        });
        NIM.ClientAPI.RegAutoReloginCb(result =>
        {
            Say(string.Format("CB auto_relogin {{\"err_code\":{0},\"login_step\":{1},\"relogin\":{2}}}", (int)result.Code, (int)result.LoginStep, result.IsRelogin ? "true" : "false"));
            if (result.Code == NIM.ResponseCode.kNIMResSuccess && result.LoginStep == NIM.NIMLoginStep.kNIMLoginStepLogin)
                relogged.Set();
        });
        NIM.ClientAPI.RegKickoutCb(result =>
        {
            Say(string.Format("CB kickout {{\"client_type\":{0},\"reason_code\":{1}}}", (int)result.ClientType, (int)result.KickReason));
            kickReason = (int)result.KickReason;
            kicked.Set();
        });
        NIM.ClientAPI.RegMultiSpotLoginNotifyCb(result =>
        {
            Say(string.Format("CB multispot {{\"multi_spot_notiy_type\":{0},\"others\":{1}}}", (int)result.NotifyType, result.OtherClients.Count));
        });

        if (args.Length > 5)
        {
            NIM.GlobalAPI.SetProxy(NIM.NIMProxyType.kNIMProxySocks5, "127.0.0.1", int.Parse(args[5]), "", "");
        }

        NIM.ClientAPI.Login(args[2], args[3], args[4], HandleLoginResult);
        if (!loginDone.WaitOne(20000) || !loginOk)
        {
            Console.Error.WriteLine("login failed");
            return 1;
        }
        Say("READY state=" + (int)NIM.ClientAPI.GetLoginState());

        if (!kicked.WaitOne(30000))
        {
            Console.Error.WriteLine("no kick-out");
            return 1;
        }
        Say("KICKED reason=" + kickReason);

        NIM.ClientAPI.Relogin();
        if (!relogged.WaitOne(20000))
        {
            Console.Error.WriteLine("relogin failed");
            return 1;
        }
        Say("RELOGGED state=" + (int)NIM.ClientAPI.GetLoginState());

        // As in NIM's login guide: wait on a semaphore for up to 10 s, then Cleanup.
        var logoutDone = new Semaphore(0, 1);
        var logoutCode = NIM.ResponseCode.kNIMResError;
        NIM.ClientAPI.Logout(NIM.NIMLogoutType.kNIMLogoutAppExit, result =>
        {
            Say(string.Format("CB logout {{\"err_code\":{0}}}", (int)result.Code));
            logoutCode = result.Code;
            logoutDone.Release();
        });
        if (!logoutDone.WaitOne(10000) || logoutCode != NIM.ResponseCode.kNIMResSuccess)
        {
            Console.Error.WriteLine("logout failed");
            return 1;
        }
        NIM.ClientAPI.Cleanup();
        Say("DONE");
        return 0;
    }
}
