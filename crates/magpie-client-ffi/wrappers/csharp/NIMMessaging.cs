// NIM's C# messaging API over Magpie's libnim, in the shape of NIM's C# SDK:
// NIM.TalkAPI, NIM.SysMessage.SysMsgAPI, NIM.Session.SessionAPI,
// NIM.Messagelog.MessagelogAPI and NIM.DataSync.DataSyncAPI, with their
// message, session and result classes. P/Invoke with the Cdecl convention;
// callbacks arrive on the SDK's thread. Every delegate handed to C is kept
// in a static field; one-shot callbacks find theirs through a handle table.
using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Text;
using NimUtility;

namespace NimUtility
{
    internal static class JsonOut
    {
        public static void Str(StringBuilder sb, string k, string v) { sb.Append(sb.Length > 1 ? "," : "").Append(Json.Quote(k)).Append(':').Append(Json.Quote(v ?? "")); }
        public static void Num(StringBuilder sb, string k, long v) { sb.Append(sb.Length > 1 ? "," : "").Append(Json.Quote(k)).Append(':').Append(v); }
        public static Dictionary<string, object> Obj(string s)
        {
            try { return Json.Parse(s) as Dictionary<string, object>; } catch (Exception) { return null; }
        }
        public static Dictionary<string, object> Obj(Dictionary<string, object> o, string k)
        {
            object v;
            return o != null && o.TryGetValue(k, out v) ? v as Dictionary<string, object> : null;
        }
    }
}

namespace NIM
{
    public enum NIMMessageType
    {
        kNIMMessageTypeText = 0, kNIMMessageTypeImage = 1, kNIMMessageTypeAudio = 2, kNIMMessageTypeVideo = 3,
        kNIMMessageTypeLocation = 4, kNIMMessageTypeNotification = 5, kNIMMessageTypeFile = 6, kNIMMessageTypeTips = 10,
        kNIMMessageTypeRobot = 11, kNIMMessageTypeG2NetCall = 12, kNIMMessageTypeCustom = 100, kNIMMessageTypeUnknown = 1000,
    }
    public enum NIMMessageFeature { kNIMMessageFeatureDefault = 0, kNIMMessageFeatureLeaveMsg = 1, kNIMMessageFeatureRoamMsg = 2, kNIMMessageFeatureSyncMsg = 3, kNIMMessageFeatureCustomizedMsg = 4 }
    public enum NIMMsgLogStatus
    {
        kNIMMsgLogStatusNone = 0, kNIMMsgLogStatusUnread = 1, kNIMMsgLogStatusRead = 2, kNIMMsgLogStatusDeleted = 3,
        kNIMMsgLogStatusSending = 4, kNIMMsgLogStatusSendFailed = 5, kNIMMsgLogStatusSent = 6, kNIMMsgLogStatusReceipt = 7,
        kNIMMsgLogStatusDraft = 8, kNIMMsgLogStatusSendCancel = 9, kNIMMsgLogStatusRefused = 10,
    }

    /// <summary>A message (NIM's NIMIMMessage); NIMTextMessage carries text.</summary>
    public class NIMIMMessage
    {
        public Session.NIMSessionType SessionType = Session.NIMSessionType.kNIMSessionTypeP2P;
        public string ReceiverID;
        public string SenderID;
        public long TimeStamp;
        public NIMMessageType MessageType = NIMMessageType.kNIMMessageTypeUnknown;
        public string ClientMsgID;
        public long ServerMsgId;
        public string TalkID;
        public NIMMsgLogStatus Status;
        public string Body;
        public string Attachment;
        /// <summary>The eight settings, sent as 1/0 as NIM's C# SDK does.</summary>
        public bool NeedCounting = true, NeedPush = true, NeedPushNick = true, ServerSaveHistory = true,
            Roaming = true, MultiSync = true, Routable = true, SavedOffline = true;

        public string Serialize()
        {
            if (string.IsNullOrEmpty(ClientMsgID)) ClientMsgID = Guid.NewGuid().ToString("N");
            var sb = new StringBuilder("{");
            JsonOut.Num(sb, "to_type", (int)SessionType);
            JsonOut.Str(sb, "to_accid", ReceiverID);
            JsonOut.Num(sb, "msg_type", (int)MessageType);
            JsonOut.Str(sb, "msg_body", Body);
            JsonOut.Str(sb, "msg_attach", Attachment);
            JsonOut.Str(sb, "client_msg_id", ClientMsgID);
            JsonOut.Str(sb, "talk_id", string.IsNullOrEmpty(TalkID) ? ReceiverID : TalkID);
            if (TimeStamp > 0) JsonOut.Num(sb, "time", TimeStamp);
            if (!string.IsNullOrEmpty(SenderID)) JsonOut.Str(sb, "from_id", SenderID);
            JsonOut.Num(sb, "push_need_badge", NeedCounting ? 1 : 0);
            JsonOut.Num(sb, "push_enable", NeedPush ? 1 : 0);
            JsonOut.Num(sb, "push_prefix", NeedPushNick ? 1 : 0);
            JsonOut.Num(sb, "cloud_history", ServerSaveHistory ? 1 : 0);
            JsonOut.Num(sb, "roam_msg", Roaming ? 1 : 0);
            JsonOut.Num(sb, "sync_msg", MultiSync ? 1 : 0);
            JsonOut.Num(sb, "routable_msg", Routable ? 1 : 0);
            JsonOut.Num(sb, "offline_msg", SavedOffline ? 1 : 0);
            return sb.Append('}').ToString();
        }

        internal static NIMIMMessage From(Dictionary<string, object> o)
        {
            var type = (NIMMessageType)Json.Long(o, "msg_type");
            NIMIMMessage m = type == NIMMessageType.kNIMMessageTypeText ? new NIMTextMessage() : new NIMIMMessage();
            m.MessageType = type;
            m.SessionType = (Session.NIMSessionType)Json.Long(o, "to_type");
            m.ReceiverID = Json.Text(o, "to_accid");
            m.SenderID = Json.Text(o, "from_id");
            m.TimeStamp = Json.Long(o, "time");
            m.ClientMsgID = Json.Text(o, "client_msg_id");
            m.ServerMsgId = Json.Long(o, "server_msg_id");
            m.TalkID = Json.Text(o, "talk_id");
            m.Status = (NIMMsgLogStatus)Json.Long(o, "log_status");
            m.Body = Json.Text(o, "msg_body");
            m.Attachment = Json.Text(o, "msg_attach");
            return m;
        }
    }

    public class NIMTextMessage : NIMIMMessage
    {
        public NIMTextMessage() { MessageType = NIMMessageType.kNIMMessageTypeText; }
        public string TextMessage { get { return Body; } set { Body = value; } }
    }

    /// <summary>A received message with how it came.</summary>
    public class NIMReceivedMessage
    {
        public ResponseCode ResponseCode;
        public NIMMessageFeature Feature;
        public NIMIMMessage MessageContent;

        internal static NIMReceivedMessage From(Dictionary<string, object> o)
        {
            var r = new NIMReceivedMessage();
            r.ResponseCode = (ResponseCode)Json.Long(o, "rescode");
            r.Feature = (NIMMessageFeature)Json.Long(o, "feature");
            r.MessageContent = NIMIMMessage.From(JsonOut.Obj(o, "content"));
            return r;
        }
    }

    /// <summary>A sent message's (or custom notification's) ack.</summary>
    public class MessageAck
    {
        public string TalkId;
        public string MsgId;
        public ResponseCode Response;
        public long TimeStamp;
        /// <summary>The client-side anti-spam matched (never, on Magpie).</summary>
        public bool ClientAntiSpam;

        public static MessageAck Deserialize(string json)
        {
            var o = JsonOut.Obj(json);
            var a = new MessageAck();
            a.TalkId = Json.Text(o, "talk_id");
            a.MsgId = Json.Text(o, "msg_id");
            a.Response = (ResponseCode)Json.Long(o, "rescode");
            a.TimeStamp = Json.Long(o, "msg_timetag");
            a.ClientAntiSpam = Json.Bool(o, "client_anti_spam");
            return a;
        }
    }

    public class MessageArcEventArgs : EventArgs
    {
        public MessageAck ArcInfo { get; private set; }
        public MessageArcEventArgs(MessageAck arc) { ArcInfo = arc; }
    }

    public class NIMReceiveMessageEventArgs : EventArgs
    {
        public NIMReceivedMessage Message { get; private set; }
        public NIMReceiveMessageEventArgs(NIMReceivedMessage msg) { Message = msg; }
    }

    public delegate void ReportUploadProgressDelegate(long uploadedSize, long totalSize);
    public delegate void ReceiveBatchMesaagesDelegate(List<NIMReceivedMessage> msgsList); // NIM's spelling
    public delegate bool TeamNotificationFilterDelegate(NIMIMMessage msg, string jsonExtension);
    public delegate void RecallMessageDelegate(ResponseCode result, RecallNotification[] notify);

