// NIM's C# API (NIM.ClientAPI, NIM.GlobalAPI) over Magpie's libnim, for the
// login chapter: P/Invoke with the Cdecl convention over the same C functions
// as the C header. Callbacks arrive on the SDK's thread.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace NimUtility
{
    /// <summary>Private server settings: the Magpie link addresses ("host:port").</summary>
    public class NimPrivateServerSetting
    {
        public List<string> LinkServerList = new List<string>();
    }

    /// <summary>Login-related global settings.</summary>
    public class SdkCommonSetting
    {
        public int LoginRetryMaxTimes;
        public int CustomClientType;
    }

    /// <summary>NIM's init configuration ("app_key", "global_config", "private_server_setting").</summary>
    public class NimConfig
    {
        public string AppKey;
        public SdkCommonSetting CommonSetting = new SdkCommonSetting();
        public NimPrivateServerSetting PrivateServerSetting;

        internal string Serialize()
        {
            var sb = new StringBuilder("{");
            sb.Append("\"app_key\":").Append(Json.Quote(AppKey ?? ""));
            sb.Append(",\"global_config\":{\"login_retry_max_times\":").Append(CommonSetting.LoginRetryMaxTimes);
            if (CommonSetting.CustomClientType > 0)
                sb.Append(",\"custom_client_type\":").Append(CommonSetting.CustomClientType);
            sb.Append("}");
            if (PrivateServerSetting != null)
            {
                sb.Append(",\"private_server_setting\":{\"link\":[");
                for (int i = 0; i < PrivateServerSetting.LinkServerList.Count; i++)
                    sb.Append(i > 0 ? "," : "").Append(Json.Quote(PrivateServerSetting.LinkServerList[i]));
                sb.Append("]}");
            }
            return sb.Append("}").ToString();
        }
    }

    /// <summary>A small JSON reader and writer for the callback payloads.</summary>
    public static class Json
    {
        public static string Quote(string s)
        {
            var sb = new StringBuilder("\"");
            foreach (char c in s)
            {
                if (c == '"' || c == '\\') sb.Append('\\').Append(c);
                else if (c < 0x20) sb.AppendFormat("\\u{0:x4}", (int)c);
                else sb.Append(c);
            }
            return sb.Append('"').ToString();
        }

        public static object Parse(string s)
        {
            int i = 0;
            object v = Value(s, ref i);
            return v;
        }

        static void Ws(string s, ref int i) { while (i < s.Length && char.IsWhiteSpace(s[i])) i++; }

        static object Value(string s, ref int i)
        {
            Ws(s, ref i);
            if (i >= s.Length) throw new FormatException("unexpected end of JSON");
            char c = s[i];
            if (c == '{')
            {
                var o = new Dictionary<string, object>();
                i++; Ws(s, ref i);
                if (s[i] == '}') { i++; return o; }
                while (true)
                {
                    Ws(s, ref i);
                    string k = Str(s, ref i);
                    Ws(s, ref i); i++; // ':'
                    o[k] = Value(s, ref i);
                    Ws(s, ref i);
                    if (s[i] == ',') { i++; continue; }
                    i++; return o; // '}'
                }
            }
            if (c == '[')
            {
                var a = new List<object>();
                i++; Ws(s, ref i);
                if (s[i] == ']') { i++; return a; }
                while (true)
                {
                    a.Add(Value(s, ref i));
                    Ws(s, ref i);
                    if (s[i] == ',') { i++; continue; }
                    i++; return a; // ']'
                }
            }
            if (c == '"') return Str(s, ref i);
            if (s.Substring(i).StartsWith("true")) { i += 4; return true; }
            if (s.Substring(i).StartsWith("false")) { i += 5; return false; }
            if (s.Substring(i).StartsWith("null")) { i += 4; return null; }
            int start = i;
            while (i < s.Length && "+-0123456789.eE".IndexOf(s[i]) >= 0) i++;
            return double.Parse(s.Substring(start, i - start), CultureInfo.InvariantCulture);
        }

        static string Str(string s, ref int i)
        {
            var sb = new StringBuilder();
            i++; // opening quote
            while (s[i] != '"')
            {
                if (s[i] == '\\')
                {
                    i++;
                    char e = s[i];
                    if (e == 'u') { sb.Append((char)Convert.ToInt32(s.Substring(i + 1, 4), 16)); i += 4; }
                    else sb.Append(e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e == 'b' ? '\b' : e == 'f' ? '\f' : e);
                }
                else sb.Append(s[i]);
                i++;
            }
            i++;
            return sb.ToString();
        }

        internal static long Long(Dictionary<string, object> o, string k)
        {
            object v;
            return o != null && o.TryGetValue(k, out v) && v is double ? (long)(double)v : 0;
        }

        internal static bool Bool(Dictionary<string, object> o, string k)
        {
            object v;
            return o != null && o.TryGetValue(k, out v) && v is bool && (bool)v;
        }

        internal static string Text(Dictionary<string, object> o, string k)
        {
            object v;
            return o != null && o.TryGetValue(k, out v) && v is string ? (string)v : "";
        }

        internal static List<object> List(Dictionary<string, object> o, string k)
        {
            object v;
            return o != null && o.TryGetValue(k, out v) && v is List<object> ? (List<object>)v : new List<object>();
        }

        internal static string FromUtf8(IntPtr p)
        {
            if (p == IntPtr.Zero) return "";
            int n = 0;
            while (Marshal.ReadByte(p, n) != 0) n++;
            var b = new byte[n];
            Marshal.Copy(p, b, 0, n);
            return Encoding.UTF8.GetString(b);
        }
    }
}

