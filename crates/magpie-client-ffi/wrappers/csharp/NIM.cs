// NIM's C# login API over Magpie's libnim, with the class, member and JSON
// key names of NIM's C# SDK (NimUtility.NimConfig, NimUtility.NimJsonObject<T>,
// NIM.ClientAPI, NIM.GlobalAPI and their result classes and enums; the
// NIM.DataSync API is in NIMMessaging.cs). P/Invoke with the Cdecl convention
// over the same C functions as the C header. Callbacks arrive on the SDK's
// thread: keep handlers short.
//
// No Newtonsoft.Json: NimUtility.Json is a small reader and writer, and the
// JSON classes name their keys with [NimUtility.JsonKey("...")] where NIM
// uses [JsonProperty("...")]. As with NIM's settings, null members are
// omitted, enums are written as integers and value types are always written.
using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;
using NimUtility;

namespace NimUtility
{
    /// <summary>The JSON key of a member of a NimJsonObject or setting class
    /// (NIM: Newtonsoft's JsonProperty). Members without it are not JSON.</summary>
    [AttributeUsage(AttributeTargets.Property | AttributeTargets.Field, AllowMultiple = false)]
    internal sealed class JsonKeyAttribute : Attribute
    {
        public string Key { get; private set; }
        public JsonKeyAttribute(string key) { Key = key; }
    }

    public interface IJsonObject
    {
        string Serialize();
    }

    /// <summary>NIM's base of its JSON classes.</summary>
    public class NimJsonObject<T> : IJsonObject where T : NimJsonObject<T>
    {
        /// <summary>Compact JSON: null members omitted, enums as integers.</summary>
        public virtual string Serialize()
        {
            return Json.Serialize(this, false);
        }

        /// <summary>Indented JSON (two spaces, as Newtonsoft's Formatting.Indented).</summary>
        public virtual string SerializeWithIndented()
        {
            return Json.Serialize(this, true);
        }

        /// <summary>The object of `json`; null (default(T)) when it is empty or unreadable.</summary>
        public static T Deserialize(string json)
        {
            if (string.IsNullOrEmpty(json))
                return default(T);
            try
            {
                return (T)Json.ToObject(Json.Parse(json), typeof(T));
            }
            catch (Exception e)
            {
                System.Diagnostics.Debug.WriteLine("NimJsonObject.Deserialize: " + e.Message + "; json: " + json);
                return default(T);
            }
        }

        /// <summary>As in NIM: a plain property, never filled by the SDK, not JSON.</summary>
        public string JSON { get; set; }

        /// <summary>A readable listing of the object for logs and message
        /// boxes (NIM's samples call Dump() on results): a line "Name: value"
        /// per property, indented per level, the root named by its type.
        /// Not JSON: use Serialize() for that.</summary>
        public string Dump()
        {
            return ObjectDumper.Dump(this);
        }
    }

    /// <summary>Magpie's listing of a result object for Dump(): one line per
    /// property, "Name: value", nested objects and list items indented two
    /// spaces deeper, list items named "Type[i]"; an object met again prints
    /// "(already listed)".</summary>
    internal static class ObjectDumper
    {
        public static string Dump(object obj)
        {
            if (obj == null) return "null";
            var lines = new List<string>();
            Walk(obj.GetType().Name, obj, 0, lines, new HashSet<object>());
            return string.Join(Environment.NewLine, lines);
        }

        static bool Scalar(Type t)
        {
            return t.IsPrimitive || t.IsEnum || t == typeof(string) || t == typeof(decimal);
        }

        static void Walk(string label, object value, int depth, List<string> lines, HashSet<object> seen)
        {
            string pad = new string(' ', depth * 2);
            if (value == null || Scalar(value.GetType()))
            {
                lines.Add(pad + label + ": " + (value == null ? "null" : value.ToString()));
                return;
            }
            if (!value.GetType().IsValueType && !seen.Add(value))
            {
                lines.Add(pad + label + ": (already listed)");
                return;
            }
            lines.Add(pad + label + ":");
            var items = value as IEnumerable;
            if (items != null)
            {
                int i = 0;
                foreach (var item in items)
                {
                    string name = (item == null ? "Object" : item.GetType().Name) + "[" + i++ + "]";
                    Walk(name, item, depth + 1, lines, seen);
                }
                return;
            }
            foreach (var p in value.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                if (p.GetIndexParameters().Length > 0) continue;
                object v;
                try { v = p.GetValue(value, null); }
                catch (Exception e) { v = "(" + e.GetType().Name + ": " + e.Message + ")"; }
                Walk(p.Name, v, depth + 1, lines, seen);
            }
        }
    }

    /// <summary>SDK log level: the higher, the more detailed.</summary>
    public enum SdkLogLevel
    {
        Fatal = 1,
        Error = 2,
        Warn = 3,
        App = 5,
        Pro = 6,
    }

    /// <summary>NIM's "global_config": the union of the desktop and the
    /// Unity/cocos members of NIM's C# SdkCommonSetting, with NIM's keys and
    /// defaults. Magpie honours DataBaseEncryptKey, LogLevel, CustomTimeout,
    /// MaxLoginRetry and PushCerName (docs/c-api.md, "Init JSON").</summary>
    public class SdkCommonSetting
    {
        /// <summary>Database key (at most 32 characters).</summary>
        [JsonKey("db_encrypt_key")] public string DataBaseEncryptKey { get; set; }
        /// <summary>Preload attachment thumbnails; default true.</summary>
        [JsonKey("preload_attach")] public bool PredownloadAttachmentThumbnail { get; set; }
        [JsonKey("sdk_log_level")] public SdkLogLevel LogLevel { get; set; }
        /// <summary>Use a private server (NIM's spelling; a bool under the key "private_server_setting").</summary>
        [JsonKey("private_server_setting")] public bool UsePriviteServer { get; set; }
        /// <summary>Login timeout, s; default 30.</summary>
        [JsonKey("custom_timeout")] public int CustomTimeout { get; set; }
        /// <summary>How often a failed login is retried.</summary>
        [JsonKey("login_retry_max_times")] public int MaxLoginRetry { get; set; }
        /// <summary>iOS push certificate name (NIM: Unity iOS/Android only).</summary>
        [JsonKey("push_cer_name")] public string PushCerName { get; set; }
        /// <summary>Preloaded image quality 0-100; -1: the SDK's default.</summary>
        [JsonKey("preload_image_quality")] public int PreloadImageQuality { get; set; }
        /// <summary>Preloaded image size, e.g. "100x50".</summary>
        [JsonKey("preload_image_resize")] public string PreloadImageResize { get; set; }
        /// <summary>Sync read state across devices; default true.</summary>
        [JsonKey("sync_session_ack")] public bool SyncSessionAck { get; set; }
        /// <summary>(NIM: Unity/cocos only.)</summary>
        [JsonKey("not_need_save_custom_msg")] public bool NotNeedSaveCustomMsg { get; set; }
        /// <summary>(NIM: Unity/cocos only.)</summary>
        [JsonKey("download_address_template")] public string[] DownloadAddrTemplate { get; set; }
        /// <summary>(NIM: Unity/cocos only.)</summary>
        [JsonKey("accelerate_host")] public string[] AccelerateHost { get; set; }
        /// <summary>(NIM: Unity/cocos only.)</summary>
        [JsonKey("accelerate_address_template")] public string[] AccelerateAddrTemplate { get; set; }
        /// <summary>Use HTTPS; default false.</summary>
        [JsonKey("use_https")] public bool UseHttps { get; set; }
        /// <summary>Team notifications count as unread; default false.</summary>
        [JsonKey("team_notification_unread_count")] public bool CountingTeamNotification { get; set; }
        [JsonKey("animated_image_thumbnail_enabled")] public bool AnimatedImageEnabled { get; set; }
        [JsonKey("client_antispam")] public bool ClientAntiSpam { get; set; }
        [JsonKey("team_msg_ack")] public bool TeamMsgAckEnabled { get; set; }
        /// <summary>Back up the user's data files locally; default true.</summary>
        [JsonKey("enable_user_datafile_backup")] public bool AppDataBackup { get; set; }
        [JsonKey("user_datafile_localbackup_folder")] public string DataBackupPath { get; set; }
        [JsonKey("enable_user_datafile_restore")] public bool AppDataRestore { get; set; }
        [JsonKey("enable_user_datafile_defrestoreproc")] public bool UseDefaultRestore { get; set; }
        [JsonKey("caching_markread_enabled")] public bool CachingMarkreadEnabled { get; set; }
        /// <summary>ms (NIM documents 1000 but leaves it 0).</summary>
        [JsonKey("caching_markread_time")] public int CachingMarkreadTime { get; set; }
        /// <summary>(NIM documents 10 but leaves it 0.)</summary>
        [JsonKey("caching_markread_count")] public int CachingMarkreadCount { get; set; }
        [JsonKey("reset_unread_count_when_recall")] public bool ResetUnreadCountWhenRecall { get; set; }
        /// <summary>Error report addresses (older NIM C# releases).</summary>
        [JsonKey("ntserver_address")] public string[] ErrorReportAddr { get; set; }
        /// <summary>Upload statistics (older NIM C# releases); default false.</summary>
        [JsonKey("is_upload_statistics_data")] public bool IsUploadstatisticsData { get; set; }