    /// <summary>A recall notification (NIM's RecallNotification, NIM's member names).</summary>
    public class RecallNotification
    {
        public Session.NIMSessionType SessionType { get; set; }
        public string SenderId { get; set; }
        public string ReceiverId { get; set; }
        public string MsgId { get; set; }
        public string NOtify { get; set; } // NIM's spelling
        /// <summary>When it was recalled, ms.</summary>
        public long Timetag { get; set; }
        public NIMMessageFeature Feature { get; set; }
        /// <summary>The message was in this device's history when the recall came.</summary>
        public bool MsgLocalExist { get; set; }
        public long MsgTimetag { get; set; }
        public string Nickname { get; set; }
        public string Operator { get; set; }

        internal static RecallNotification[] ParseList(string json)
        {
            object parsed;
            try { parsed = Json.Parse(json); } catch (Exception) { parsed = null; }
            var list = new List<RecallNotification>();
            var items = parsed as List<object>;
            if (items != null)
                foreach (var item in items)
                {
                    var o = item as Dictionary<string, object>;
                    if (o == null) continue;
                    list.Add(new RecallNotification
                    {
                        SessionType = (Session.NIMSessionType)Json.Long(o, "to_type"),
                        SenderId = Json.Text(o, "from_id"),
                        ReceiverId = Json.Text(o, "to_id"),
                        MsgId = Json.Text(o, "msg_id"),
                        NOtify = Json.Text(o, "notify"),
                        Timetag = Json.Long(o, "time"),
                        Feature = (NIMMessageFeature)Json.Long(o, "feature"),
                        MsgLocalExist = Json.Bool(o, "msg_exist"),
                        MsgTimetag = Json.Long(o, "msg_time"),
                        Nickname = Json.Text(o, "from_nick"),
                        Operator = Json.Text(o, "operator_id"),
                    });
                }
            return list.ToArray();
        }
    }
    public delegate void ReceiveBroadcastDelegate(NIMBroadcastMessage msg);
    public delegate void ReceiveBroadcastMsgsDelegate(List<NIMBroadcastMessage> msg);

    /// <summary>A broadcast message (NIM's NIMBroadcastMessage).</summary>
    public class NIMBroadcastMessage
    {
        public long MsgID { get; set; }
        /// <summary>The sender's accid; may be absent.</summary>
        public string Sender { get; set; }
        public long Timetag { get; set; }
        public string Body { get; set; }

        internal static NIMBroadcastMessage From(Dictionary<string, object> o)
        {
            return new NIMBroadcastMessage
            {
                MsgID = Json.Long(o, "id"),
                Sender = Json.Text(o, "from_accid"),
                Timetag = Json.Long(o, "time"),
                Body = Json.Text(o, "body"),
            };
        }
    }

    /// <summary>A team message's forced push (NIM's TeamForecePushMessage, NIM's spelling).</summary>
    public class TeamForecePushMessage
    {
        public List<string> ReceiverList { get; set; }
        public string Content { get; set; }
        public bool IsForcePush { get; private set; }

        public const string PushListKey = "force_push_list";
        public const string PushContentKey = "force_push_content";
        public const string ForcePushEnabledKey = "is_force_push";

        /// <summary>The message's JSON with the forced-push keys added.</summary>
        public string Serialize(NIMIMMessage nimMsg)
        {
            var json = nimMsg.Serialize();
            var sb = new StringBuilder(json.Substring(0, json.Length - 1));
            var list = new StringBuilder("[");
            if (ReceiverList != null)
                foreach (var r in ReceiverList)
                    list.Append(list.Length > 1 ? "," : "").Append(Json.Quote(r));
            list.Append(']');
            JsonOut.Str(sb, PushListKey, ReceiverList == null ? "" : list.ToString());
            JsonOut.Str(sb, PushContentKey, Content ?? "");
            JsonOut.Num(sb, ForcePushEnabledKey, 1);
            IsForcePush = true;
            return sb.Append('}').ToString();
        }
    }

    /// <summary>A message's settings (NIM's NIMMessageSetting), for retweets.</summary>
    public class NIMMessageSetting
    {
        public bool ServerSaveHistory { get; set; }
        public bool Roaming { get; set; }
        public bool MultiSync { get; set; }
        public bool OfflineStorage { get; set; }
        public bool Routable { get; set; }
        public bool NeedPush { get; set; }
        public bool NeedCounting { get; set; }
        public bool NeedPushPrefix { get; set; }
        /// <summary>Custom push text (at most 200 bytes).</summary>
        public string PushContent { get; set; }
        /// <summary>Custom push payload: a JSON string (at most 2048).</summary>
        public string PushPayload { get; set; }
        public bool TeamForcePush { get; set; }
        public bool AntiSpamEnabled { get; set; }
        public string AntiSpamContent { get; set; }

        public NIMMessageSetting()
        {
            ServerSaveHistory = true;
            Roaming = true;
            MultiSync = true;
            OfflineStorage = true;
            Routable = true;
            NeedPush = true;
            NeedCounting = true;
            NeedPushPrefix = true;
        }

        public string Serialize()
        {
            var sb = new StringBuilder("{");
            JsonOut.Num(sb, "cloud_history", ServerSaveHistory ? 1 : 0);
            JsonOut.Num(sb, "roam_msg", Roaming ? 1 : 0);
            JsonOut.Num(sb, "sync_msg", MultiSync ? 1 : 0);
            JsonOut.Num(sb, "offline_msg", OfflineStorage ? 1 : 0);
            JsonOut.Num(sb, "routable_msg", Routable ? 1 : 0);
            JsonOut.Num(sb, "push_enable", NeedPush ? 1 : 0);
            JsonOut.Num(sb, "push_need_badge", NeedCounting ? 1 : 0);
            JsonOut.Num(sb, "push_prefix", NeedPushPrefix ? 1 : 0);
            if (PushContent != null) JsonOut.Str(sb, "push_content", PushContent);
            if (PushPayload != null) JsonOut.Str(sb, "push_payload", PushPayload);
            JsonOut.Num(sb, TeamForecePushMessage.ForcePushEnabledKey, TeamForcePush ? 1 : 0);
            JsonOut.Num(sb, "anti_spam_enable", AntiSpamEnabled ? 1 : 0);
            if (AntiSpamContent != null) JsonOut.Str(sb, "anti_spam_content", AntiSpamContent);
            return sb.Append('}').ToString();
        }
    }