namespace NIM
{
    public enum ResponseCode
    {
        kNIMResError = 0, kNIMResSuccess = 200, kNIMResVersionError = 201, kNIMResUidPassError = 302,
        kNIMResForbidden = 403, kNIMResNotExist = 404, kNIMResTimeoutError = 408, kNIMResParameterError = 414,
        kNIMResConnectionError = 415, kNIMResFrequently = 416, kNIMResExist = 417, kNIMResOverrun = 419,
        kNIMResAccountBlock = 422, kNIMResUnknownError = 500, kNIMResTooBuzy = 503, kNIMResInvalid = 509,
        kNIMLocalResNetworkError = 10010, kNIMLocalResAPIErrorInitUndone = 20000,
        kNIMLocalResAPIErrorLoginUndone = 20001, kNIMLocalResAPIErrorLogined = 20002,
    }
    public enum NIMLogoutType { kNIMLogoutChangeAccout = 1, kNIMLogoutKickout = 2, kNIMLogoutAppExit = 3, kNIMLogoutRelogin = 4 }
    public enum NIMKickReason { kNIMKickReasonSameGeneric = 1, kNIMKickReasonServerKick = 2, kNIMKickReasonKickBySelfOtherClient = 3 }
    public enum NIMClientType { kNIMClientTypeAndroid = 1, kNIMClientTypeiOS = 2, kNIMClientTypePCWindows = 4, kNIMClientTypeWindowsPhone = 8, kNIMClientTypeWeb = 16, kNIMClientTypeRestAPI = 32, kNIMClientTypeMacOS = 64 }
    public enum NIMLoginStep { kNIMLoginStepLinking = 0, kNIMLoginStepLink = 1, kNIMLoginStepLogining = 2, kNIMLoginStepLogin = 3 }
    public enum NIMMultiSpotNotifyType { kNIMMultiSpotNotifyTypeImIn = 2, kNIMMultiSpotNotifyTypeImOut = 3 }
    public enum NIMLoginState { kNIMLoginStateLogin = 1, kNIMLoginStateUnLogin = 2 }
    public enum NIMProxyType { kNIMProxyNone = 0, kNIMProxyHttp11 = 1, kNIMProxySocks4 = 4, kNIMProxySocks4a = 5, kNIMProxySocks5 = 6 }

    public class NIMMultiClientLoginInfo
    {
        public string AppAccount; public NIMClientType ClientType; public string OperateSystem;
        public string MacAddress; public string DeviceID; public long LoginTimeStamp; public string CustomTag;