        public SdkCommonSetting()
        {
            PredownloadAttachmentThumbnail = true;
            UsePriviteServer = false;
            LogLevel = SdkLogLevel.App;
            PreloadImageQuality = -1;
            SyncSessionAck = true;
            NotNeedSaveCustomMsg = false;
            CustomTimeout = 30;
            UseHttps = false;
            AnimatedImageEnabled = false;
            AppDataBackup = true;
            AppDataRestore = false;
            UseDefaultRestore = false;
            ResetUnreadCountWhenRecall = false;
        }
    }

    /// <summary>NIM's root "private_server_setting": the union of NIM's
    /// desktop and Unity/cocos variants (RSAPublicKey and RsaVersion with the
    /// desktop keys "module" and "version"). Magpie reads the link address
    /// from "link" (a string or an array) or "default_link" (an array).
    /// Null and empty lists are omitted.</summary>
    public class SdkPrivateServerSetting
    {
        [JsonKey("lbs")] public string LbsAddress { get; set; }
        [JsonKey("nos_lbs")] public string NOSLbsAddress { get; set; }
        /// <summary>The link server "host:port" (NIM desktop).</summary>
        [JsonKey("link")] public string LinkServer { get; set; }
        /// <summary>The link servers "host:port" (NIM Unity/cocos).</summary>
        [JsonKey("default_link")] public List<string> LinkServerList { get; set; }
        [JsonKey("nos_uploader")] public string NosUploadServer { get; set; }
        [JsonKey("nos_uploader_host")] public string NosUploadHost { get; set; }
        [JsonKey("module")] public string RSAPublicKey { get; set; }
        [JsonKey("version")] public int RsaVersion { get; set; }
        [JsonKey("nos_downloader")] public string DownloadAddrTemplate { get; set; }
        [JsonKey("nos_accelerate_host")] public string AccelerateHost { get; set; }
        [JsonKey("nos_accelerate")] public string AccelerateTemplate { get; set; }
        [JsonKey("nt_server")] public string ErrorReportServer { get; set; }
        [JsonKey("is_upload_statistics_data")] public bool UploadStatisticsData { get; set; }
        [JsonKey("default_nos_upload")] public List<string> UploadServerList { get; set; }
        [JsonKey("default_nos_download")] public List<string> DownloadServerList { get; set; }
        [JsonKey("default_nos_access")] public List<string> AccessServerList { get; set; }

        public SdkPrivateServerSetting()
        {
            RsaVersion = 0;
        }
    }

    /// <summary>NIM's init configuration:
    /// {"global_config":{..},"private_server_setting":{..},"app_key":"..","server_conf_file_path":".."}.</summary>
    public class NimConfig : NimJsonObject<NimConfig>
    {
        [JsonKey("global_config")] public SdkCommonSetting CommonSetting { get; set; }
        /// <summary>Omitted when null.</summary>
        [JsonKey("private_server_setting")] public SdkPrivateServerSetting PrivateServerSetting { get; set; }
        [JsonKey("app_key")] public string AppKey { get; set; }
        /// <summary>Omitted when null.</summary>
        [JsonKey("server_conf_file_path")] public string ServerConfFilePath { get; set; }

        /// <summary>NIM's spelling: true when CommonSetting is set (ClientAPI.Init sends the config only then).</summary>
        public bool IsValiad()
        {
            return CommonSetting != null;
        }
    }

    /// <summary>Managed objects passed to C as a number (user_data), for one-shot callbacks.</summary>
    internal static class CallbackTable
    {
        static readonly Dictionary<long, object> table = new Dictionary<long, object>();
        static long next = 1;

        public static IntPtr Put(object o)
        {
            if (o == null) return IntPtr.Zero;
            lock (table) { long id = next++; table[id] = o; return new IntPtr(id); }
        }

        /// <summary>The object, left in the table (callbacks that fire many times).</summary>
        public static T Get<T>(IntPtr p) where T : class
        {
            if (p == IntPtr.Zero) return null;
            lock (table) { object o; return table.TryGetValue(p.ToInt64(), out o) ? o as T : null; }
        }

        /// <summary>The object, removed from the table (one-shot callbacks).</summary>
        public static T Take<T>(IntPtr p) where T : class
        {
            if (p == IntPtr.Zero) return null;
            lock (table)
            {
                object o;
                long id = p.ToInt64();
                if (!table.TryGetValue(id, out o)) return null;
                table.Remove(id);
                return o as T;
            }
        }

        public static void Remove(IntPtr p)
        {
            if (p == IntPtr.Zero) return;
            lock (table) table.Remove(p.ToInt64());
        }
    }

    /// <summary>Runs managed callback code called from C: an exception must
    /// not unwind into the SDK, so it is written to stderr.</summary>
    internal static class NativeCallback
    {
        [ThreadStatic] static int depth;

        /// <summary>True on a thread inside one of these callbacks.</summary>
        public static bool Inside { get { return depth > 0; } }

        public static void Run(Action a)
        {
            depth++;
            try { a(); }
            catch (Exception e) { Console.Error.WriteLine("NIM callback failed: " + e); }
            finally { depth--; }
        }
    }