    internal static class MsgNative
    {
        const string Lib = "nim";
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)] public delegate void JsonCb(IntPtr json, IntPtr userData);
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)] public delegate void ReceiveCb(IntPtr content, IntPtr jsonExtension, IntPtr userData);
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)] public delegate void UploadCb(long uploaded, long total, IntPtr jsonExtension, IntPtr userData);
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)] public delegate void SysQueryCb(int count, IntPtr result, IntPtr jsonExtension, IntPtr userData);
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)] public delegate void SysResCb(int resCode, int unreadCount, IntPtr jsonExtension, IntPtr userData);
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)] public delegate void SessionChangeCb(int rescode, IntPtr result, int totalUnread, IntPtr jsonExtension, IntPtr userData);
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)] public delegate void SessionListCb(int totalUnread, IntPtr result, IntPtr jsonExtension, IntPtr userData);
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)] public delegate void QueryCb(int resCode, IntPtr id, int toType, IntPtr result, IntPtr jsonExtension, IntPtr userData);
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)] public delegate void SyncCb(int syncType, int status, IntPtr jsonAttachment, IntPtr userData);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] public static extern void nim_talk_send_msg([MarshalAs(UnmanagedType.LPUTF8Str)] string jsonMsg, [MarshalAs(UnmanagedType.LPUTF8Str)] string jsonExtension, UploadCb prg, IntPtr userData);
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)] [return: MarshalAs(UnmanagedType.I1)] public delegate bool FilterCb(IntPtr content, IntPtr jsonExtension, IntPtr userData);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] public static extern void nim_talk_reg_notification_filter_cb([MarshalAs(UnmanagedType.LPUTF8Str)] string jsonExtension, FilterCb cb, IntPtr userData);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] public static extern void nim_talk_reg_receive_broadcast_cb([MarshalAs(UnmanagedType.LPUTF8Str)] string jsonExtension, ReceiveCb cb, IntPtr userData);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] public static extern void nim_talk_reg_receive_broadcast_msgs_cb([MarshalAs(UnmanagedType.LPUTF8Str)] string jsonExtension, ReceiveCb cb, IntPtr userData);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] public static extern IntPtr nim_talk_create_retweet_msg([MarshalAs(UnmanagedType.LPUTF8Str)] string srcMsgJson, [MarshalAs(UnmanagedType.LPUTF8Str)] string clientMsgId, int toType, [MarshalAs(UnmanagedType.LPUTF8Str)] string toId, [MarshalAs(UnmanagedType.LPUTF8Str)] string msgSetting, long timetag);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] public static extern IntPtr nim_talk_get_attachment_path_from_msg([MarshalAs(UnmanagedType.LPUTF8Str)] string jsonMsg);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] public static extern void nim_global_free_str_buf(IntPtr str);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] public static extern void nim_global_free_buf(IntPtr data);
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)] public delegate void RecallCb(int rescode, IntPtr content, IntPtr jsonExtension, IntPtr userData);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] public static extern void nim_talk_recall_msg([MarshalAs(UnmanagedType.LPUTF8Str)] string jsonMsg, [MarshalAs(UnmanagedType.LPUTF8Str)] string notify, [MarshalAs(UnmanagedType.LPUTF8Str)] string jsonExtension, RecallCb cb, IntPtr userData);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] public static extern void nim_talk_reg_recall_msg_cb([MarshalAs(UnmanagedType.LPUTF8Str)] string jsonExtension, RecallCb cb, IntPtr userData);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] public static extern void nim_talk_stop_send_msg([MarshalAs(UnmanagedType.LPUTF8Str)] string jsonMsg, [MarshalAs(UnmanagedType.LPUTF8Str)] string jsonExtension);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] public static extern void nim_talk_reg_ack_cb([MarshalAs(UnmanagedType.LPUTF8Str)] string jsonExtension, JsonCb cb, IntPtr userData);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] public static extern void nim_talk_reg_receive_cb([MarshalAs(UnmanagedType.LPUTF8Str)] string jsonExtension, ReceiveCb cb, IntPtr userData);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] public static extern void nim_talk_reg_receive_msgs_cb([MarshalAs(UnmanagedType.LPUTF8Str)] string jsonExtension, ReceiveCb cb, IntPtr userData);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] public static extern void nim_sysmsg_reg_sysmsg_cb([MarshalAs(UnmanagedType.LPUTF8Str)] string jsonExtension, ReceiveCb cb, IntPtr userData);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] public static extern void nim_sysmsg_send_custom_notification([MarshalAs(UnmanagedType.LPUTF8Str)] string jsonMsg, [MarshalAs(UnmanagedType.LPUTF8Str)] string jsonExtension);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] public static extern void nim_sysmsg_reg_custom_notification_ack_cb([MarshalAs(UnmanagedType.LPUTF8Str)] string jsonExtension, JsonCb cb, IntPtr userData);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] public static extern void nim_sysmsg_query_msg_async(int limit, long lastTime, [MarshalAs(UnmanagedType.LPUTF8Str)] string jsonExtension, SysQueryCb cb, IntPtr userData);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] public static extern void nim_sysmsg_query_unread_count([MarshalAs(UnmanagedType.LPUTF8Str)] string jsonExtension, SysResCb cb, IntPtr userData);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] public static extern void nim_session_reg_change_cb([MarshalAs(UnmanagedType.LPUTF8Str)] string jsonExtension, SessionChangeCb cb, IntPtr userData);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] public static extern void nim_session_query_all_recent_session_async([MarshalAs(UnmanagedType.LPUTF8Str)] string jsonExtension, SessionListCb cb, IntPtr userData);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] public static extern void nim_session_delete_recent_session_async(int toType, [MarshalAs(UnmanagedType.LPUTF8Str)] string id, [MarshalAs(UnmanagedType.LPUTF8Str)] string jsonExtension, SessionChangeCb cb, IntPtr userData);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] public static extern void nim_session_set_unread_count_zero_async(int toType, [MarshalAs(UnmanagedType.LPUTF8Str)] string id, [MarshalAs(UnmanagedType.LPUTF8Str)] string jsonExtension, SessionChangeCb cb, IntPtr userData);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] public static extern void nim_msglog_query_msg_async([MarshalAs(UnmanagedType.LPUTF8Str)] string accountId, int toType, int limit, long anchorTime, [MarshalAs(UnmanagedType.LPUTF8Str)] string jsonExtension, QueryCb cb, IntPtr userData);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] public static extern void nim_msglog_query_msg_online_async([MarshalAs(UnmanagedType.LPUTF8Str)] string id, int toType, int limit, long fromTime, long endTime, long endMsgId, [MarshalAs(UnmanagedType.I1)] bool reverse, [MarshalAs(UnmanagedType.I1)] bool needSaveToLocal, [MarshalAs(UnmanagedType.LPUTF8Str)] string jsonExtension, QueryCb cb, IntPtr userData);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] public static extern void nim_data_sync_reg_complete_cb(SyncCb cb, IntPtr userData);

        [UnmanagedFunctionPointer(CallingConvention.Cdecl)] public delegate void MsgResCb(int resCode, IntPtr msgId, IntPtr jsonExtension, IntPtr userData);
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)] public delegate void MsgResExCb(int resCode, IntPtr uid, int toType, IntPtr jsonExtension, IntPtr userData);
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)] public delegate void ModifyCb(int resCode, IntPtr jsonExtension, IntPtr userData);
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)] public delegate void SysResExCb(int resCode, long msgId, int unread, IntPtr jsonExtension, IntPtr userData);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] public static extern void nim_msglog_batch_status_read_async([MarshalAs(UnmanagedType.LPUTF8Str)] string id, int toType, [MarshalAs(UnmanagedType.LPUTF8Str)] string ext, MsgResExCb cb, IntPtr ud);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] public static extern void nim_msglog_batch_status_delete_async([MarshalAs(UnmanagedType.LPUTF8Str)] string id, int toType, [MarshalAs(UnmanagedType.LPUTF8Str)] string ext, MsgResExCb cb, IntPtr ud);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] public static extern void nim_msglog_delete_by_session_type_async([MarshalAs(UnmanagedType.I1)] bool deleteSessions, int toType, [MarshalAs(UnmanagedType.LPUTF8Str)] string ext, MsgResExCb cb, IntPtr ud);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] public static extern void nim_msglog_set_status_async([MarshalAs(UnmanagedType.LPUTF8Str)] string msgId, int status, [MarshalAs(UnmanagedType.LPUTF8Str)] string ext, MsgResCb cb, IntPtr ud);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] public static extern void nim_msglog_set_sub_status_async([MarshalAs(UnmanagedType.LPUTF8Str)] string msgId, int status, [MarshalAs(UnmanagedType.LPUTF8Str)] string ext, MsgResCb cb, IntPtr ud);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] public static extern void nim_msglog_insert_msglog_async([MarshalAs(UnmanagedType.LPUTF8Str)] string talkId, [MarshalAs(UnmanagedType.LPUTF8Str)] string jsonMsg, [MarshalAs(UnmanagedType.I1)] bool needUpdateSession, [MarshalAs(UnmanagedType.LPUTF8Str)] string ext, MsgResCb cb, IntPtr ud);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] public static extern void nim_msglog_delete_async([MarshalAs(UnmanagedType.LPUTF8Str)] string id, int toType, [MarshalAs(UnmanagedType.LPUTF8Str)] string msgId, [MarshalAs(UnmanagedType.LPUTF8Str)] string ext, MsgResCb cb, IntPtr ud);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] public static extern void nim_msglog_delete_all_async([MarshalAs(UnmanagedType.I1)] bool deleteSessions, [MarshalAs(UnmanagedType.LPUTF8Str)] string ext, ModifyCb cb, IntPtr ud);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] public static extern void nim_msglog_read_all_async([MarshalAs(UnmanagedType.LPUTF8Str)] string ext, ModifyCb cb, IntPtr ud);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] public static extern void nim_msglog_update_localext_async([MarshalAs(UnmanagedType.LPUTF8Str)] string msgId, [MarshalAs(UnmanagedType.LPUTF8Str)] string localExt, [MarshalAs(UnmanagedType.LPUTF8Str)] string ext, MsgResCb cb, IntPtr ud);
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)] public delegate void ImportPrgCb(long imported, long total, IntPtr jsonExtension, IntPtr userData);
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)] public delegate void StatusChangedCb(int resCode, IntPtr result, IntPtr jsonExtension, IntPtr userData);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] public static extern void nim_msglog_send_receipt_async([MarshalAs(UnmanagedType.LPUTF8Str)] string jsonMsg, [MarshalAs(UnmanagedType.LPUTF8Str)] string ext, StatusChangedCb cb, IntPtr ud);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] [return: MarshalAs(UnmanagedType.I1)] public static extern bool nim_msglog_query_be_readed([MarshalAs(UnmanagedType.LPUTF8Str)] string jsonMsg, [MarshalAs(UnmanagedType.LPUTF8Str)] string ext);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] [return: MarshalAs(UnmanagedType.I1)] public static extern bool nim_msglog_query_receipt_sent([MarshalAs(UnmanagedType.LPUTF8Str)] string jsonMsg, [MarshalAs(UnmanagedType.LPUTF8Str)] string ext);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] public static extern void nim_msglog_reg_status_changed_cb([MarshalAs(UnmanagedType.LPUTF8Str)] string ext, StatusChangedCb cb, IntPtr ud);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] public static extern void nim_msglog_export_db_async([MarshalAs(UnmanagedType.LPUTF8Str)] string dstPath, [MarshalAs(UnmanagedType.LPUTF8Str)] string ext, ModifyCb cb, IntPtr ud);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] public static extern void nim_msglog_import_db_async([MarshalAs(UnmanagedType.LPUTF8Str)] string srcPath, [MarshalAs(UnmanagedType.LPUTF8Str)] string ext, ModifyCb cb, IntPtr ud, ImportPrgCb prg, IntPtr prgUd);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] public static extern void nim_msglog_query_msg_by_options_async(int range, [MarshalAs(UnmanagedType.LPUTF8Str)] string ids, int limit, long fromTime, long endTime, [MarshalAs(UnmanagedType.LPUTF8Str)] string endClientMsgId, [MarshalAs(UnmanagedType.I1)] bool reverse, int msgType, [MarshalAs(UnmanagedType.LPUTF8Str)] string searchContent, [MarshalAs(UnmanagedType.LPUTF8Str)] string ext, QueryCb cb, IntPtr ud);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] public static extern void nim_session_query_all_recent_session_with_last_msg_excluded_type_async([MarshalAs(UnmanagedType.LPUTF8Str)] string ext, SessionListCb cb, int lastMsgExcludedType, IntPtr ud);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] public static extern void nim_session_query_all_recent_session_with_last_msg_excluded_type_async_ex([MarshalAs(UnmanagedType.LPUTF8Str)] string ext, SessionListCb cb, [MarshalAs(UnmanagedType.LPUTF8Str)] string lastMsgExcludedTypeList, IntPtr ud);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] public static extern void nim_msglog_query_the_message_of_the_specified_type_async(int toType, [MarshalAs(UnmanagedType.LPUTF8Str)] string id, int limit, long fromTime, long endTime, [MarshalAs(UnmanagedType.LPUTF8Str)] string endClientMsgId, [MarshalAs(UnmanagedType.I1)] bool reverse, [MarshalAs(UnmanagedType.LPUTF8Str)] string msgTypes, [MarshalAs(UnmanagedType.LPUTF8Str)] string ext, QueryCb cb, IntPtr ud);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] public static extern void nim_session_delete_all_recent_session_async([MarshalAs(UnmanagedType.LPUTF8Str)] string ext, SessionChangeCb cb, IntPtr ud);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] public static extern void nim_session_set_top(int toType, [MarshalAs(UnmanagedType.LPUTF8Str)] string id, [MarshalAs(UnmanagedType.I1)] bool top, [MarshalAs(UnmanagedType.LPUTF8Str)] string ext, SessionChangeCb cb, IntPtr ud);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] public static extern void nim_session_set_extend_data(int toType, [MarshalAs(UnmanagedType.LPUTF8Str)] string id, [MarshalAs(UnmanagedType.LPUTF8Str)] string data, [MarshalAs(UnmanagedType.LPUTF8Str)] string ext, SessionChangeCb cb, IntPtr ud);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] public static extern void nim_session_reset_all_unread_count_async([MarshalAs(UnmanagedType.LPUTF8Str)] string ext, SessionChangeCb cb, IntPtr ud);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] public static extern void nim_sysmsg_set_status_async(long msgId, int status, [MarshalAs(UnmanagedType.LPUTF8Str)] string ext, SysResExCb cb, IntPtr ud);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] public static extern void nim_sysmsg_read_all_async([MarshalAs(UnmanagedType.LPUTF8Str)] string ext, SysResCb cb, IntPtr ud);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] public static extern void nim_sysmsg_delete_async(long msgId, [MarshalAs(UnmanagedType.LPUTF8Str)] string ext, SysResExCb cb, IntPtr ud);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] public static extern void nim_sysmsg_delete_all_async([MarshalAs(UnmanagedType.LPUTF8Str)] string ext, SysResCb cb, IntPtr ud);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] public static extern void nim_sysmsg_set_logs_status_by_type_async(int type, int status, [MarshalAs(UnmanagedType.LPUTF8Str)] string ext, SysResCb cb, IntPtr ud);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] public static extern void nim_sysmsg_delete_logs_by_type_async(int type, [MarshalAs(UnmanagedType.LPUTF8Str)] string ext, SysResCb cb, IntPtr ud);
    }

    public class TalkAPI
    {
        public static EventHandler<NIMReceiveMessageEventArgs> OnReceiveMessageHandler { get; set; }
        public static EventHandler<MessageArcEventArgs> OnSendMessageCompleted { get; set; }

        static readonly MsgNative.JsonCb AckCb = OnAck;
        static readonly MsgNative.ReceiveCb ReceiveCb = OnReceive;
        static readonly MsgNative.ReceiveCb BatchCb = OnBatch;
        static readonly MsgNative.UploadCb UploadCb = OnUpload;
        static ReceiveBatchMesaagesDelegate batchHandler;

        /// <summary>Registers the ack and receive callbacks with the SDK (also done on first use).</summary>
        public static void RegisterCallbacks()
        {
            MsgNative.nim_talk_reg_ack_cb("", AckCb, IntPtr.Zero);
            MsgNative.nim_talk_reg_receive_cb("", ReceiveCb, IntPtr.Zero);
        }

        static TalkAPI() { RegisterCallbacks(); }

        public static void SendMessage(NIMIMMessage message, ReportUploadProgressDelegate action = null)
        {
            // Magpie uploads no files through the SDK: progress never comes.
            MsgNative.nim_talk_send_msg(message.Serialize(), null, UploadCb, IntPtr.Zero);
        }

        public static void StopSendMessage(NIMIMMessage message, ReportUploadProgressDelegate action = null)
        {
            MsgNative.nim_talk_stop_send_msg(message.Serialize(), null);
        }

        /// <summary>Synced messages (offline ones after login) come here, a session at a time.</summary>
        public static void RegReceiveBatchMessagesCb(ReceiveBatchMesaagesDelegate cb)
        {
            batchHandler = cb;
            MsgNative.nim_talk_reg_receive_msgs_cb(null, cb != null ? BatchCb : null, IntPtr.Zero);
        }

        static void OnAck(IntPtr json, IntPtr userData)
        {
            var h = OnSendMessageCompleted;
            if (h != null) h(null, new MessageArcEventArgs(MessageAck.Deserialize(Json.FromUtf8(json))));
        }

        static void OnReceive(IntPtr content, IntPtr ext, IntPtr userData)
        {
            var h = OnReceiveMessageHandler;
            var o = JsonOut.Obj(Json.FromUtf8(content));
            if (h != null && JsonOut.Obj(o, "content") != null)
                h(null, new NIMReceiveMessageEventArgs(NIMReceivedMessage.From(o)));
        }

        static void OnBatch(IntPtr content, IntPtr ext, IntPtr userData)
        {
            var h = batchHandler;
            if (h == null) return;
            var list = new List<NIMReceivedMessage>();
            object parsed;
            try { parsed = Json.Parse(Json.FromUtf8(content)); } catch (Exception) { parsed = null; }
            var items = parsed as List<object>;
            if (items != null)
                foreach (var item in items)
                    list.Add(NIMReceivedMessage.From(item as Dictionary<string, object>));
            h(list);
        }

        static void OnUpload(long uploaded, long total, IntPtr ext, IntPtr userData) { }

        static readonly MsgNative.RecallCb RecallOnceCb = OnRecallOnce;
        static readonly MsgNative.RecallCb RecallGlobalCb = OnRecallGlobal;
        static RecallMessageDelegate recallHandler;

        /// <summary>Recalls a P2P message I sent, by its client id (within two minutes of its time).</summary>
        public static void RecallMessage(string msgId, string notify, RecallMessageDelegate cb)
        {
            var sb = new StringBuilder("{");
            JsonOut.Num(sb, "to_type", 0);
            JsonOut.Str(sb, "client_msg_id", msgId);
            MsgNative.nim_talk_recall_msg(sb.Append('}').ToString(), notify, null, RecallOnceCb, CallbackTable.Put(cb));
        }

        /// <summary>Recalls a P2P message I sent.</summary>
        public static void RecallMessage(NIMIMMessage message, string notify, RecallMessageDelegate cb)
        {
            MsgNative.nim_talk_recall_msg(message.Serialize(), notify, null, RecallOnceCb, CallbackTable.Put(cb));
        }

        /// <summary>Recalls of messages to me, and of mine made on my other devices.</summary>
        public static void RegRecallMessageCallback(RecallMessageDelegate cb)
        {
            recallHandler = cb;
            MsgNative.nim_talk_reg_recall_msg_cb(null, cb != null ? RecallGlobalCb : null, IntPtr.Zero);
        }

        static void OnRecallOnce(int code, IntPtr content, IntPtr ext, IntPtr userData)
        {
            var h = CallbackTable.Take<RecallMessageDelegate>(userData);
            if (h != null) h((ResponseCode)code, RecallNotification.ParseList(Json.FromUtf8(content)));
        }

        static void OnRecallGlobal(int code, IntPtr content, IntPtr ext, IntPtr userData)
        {
            var h = recallHandler;
            if (h != null) h((ResponseCode)code, RecallNotification.ParseList(Json.FromUtf8(content)));
        }

        /// <summary>Sends a team message with a forced push (Magpie refuses team messages with 414).</summary>
        public static void SendTeamFrocePushMessage(NIMIMMessage message, TeamForecePushMessage forceMsg, ReportUploadProgressDelegate action = null) // NIM's spelling
        {
            MsgNative.nim_talk_send_msg(forceMsg.Serialize(message), null, UploadCb, IntPtr.Zero);
        }

        static readonly MsgNative.FilterCb FilterCb = OnFilter;
        static TeamNotificationFilterDelegate teamFilter;

        /// <summary>Whether a team notification is filtered out (Magpie has no teams: it is never called).</summary>
        public static void RegTeamNotificationFilterCb(TeamNotificationFilterDelegate action)
        {
            teamFilter = action;
            MsgNative.nim_talk_reg_notification_filter_cb(null, action != null ? FilterCb : null, IntPtr.Zero);
        }

        static bool OnFilter(IntPtr content, IntPtr ext, IntPtr userData)
        {
            var h = teamFilter;
            var o = JsonOut.Obj(Json.FromUtf8(content));
            var msg = JsonOut.Obj(o, "content") ?? o;
            return h != null && msg != null && h(NIMIMMessage.From(msg), Json.FromUtf8(ext));
        }

        /// <summary>A copy of srcMsg to forward to sessionId, with a new client id, settings and time.</summary>
        public static NIMIMMessage CreateRetweetMessage(NIMIMMessage srcMsg, NIMMessageSetting msgSetting, string msgId, string sessionId, Session.NIMSessionType sessionType, long timetag)
        {
            var p = MsgNative.nim_talk_create_retweet_msg(srcMsg.Serialize(), msgId, (int)sessionType, sessionId, msgSetting == null ? "" : msgSetting.Serialize(), timetag);
            if (p == IntPtr.Zero) return null;
            var json = Json.FromUtf8(p);
            MsgNative.nim_global_free_str_buf(p);
            var o = JsonOut.Obj(json);
            return o == null ? null : NIMIMMessage.From(o);
        }

        /// <summary>The local path of a message's attachment ("" when it has none).</summary>
        public static string GetAttachmentPathFromMsg(NIMIMMessage msg)
        {
            var p = MsgNative.nim_talk_get_attachment_path_from_msg(msg.Serialize());
            var path = Json.FromUtf8(p);
            MsgNative.nim_global_free_buf(p);
            return path ?? "";
        }

        static readonly MsgNative.ReceiveCb BroadcastCb = OnBroadcast;
        static readonly MsgNative.ReceiveCb BroadcastsCb = OnBroadcasts;
        static ReceiveBroadcastDelegate broadcast;
        static ReceiveBroadcastMsgsDelegate broadcasts;

        /// <summary>Broadcast messages, one at a time.</summary>
        public static void RegReceiveBroadcastCb(ReceiveBroadcastDelegate cb)
        {
            broadcast = cb;
            MsgNative.nim_talk_reg_receive_broadcast_cb(null, cb != null ? BroadcastCb : null, IntPtr.Zero);
        }

        /// <summary>Broadcast messages, several at once.</summary>
        public static void RegReceiveBroadcastMsgsCb(ReceiveBroadcastMsgsDelegate cb)
        {
            broadcasts = cb;
            MsgNative.nim_talk_reg_receive_broadcast_msgs_cb(null, cb != null ? BroadcastsCb : null, IntPtr.Zero);
        }

        static void OnBroadcast(IntPtr content, IntPtr ext, IntPtr userData)
        {
            var h = broadcast;
            var o = JsonOut.Obj(Json.FromUtf8(content));
            if (h != null && o != null) h(NIMBroadcastMessage.From(o));
        }

        static void OnBroadcasts(IntPtr content, IntPtr ext, IntPtr userData)
        {
            var h = broadcasts;
            if (h == null) return;
            object parsed;
            try { parsed = Json.Parse(Json.FromUtf8(content)); } catch (Exception) { parsed = null; }
            var list = new List<NIMBroadcastMessage>();
            var items = parsed as List<object>;
            if (items != null)
                foreach (var item in items)
                {
                    var o = item as Dictionary<string, object>;
                    if (o != null) list.Add(NIMBroadcastMessage.From(o));
                }
            h(list);
        }
    }
}