        internal static List<NIMMultiClientLoginInfo> FromList(List<object> list)
        {
            var r = new List<NIMMultiClientLoginInfo>();
            foreach (var item in list)
            {
                var o = item as Dictionary<string, object>;
                r.Add(new NIMMultiClientLoginInfo
                {
                    AppAccount = NimUtility.Json.Text(o, "app_account"),
                    ClientType = (NIMClientType)NimUtility.Json.Long(o, "client_type"),
                    OperateSystem = NimUtility.Json.Text(o, "client_os"),
                    MacAddress = NimUtility.Json.Text(o, "mac"),
                    DeviceID = NimUtility.Json.Text(o, "device_id"),
                    LoginTimeStamp = NimUtility.Json.Long(o, "login_time"),
                    CustomTag = NimUtility.Json.Text(o, "custom_tag"),
                });
            }
            return r;
        }
    }

    public class NIMLoginResult
    {
        public ResponseCode Code; public bool IsRelogin; public NIMLoginStep LoginStep;
        public List<NIMMultiClientLoginInfo> LoginedClients;

        internal static NIMLoginResult From(string json)
        {
            var o = NimUtility.Json.Parse(json) as Dictionary<string, object>;
            return new NIMLoginResult
            {
                Code = (ResponseCode)NimUtility.Json.Long(o, "err_code"),
                IsRelogin = NimUtility.Json.Bool(o, "relogin"),
                LoginStep = (NIMLoginStep)NimUtility.Json.Long(o, "login_step"),
                LoginedClients = NIMMultiClientLoginInfo.FromList(NimUtility.Json.List(o, "other_clients_pres")),
            };
        }
    }

    public class NIMLogoutResult { public ResponseCode Code; }
    public class NIMKickoutResult { public NIMClientType ClientType; public NIMKickReason KickReason; }
    public class NIMMultiSpotLoginNotifyResult { public NIMMultiSpotNotifyType NotifyType; public List<NIMMultiClientLoginInfo> OtherClients; }
    public class NIMKickOtherResult { public ResponseCode ResCode; public List<string> DeviceIDs; }
    public class NIMKickoutOtherDeviceInfo { public List<string> DeviceIDs = new List<string>(); }

    internal static class NIMGlobal
    {
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        public delegate void JsonTransportCb(IntPtr jsonParams, IntPtr userData);
    }

    internal static class ClientNativeMethods
    {
        const string Lib = "nim";
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        [return: MarshalAs(UnmanagedType.I1)]
        public static extern bool nim_client_init([MarshalAs(UnmanagedType.LPUTF8Str)] string appDataDir, [MarshalAs(UnmanagedType.LPUTF8Str)] string appInstallDir, [MarshalAs(UnmanagedType.LPUTF8Str)] string jsonExtension);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        public static extern void nim_client_cleanup([MarshalAs(UnmanagedType.LPUTF8Str)] string jsonExtension);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        public static extern void nim_client_login([MarshalAs(UnmanagedType.LPUTF8Str)] string appKey, [MarshalAs(UnmanagedType.LPUTF8Str)] string account, [MarshalAs(UnmanagedType.LPUTF8Str)] string token, [MarshalAs(UnmanagedType.LPUTF8Str)] string jsonExtension, NIMGlobal.JsonTransportCb cb, IntPtr userData);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        public static extern int nim_client_get_login_state([MarshalAs(UnmanagedType.LPUTF8Str)] string jsonExtension);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        public static extern void nim_client_relogin([MarshalAs(UnmanagedType.LPUTF8Str)] string jsonExtension);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        public static extern void nim_client_logout(NIMLogoutType logoutType, [MarshalAs(UnmanagedType.LPUTF8Str)] string jsonExtension, NIMGlobal.JsonTransportCb cb, IntPtr userData);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        public static extern void nim_client_kick_other_client([MarshalAs(UnmanagedType.LPUTF8Str)] string jsonExtension);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        public static extern void nim_client_reg_auto_relogin_cb([MarshalAs(UnmanagedType.LPUTF8Str)] string jsonExtension, NIMGlobal.JsonTransportCb cb, IntPtr userData);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        public static extern void nim_client_reg_kickout_cb([MarshalAs(UnmanagedType.LPUTF8Str)] string jsonExtension, NIMGlobal.JsonTransportCb cb, IntPtr userData);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        public static extern void nim_client_reg_disconnect_cb([MarshalAs(UnmanagedType.LPUTF8Str)] string jsonExtension, NIMGlobal.JsonTransportCb cb, IntPtr userData);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        public static extern void nim_client_reg_multispot_login_notify_cb([MarshalAs(UnmanagedType.LPUTF8Str)] string jsonExtension, NIMGlobal.JsonTransportCb cb, IntPtr userData);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        public static extern void nim_client_reg_kickout_other_client_cb([MarshalAs(UnmanagedType.LPUTF8Str)] string jsonExtension, NIMGlobal.JsonTransportCb cb, IntPtr userData);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        public static extern void nim_global_set_proxy(NIMProxyType type, [MarshalAs(UnmanagedType.LPUTF8Str)] string host, int port, [MarshalAs(UnmanagedType.LPUTF8Str)] string user, [MarshalAs(UnmanagedType.LPUTF8Str)] string password);
    }

