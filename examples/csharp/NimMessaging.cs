// NIM's C# messaging API (NIM.TalkAPI, NIM.SysMessage.SysMsgAPI,
// NIM.Session.SessionAPI, NIM.Messagelog.MessagelogAPI,
// NIM.DataSync.DataSyncAPI) against Magpie's libnim: what a desktop app
// does after login, as examples/c/nim_messaging.c does in C.
//
// usage: mono NimMessaging.exe DATA_DIR HOST:PORT APP_KEY ACCOUNT TOKEN PEER
//
// Prints one line per step (SYNCED, SESSIONS, UNREAD_ZERO, ACK, SYSMSG_ACK,
// READY, LIVE, NOTE, LOCAL, ONLINE, DONE) and exits 0, or prints FAILED and
// exits 1.
using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading;
using NIM;
using NIM.DataSync;
using NIM.Messagelog;
using NIM.Session;
using NIM.SysMessage;

public static class NimMessaging
{
    static readonly object Out = new object();

    static void Say(string line)
    {
        lock (Out) { Console.WriteLine(line); Console.Out.Flush(); }
    }

    /// <summary>"NAME code=C talk_id=T status=S" of a status-changed result's first change.</summary>
    static string StatusLine(string name, ResponseCode res, string result)
    {
        var talk = Regex.Match(result ?? "", "\"talk_id\":\"([^\"]*)\"").Groups[1].Value;
        var status = Regex.Match(result ?? "", "\"status\":(\\d+)").Groups[1].Value;
        return name + " code=" + (int)res + " talk_id=" + talk + " status=" + status;
    }

    static int Fail(string what)
    {
        Say("FAILED " + what);
        return 1;
    }