namespace NIM.Session
{
    public enum NIMSessionType { kNIMSessionTypeP2P = 0, kNIMSessionTypeTeam = 1, kNIMSessionTypeSuperTeam = 5 }
    public enum NIMSessionCommand
    {
        kNIMSessionCommandAdd = 0, kNIMSessionCommandRemove = 1, kNIMSessionCommandRemoveAll = 2, kNIMSessionCommandRemoveAllP2P = 3,
        kNIMSessionCommandRemoveAllTeam = 4, kNIMSessionCommandMsgDeleted = 5, kNIMSessionCommandAllMsgDeleted = 6,
        kNIMSessionCommandAllP2PMsgDeleted = 7, kNIMSessionCommandAllTeamMsgDeleted = 8, kNIMSessionCommandUpdate = 9,
    }

    /// <summary>A recent session.</summary>
    public class SessionInfo
    {
        public string Id;
        public NIMSessionType SessionType;
        public int UnreadCount;
        public NIMSessionCommand Command;
        public string MsgId;
        public string Sender;
        public long Timetag;
        public NIMMessageType MsgType;
        public string Content;
        public string Attach;
        public NIMMsgLogStatus Status;
        /// <summary>The last message's sub-status (NIMMsgLogSubStatus).</summary>
        public int SubStatus;
        public bool IsLast;
        public bool IsPinnedOnTop;
        public string ExtendString;
        public bool IsRobot;

