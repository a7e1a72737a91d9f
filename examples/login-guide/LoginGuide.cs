// The C# samples of NIM's login guide page "登录登出" (Login and logout),
// verbatim and in the page's order, each in its own class SampleN.
// Everything outside the samples is scaffolding; the few changes inside them
// are marked [fix] and listed in README.md.
//
//   mcs -target:library -out:LoginGuide.dll -r:System.Core examples/login-guide/LoginGuide.cs \
//       crates/magpie-client-ffi/wrappers/csharp/NIM.cs crates/magpie-client-ffi/wrappers/csharp/NIMMessaging.cs
using System;   // scaffolding: Action, TimeSpan (samples 2, 4)
using NIM;      // scaffolding: sample 5 names NIMMultiSpotLoginNotifyResult unqualified

// scaffolding: WinForms stand-ins (WinForms is not used here)
static class MessageBox
{
	public static void Show(string text, string caption = "")
	{
		Console.WriteLine(caption == "" ? text : caption + ": " + text);
	}
}

// scaffolding: stand-in for the Form the samples are members of (Control.Invoke)
class Form
{
	public object Invoke(Delegate method)
	{
		return method.DynamicInvoke();
	}
}

// ---- sample 1 (客户端代理 / client proxy) ----
class Sample1
{
	void foo()
	{
		// [fix] the sample passes "400", a string, as the int port
		NIM.GlobalAPI.SetProxy(NIM.NIMProxyType.kNIMProxySocks5, "123.123.123.123", 400, "test", "test");
	}
}

// ---- sample 2 (手动登录 / manual login) ----
class Sample2 : Form
{
	// scaffolding: the app key the sample logs in with
	string appkey = "app key";

	private void HandleLoginResult(NIM.NIMLoginResult result)
	{
		//在UI线程进行处理登录结果
		Action action = () =>
		{
			if (result.LoginStep == NIM.NIMLoginStep.kNIMLoginStepLogin)
			{
				if (result.Code == NIM.ResponseCode.kNIMResSuccess)
				{
					//TODO:登录成功
				}
				else
				{
					//TODO:登录失败
				}
			}
		};
		this.Invoke(action);
	}

	private void foo()
	{
		NIM.ClientAPI.Login(appkey, "app account", "token", HandleLoginResult);
	}
}

// ---- sample 3 (自动登录 / automatic login: disconnect callback) ----
class Sample3
{
	// [fix] the sample's method has no return type: void added
	private void foo()
	{
		NIM.ClientAPI.RegDisconnectedCb(() =>
		{
		 	MessageBox.Show("网络连接断开,网络恢复后后会自动重连");
		});
	}
}

// ---- sample 4 (登出 / logout) ----
class Sample4
{
	void foo()
	{
		System.Threading.Semaphore s = new System.Threading.Semaphore(0, 1);
		NIM.ClientAPI.Logout(NIM.NIMLogoutType.kNIMLogoutAppExit, (r) =>
		{
			s.Release();
		});
		//需要logout执行完才能退出程序
		s.WaitOne(TimeSpan.FromSeconds(10));
		NIM.ClientAPI.Cleanup();
	}
}

// ---- sample 5 (多端登录 / multispot login notification) ----
class Sample5
{
	//注册多端登录通知回调
	// [fix] a statement cannot stand in a class body: wrapped in a method
	private void Register()
	{
		NIM.ClientAPI.RegMultiSpotLoginNotifyCb(OnMultiSpotLogin);
	}

	//result 包含多端登录的其他端信息
	private static void OnMultiSpotLogin(NIMMultiSpotLoginNotifyResult result)
	{

	}
}

// ---- sample 6 (被踢 / kicked out notification) ----
class Sample6
{
	// [fix] the sample's method has no return type: void added
	private void foo()
	{
		NIM.ClientAPI.RegKickoutCb((r) =>
		{
			MessageBox.Show(r.Dump(), "被踢下线,请注意账号安全");
		});
	}
}