    public static int Main(string[] args)
    {
        if (args.Length < 6)
        {
            Console.Error.WriteLine("usage: NimMessaging DATA_DIR HOST:PORT APP_KEY ACCOUNT TOKEN PEER");
            return 2;
        }
        string peer = args[5];
        var config = new NimUtility.NimConfig
        {
            CommonSetting = new NimUtility.SdkCommonSetting { UsePriviteServer = true },
            PrivateServerSetting = new NimUtility.SdkPrivateServerSetting { LinkServer = args[1] },
            AppKey = args[2],
        };
        if (!ClientAPI.Init(args[0], "", config))
            return Fail("init");

        var loggedIn = new ManualResetEvent(false);
        var synced = new ManualResetEvent(false);
        var acked = new ManualResetEvent(false);
        var noteAcked = new ManualResetEvent(false);
        var live = new ManualResetEvent(false);
        var noted = new ManualResetEvent(false);
        var batch = new List<NIMReceivedMessage>();
        NIMIMMessage liveMsg = null;
        MessageAck ack = null, noteAck = null;
        bool loginFailed = false;

        // Every callback before the first login.
        DataSyncAPI.RegCompleteCb((type, status, attachment) =>
        {
            Say("DATA_SYNC type=" + (int)type + " status=" + (int)status);
            if (type == NIMDataSyncType.kNIMDataSyncTypeUnreadMsg && status == NIMDataSyncStatus.kNIMDataSyncStatusComplete)
                synced.Set();
        });
        TalkAPI.RegReceiveBatchMessagesCb(list => { lock (batch) batch.AddRange(list); });
        // Registered and cleared again: a P2P app gets no team notifications or broadcasts.
        TalkAPI.RegTeamNotificationFilterCb((msg, ext) => false);
        TalkAPI.RegTeamNotificationFilterCb(null);
        TalkAPI.RegReceiveBroadcastCb(m => Say("BROADCAST " + m.Body));
        TalkAPI.RegReceiveBroadcastMsgsCb(list => Say("BROADCASTS " + list.Count));
        TalkAPI.RegReceiveBroadcastCb(null);
        TalkAPI.RegReceiveBroadcastMsgsCb(null);
        TalkAPI.OnReceiveMessageHandler = (sender, e) =>
        {
            var m = e.Message;
            if (m.Feature == NIMMessageFeature.kNIMMessageFeatureDefault && m.MessageContent.SenderID == peer)
            {
                Say("LIVE feature=" + (int)m.Feature + " body=" + m.MessageContent.Body);
                liveMsg = m.MessageContent;
                live.Set();
            }
        };
        TalkAPI.OnSendMessageCompleted = (sender, e) => { ack = e.ArcInfo; acked.Set(); };
        // The peer's read receipts of my messages (NIM's raw JSON array).
        MessagelogAPI.RegMsglogStatusChangedCb((res, result) => Say(StatusLine("STATUS_CHANGED", res, result)));
        SysMsgAPI.ReceiveSysMsgHandler = (sender, e) =>
        {
            Say("NOTE from=" + e.Message.Content.SenderId + " attach=" + e.Message.Content.Attachment);
            noted.Set();
        };
        SysMsgAPI.SendSysMsgHandler = (sender, e) => { noteAck = e.ArcInfo; noteAcked.Set(); };
        SessionAPI.RecentSessionChangedHandler = (sender, e) => { };

        ClientAPI.Login(args[2], args[3], args[4], r =>
        {
            if (r.Code != ResponseCode.kNIMResSuccess) { loginFailed = true; loggedIn.Set(); }
            else if (r.LoginStep == NIMLoginStep.kNIMLoginStepLogin) loggedIn.Set();
        });
        if (!loggedIn.WaitOne(20000) || loginFailed)
            return Fail("login");
        if (!synced.WaitOne(20000))
            return Fail("offline sync");
        lock (batch)
            Say("SYNCED batch=" + batch.Count
                + " ids=" + string.Join(",", batch.Select(m => m.MessageContent.ClientMsgID).ToArray())
                + " features=" + string.Join(",", batch.Select(m => ((int)m.Feature).ToString()).ToArray()));

        // A forward of the first synced message, built (not sent) with new settings.
        NIMIMMessage synced0;
        lock (batch)
            synced0 = batch[0].MessageContent;
        var setting = new NIMMessageSetting { NeedPush = false };
        var retweet = TalkAPI.CreateRetweetMessage(synced0, setting, "cs-rt-1", peer, NIMSessionType.kNIMSessionTypeP2P, 0);
        Say("RETWEET to=" + retweet.ReceiverID + " id=" + retweet.ClientMsgID + " body=" + retweet.Body);
        Say("PATH [" + TalkAPI.GetAttachmentPathFromMsg(synced0) + "]");

        var listed = new ManualResetEvent(false);
        SessionAPI.QueryAllRecentSession((total, list) =>
        {
            var first = list.SessionList.Count > 0 ? list.SessionList[0].Id + ":" + list.SessionList[0].UnreadCount : "";
            Say("SESSIONS total_unread=" + total + " count=" + list.Count + " first=" + first);
            listed.Set();
        });
        if (!listed.WaitOne(10000))
            return Fail("sessions");

        var zeroed = new ManualResetEvent(false);
        SessionAPI.SetUnreadCountZero(NIMSessionType.kNIMSessionTypeP2P, peer, (code, info, total) =>
        {
            Say("UNREAD_ZERO rescode=" + code + " total_unread=" + total);
            zeroed.Set();
        });
        if (!zeroed.WaitOne(10000))
            return Fail("unread zero");

        var text = new NIMTextMessage { ReceiverID = peer, ClientMsgID = "cs-msg-1", TextMessage = "hello from C#" };
        TalkAPI.SendMessage(text);
        if (!acked.WaitOne(10000))
            return Fail("send");
        Say("ACK rescode=" + (int)ack.Response + " msg_id=" + ack.MsgId + " talk_id=" + ack.TalkId + " timetag=" + ack.TimeStamp);

        var note = new NIMSysMessageContent
        {
            ReceiverId = peer,
            MsgType = NIMSysMsgType.kNIMSysMsgTypeCustomP2PMsg,
            Attachment = "{\"typing\":true}",
            ClientMsgId = "cs-note-1",
            SupportOffline = true,
        };
        SysMsgAPI.SendCustomMessage(note);
        if (!noteAcked.WaitOne(10000))
            return Fail("custom notification");
        Say("SYSMSG_ACK rescode=" + (int)noteAck.Response + " msg_id=" + noteAck.MsgId + " talk_id=" + noteAck.TalkId);

        Say("READY");
        if (!live.WaitOne(30000))
            return Fail("live message");
        if (!noted.WaitOne(30000))
            return Fail("notification");

        // A read receipt for the peer's live message.
        var receipted = new ManualResetEvent(false);
        bool before = MessagelogAPI.IsMsgReceiptSended(liveMsg);
        MessagelogAPI.SendReceipt(liveMsg, (res, result) => { Say(StatusLine("RECEIPT", res, result)); receipted.Set(); });
        if (!receipted.WaitOne(10000))
            return Fail("receipt");
        bool after = MessagelogAPI.IsMsgReceiptSended(liveMsg);
        Say("RECEIPT_SENT before=" + (before ? 1 : 0) + " after=" + (after ? 1 : 0));

        foreach (var which in new[] { "LOCAL", "ONLINE" })
        {
            var done = new ManualResetEvent(false);
            QueryMsglogResultDelegate report = (code, id, type, result) =>
            {
                var bodies = result.MsglogCollection.Select(m => m.Body).ToList();
                bodies.Sort(string.CompareOrdinal);
                Say(which + " code=" + (int)code + " count=" + result.Count + " source=" + (int)result.Source + " bodies=" + string.Join("|", bodies.ToArray()));
                done.Set();
            };
            if (which == "LOCAL")
                MessagelogAPI.QueryMsglogLocally(peer, NIMSessionType.kNIMSessionTypeP2P, 50, 0, report);
            else
                MessagelogAPI.QueryMsglogOnline(peer, NIMSessionType.kNIMSessionTypeP2P, 50, 0, 0, 0, false, false, report);
            if (!done.WaitOne(10000))
                return Fail(which);
        }

        // Local operations.
        var step = new AutoResetEvent(false);
        MessagelogAPI.UpdateLocalExt("dog-offline-1", "{\"pinned\":true}", (code, id) => { Say("LOCALEXT code=" + (int)code + " id=" + id); step.Set(); });
        if (!step.WaitOne(10000)) return Fail("local ext");
        MessagelogAPI.MarkMessagesStatusRead(peer, NIMSessionType.kNIMSessionTypeP2P, (code, uid, type) => { Say("BATCHREAD code=" + (int)code + " uid=" + uid); step.Set(); });
        if (!step.WaitOne(10000)) return Fail("batch read");
        SessionAPI.PinSessionOnTop(NIMSessionType.kNIMSessionTypeP2P, peer, true, (code, info, total) => { Say("TOP code=" + code + " top=" + (info.IsPinnedOnTop ? 1 : 0)); step.Set(); });
        if (!step.WaitOne(10000)) return Fail("top");
        SysMsgAPI.SetAllMsgRead((code, unread, ext, ud) => { Say("SYSREADALL code=" + code + " unread=" + unread); step.Set(); });
        if (!step.WaitOne(10000)) return Fail("sysmsg read all");
        MessagelogAPI.QueryMsglogByCustomCondition(NIMMsgLogQueryRange.kNIMMsgLogQueryRangeAllP2P, new string[0], 10, 0, 0, "", false,
            NIMMessageType.kNIMMessageTypeUnknown, "OFFLINE", (code, id, type, result) => { Say("SEARCH code=" + (int)code + " count=" + result.Count); step.Set(); });
        if (!step.WaitOne(10000)) return Fail("search");
        SessionAPI.QueryAllRecentSession(NIMMessageType.kNIMMessageTypeText, (total, list) =>
        {
            Say("NOTEXT count=" + list.Count + " last=" + (list.SessionList.Count > 0 ? list.SessionList[0].MsgId : ""));
            step.Set();
        });
        if (!step.WaitOne(10000)) return Fail("sessions without text");
        SessionAPI.QueryAllRecentSession(new List<NIMMessageType> { NIMMessageType.kNIMMessageTypeCustom }, (total, list) =>
        {
            Say("NOCUSTOM count=" + list.Count + " has_last=" + (list.SessionList.Count > 0 && !string.IsNullOrEmpty(list.SessionList[0].MsgId) ? 1 : 0));
            step.Set();
        });
        if (!step.WaitOne(10000)) return Fail("sessions without custom");
        MessagelogAPI.QuerySpecifiedType(NIMSessionType.kNIMSessionTypeP2P, peer, 100, 0, 0, "", false,
            new List<NIMMessageType> { NIMMessageType.kNIMMessageTypeCustom },
            (code, id, type, result) => { Say("CUSTOMONLY code=" + (int)code + " count=" + result.Count); step.Set(); });
        if (!step.WaitOne(10000)) return Fail("messages of a type");
        string exported = System.IO.Path.Combine(args[0], "exported.db");
        MessagelogAPI.ExportDatabaseFile(exported, code => { Say("EXPORT code=" + (int)code); step.Set(); });
        if (!step.WaitOne(10000)) return Fail("export");
        MessagelogAPI.ClearAll(true, code => { Say("DELETEALL code=" + (int)code); step.Set(); });
        if (!step.WaitOne(10000)) return Fail("delete all");
        long imported = -1;
        MessagelogAPI.ImportDatabase(exported, code => { Say("IMPORT code=" + (int)code + " imported=" + imported); step.Set(); }, (n, total) => { imported = n; });
        if (!step.WaitOne(10000)) return Fail("import");

        var loggedOut = new ManualResetEvent(false);
        ClientAPI.Logout(NIMLogoutType.kNIMLogoutAppExit, r => loggedOut.Set());
        if (!loggedOut.WaitOne(20000))
            return Fail("logout");
        ClientAPI.Cleanup();
        Say("DONE");
        return 0;
    }
}