        public static SessionInfo Deserialize(string json) { return From(JsonOut.Obj(json)); }

        internal static SessionInfo From(Dictionary<string, object> o)
        {
            var s = new SessionInfo();
            s.Id = Json.Text(o, "id");
            s.SessionType = (NIMSessionType)Json.Long(o, "type");
            s.UnreadCount = (int)Json.Long(o, "unread_count");
            s.Command = (NIMSessionCommand)Json.Long(o, "command");
            s.MsgId = Json.Text(o, "msg_client_id");
            s.Sender = Json.Text(o, "msg_from_account");
            s.Timetag = Json.Long(o, "msg_time");
            s.MsgType = (NIMMessageType)Json.Long(o, "msg_type");
            s.Content = Json.Text(o, "msg_body");
            s.Attach = Json.Text(o, "msg_attach");
            s.Status = (NIMMsgLogStatus)Json.Long(o, "msg_status");
            s.SubStatus = (int)Json.Long(o, "msg_sub_status");
            s.IsLast = Json.Bool(o, "last_updated_msg");
            s.IsPinnedOnTop = Json.Bool(o, "top");
            s.ExtendString = Json.Text(o, "extend_data");
            s.IsRobot = Json.Bool(o, "robot_session");
            return s;
        }
    }

    /// <summary>The session list ("Sesssion" is NIM's spelling).</summary>
    public class SesssionInfoList
    {
        public int Count;
        public int UnreadCounts;
        public List<SessionInfo> SessionList = new List<SessionInfo>();

        public static SesssionInfoList Deserialize(string json)
        {
            var o = JsonOut.Obj(json);
            var l = new SesssionInfoList();
            l.Count = (int)Json.Long(o, "count");
            l.UnreadCounts = (int)Json.Long(o, "unread_counts");
            foreach (var item in Json.List(o, "content"))
                l.SessionList.Add(SessionInfo.From(item as Dictionary<string, object>));
            return l;
        }
    }

    public class SessionChangedEventArgs : EventArgs
    {
        public ResponseCode ResCode { get; private set; }
        public SessionInfo Info { get; private set; }
        public int TotalUnreadCount { get; private set; }
        public SessionChangedEventArgs(ResponseCode code, SessionInfo info, int totalUnread) { ResCode = code; Info = info; TotalUnreadCount = totalUnread; }
    }

    public delegate void SessionChangeHandler(int rescode, SessionInfo result, int totalUnreadCounts);
    public delegate void QueryRecentHandler(int totalUnreadCounts, SesssionInfoList result);

    public class SessionAPI
    {
        public static EventHandler<SessionChangedEventArgs> RecentSessionChangedHandler;

        static readonly MsgNative.SessionChangeCb GlobalCb = OnChanged;
        static readonly MsgNative.SessionChangeCb OnceCb = OnOnce;
        static readonly MsgNative.SessionListCb ListCb = OnList;

        public static void RegisterCallbacks() { MsgNative.nim_session_reg_change_cb("", GlobalCb, IntPtr.Zero); }

        static SessionAPI() { RegisterCallbacks(); }

        public static void QueryAllRecentSession(QueryRecentHandler handler)
        {
            MsgNative.nim_session_query_all_recent_session_async("", ListCb, CallbackTable.Put(handler));
        }