    public class ClientAPI
    {
        public delegate void KickOtherClientResultHandler(NIMKickOtherResult result);
        public delegate void MultiSpotLoginNotifyResultHandler(NIMMultiSpotLoginNotifyResult result);
        public delegate void KickoutResultHandler(NIMKickoutResult result);
        public delegate void LogoutResultDelegate(NIMLogoutResult result);
        public delegate void LoginResultDelegate(NIMLoginResult result);

        // Every delegate handed to C lives in a static field, so the garbage
        // collector never frees one that C still holds.
        static readonly NIMGlobal.JsonTransportCb LoginCb = OnLogin;
        static readonly NIMGlobal.JsonTransportCb ReloginCb = OnRelogin;
        static readonly NIMGlobal.JsonTransportCb LogoutCb = OnLogout;
        static readonly NIMGlobal.JsonTransportCb KickoutCb = OnKickout;
        static readonly NIMGlobal.JsonTransportCb DisconnectCb = OnDisconnect;
        static readonly NIMGlobal.JsonTransportCb MultiSpotCb = OnMultiSpot;
        static readonly NIMGlobal.JsonTransportCb KickOtherCb = OnKickOther;
        static LoginResultDelegate loginHandler, reloginHandler;
        static LogoutResultDelegate logoutHandler;
        static KickoutResultHandler kickoutHandler;
        static Action disconnectHandler;
        static MultiSpotLoginNotifyResultHandler multiSpotHandler;
        static KickOtherClientResultHandler kickOtherHandler;

        public static bool SdkInitialized { get; private set; }

        public static bool Init(string appDataDir, string appInstallDir = "", NimUtility.NimConfig config = null)
        {
            string json = (config ?? new NimUtility.NimConfig()).Serialize();
            SdkInitialized = ClientNativeMethods.nim_client_init(appDataDir, appInstallDir, json);
            return SdkInitialized;
        }

        public static void Cleanup()
        {
            ClientNativeMethods.nim_client_cleanup(null);
            SdkInitialized = false;
        }

        public static void Login(string appKey, string account, string token, LoginResultDelegate handler = null)
        {
            if (string.IsNullOrEmpty(appKey) || string.IsNullOrEmpty(account) || string.IsNullOrEmpty(token))
                return;
            loginHandler = handler;
            ClientNativeMethods.nim_client_login(appKey, account, token, null, LoginCb, IntPtr.Zero);
        }

        public static void Relogin(string jsonExtension = null)
        {
            ClientNativeMethods.nim_client_relogin(jsonExtension);
        }

        public static void Logout(NIMLogoutType logoutType, LogoutResultDelegate @delegate)
        {
            logoutHandler = @delegate;
            ClientNativeMethods.nim_client_logout(logoutType, null, LogoutCb, IntPtr.Zero);
        }

        public static void KickOtherClients(NIMKickoutOtherDeviceInfo devices)
        {
            var sb = new StringBuilder("{\"device_ids\":[");
            for (int i = 0; i < devices.DeviceIDs.Count; i++)
                sb.Append(i > 0 ? "," : "").Append(NimUtility.Json.Quote(devices.DeviceIDs[i]));
            ClientNativeMethods.nim_client_kick_other_client(sb.Append("]}").ToString());
        }