    /// <summary>A small JSON reader and writer (NIM uses Newtonsoft.Json).</summary>
    public static class Json
    {
        /// <summary>A JSON string literal (escaping as Newtonsoft does).</summary>
        public static string Quote(string s)
        {
            var sb = new StringBuilder(s == null ? 2 : s.Length + 2);
            AppendQuoted(sb, s ?? "");
            return sb.ToString();
        }

        static void AppendQuoted(StringBuilder sb, string s)
        {
            sb.Append('"');
            foreach (char c in s)
            {
                switch (c)
                {
                    case '"': sb.Append("\\\""); break;
                    case '\\': sb.Append("\\\\"); break;
                    case '\n': sb.Append("\\n"); break;
                    case '\r': sb.Append("\\r"); break;
                    case '\t': sb.Append("\\t"); break;
                    case '\b': sb.Append("\\b"); break;
                    case '\f': sb.Append("\\f"); break;
                    default:
                        if (c < 0x20 || c == '\u0085' || c == '\u2028' || c == '\u2029')
                            sb.AppendFormat("\\u{0:x4}", (int)c);
                        else
                            sb.Append(c);
                        break;
                }
            }
            sb.Append('"');
        }

        // ----- reading -----

        /// <summary>Parses JSON into Dictionary&lt;string, object&gt;, List&lt;object&gt;,
        /// string, bool, long (integers; ulong or double beyond long), double or null.</summary>
        public static object Parse(string s)
        {
            if (s == null) throw new ArgumentNullException("s");
            int i = 0;
            object v = Value(s, ref i);
            return v;
        }

        static void Ws(string s, ref int i) { while (i < s.Length && char.IsWhiteSpace(s[i])) i++; }

        static char Peek(string s, int i)
        {
            if (i >= s.Length) throw new FormatException("unexpected end of JSON");
            return s[i];
        }

        static void Expect(string s, ref int i, char c)
        {
            Ws(s, ref i);
            if (Peek(s, i) != c) throw new FormatException("expected '" + c + "' at " + i);
            i++;
        }

        static object Value(string s, ref int i)
        {
            Ws(s, ref i);
            char c = Peek(s, i);
            if (c == '{')
            {
                var o = new Dictionary<string, object>();
                i++; Ws(s, ref i);
                if (Peek(s, i) == '}') { i++; return o; }
                while (true)
                {
                    Ws(s, ref i);
                    if (Peek(s, i) != '"') throw new FormatException("expected a key at " + i);
                    string k = Str(s, ref i);
                    Expect(s, ref i, ':');
                    o[k] = Value(s, ref i);
                    Ws(s, ref i);
                    char d = Peek(s, i++);
                    if (d == ',') continue;
                    if (d == '}') return o;
                    throw new FormatException("expected ',' or '}' at " + (i - 1));
                }
            }
            if (c == '[')
            {
                var a = new List<object>();
                i++; Ws(s, ref i);
                if (Peek(s, i) == ']') { i++; return a; }
                while (true)
                {
                    a.Add(Value(s, ref i));
                    Ws(s, ref i);
                    char d = Peek(s, i++);
                    if (d == ',') continue;
                    if (d == ']') return a;
                    throw new FormatException("expected ',' or ']' at " + (i - 1));
                }
            }
            if (c == '"') return Str(s, ref i);
            if (string.CompareOrdinal(s, i, "true", 0, 4) == 0) { i += 4; return true; }
            if (string.CompareOrdinal(s, i, "false", 0, 5) == 0) { i += 5; return false; }
            if (string.CompareOrdinal(s, i, "null", 0, 4) == 0) { i += 4; return null; }
            int start = i;
            while (i < s.Length && "+-0123456789.eE".IndexOf(s[i]) >= 0) i++;
            if (i == start) throw new FormatException("unexpected '" + c + "' at " + i);
            string n = s.Substring(start, i - start);
            if (n.IndexOfAny(new[] { '.', 'e', 'E' }) < 0)
            {
                long l;
                if (long.TryParse(n, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out l)) return l;
                ulong u;
                if (ulong.TryParse(n, NumberStyles.None, CultureInfo.InvariantCulture, out u)) return u;
            }
            return double.Parse(n, NumberStyles.Float, CultureInfo.InvariantCulture);
        }