        /// <summary>Every session, each with its newest message not of
        /// <paramref name="lastMsgExcludedType"/> as its last message
        /// (kNIMMessageTypeUnknown excludes nothing).</summary>
        public static void QueryAllRecentSession(NIMMessageType lastMsgExcludedType, QueryRecentHandler handler)
        {
            MsgNative.nim_session_query_all_recent_session_with_last_msg_excluded_type_async("", ListCb, (int)lastMsgExcludedType, CallbackTable.Put(handler));
        }

        /// <summary>As above, leaving out several types.</summary>
        public static void QueryAllRecentSession(List<NIMMessageType> lastMsgExcludedTypes, QueryRecentHandler handler)
        {
            MsgNative.nim_session_query_all_recent_session_with_last_msg_excluded_type_async_ex("", ListCb, TypeList(lastMsgExcludedTypes), CallbackTable.Put(handler));
        }

        internal static string TypeList(List<NIMMessageType> types)
        {
            var sb = new StringBuilder("[");
            for (int i = 0; types != null && i < types.Count; i++)
                sb.Append(i > 0 ? "," : "").Append((int)types[i]);
            return sb.Append(']').ToString();
        }

        public static void DeleteRecentSession(NIMSessionType toType, string id, SessionChangeHandler handler)
        {
            MsgNative.nim_session_delete_recent_session_async((int)toType, id, "", OnceCb, CallbackTable.Put(handler));
        }

        public static void SetUnreadCountZero(NIMSessionType toType, string id, SessionChangeHandler handler)
        {
            MsgNative.nim_session_set_unread_count_zero_async((int)toType, id, "", OnceCb, CallbackTable.Put(handler));
        }

        public static void DeleteAllRecentSession(SessionChangeHandler handler)
        {
            MsgNative.nim_session_delete_all_recent_session_async("", OnceCb, CallbackTable.Put(handler));
        }

        public static void ResetAllUnreadCount(SessionChangeHandler cb)
        {
            MsgNative.nim_session_reset_all_unread_count_async(null, OnceCb, CallbackTable.Put(cb));
        }

        public static void SetSessionExtendData(NIMSessionType to_type, string id, string data, SessionChangeHandler cb)
        {
            MsgNative.nim_session_set_extend_data((int)to_type, id, data, null, OnceCb, CallbackTable.Put(cb));
        }

        public static void PinSessionOnTop(NIMSessionType to_type, string id, bool top, SessionChangeHandler cb)
        {
            MsgNative.nim_session_set_top((int)to_type, id, top, null, OnceCb, CallbackTable.Put(cb));
        }

        static void OnChanged(int code, IntPtr info, int unread, IntPtr ext, IntPtr userData)
        {
            var h = RecentSessionChangedHandler;
            if (h != null) h(null, new SessionChangedEventArgs((ResponseCode)code, SessionInfo.Deserialize(Json.FromUtf8(info)), unread));
        }

        static void OnOnce(int code, IntPtr info, int unread, IntPtr ext, IntPtr userData)
        {
            var h = CallbackTable.Take<SessionChangeHandler>(userData);
            if (h != null) h(code, SessionInfo.Deserialize(Json.FromUtf8(info)), unread);
        }

        static void OnList(int unread, IntPtr result, IntPtr ext, IntPtr userData)
        {
            var h = CallbackTable.Take<QueryRecentHandler>(userData);
            if (h != null) h(unread, SesssionInfoList.Deserialize(Json.FromUtf8(result)));
        }
    }
}

namespace NIM.SysMessage
{
    public enum NIMSysMsgType
    {
        kNIMSysMsgTypeTeamApply = 0, kNIMSysMsgTypeTeamReject = 1, kNIMSysMsgTypeTeamInvite = 2, kNIMSysMsgTypeTeamInviteReject = 3,
        kNIMSysMsgTypeFriendAdd = 5, kNIMSysMsgTypeFriendDel = 6, kNIMSysMsgTypeCustomP2PMsg = 100, kNIMSysMsgTypeCustomTeamMsg = 101,
        kNIMSysMsgTypeUnknown = 1000,
    }
    public enum NIMSysMsgStatus { kNIMSysMsgStatusNone = 0, kNIMSysMsgStatusPass = 1, kNIMSysMsgStatusDecline = 2, kNIMSysMsgStatusRead = 3, kNIMSysMsgStatusDeleted = 4, kNIMSysMsgStatusInvalid = 5 }

    /// <summary>A custom notification to send (or one received).</summary>
    public class NIMSysMessageContent
    {
        public string ReceiverId;
        public string SenderId;
        public NIMSysMsgType MsgType = NIMSysMsgType.kNIMSysMsgTypeCustomP2PMsg;
        public string Attachment;
        public string Message;
        public string ClientMsgId;
        public long Timetag;
        public long MsgId;
        public NIMSysMsgStatus Status;
        /// <summary>custom_save_flag: kept for an offline receiver.</summary>
        public bool SupportOffline;
        /// <summary>custom_apns_text.</summary>
        public string PushContent;
        /// <summary>push_payload.</summary>
        public string CustomPushContent;

        public string GenerateMsgId() { ClientMsgId = Guid.NewGuid().ToString("N"); return ClientMsgId; }

        public string Serialize()
        {
            var sb = new StringBuilder("{");
            JsonOut.Str(sb, "to_account", ReceiverId);
            JsonOut.Num(sb, "msg_type", (int)MsgType);
            JsonOut.Str(sb, "attach", Attachment);
            JsonOut.Str(sb, "client_msg_id", ClientMsgId);
            JsonOut.Num(sb, "custom_save_flag", SupportOffline ? 1 : 0);
            if (!string.IsNullOrEmpty(PushContent)) JsonOut.Str(sb, "custom_apns_text", PushContent);
            if (!string.IsNullOrEmpty(CustomPushContent)) JsonOut.Str(sb, "push_payload", CustomPushContent);
            if (Timetag > 0) JsonOut.Num(sb, "msg_time", Timetag);
            return sb.Append('}').ToString();
        }

        internal static NIMSysMessageContent From(Dictionary<string, object> o)
        {
            var c = new NIMSysMessageContent();
            c.ReceiverId = Json.Text(o, "to_account");
            c.SenderId = Json.Text(o, "from_account");
            c.MsgType = (NIMSysMsgType)Json.Long(o, "msg_type");
            c.Attachment = Json.Text(o, "attach");
            c.Message = Json.Text(o, "msg");
            c.ClientMsgId = Json.Text(o, "client_msg_id");
            c.Timetag = Json.Long(o, "msg_time");
            c.MsgId = Json.Long(o, "msg_id");
            c.Status = (NIMSysMsgStatus)Json.Long(o, "log_status");
            c.SupportOffline = Json.Long(o, "custom_save_flag") == 1;
            c.PushContent = Json.Text(o, "custom_apns_text");
            return c;
        }
    }

    /// <summary>A received system notification ("NIMSysMessag" is NIM's spelling).</summary>
    public class NIMSysMessag
    {
        public ResponseCode Response;
        public NIMMessageFeature Feature;
        public int TotalUnread;
        public NIMSysMessageContent Content;

        public static NIMSysMessag Deserialize(string json)
        {
            var o = JsonOut.Obj(json);
            var m = new NIMSysMessag();
            m.Response = (ResponseCode)Json.Long(o, "rescode");
            m.Feature = (NIMMessageFeature)Json.Long(o, "feature");
            m.TotalUnread = (int)Json.Long(o, "unread_count");
            m.Content = NIMSysMessageContent.From(JsonOut.Obj(o, "content"));
            return m;
        }
    }

    public class NIMSysMsgEventArgs : EventArgs
    {
        public NIMSysMessag Message { get; private set; }
        public NIMSysMsgEventArgs(NIMSysMessag msg) { Message = msg; }
    }

    public class NIMSysMsgQueryResult
    {
        public int Count;
        public int UnreadCount;
        public List<NIMSysMessageContent> MsgCollection = new List<NIMSysMessageContent>();

        public static NIMSysMsgQueryResult Deserialize(string json)
        {
            var o = JsonOut.Obj(json);
            var r = new NIMSysMsgQueryResult();
            r.Count = (int)Json.Long(o, "count");
            r.UnreadCount = (int)Json.Long(o, "unread_count");
            foreach (var item in Json.List(o, "content"))
                r.MsgCollection.Add(NIMSysMessageContent.From(item as Dictionary<string, object>));
            return r;
        }
    }

    public delegate void QuerySysMsgResult(NIMSysMsgQueryResult result);
    /// <summary>A result with the notification's id and the unread count (NIM's native callback shape).</summary>
    public delegate void OperateSysMsgExternDelegate(int res_code, long msg_id, int unread_count, string json_extension, IntPtr user_data);
    /// <summary>A result with the unread count (NIM's native callback shape).</summary>
    public delegate void OperateSysMsgDelegate(int res_code, int unread_count, string json_extension, IntPtr user_data);
    public delegate void CommomOperateResult(ResponseCode response, int count); // NIM's spelling