        public static NIMLoginState GetLoginState(string jsonExt = null)
        {
            return (NIMLoginState)ClientNativeMethods.nim_client_get_login_state(jsonExt);
        }

        public static void RegAutoReloginCb(LoginResultDelegate handler, string jsonExtension = null)
        {
            reloginHandler = handler;
            ClientNativeMethods.nim_client_reg_auto_relogin_cb(jsonExtension, ReloginCb, IntPtr.Zero);
        }

        public static void RegKickoutCb(KickoutResultHandler handler)
        {
            kickoutHandler = handler;
            ClientNativeMethods.nim_client_reg_kickout_cb(null, KickoutCb, IntPtr.Zero);
        }

        public static void RegDisconnectedCb(Action handler)
        {
            disconnectHandler = handler;
            ClientNativeMethods.nim_client_reg_disconnect_cb(null, DisconnectCb, IntPtr.Zero);
        }

        public static void RegMultiSpotLoginNotifyCb(MultiSpotLoginNotifyResultHandler handler)
        {
            multiSpotHandler = handler;
            ClientNativeMethods.nim_client_reg_multispot_login_notify_cb(null, MultiSpotCb, IntPtr.Zero);
        }

        public static void RegKickOtherClientCb(KickOtherClientResultHandler handler)
        {
            kickOtherHandler = handler;
            ClientNativeMethods.nim_client_reg_kickout_other_client_cb(null, KickOtherCb, IntPtr.Zero);
        }

        static void OnLogin(IntPtr json, IntPtr userData)
        {
            var h = loginHandler;
            if (h != null) h(NIMLoginResult.From(NimUtility.Json.FromUtf8(json)));
        }

        static void OnRelogin(IntPtr json, IntPtr userData)
        {
            var h = reloginHandler;
            if (h != null) h(NIMLoginResult.From(NimUtility.Json.FromUtf8(json)));
        }

        static void OnLogout(IntPtr json, IntPtr userData)
        {
            var h = logoutHandler;
            logoutHandler = null;
            var o = NimUtility.Json.Parse(NimUtility.Json.FromUtf8(json)) as Dictionary<string, object>;
            if (h != null) h(new NIMLogoutResult { Code = (ResponseCode)NimUtility.Json.Long(o, "err_code") });
        }

        static void OnKickout(IntPtr json, IntPtr userData)
        {
            var h = kickoutHandler;
            var o = NimUtility.Json.Parse(NimUtility.Json.FromUtf8(json)) as Dictionary<string, object>;
            if (h != null) h(new NIMKickoutResult
            {
                ClientType = (NIMClientType)NimUtility.Json.Long(o, "client_type"),
                KickReason = (NIMKickReason)NimUtility.Json.Long(o, "reason_code"),
            });
        }

        static void OnDisconnect(IntPtr json, IntPtr userData)
        {
            var h = disconnectHandler;
            if (h != null) h();
        }

        static void OnMultiSpot(IntPtr json, IntPtr userData)
        {
            var h = multiSpotHandler;
            var o = NimUtility.Json.Parse(NimUtility.Json.FromUtf8(json)) as Dictionary<string, object>;
            if (h != null) h(new NIMMultiSpotLoginNotifyResult
            {
                NotifyType = (NIMMultiSpotNotifyType)NimUtility.Json.Long(o, "multi_spot_notiy_type"),
                OtherClients = NIMMultiClientLoginInfo.FromList(NimUtility.Json.List(o, "other_clients_pres")),
            });
        }

        static void OnKickOther(IntPtr json, IntPtr userData)
        {
            var h = kickOtherHandler;
            var o = NimUtility.Json.Parse(NimUtility.Json.FromUtf8(json)) as Dictionary<string, object>;
            var ids = new List<string>();
            foreach (var id in NimUtility.Json.List(o, "device_ids")) ids.Add(id as string);
            if (h != null) h(new NIMKickOtherResult { ResCode = (ResponseCode)NimUtility.Json.Long(o, "err_code"), DeviceIDs = ids });
        }
    }

    public class GlobalAPI
    {
        public static void SetProxy(NIMProxyType type, string host, int port, string user, string password)
        {
            ClientNativeMethods.nim_global_set_proxy(type, host, port, user, password);
        }
    }
}