        static string Str(string s, ref int i)
        {
            var sb = new StringBuilder();
            i++; // opening quote
            while (Peek(s, i) != '"')
            {
                if (s[i] == '\\')
                {
                    i++;
                    char e = Peek(s, i);
                    if (e == 'u')
                    {
                        if (i + 4 >= s.Length) throw new FormatException("bad \\u escape");
                        sb.Append((char)Convert.ToInt32(s.Substring(i + 1, 4), 16));
                        i += 4;
                    }
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
            if (o == null || !o.TryGetValue(k, out v)) return 0;
            if (v is long) return (long)v;
            if (v is double) return (long)(double)v;
            if (v is ulong) return unchecked((long)(ulong)v);
            return 0;
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

        /// <summary>A C string (UTF-8) as a string; "" for NULL.</summary>
        internal static string FromUtf8(IntPtr p)
        {
            if (p == IntPtr.Zero) return "";
            int n = 0;
            while (Marshal.ReadByte(p, n) != 0) n++;
            var b = new byte[n];
            Marshal.Copy(p, b, 0, n);
            return Encoding.UTF8.GetString(b);
        }

        // ----- the [JsonKey] members of a type -----

        sealed class Member
        {
            public string Key;
            public Type Type;
            public PropertyInfo Property;
            public FieldInfo Field;

            public object Get(object o) { return Property != null ? Property.GetValue(o, null) : Field.GetValue(o); }
            public void Set(object o, object v) { if (Property != null) Property.SetValue(o, v, null); else Field.SetValue(o, v); }
            public bool CanSet { get { return Property == null || Property.CanWrite; } }
        }

        static readonly Dictionary<Type, List<Member>> members = new Dictionary<Type, List<Member>>();

        /// <summary>The members with [JsonKey], most derived type first, each
        /// type's in declaration order.</summary>
        static List<Member> MembersOf(Type t)
        {
            lock (members)
            {
                List<Member> list;
                if (members.TryGetValue(t, out list)) return list;
                list = new List<Member>();
                var keys = new HashSet<string>();
                const BindingFlags flags = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly;
                for (var c = t; c != null && c != typeof(object); c = c.BaseType)
                {
                    var own = new List<Member>();
                    var tokens = new List<int>();
                    foreach (var p in c.GetProperties(flags))
                    {
                        var a = (JsonKeyAttribute)Attribute.GetCustomAttribute(p, typeof(JsonKeyAttribute));
                        if (a == null || p.GetIndexParameters().Length > 0) continue;
                        own.Add(new Member { Key = a.Key, Type = p.PropertyType, Property = p });
                        tokens.Add(p.MetadataToken);
                    }
                    foreach (var f in c.GetFields(flags))
                    {
                        var a = (JsonKeyAttribute)Attribute.GetCustomAttribute(f, typeof(JsonKeyAttribute));
                        if (a == null) continue;
                        own.Add(new Member { Key = a.Key, Type = f.FieldType, Field = f });
                        tokens.Add(f.MetadataToken);
                    }
                    var order = own.ToArray();
                    Array.Sort(tokens.ToArray(), order);
                    foreach (var m in order)
                        if (keys.Add(m.Key)) list.Add(m);
                }
                members[t] = list;
                return list;
            }
        }

        // ----- writing -----

        /// <summary>`obj` as JSON: the [JsonKey] members of classes (null ones
        /// and empty collections omitted), enums as integers; "" for null.</summary>
        public static string Serialize(object obj, bool indented = false)
        {
            if (obj == null) return string.Empty;
            var sb = new StringBuilder();
            Write(sb, obj, indented, 0);
            return sb.ToString();
        }

        static bool Omitted(object v)
        {
            if (v == null) return true;
            var c = v as ICollection;
            return c != null && !(v is string) && c.Count == 0;
        }

        static void NewLine(StringBuilder sb, bool indented, int level)
        {
            if (!indented) return;
            sb.Append(Environment.NewLine).Append(' ', level * 2);
        }

        static void Write(StringBuilder sb, object v, bool indented, int level)
        {
            if (v == null) { sb.Append("null"); return; }
            var t = v.GetType();
            if (v is string) { AppendQuoted(sb, (string)v); return; }
            if (v is bool) { sb.Append((bool)v ? "true" : "false"); return; }
            if (v is char) { AppendQuoted(sb, v.ToString()); return; }
            if (t.IsEnum)
            {
                sb.Append(Convert.ToString(Convert.ChangeType(v, Enum.GetUnderlyingType(t), CultureInfo.InvariantCulture), CultureInfo.InvariantCulture));
                return;
            }
            if (v is double || v is float)
            {
                double d = Convert.ToDouble(v, CultureInfo.InvariantCulture);
                string s = d.ToString("R", CultureInfo.InvariantCulture);
                if (!double.IsNaN(d) && !double.IsInfinity(d) && s.IndexOfAny(new[] { '.', 'E', 'e' }) < 0) s += ".0";
                if (double.IsNaN(d) || double.IsInfinity(d)) AppendQuoted(sb, s); else sb.Append(s);
                return;
            }
            if (v is decimal || t.IsPrimitive)
            {
                sb.Append(Convert.ToString(v, CultureInfo.InvariantCulture));
                return;
            }
            var dict = v as IDictionary;
            if (dict != null)
            {
                var keys = new List<string>();
                var vals = new List<object>();
                foreach (DictionaryEntry e in dict)
                {
                    if (Omitted(e.Value)) continue;
                    keys.Add(Convert.ToString(e.Key, CultureInfo.InvariantCulture));
                    vals.Add(e.Value);
                }
                WriteObject(sb, keys, vals, indented, level);
                return;
            }
            var seq = v as IEnumerable;
            if (seq != null)
            {
                int n = 0;
                sb.Append('[');
                foreach (var item in seq)
                {
                    if (n++ > 0) sb.Append(',');
                    NewLine(sb, indented, level + 1);
                    Write(sb, item, indented, level + 1);
                }
                if (n > 0) NewLine(sb, indented, level);
                sb.Append(']');
                return;
            }
            var ks = new List<string>();
            var vs = new List<object>();
            foreach (var m in MembersOf(t))
            {
                var value = m.Get(v);
                if (Omitted(value)) continue;
                ks.Add(m.Key);
                vs.Add(value);
            }
            WriteObject(sb, ks, vs, indented, level);
        }

        static void WriteObject(StringBuilder sb, List<string> keys, List<object> values, bool indented, int level)
        {
            sb.Append('{');
            for (int i = 0; i < keys.Count; i++)
            {
                if (i > 0) sb.Append(',');
                NewLine(sb, indented, level + 1);
                AppendQuoted(sb, keys[i]);
                sb.Append(indented ? ": " : ":");
                Write(sb, values[i], indented, level + 1);
            }
            if (keys.Count > 0) NewLine(sb, indented, level);
            sb.Append('}');
        }

        // ----- binding parsed JSON to types -----

        /// <summary>`json` as a T (see ToObject); default(T) when empty.</summary>
        public static T Deserialize<T>(string json)
        {
            if (string.IsNullOrEmpty(json)) return default(T);
            return (T)ToObject(Parse(json), typeof(T));
        }

        /// <summary>A value from Parse as an instance of `t`: classes through
        /// their [JsonKey] members (missing keys keep the constructor's
        /// values, null ones are ignored), enums from integers or names,
        /// lists and arrays element by element.</summary>
        internal static object ToObject(object v, Type t)
        {
            if (v == null)
                return t.IsValueType ? Activator.CreateInstance(t) : null;
            if (t == typeof(object)) return v;
            var under = Nullable.GetUnderlyingType(t);
            if (under != null) return ToObject(v, under);
            if (t == typeof(string))
            {
                if (v is string) return v;
                if (v is bool) return (bool)v ? "true" : "false";
                if (v is Dictionary<string, object> || v is List<object>) return Serialize(v);
                return Convert.ToString(v, CultureInfo.InvariantCulture);
            }
            if (t.IsEnum)
            {
                var s = v as string;
                if (s != null) return Enum.Parse(t, s, true);
                return Enum.ToObject(t, ToObject(v, Enum.GetUnderlyingType(t)));
            }
            if (t == typeof(bool))
            {
                if (v is bool) return v;
                var s = v as string;
                if (s != null) return s == "1" || string.Equals(s, "true", StringComparison.OrdinalIgnoreCase);
                return Convert.ToDouble(v, CultureInfo.InvariantCulture) != 0;
            }
            if (t.IsPrimitive || t == typeof(decimal))
            {
                if (v is bool) v = (bool)v ? 1L : 0L;
                if (v is double && t != typeof(double) && t != typeof(float) && t != typeof(decimal))
                    v = Math.Truncate((double)v);
                return Convert.ChangeType(v, t, CultureInfo.InvariantCulture);
            }
            if (t.IsArray)
            {
                var items = v as List<object>;
                if (items == null) return null;
                var et = t.GetElementType();
                var arr = Array.CreateInstance(et, items.Count);
                for (int i = 0; i < items.Count; i++) arr.SetValue(ToObject(items[i], et), i);
                return arr;
            }
            if (t.IsGenericType && t.GetGenericArguments().Length == 1 && typeof(IList).IsAssignableFrom(t))
            {
                var items = v as List<object>;
                if (items == null) return null;
                var et = t.GetGenericArguments()[0];
                var list = (IList)Activator.CreateInstance(t);
                foreach (var item in items) list.Add(ToObject(item, et));
                return list;
            }
            var o = v as Dictionary<string, object>;
            if (o == null) return null;
            if (typeof(IDictionary).IsAssignableFrom(t))
            {
                var vt = t.IsGenericType && t.GetGenericArguments().Length == 2 ? t.GetGenericArguments()[1] : typeof(object);
                var d = (IDictionary)Activator.CreateInstance(t);
                foreach (var kv in o) d[kv.Key] = ToObject(kv.Value, vt);
                return d;
            }
            var obj = Activator.CreateInstance(t, true);
            foreach (var m in MembersOf(t))
            {
                object raw;
                if (!o.TryGetValue(m.Key, out raw) || raw == null || !m.CanSet) continue;
                m.Set(obj, ToObject(raw, m.Type));
            }
            return obj;
        }
    }
}

namespace NIM
{
    /// <summary>NIM's result codes (NIM C# NIMResponseCode.cs, in its order).</summary>
    public enum ResponseCode
    {
        kNIMResError = 0,
        kNIMResSuccess = 200,
        kNIMResVersionError = 201,
        kNIMResUidPassError = 302,
        kNIMResForbidden = 403,
        kNIMResNotExist = 404,
        kNIMResNoModify = 406,
        kNIMResTimeoutError = 408,
        kNIMResParameterError = 414,
        kNIMResConnectionError = 415,
        kNIMResFrequently = 416,
        kNIMResExist = 417,
        kNIMResOverrun = 419,
        kNIMResAccountBlock = 422,
        kNIMResUnknownError = 500,
        kNIMResServerDataError = 501,
        kNIMResTooBuzy = 503,
        kNIMResInvalid = 509,
        kNIMResTeamECountLimit = 801,
        kNIMResTeamENAccess = 802,
        kNIMResTeamENotExist = 803,
        kNIMResTeamEMemberNotExist = 804,
        kNIMResTeamErrType = 805,
        kNIMResTeamLimit = 806,
        kNIMResTeamUserStatusErr = 807,
        kNIMResTeamApplySuccess = 808,
        kNIMResTeamAlreadyIn = 809,
        kNIMResTeamInviteSuccess = 810,
        kNIMResForcePushCountLimit = 811,
        kNIMResTeamMemberLimit = 813,
        kNIMResInvalidProtocol = 997,
        kNIMResEUnpacket = 998,
        kNIMResEPacket = 999,
        kNIMResInBlack = 7101,
        kNIMLocalRes = 10000,
        kNIMResRoomLocalNeedRequestAgain = 10001,
        kNIMLocalResNetworkError = 10010,
        kNIMLocalResMsgNosUploadCancel = 10200,
        kNIMLocalResMsgNosDownloadCancel = 10206,
        kNIMLocalResMsgFileNotExist = 10404,
        kNIMLocalResMsgUrlInvalid = 10414,
        kNIMLocalResMsgFileExist = 10417,
        kNIMLocalResParaError = 10450,
        kNIMLocalResMsgSendNosError = 10502,
        kNIMLocalResCheckMsgDBFailed = 10600,
        kNIMLocalResImportMsgDBFailed = 10601,
        kNIMLocalResRtsError = 11100,
        kNIMLocalResRtsIdNotExist = 11101,
        kNIMLocalResRtsVChatExist = 11417,
        kNIMLocalResRtsStatusError = 11501,
        kNIMLocalResRtsChannelNotExist = 11510,
        kNIMResRoomLinkError = 13001,
        kNIMResRoomError = 13002,
        kNIMResRoomBlackBeOut = 13003,
        kNIMResRoomBeMuted = 13004,
        kNIMResRoomAllMuted = 13006,
        kNIMLocalResAPIErrorInitUndone = 20000,
        kNIMLocalResAPIErrorEnterUndone = 20001,
        kNIMLocalResAPIErrorEntered = 20002,
        kNIMLocalResAPIErrorVersionError = 20003,
        kNIMLocalResAPIErrorChatroomMixError = 20004,
    }

    public enum NIMLogoutType
    {
        kNIMLogoutChangeAccout = 1, // NIM's spelling
        kNIMLogoutKickout = 2,
        kNIMLogoutAppExit = 3,
        kNIMLogoutRelogin = 4,
    }

    public enum NIMKickReason
    {
        kNIMKickReasonSameGeneric = 1,
        kNIMKickReasonServerKick = 2,
        kNIMKickReasonKickBySelfOtherClient = 3,
    }

    public enum NIMClientType
    {
        kNIMClientTypeAndroid = 1,
        kNIMClientTypeiOS = 2,
        kNIMClientTypePCWindows = 4,
        kNIMClientTypeWeb = 16,
        kNIMClientTypeRestAPI = 32,
        kNIMClientTypeMacOS = 64,
    }

    public enum NIMLoginStep
    {
        kNIMLoginStepLinking = 0,
        kNIMLoginStepLink = 1,
        kNIMLoginStepLogining = 2,
        kNIMLoginStepLogin = 3,
    }

    public enum NIMMultiSpotNotifyType
    {
        kNIMMultiSpotNotifyTypeImIn = 2,
        kNIMMultiSpotNotifyTypeImOut = 3,
    }

    public enum NIMLoginState
    {
        kNIMLoginStateLogin = 1,
        kNIMLoginStateUnLogin = 2,
    }

    public enum NIMProxyType
    {
        kNIMProxyNone = 0,
        kNIMProxyHttp11 = 1,
        kNIMProxySocks4 = 4,
        kNIMProxySocks4a = 5,
        kNIMProxySocks5 = 6,
    }

    public enum NIMProxyDetectStep
    {
        kNIMProxyDetectStepAllComplete = 5,
    }

    /// <summary>One of the account's devices.</summary>
    public class NIMMultiClientLoginInfo : NimJsonObject<NIMMultiClientLoginInfo>
    {
        [JsonKey("app_account")] public string AppAccount { get; set; }
        [JsonKey("client_type")] public NIMClientType ClientType { get; set; }
        [JsonKey("client_os")] public string OperateSystem { get; set; }
        [JsonKey("mac")] public string MacAddress { get; set; }
        [JsonKey("device_id")] public string DeviceID { get; set; }
        /// <summary>Login time, ms.</summary>
        [JsonKey("login_time")] public long LoginTimeStamp { get; set; }
        [JsonKey("custom_tag")] public string CustomTag { get; set; }
    }

    /// <summary>A login (or automatic re-login) step.</summary>
    public class NIMLoginResult : NimJsonObject<NIMLoginResult>
    {
        [JsonKey("err_code")] public ResponseCode Code { get; set; }
        [JsonKey("relogin")] public bool IsRelogin { get; set; }
        [JsonKey("login_step")] public NIMLoginStep LoginStep { get; set; }
        /// <summary>The account's other online devices (on success).</summary>
        [JsonKey("other_clients_pres")] public List<NIMMultiClientLoginInfo> LoginedClients { get; set; }
    }

    public class NIMLogoutResult : NimJsonObject<NIMLogoutResult>
    {
        [JsonKey("err_code")] public ResponseCode Code { get; set; }
    }

    /// <summary>Which of my other devices to kick ({"device_ids":[..]}).</summary>
    public class NIMKickoutOtherDeviceInfo : NimJsonObject<NIMKickoutOtherDeviceInfo>
    {
        [JsonKey("device_ids")] public List<string> DeviceIDs { get; set; }
    }

    /// <summary>This device was kicked.</summary>
    public class NIMKickoutResult : NimJsonObject<NIMKickoutResult>
    {
        [JsonKey("client_type")] public NIMClientType ClientType { get; set; }
        [JsonKey("reason_code")] public NIMKickReason KickReason { get; set; }
    }

    /// <summary>Other devices of the account came (ImIn) or left (ImOut).</summary>
    public class NIMMultiSpotLoginNotifyResult : NimJsonObject<NIMMultiSpotLoginNotifyResult>
    {
        [JsonKey("multi_spot_notiy_type")] public NIMMultiSpotNotifyType NotifyType { get; set; } // NIM's key spelling
        [JsonKey("other_clients_pres")] public List<NIMMultiClientLoginInfo> OtherClients { get; set; }
    }

    /// <summary>The result of KickOtherClients.</summary>
    public class NIMKickOtherResult : NimJsonObject<NIMKickOtherResult>
    {
        [JsonKey("err_code")] public ResponseCode ResCode { get; set; }
        [JsonKey("device_ids")] public List<string> DeviceIDs { get; set; }
    }

    public class LoginResultEventArgs : EventArgs
    {
        public NIMLoginResult LoginResult { get; private set; }

        public LoginResultEventArgs(NIMLoginResult result)
        {
            LoginResult = result;
        }
    }

    /// <summary>The multiport push switch: {"switch_open":1} (a desktop
    /// online mutes mobile push: Enabled false) or 2 (mobile devices still
    /// get push: Enabled true).</summary>
    public class ConfigMultiportPushParam : NimJsonObject<ConfigMultiportPushParam>
    {
        [JsonKey("switch_open")] private int switch_open { get; set; }

        public bool Enabled
        {
            get { return switch_open != 1; }
            set { switch_open = value ? 2 : 1; }
        }
    }

    public delegate void ConfigMultiportPushDelegate(ResponseCode response, ConfigMultiportPushParam param);
    public delegate void NimProxyDetectionDelegate(bool connection, NIMProxyDetectStep step);

    internal static class NIMGlobal
    {
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        public delegate void JsonTransportCb(IntPtr jsonParams, IntPtr userData);
    }

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    internal delegate void nim_client_multiport_push_config_cb_func(int rescode, IntPtr content, IntPtr jsonParams, IntPtr userData);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    internal delegate void nim_global_detect_proxy_cb_func([MarshalAs(UnmanagedType.I1)] bool networkConnect, int step, IntPtr jsonParams, IntPtr userData);

    internal static class ClientNativeMethods
    {
        const string Lib = "nim";
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        [return: MarshalAs(UnmanagedType.I1)]
        public static extern bool nim_client_init([MarshalAs(UnmanagedType.LPUTF8Str)] string appDataDir, [MarshalAs(UnmanagedType.LPUTF8Str)] string appInstallDir, [MarshalAs(UnmanagedType.LPUTF8Str)] string jsonExtension);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        public static extern void nim_client_cleanup([MarshalAs(UnmanagedType.LPUTF8Str)] string jsonExtension);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        public static extern void nim_client_cleanup2(NIMGlobal.JsonTransportCb cb, [MarshalAs(UnmanagedType.LPUTF8Str)] string jsonExtension, IntPtr userData);
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
        public static extern void nim_client_reg_sync_multiport_push_config_cb([MarshalAs(UnmanagedType.LPUTF8Str)] string jsonExtension, nim_client_multiport_push_config_cb_func cb, IntPtr userData);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        public static extern void nim_client_set_multiport_push_config([MarshalAs(UnmanagedType.LPUTF8Str)] string switchContent, [MarshalAs(UnmanagedType.LPUTF8Str)] string jsonExtension, nim_client_multiport_push_config_cb_func cb, IntPtr userData);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        public static extern void nim_client_get_multiport_push_config([MarshalAs(UnmanagedType.LPUTF8Str)] string jsonExtension, nim_client_multiport_push_config_cb_func cb, IntPtr userData);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        public static extern void nim_client_update_apns_token([MarshalAs(UnmanagedType.LPUTF8Str)] string deviceToken);
        /// <summary>Owned by the library: not freed.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        public static extern IntPtr nim_client_version();
    }

    internal static class NIMGlobalNativeMethods
    {
        const string Lib = "nim";
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        public static extern void nim_global_free_str_buf(IntPtr str);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        public static extern void nim_global_free_buf(IntPtr data);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        public static extern void nim_global_set_proxy(NIMProxyType type, [MarshalAs(UnmanagedType.LPUTF8Str)] string host, int port, [MarshalAs(UnmanagedType.LPUTF8Str)] string user, [MarshalAs(UnmanagedType.LPUTF8Str)] string password);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        public static extern void nim_global_detect_proxy(NIMProxyType type, [MarshalAs(UnmanagedType.LPUTF8Str)] string host, int port, [MarshalAs(UnmanagedType.LPUTF8Str)] string user, [MarshalAs(UnmanagedType.LPUTF8Str)] string password, nim_global_detect_proxy_cb_func cb, IntPtr userData);
    }

    /// <summary>SDK init and cleanup, login, logout, re-login, kick-out,
    /// multispot and the multiport push switch.</summary>
    public class ClientAPI
    {
        /// <summary>Raised (sender null) on every login and automatic re-login result.</summary>
        public static EventHandler<LoginResultEventArgs> LoginResultHandler;

        public delegate void KickOtherClientResultHandler(NIMKickOtherResult result);
        public delegate void MultiSpotLoginNotifyResultHandler(NIMMultiSpotLoginNotifyResult result);
        public delegate void KickoutResultHandler(NIMKickoutResult result);
        public delegate void LogoutResultDelegate(NIMLogoutResult result);
        public delegate void LoginResultDelegate(NIMLoginResult result);

        private static bool _sdkInitialized = false;

        /// <summary>Whether Init succeeded (and Cleanup has not run since).</summary>
        public static bool SdkInitialized
        {
            get { return _sdkInitialized; }
        }

        // Every delegate handed to C lives in a static field, so the garbage
        // collector never frees one that C still holds. Registered handlers
        // live in static fields; one-shot ones travel as user_data through
        // NimUtility.CallbackTable.
        static readonly NIMGlobal.JsonTransportCb LoginResultCallback = OnLoginResult;
        static readonly NIMGlobal.JsonTransportCb AutoReloginCallback = OnAutoRelogin;
        static readonly NIMGlobal.JsonTransportCb LogoutResultCallback = OnLogoutResult;
        static readonly NIMGlobal.JsonTransportCb BeKickedOfflineCallback = OnBeKickedOffline;
        static readonly NIMGlobal.JsonTransportCb DisconnectedCallback = OnDisconnected;
        static readonly NIMGlobal.JsonTransportCb MultiSpotLoginNotifyCallback = OnMultiSpotLoginNotify;
        static readonly NIMGlobal.JsonTransportCb KickOtherClientCallback = OnKickOtherClient;
        static readonly NIMGlobal.JsonTransportCb Cleanup2Callback = OnCleanup2;
        static readonly nim_client_multiport_push_config_cb_func ConfigMultiportPushCb = OnConfigMultiportPush;
        static readonly nim_client_multiport_push_config_cb_func MultiportPushEnableChangedCb = OnMultiportPushEnableChanged;

        static LoginResultDelegate autoReloginHandler;
        static KickoutResultHandler kickoutHandler;
        static Action disconnectHandler;
        static MultiSpotLoginNotifyResultHandler multiSpotHandler;
        static KickOtherClientResultHandler kickOtherHandler;
        static ConfigMultiportPushDelegate multiportPushChangedHandler;

        /// <summary>Initialises the SDK. The config is sent only when valid
        /// (CommonSetting set); Magpie needs its link address in
        /// PrivateServerSetting (or MAGPIE_LINK_ADDRESS in the environment).</summary>
        public static bool Init(string appDataDir, string appInstallDir = "", NimConfig config = null)
        {
            if (_sdkInitialized)
            {
                RegisterSdkCallbacks();
                return true;
            }
            string configJson = null;
            if (config != null && config.IsValiad())
                configJson = config.Serialize();
            _sdkInitialized = ClientNativeMethods.nim_client_init(appDataDir, appInstallDir, configJson);
            if (_sdkInitialized)
                RegisterSdkCallbacks();
            return _sdkInitialized;
        }

        /// <summary>Initialises the SDK with an app key (NIM desktop's init).
        /// A valid config without an AppKey gets `appKey`; without a valid
        /// config only {"app_key":..} is sent.</summary>
        public static bool Init(string appKey, string appDataDir, string appInstallDir = "", NimConfig config = null)
        {
            if (_sdkInitialized)
            {
                RegisterSdkCallbacks();
                return true;
            }
            string configJson;
            if (config != null && config.IsValiad())
            {
                // NIM's C# SDK tests `string.IsNullOrEmpty(appKey)` here, so it
                // copies only an empty key and a non-empty one is lost; this
                // fills in the key when the config has none.
                if (string.IsNullOrEmpty(config.AppKey))
                    config.AppKey = appKey;
                configJson = config.Serialize();
            }
            else
            {
                configJson = new NimConfig { AppKey = appKey }.Serialize();
            }
            _sdkInitialized = ClientNativeMethods.nim_client_init(appDataDir, appInstallDir, configJson);
            if (_sdkInitialized)
                RegisterSdkCallbacks();
            return _sdkInitialized;
        }

        static readonly string[] CallbackApis =
        {
            "NIM.Friend.FriendAPI", "NIM.TalkAPI", "NIM.Session.SessionAPI",
            "NIM.SysMessage.SysMsgAPI", "NIM.Team.TeamAPI", "NIM.User.UserAPI",
        };

        /// <summary>Registers the global callbacks of the other modules
        /// (RegisterCallbacks of FriendAPI, TalkAPI, SessionAPI, SysMsgAPI,
        /// TeamAPI and UserAPI, those compiled in). Init calls it.</summary>
        public static void RegisterSdkCallbacks()
        {
            var asm = typeof(ClientAPI).Assembly;
            foreach (var name in CallbackApis)
            {
                var t = asm.GetType(name);
                if (t == null) continue;
                var m = t.GetMethod("RegisterCallbacks", BindingFlags.Public | BindingFlags.Static, null, Type.EmptyTypes, null);
                if (m != null) m.Invoke(null, null);
            }
        }

        /// <summary>Ends the SDK (synchronous).</summary>
        public static void Cleanup()
        {
            if (!_sdkInitialized) return;
            ClientNativeMethods.nim_client_cleanup(null);
            _sdkInitialized = false;
        }

        /// <summary>Ends the SDK through nim_client_cleanup2 and waits (at most
        /// 10 s) for its callback; inside an SDK callback it does not wait.</summary>
        public static void CleanupEx()
        {
            if (!_sdkInitialized) return;
            var done = new ManualResetEvent(false);
            IntPtr id = CallbackTable.Put(done);
            ClientNativeMethods.nim_client_cleanup2(Cleanup2Callback, null, id);
            _sdkInitialized = false;
            if (!NativeCallback.Inside)
                done.WaitOne(TimeSpan.FromSeconds(10));
            CallbackTable.Remove(id);
        }

        /// <summary>Logs in; `handler` hears every step. Returns silently when
        /// appKey, account or token is empty (as NIM's).</summary>
        public static void Login(string appKey, string account, string token, LoginResultDelegate handler = null)
        {
            if (string.IsNullOrEmpty(appKey) || string.IsNullOrEmpty(account) || string.IsNullOrEmpty(token))
                return;
            // Each call's handler gets its own login's steps (a login refused
            // while another runs gets only its 20002); as NIM's C# does, the
            // handler is kept, since a login's callback may come any number
            // of times.
            IntPtr id = CallbackTable.Put(handler);
            ClientNativeMethods.nim_client_login(appKey, account, token, null, LoginResultCallback, id);
        }

        /// <summary>Logs in again with the last account (results reach RegAutoReloginCb's handler).</summary>
        public static void Relogin(string jsonExtension = null)
        {
            ClientNativeMethods.nim_client_relogin(jsonExtension);
        }

        /// <summary>Logs out; `delegate` hears the result once.</summary>
        public static void Logout(NIMLogoutType logoutType, LogoutResultDelegate @delegate)
        {
            ClientNativeMethods.nim_client_logout(logoutType, null, LogoutResultCallback, CallbackTable.Put(@delegate));
        }

        /// <summary>Logs out and waits for the result, at most `waitSeconds`.</summary>
        public static void Logout(NIMLogoutType logoutType, int waitSeconds = 10)
        {
            var semaphore = new Semaphore(0, 1);
            Logout(logoutType, r => semaphore.Release());
            semaphore.WaitOne(TimeSpan.FromSeconds(waitSeconds));
        }

        /// <summary>Kicks my other devices; the result reaches RegKickOtherClientCb's handler.</summary>
        public static void KickOtherClients(NIMKickoutOtherDeviceInfo devices)
        {
            ClientNativeMethods.nim_client_kick_other_client(devices == null ? null : devices.Serialize());
        }

        public static void RegAutoReloginCb(LoginResultDelegate handler, string jsonExtension = null)
        {
            autoReloginHandler = handler;
            ClientNativeMethods.nim_client_reg_auto_relogin_cb(jsonExtension, AutoReloginCallback, IntPtr.Zero);
        }

        /// <summary>This device was kicked. (NIM's C# SDK frees the handler
        /// after the first kick; here it stays until replaced.)</summary>
        public static void RegKickoutCb(KickoutResultHandler handler)
        {
            kickoutHandler = handler;
            ClientNativeMethods.nim_client_reg_kickout_cb(null, BeKickedOfflineCallback, IntPtr.Zero);
        }

        public static void RegDisconnectedCb(Action handler)
        {
            disconnectHandler = handler;
            ClientNativeMethods.nim_client_reg_disconnect_cb(null, DisconnectedCallback, IntPtr.Zero);
        }

        public static void RegMultiSpotLoginNotifyCb(MultiSpotLoginNotifyResultHandler handler)
        {
            multiSpotHandler = handler;
            ClientNativeMethods.nim_client_reg_multispot_login_notify_cb(null, MultiSpotLoginNotifyCallback, IntPtr.Zero);
        }

        /// <summary>Results of KickOtherClients. (NIM's C# SDK frees the
        /// handler after the first result; here it stays until replaced.)</summary>
        public static void RegKickOtherClientCb(KickOtherClientResultHandler handler)
        {
            kickOtherHandler = handler;
            ClientNativeMethods.nim_client_reg_kickout_other_client_cb(null, KickOtherClientCallback, IntPtr.Zero);
        }

        /// <summary>Mobile devices get push while a desktop is online: sends {"switch_open":2}.</summary>
        public static void EnableMultiportPush(ConfigMultiportPushDelegate cb)
        {
            var param = new ConfigMultiportPushParam { Enabled = true };
            ClientNativeMethods.nim_client_set_multiport_push_config(param.Serialize(), null, ConfigMultiportPushCb, CallbackTable.Put(cb));
        }

        /// <summary>Mobile devices get no push while a desktop is online: sends {"switch_open":1}.</summary>
        public static void DisableMultiportPush(ConfigMultiportPushDelegate cb)
        {
            var param = new ConfigMultiportPushParam { Enabled = false };
            ClientNativeMethods.nim_client_set_multiport_push_config(param.Serialize(), null, ConfigMultiportPushCb, CallbackTable.Put(cb));
        }

        /// <summary>Reads the multiport push switch.</summary>
        public static void IsMultiportPushEnabled(ConfigMultiportPushDelegate cb)
        {
            ClientNativeMethods.nim_client_get_multiport_push_config(null, ConfigMultiportPushCb, CallbackTable.Put(cb));
        }

        /// <summary>The switch at login and when another device changes it
        /// (NIM's spelling). (NIM's C# SDK frees the handler after the first
        /// call; here it stays until replaced.)</summary>
        public static void RegMulitiportPushEnableChangedCb(ConfigMultiportPushDelegate cb)
        {
            multiportPushChangedHandler = cb;
            ClientNativeMethods.nim_client_reg_sync_multiport_push_config_cb(null, MultiportPushEnableChangedCb, IntPtr.Zero);
        }

        public static NIMLoginState GetLoginState(string jsonExt = null)
        {
            return (NIMLoginState)ClientNativeMethods.nim_client_get_login_state(jsonExt);
        }

        /// <summary>The SDK's version string.</summary>
        public static string GetVersion()
        {
            var p = ClientNativeMethods.nim_client_version();
            return p == IntPtr.Zero ? null : NimUtility.Json.FromUtf8(p);
        }

        /// <summary>Stores this device's push token (NIM: the iOS device token).</summary>
        public static void UpdateApnsToken(string token)
        {
            ClientNativeMethods.nim_client_update_apns_token(token);
        }

        static void RaiseLoginResult(NIMLoginResult result)
        {
            var h = LoginResultHandler;
            if (h != null) h(null, new LoginResultEventArgs(result));
        }

        static void OnLoginResult(IntPtr json, IntPtr userData)
        {
            NativeCallback.Run(() =>
            {
                var result = NIMLoginResult.Deserialize(NimUtility.Json.FromUtf8(json));
                var h = CallbackTable.Get<LoginResultDelegate>(userData);
                if (h != null) h(result);
                RaiseLoginResult(result);
            });
        }

        static void OnAutoRelogin(IntPtr json, IntPtr userData)
        {
            NativeCallback.Run(() =>
            {
                var result = NIMLoginResult.Deserialize(NimUtility.Json.FromUtf8(json));
                var h = autoReloginHandler;
                if (h != null) h(result);
                RaiseLoginResult(result);
            });
        }

        static void OnLogoutResult(IntPtr json, IntPtr userData)
        {
            NativeCallback.Run(() =>
            {
                var h = CallbackTable.Take<LogoutResultDelegate>(userData);
                if (h != null) h(NIMLogoutResult.Deserialize(NimUtility.Json.FromUtf8(json)));
            });
        }

        static void OnBeKickedOffline(IntPtr json, IntPtr userData)
        {
            NativeCallback.Run(() =>
            {
                var h = kickoutHandler;
                if (h != null) h(NIMKickoutResult.Deserialize(NimUtility.Json.FromUtf8(json)));
            });
        }

        static void OnDisconnected(IntPtr json, IntPtr userData)
        {
            NativeCallback.Run(() =>
            {
                var h = disconnectHandler;
                if (h != null) h();
            });
        }

        static void OnMultiSpotLoginNotify(IntPtr json, IntPtr userData)
        {
            NativeCallback.Run(() =>
            {
                var h = multiSpotHandler;
                if (h != null) h(NIMMultiSpotLoginNotifyResult.Deserialize(NimUtility.Json.FromUtf8(json)));
            });
        }

        static void OnKickOtherClient(IntPtr json, IntPtr userData)
        {
            NativeCallback.Run(() =>
            {
                var h = kickOtherHandler;
                if (h != null) h(NIMKickOtherResult.Deserialize(NimUtility.Json.FromUtf8(json)));
            });
        }

        static void OnCleanup2(IntPtr json, IntPtr userData)
        {
            NativeCallback.Run(() =>
            {
                var done = CallbackTable.Take<ManualResetEvent>(userData);
                if (done != null) done.Set();
            });
        }

        static void OnConfigMultiportPush(int rescode, IntPtr content, IntPtr jsonParams, IntPtr userData)
        {
            NativeCallback.Run(() =>
            {
                var h = CallbackTable.Take<ConfigMultiportPushDelegate>(userData);
                if (h != null) h((ResponseCode)rescode, ConfigMultiportPushParam.Deserialize(NimUtility.Json.FromUtf8(content)));
            });
        }

        static void OnMultiportPushEnableChanged(int rescode, IntPtr content, IntPtr jsonParams, IntPtr userData)
        {
            NativeCallback.Run(() =>
            {
                var h = multiportPushChangedHandler;
                if (h != null) h((ResponseCode)rescode, ConfigMultiportPushParam.Deserialize(NimUtility.Json.FromUtf8(content)));
            });
        }
    }

    /// <summary>SDK-wide calls: buffers, proxy.</summary>
    public class GlobalAPI
    {
        static readonly nim_global_detect_proxy_cb_func ProxyDetectionCallback = OnProxyDetection;

        /// <summary>Frees a string the SDK returned.</summary>
        public static void FreeStringBuffer(IntPtr str)
        {
            NIMGlobalNativeMethods.nim_global_free_str_buf(str);
        }

        /// <summary>Frees a buffer the SDK returned.</summary>
        public static void FreeBuffer(IntPtr data)
        {
            NIMGlobalNativeMethods.nim_global_free_buf(data);
        }

        /// <summary>Connects through this proxy from now on (kNIMProxyNone: directly).</summary>
        public static void SetProxy(NIMProxyType type, string host, int port, string user, string password)
        {
            NIMGlobalNativeMethods.nim_global_set_proxy(type, host, port, user, password);
        }

        /// <summary>Tests a proxy (after Init): `cb` hears once whether the server was reached.</summary>
        public static void DetectProxy(NIMProxyType type, string host, int port, string user, string password, NimProxyDetectionDelegate cb)
        {
            NIMGlobalNativeMethods.nim_global_detect_proxy(type, host, port, user, password, ProxyDetectionCallback, CallbackTable.Put(cb));
        }

        static void OnProxyDetection(bool networkConnect, int step, IntPtr jsonParams, IntPtr userData)
        {
            NativeCallback.Run(() =>
            {
                var h = CallbackTable.Take<NimProxyDetectionDelegate>(userData);
                if (h != null) h(networkConnect, (NIMProxyDetectStep)step);
            });
        }
    }
}