    public class SysMsgAPI
    {
        public static EventHandler<MessageArcEventArgs> SendSysMsgHandler;
        public static EventHandler<NIMSysMsgEventArgs> ReceiveSysMsgHandler;

        static readonly MsgNative.ReceiveCb ReceiveCb = OnReceive;
        static readonly MsgNative.JsonCb AckCb = OnAck;
        static readonly MsgNative.SysQueryCb QueryCb = OnQuery;
        static readonly MsgNative.SysResCb UnreadCb = OnUnread;

        public static void RegisterCallbacks()
        {
            MsgNative.nim_sysmsg_reg_custom_notification_ack_cb(null, AckCb, IntPtr.Zero);
            MsgNative.nim_sysmsg_reg_sysmsg_cb(null, ReceiveCb, IntPtr.Zero);
        }

        static SysMsgAPI() { RegisterCallbacks(); }

        public static void SendCustomMessage(NIMSysMessageContent content)
        {
            if (string.IsNullOrEmpty(content.ClientMsgId))
                content.GenerateMsgId();
            MsgNative.nim_sysmsg_send_custom_notification(content.Serialize(), null);
        }

        public static void QueryMessage(int limit, long lastTimetag, QuerySysMsgResult cb)
        {
            MsgNative.nim_sysmsg_query_msg_async(limit, lastTimetag, null, QueryCb, CallbackTable.Put(cb));
        }

        public static void QueryUnreadCount(CommomOperateResult cb)
        {
            MsgNative.nim_sysmsg_query_unread_count(null, UnreadCb, CallbackTable.Put(cb));
        }

        static readonly MsgNative.SysResExCb ResExCb = OnResEx;
        static readonly MsgNative.SysResCb ResCb = OnRes;

        public static void SetMsgStatus(long msgId, NIMSysMsgStatus status, OperateSysMsgExternDelegate cb)
        {
            MsgNative.nim_sysmsg_set_status_async(msgId, (int)status, null, ResExCb, CallbackTable.Put(cb));
        }

        public static void SetAllMsgRead(OperateSysMsgDelegate cb)
        {
            MsgNative.nim_sysmsg_read_all_async(null, ResCb, CallbackTable.Put(cb));
        }

        public static void DeleteByMsgId(long msgId, OperateSysMsgExternDelegate cb)
        {
            MsgNative.nim_sysmsg_delete_async(msgId, null, ResExCb, CallbackTable.Put(cb));
        }

        public static void DeleteAll(OperateSysMsgDelegate cb)
        {
            MsgNative.nim_sysmsg_delete_all_async(null, ResCb, CallbackTable.Put(cb));
        }

        public static void SetMsgStatusByType(NIMSysMsgType type, NIMSysMsgStatus status, OperateSysMsgDelegate cb)
        {
            MsgNative.nim_sysmsg_set_logs_status_by_type_async((int)type, (int)status, null, ResCb, CallbackTable.Put(cb));
        }

        public static void DeleteMsgByType(NIMSysMsgType type, OperateSysMsgDelegate cb)
        {
            MsgNative.nim_sysmsg_delete_logs_by_type_async((int)type, null, ResCb, CallbackTable.Put(cb));
        }

        static void OnResEx(int code, long msgId, int unread, IntPtr ext, IntPtr userData)
        {
            var h = CallbackTable.Take<OperateSysMsgExternDelegate>(userData);
            if (h != null) h(code, msgId, unread, Json.FromUtf8(ext), IntPtr.Zero);
        }

        static void OnRes(int code, int unread, IntPtr ext, IntPtr userData)
        {
            var h = CallbackTable.Take<OperateSysMsgDelegate>(userData);
            if (h != null) h(code, unread, Json.FromUtf8(ext), IntPtr.Zero);
        }

        static void OnReceive(IntPtr content, IntPtr ext, IntPtr userData)
        {
            var h = ReceiveSysMsgHandler;
            if (h != null) h(null, new NIMSysMsgEventArgs(NIMSysMessag.Deserialize(Json.FromUtf8(content))));
        }

        static void OnAck(IntPtr json, IntPtr userData)
        {
            var h = SendSysMsgHandler;
            if (h != null) h(null, new MessageArcEventArgs(MessageAck.Deserialize(Json.FromUtf8(json))));
        }

        static void OnQuery(int count, IntPtr result, IntPtr ext, IntPtr userData)
        {
            var h = CallbackTable.Take<QuerySysMsgResult>(userData);
            if (h == null) return;
            var r = NIMSysMsgQueryResult.Deserialize(Json.FromUtf8(result));
            r.Count = count;
            h(r);
        }

        static void OnUnread(int code, int unread, IntPtr ext, IntPtr userData)
        {
            var h = CallbackTable.Take<CommomOperateResult>(userData);
            if (h != null) h((ResponseCode)code, unread);
        }
    }
}

namespace NIM.Messagelog
{
    public enum NIMMsglogQuerySource { kNIMMsglogQuerySourceLocal = 0, kNIMMsglogQuerySourceServer = 1 }
    public enum NIMMsgLogQueryRange
    {
        kNIMMsgLogQueryRangeP2P = 0, kNIMMsgLogQueryRangeTeam = 1, kNIMMsgLogQueryRangeSuperTeam = 5, kNIMMsgLogQueryRangeAll = 100,
        kNIMMsgLogQueryRangeAllP2P = 101, kNIMMsgLogQueryRangeAllTeam = 102, kNIMMsgLogQueryRangeAllSuperTeam = 103, kNIMMsgLogQueryRangeUnknown = 200,
    }
    public delegate void ImportProgressDelegate(long importedCount, long totalCount);

    /// <summary>A history query's answer.</summary>
    public class MsglogQueryResult
    {
        public int Count;
        public NIMMsglogQuerySource Source;
        public List<NIMIMMessage> MsglogCollection = new List<NIMIMMessage>();

        public static MsglogQueryResult Deserialize(string json)
        {
            var o = JsonOut.Obj(json);
            var r = new MsglogQueryResult();
            r.Count = (int)Json.Long(o, "count");
            r.Source = (NIMMsglogQuerySource)Json.Long(o, "source");
            foreach (var item in Json.List(o, "content"))
                r.MsglogCollection.Add(NIMIMMessage.From(item as Dictionary<string, object>));
            return r;
        }
    }

    public delegate void QueryMsglogResultDelegate(ResponseCode code, string accountId, Session.NIMSessionType sType, MsglogQueryResult result);
    public delegate void OperateMsglogResultDelegate(ResponseCode code, string uid, Session.NIMSessionType sType);
    public delegate void OperateSingleLogResultDelegate(ResponseCode code, string msgId);
    public delegate void CommonOperationResultDelegate(ResponseCode code);
    public delegate void UpdateLocalExtDelegate(ResponseCode code, string msgId);
    /// <summary>A read receipt's result or peers' receipts: `result` is NIM's JSON
    /// array of {"talk_id","msg_timetag","status"} (status 7: read by the peer).</summary>
    public delegate void MsglogStatusChangedDelegate(ResponseCode res, string result);

    public class MessagelogAPI
    {
        static readonly MsgNative.QueryCb QueryCb = OnQuery;

        /// <summary>Local history, newest first, before msgAnchorTimetag (0: now).</summary>
        public static void QueryMsglogLocally(string accountId, Session.NIMSessionType sType, int limit, long msgAnchorTimetag, QueryMsglogResultDelegate action)
        {
            MsgNative.nim_msglog_query_msg_async(accountId, (int)sType, limit, msgAnchorTimetag, null, QueryCb, CallbackTable.Put(action));
        }

        /// <summary>The server's history of a session.</summary>
        public static void QueryMsglogOnline(string id, Session.NIMSessionType sType, int limit, long start, long end, long endMsgId, bool reverse, bool saveLocal, QueryMsglogResultDelegate action)
        {
            MsgNative.nim_msglog_query_msg_online_async(id, (int)sType, limit, start, end, endMsgId, reverse, saveLocal, null, QueryCb, CallbackTable.Put(action));
        }

        static readonly MsgNative.StatusChangedCb StatusOnceCb = OnStatusOnce;
        static readonly MsgNative.StatusChangedCb StatusGlobalCb = OnStatusGlobal;
        static MsglogStatusChangedDelegate statusChanged;

        /// <summary>Tells the sender of a received P2P message that I read its messages up to this one.</summary>
        public static void SendReceipt(NIMIMMessage msg, MsglogStatusChangedDelegate action)
        {
            MsgNative.nim_msglog_send_receipt_async(msg.Serialize(), null, StatusOnceCb, CallbackTable.Put(action));
        }

        /// <summary>Whether the peer has read this message of mine.</summary>
        public static bool IsMessageBeReaded(NIMIMMessage msg)
        {
            return MsgNative.nim_msglog_query_be_readed(msg.Serialize(), null);
        }

        /// <summary>Whether a read receipt covering this received message was sent.</summary>
        public static bool IsMsgReceiptSended(NIMIMMessage msg) // NIM's spelling
        {
            return MsgNative.nim_msglog_query_receipt_sent(msg.Serialize(), null);
        }

        /// <summary>Peers' read receipts of my messages.</summary>
        public static void RegMsglogStatusChangedCb(MsglogStatusChangedDelegate action)
        {
            statusChanged = action;
            MsgNative.nim_msglog_reg_status_changed_cb(null, action == null ? null : StatusGlobalCb, IntPtr.Zero);
        }

        static void OnStatusOnce(int code, IntPtr result, IntPtr ext, IntPtr userData)
        {
            var h = CallbackTable.Take<MsglogStatusChangedDelegate>(userData);
            if (h != null) h((ResponseCode)code, Json.FromUtf8(result));
        }

        static void OnStatusGlobal(int code, IntPtr result, IntPtr ext, IntPtr userData)
        {
            var h = statusChanged;
            if (h != null) h((ResponseCode)code, Json.FromUtf8(result));
        }

        static readonly MsgNative.MsgResExCb ByObjCb = OnByObj;
        static readonly MsgNative.MsgResCb ByLogCb = OnByLog;
        static readonly MsgNative.ModifyCb NormalCb = OnNormal;

        public static void MarkMessagesStatusRead(string id, Session.NIMSessionType sType, OperateMsglogResultDelegate action)
        {
            MsgNative.nim_msglog_batch_status_read_async(id, (int)sType, null, ByObjCb, CallbackTable.Put(action));
        }

        public static void BatchDeleteMeglog(string id, Session.NIMSessionType sType, OperateMsglogResultDelegate action) // NIM's spelling
        {
            MsgNative.nim_msglog_batch_status_delete_async(id, (int)sType, null, ByObjCb, CallbackTable.Put(action));
        }

        public static void SetMsglogStatus(string msgId, NIMMsgLogStatus status, OperateSingleLogResultDelegate action)
        {
            MsgNative.nim_msglog_set_status_async(msgId, (int)status, null, ByLogCb, CallbackTable.Put(action));
        }

        public static void SetMsglogSubStatus(string msgId, int status, OperateSingleLogResultDelegate action)
        {
            MsgNative.nim_msglog_set_sub_status_async(msgId, status, null, ByLogCb, CallbackTable.Put(action));
        }

        public static void WriteMsglog(string uid, bool need_update_session, NIMIMMessage msg, OperateSingleLogResultDelegate action)
        {
            MsgNative.nim_msglog_insert_msglog_async(uid, msg.Serialize(), need_update_session, null, ByLogCb, CallbackTable.Put(action));
        }

        public static void DeleteMsglogsBySessionType(Session.NIMSessionType sType, bool deleteSessions, OperateMsglogResultDelegate action)
        {
            MsgNative.nim_msglog_delete_by_session_type_async(deleteSessions, (int)sType, null, ByObjCb, CallbackTable.Put(action));
        }

        public static void DeleteSpecifiedMsglog(string sid, Session.NIMSessionType sType, string msgId, OperateSingleLogResultDelegate action)
        {
            MsgNative.nim_msglog_delete_async(sid, (int)sType, msgId, null, ByLogCb, CallbackTable.Put(action));
        }

        public static void ClearAll(bool deleteSessions, CommonOperationResultDelegate action)
        {
            MsgNative.nim_msglog_delete_all_async(deleteSessions, null, NormalCb, CallbackTable.Put(action));
        }

        public static void ReadAll(CommonOperationResultDelegate cb)
        {
            MsgNative.nim_msglog_read_all_async(null, NormalCb, CallbackTable.Put(cb));
        }

        public static void UpdateLocalExt(string msgId, string localExt, UpdateLocalExtDelegate cb)
        {
            MsgNative.nim_msglog_update_localext_async(msgId, localExt, null, ByLogCb, CallbackTable.Put(cb));
        }

        static readonly MsgNative.ImportPrgCb PrgCb = OnPrg;

        public static void ExportDatabaseFile(string destPath, CommonOperationResultDelegate action)
        {
            MsgNative.nim_msglog_export_db_async(destPath, null, NormalCb, CallbackTable.Put(action));
        }

        public static void ImportDatabase(string srcPath, CommonOperationResultDelegate action, ImportProgressDelegate prg)
        {
            MsgNative.nim_msglog_import_db_async(srcPath, null, NormalCb, CallbackTable.Put(action), PrgCb, CallbackTable.Put(prg));
        }

        /// <summary>Local messages of one session whose type is one of
        /// <paramref name="msgTypes"/>, as NIM's QuerySpecifiedType.</summary>
        public static void QuerySpecifiedType(NIM.Session.NIMSessionType sessionType, string id, int limit, long fromTime,
            long endTime, string endClientMsgId, bool reverse, List<NIMMessageType> msgTypes, QueryMsglogResultDelegate cb, string jsonExt = null)
        {
            MsgNative.nim_msglog_query_the_message_of_the_specified_type_async((int)sessionType, id, limit, fromTime, endTime,
                endClientMsgId, reverse, NIM.Session.SessionAPI.TypeList(msgTypes), jsonExt, QueryCb, CallbackTable.Put(cb));
        }

        public static void QueryMsglogByCustomCondition(NIMMsgLogQueryRange range, string[] ids, int limit, long sTimetag, long eTimetag,
            string endMsgId, bool reverse, NIMMessageType msgType, string searchContent, QueryMsglogResultDelegate action)
        {
            var sb = new StringBuilder("[");
            for (int i = 0; ids != null && i < ids.Length; i++)
                sb.Append(i > 0 ? "," : "").Append(Json.Quote(ids[i]));
            sb.Append(']');
            MsgNative.nim_msglog_query_msg_by_options_async((int)range, sb.ToString(), limit, sTimetag, eTimetag, endMsgId,
                reverse, (int)msgType, searchContent, null, QueryCb, CallbackTable.Put(action));
        }

        static void OnPrg(long imported, long total, IntPtr ext, IntPtr userData)
        {
            var h = CallbackTable.Take<ImportProgressDelegate>(userData);
            if (h != null) h(imported, total);
        }

        static void OnByObj(int code, IntPtr uid, int toType, IntPtr ext, IntPtr userData)
        {
            var h = CallbackTable.Take<OperateMsglogResultDelegate>(userData);
            if (h != null) h((ResponseCode)code, Json.FromUtf8(uid), (Session.NIMSessionType)toType);
        }

        static void OnByLog(int code, IntPtr msgId, IntPtr ext, IntPtr userData)
        {
            object o = CallbackTable.Take<object>(userData);
            var single = o as OperateSingleLogResultDelegate;
            if (single != null) { single((ResponseCode)code, Json.FromUtf8(msgId)); return; }
            var local = o as UpdateLocalExtDelegate;
            if (local != null) local((ResponseCode)code, Json.FromUtf8(msgId));
        }

        static void OnNormal(int code, IntPtr ext, IntPtr userData)
        {
            var h = CallbackTable.Take<CommonOperationResultDelegate>(userData);
            if (h != null) h((ResponseCode)code);
        }

        static void OnQuery(int code, IntPtr id, int toType, IntPtr result, IntPtr ext, IntPtr userData)
        {
            var h = CallbackTable.Take<QueryMsglogResultDelegate>(userData);
            if (h != null) h((ResponseCode)code, Json.FromUtf8(id), (Session.NIMSessionType)toType, MsglogQueryResult.Deserialize(Json.FromUtf8(result)));
        }
    }
}

namespace NIM.DataSync
{
    public enum NIMDataSyncType
    {
        kNIMDataSyncTypeUnreadMsg = 2, kNIMDataSyncTypeTeamInfo = 3, kNIMDataSyncTypeRoamMsg = 7, kNIMDataSyncTypeSuperTeamInfo = 22,
        kNIMDataSyncTypeTeamUserList = 1000, kNIMDataSyncTypeAllTeamUserList = 1001, kNIMDataSyncTypeSuperTeamUserList = 1010,
        kNIMDataSyncTypeAllSuperTeamUserList = 1011,
    }
    public enum NIMDataSyncStatus { kNIMDataSyncStatusComplete = 1 }

    public delegate void DataSyncDelegate(NIMDataSyncType syncType, NIMDataSyncStatus status, string jsonAttachment);

    public class DataSyncAPI
    {
        static readonly MsgNative.SyncCb Cb = OnComplete;
        static DataSyncDelegate handler;

        /// <summary>Every completed phase of the sync after each login reaches `cb`.</summary>
        public static void RegCompleteCb(DataSyncDelegate cb)
        {
            handler = cb;
            MsgNative.nim_data_sync_reg_complete_cb(cb != null ? Cb : null, IntPtr.Zero);
        }

        static void OnComplete(int syncType, int status, IntPtr attachment, IntPtr userData)
        {
            var h = handler;
            if (h != null) h((NIMDataSyncType)syncType, (NIMDataSyncStatus)status, Json.FromUtf8(attachment));
        }
    }
}
