//! The storage conformance suite. Every backend runs it through
//! [`store_conformance_suite!`](crate::store_conformance_suite), so all
//! backends behave the same to their callers. There is one module per
//! concern ([`apps`], [`accounts`]); each check takes fresh, empty stores
//! and panics on a violation.

use crate::{AccountId, AccountPatch, NewAccount, TokenHash};

fn id(s: &str) -> AccountId {
    AccountId::parse(s).expect("valid test accid")
}

fn new_account(accid: &str, token: &str) -> NewAccount {
    NewAccount {
        profile: AccountPatch {
            name: Some(format!("name of {accid}")),
            ..Default::default()
        },
        ..NewAccount::new(id(accid), TokenHash::new(token))
    }
}

/// Checks of [`AppStore`](crate::AppStore).
pub mod apps {
    use crate::settings::{CallbackSettings, LoginAuth, Policy};
    use crate::{AppSettings, Setting, StoreError, Stores};

    /// Apps are created once per key and found by key.
    pub async fn apps_are_created_and_found_by_key(s: &Stores) {
        let s = &s.apps;
        let a = s.create_app("one", "key-a", "secret-a").await.unwrap();
        let b = s.create_app("two", "key-b", "secret-b").await.unwrap();
        assert_ne!(a.id, b.id);
        assert!(matches!(
            s.create_app("dup", "key-a", "x").await,
            Err(StoreError::Conflict)
        ));
        let found = s.app_by_key("key-b").await.unwrap().unwrap();
        assert_eq!(found, b);
        assert_eq!(found.app_secret, "secret-b");
        assert_eq!(found.settings, AppSettings::default());
        assert!(s.app_by_key("nope").await.unwrap().is_none());
        let all = s.list_apps().await.unwrap();
        assert_eq!(
            all.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(),
            ["one", "two"]
        );
    }

    /// Each settings group is stored per app, read back typed, and reset
    /// independently of the others.
    pub async fn settings_are_stored_per_app_and_group(s: &Stores) {
        let s = &s.apps;
        let a = s.create_app("a", "ka", "sa").await.unwrap();
        let b = s.create_app("b", "kb", "sb").await.unwrap();
        let auth = LoginAuth {
            auth_types: vec![0, 2],
            callback: Some(CallbackSettings {
                url: "https://app.example/login".into(),
                timeout_ms: 1500,
                fail_open: false,
            }),
        };
        s.set_setting(a.id, Setting::DevicePolicy(Some(Policy::Single)))
            .await
            .unwrap();
        s.set_setting(a.id, Setting::LoginAuth(Some(auth.clone())))
            .await
            .unwrap();
        let got = s.app_by_key("ka").await.unwrap().unwrap().settings;
        assert_eq!(got.device_policy, Some(Policy::Single));
        assert_eq!(got.login_auth, Some(auth.clone()));
        assert_eq!(
            s.app_by_key("kb").await.unwrap().unwrap().settings,
            AppSettings::default(),
            "another app's settings are untouched"
        );
        // Replace one group, reset it, and the other stays.
        s.set_setting(a.id, Setting::DevicePolicy(Some(Policy::DesktopMobile)))
            .await
            .unwrap();
        assert_eq!(
            s.app_by_key("ka")
                .await
                .unwrap()
                .unwrap()
                .settings
                .device_policy,
            Some(Policy::DesktopMobile)
        );
        s.set_setting(a.id, Setting::DevicePolicy(None))
            .await
            .unwrap();
        let got = s.app_by_key("ka").await.unwrap().unwrap().settings;
        assert_eq!(got.device_policy, None);
        assert_eq!(got.login_auth, Some(auth));
        let listed = s.list_apps().await.unwrap();
        assert_eq!(listed[0].settings, got, "list_apps reads settings too");
        s.set_setting(a.id, Setting::LoginAuth(None)).await.unwrap();
        assert_eq!(
            s.app_by_key("ka").await.unwrap().unwrap().settings,
            AppSettings::default()
        );
        assert!(matches!(
            s.set_setting(b.id + 100, Setting::DevicePolicy(Some(Policy::All)))
                .await,
            Err(StoreError::NotFound)
        ));
    }
}

/// Checks of [`AccountStore`](crate::AccountStore).
pub mod accounts {
    use super::{id, new_account};
    use crate::{AccountPatch, NewAccount, StoreError, Stores, TokenHash};

    /// An account exists only inside its own app.
    pub async fn accounts_are_isolated_per_app(s: &Stores) {
        let a = s.apps.create_app("a", "ka", "sa").await.unwrap();
        let b = s.apps.create_app("b", "kb", "sb").await.unwrap();
        let s = &s.accounts;
        let alice = id("alice");
        s.create_account(a.id, new_account("alice", "t1"))
            .await
            .unwrap();
        assert!(s.account(b.id, &alice).await.unwrap().is_none());
        assert!(matches!(
            s.set_token(b.id, &alice, TokenHash::new("x")).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            s.set_blocked(b.id, &alice, true).await,
            Err(StoreError::NotFound)
        ));
        // The same accid may exist in another app, independently.
        s.create_account(b.id, new_account("alice", "t2"))
            .await
            .unwrap();
        let in_a = s.account(a.id, &alice).await.unwrap().unwrap();
        let in_b = s.account(b.id, &alice).await.unwrap().unwrap();
        assert!(in_a.token.verify("t1") && !in_a.token.verify("t2"));
        assert!(in_b.token.verify("t2") && !in_b.token.verify("t1"));
    }

    /// A search by prefix finds the app's accounts in id order, up to the
    /// limit, and takes `_` literally (a LIKE wildcard).
    pub async fn accounts_are_found_by_prefix(s: &Stores) {
        let a = s.apps.create_app("a", "ka", "sa").await.unwrap();
        let b = s.apps.create_app("b", "kb", "sb").await.unwrap();
        for accid in ["bob", "alice", "al_x", "al.y", "alex", "zed"] {
            s.accounts
                .create_account(a.id, new_account(accid, "t"))
                .await
                .unwrap();
        }
        s.accounts
            .create_account(b.id, new_account("alan", "t"))
            .await
            .unwrap();
        let ids = |v: Vec<crate::Account>| {
            v.into_iter()
                .map(|x| x.accid.to_string())
                .collect::<Vec<_>>()
        };
        let s2 = &s.accounts;
        assert_eq!(
            ids(s2.search_accounts(a.id, "al", 10).await.unwrap()),
            ["al.y", "al_x", "alex", "alice"]
        );
        assert_eq!(
            ids(s2.search_accounts(a.id, "al_", 10).await.unwrap()),
            ["al_x"]
        );
        assert_eq!(ids(s2.search_accounts(a.id, "", 2).await.unwrap()).len(), 2);
        assert_eq!(s2.search_accounts(a.id, "", 100).await.unwrap().len(), 6);
        assert!(s2.search_accounts(a.id, "q", 10).await.unwrap().is_empty());
    }

    /// Creating an existing account conflicts and changes nothing.
    pub async fn duplicate_account_conflicts(s: &Stores) {
        let a = s.apps.create_app("a", "ka", "sa").await.unwrap();
        let s = &s.accounts;
        s.create_account(a.id, new_account("bob", "t1"))
            .await
            .unwrap();
        assert!(matches!(
            s.create_account(a.id, new_account("bob", "t2")).await,
            Err(StoreError::Conflict)
        ));
        let bob = s.account(a.id, &id("bob")).await.unwrap().unwrap();
        assert!(bob.token.verify("t1"));
        assert_eq!(bob.name, "name of bob");
    }

    /// A new token replaces the old one.
    pub async fn token_replacement_invalidates_the_old_token(s: &Stores) {
        let a = s.apps.create_app("a", "ka", "sa").await.unwrap();
        let s = &s.accounts;
        let carol = id("carol");
        s.create_account(a.id, new_account("carol", "old"))
            .await
            .unwrap();
        s.set_token(a.id, &carol, TokenHash::new("new"))
            .await
            .unwrap();
        let c = s.account(a.id, &carol).await.unwrap().unwrap();
        assert!(c.token.verify("new"));
        assert!(!c.token.verify("old"));
    }

    /// Blocking and unblocking are stored; an account may be created blocked.
    pub async fn block_and_unblock(s: &Stores) {
        let a = s.apps.create_app("a", "ka", "sa").await.unwrap();
        let s = &s.accounts;
        let dave = id("dave");
        s.create_account(a.id, new_account("dave", "t"))
            .await
            .unwrap();
        assert!(!s.account(a.id, &dave).await.unwrap().unwrap().blocked);
        s.set_blocked(a.id, &dave, true).await.unwrap();
        assert!(s.account(a.id, &dave).await.unwrap().unwrap().blocked);
        s.set_blocked(a.id, &dave, false).await.unwrap();
        assert!(!s.account(a.id, &dave).await.unwrap().unwrap().blocked);
        let born_blocked = NewAccount {
            blocked: true,
            ..new_account("eve", "t")
        };
        assert!(s.create_account(a.id, born_blocked).await.unwrap().blocked);
        assert!(s.account(a.id, &id("eve")).await.unwrap().unwrap().blocked);
    }

    /// Sessions on top are per account: set creates (or replaces the
    /// extension, keeping the creation time), update and cancel need the
    /// session on top, the list is newest first, and they go with the app.
    pub async fn stick_tops_are_per_account(s: &Stores) {
        use crate::StickTopChange as C;
        let a = s.apps.create_app("a", "ka", "sa").await.unwrap();
        let acc = &s.accounts;
        for who in ["gus", "hal"] {
            acc.create_account(a.id, new_account(who, "t"))
                .await
                .unwrap();
        }
        let gus = id("gus");
        let set = |sid: &str, ext: &str| C::Set {
            to_type: 0,
            session_id: sid.into(),
            ext: ext.into(),
        };
        let first = acc
            .change_stick_top(a.id, &gus, set("hal", "x"), 10)
            .await
            .unwrap();
        assert_eq!(
            (first.create_time, first.update_time, first.ext.as_str()),
            (10, 10, "x")
        );
        let again = acc
            .change_stick_top(a.id, &gus, set("hal", "y"), 20)
            .await
            .unwrap();
        assert_eq!(
            (again.create_time, again.update_time, again.ext.as_str()),
            (10, 20, "y")
        );
        acc.change_stick_top(a.id, &gus, set("ivy", ""), 30)
            .await
            .unwrap();
        let team = C::Set {
            to_type: 1,
            session_id: "hal".into(),
            ext: String::new(),
        };
        acc.change_stick_top(a.id, &gus, team, 5).await.unwrap();
        let list = acc.stick_tops(a.id, &gus).await.unwrap();
        let order: Vec<(u32, &str)> = list
            .iter()
            .map(|t| (t.to_type, t.session_id.as_str()))
            .collect();
        assert_eq!(order, [(0, "ivy"), (0, "hal"), (1, "hal")]);
        assert!(
            acc.stick_tops(a.id, &id("hal")).await.unwrap().is_empty(),
            "per account"
        );
        let update = |sid: &str| C::Update {
            to_type: 0,
            session_id: sid.into(),
            ext: "z".into(),
        };
        let upd = acc
            .change_stick_top(a.id, &gus, update("hal"), 40)
            .await
            .unwrap();
        assert_eq!(
            (upd.create_time, upd.update_time, upd.ext.as_str()),
            (10, 40, "z")
        );
        assert!(matches!(
            acc.change_stick_top(a.id, &gus, update("nobody"), 41).await,
            Err(crate::StoreError::NotFound)
        ));
        let cancel = |t: u32, sid: &str| C::Cancel {
            to_type: t,
            session_id: sid.into(),
        };
        let gone = acc
            .change_stick_top(a.id, &gus, cancel(0, "hal"), 50)
            .await
            .unwrap();
        assert_eq!(gone.ext, "z");
        assert!(matches!(
            acc.change_stick_top(a.id, &gus, cancel(0, "hal"), 51).await,
            Err(crate::StoreError::NotFound)
        ));
        assert_eq!(acc.stick_tops(a.id, &gus).await.unwrap().len(), 2);
        // At most MAX_STICK_TOPS: one more is refused, one already there
        // may still be set again.
        for k in 2..crate::MAX_STICK_TOPS {
            let c = set(&format!("s{k}"), "");
            acc.change_stick_top(a.id, &gus, c, 60).await.unwrap();
        }
        assert!(matches!(
            acc.change_stick_top(a.id, &gus, set("one-more", ""), 61)
                .await,
            Err(crate::StoreError::Conflict)
        ));
        acc.change_stick_top(a.id, &gus, set("ivy", "again"), 62)
            .await
            .unwrap();
        assert_eq!(
            acc.stick_tops(a.id, &gus).await.unwrap().len(),
            crate::MAX_STICK_TOPS
        );
        s.apps.delete_app(a.id).await.unwrap();
        assert!(
            acc.stick_tops(a.id, &gus).await.unwrap().is_empty(),
            "gone with the app"
        );
    }

    /// The multiport push switch is per account (2 by default), and push
    /// tokens are per device: replaced, removed by an empty token, gone
    /// with the app.
    pub async fn push_settings_are_per_account_and_device(s: &Stores) {
        let a = s.apps.create_app("a", "ka", "sa").await.unwrap();
        let b = s.apps.create_app("b", "kb", "sb").await.unwrap();
        let acc = &s.accounts;
        for app in [a.id, b.id] {
            acc.create_account(app, new_account("fay", "t"))
                .await
                .unwrap();
        }
        let fay = id("fay");
        assert_eq!(
            acc.account(a.id, &fay).await.unwrap().unwrap().switch_open,
            crate::SWITCH_OPEN_DEFAULT
        );
        acc.set_switch_open(a.id, &fay, 1).await.unwrap();
        assert_eq!(
            acc.account(a.id, &fay).await.unwrap().unwrap().switch_open,
            1
        );
        assert_eq!(
            acc.account(b.id, &fay).await.unwrap().unwrap().switch_open,
            2
        );
        assert!(matches!(
            acc.set_switch_open(a.id, &id("nobody"), 1).await,
            Err(StoreError::NotFound)
        ));
        acc.set_push_token(a.id, &fay, "phone", "tok-1", "cert")
            .await
            .unwrap();
        acc.set_push_token(a.id, &fay, "pad", "tok-2", "")
            .await
            .unwrap();
        acc.set_push_token(a.id, &fay, "phone", "tok-3", "cert")
            .await
            .unwrap();
        let got: Vec<(String, String, String)> = acc
            .push_tokens(a.id, &fay)
            .await
            .unwrap()
            .into_iter()
            .map(|t| (t.device_id, t.token, t.cer_name))
            .collect();
        assert_eq!(
            got,
            [
                ("pad".into(), "tok-2".into(), String::new()),
                ("phone".into(), "tok-3".into(), "cert".into())
            ]
        );
        assert!(acc.push_tokens(b.id, &fay).await.unwrap().is_empty());
        acc.set_push_token(a.id, &fay, "pad", "", "").await.unwrap();
        assert_eq!(acc.push_tokens(a.id, &fay).await.unwrap().len(), 1);
        // Another account on the phone: the phone's token is now its only.
        acc.create_account(a.id, new_account("gus", "t"))
            .await
            .unwrap();
        acc.set_push_token(a.id, &id("gus"), "phone", "tok-4", "")
            .await
            .unwrap();
        assert!(acc.push_tokens(a.id, &fay).await.unwrap().is_empty());
        assert_eq!(acc.push_tokens(a.id, &id("gus")).await.unwrap().len(), 1);
        assert!(matches!(
            acc.set_push_token(a.id, &id("nobody"), "d", "t", "").await,
            Err(StoreError::NotFound)
        ));
        s.apps.delete_app(a.id).await.unwrap();
        assert!(acc.push_tokens(a.id, &fay).await.unwrap().is_empty());
    }

    /// A patch changes only the fields it names.
    pub async fn profile_patch_changes_only_named_fields(s: &Stores) {
        let a = s.apps.create_app("a", "ka", "sa").await.unwrap();
        let s = &s.accounts;
        let erin = id("erin");
        s.create_account(a.id, new_account("erin", "t"))
            .await
            .unwrap();
        let patched = s
            .update_account(
                a.id,
                &erin,
                AccountPatch {
                    icon: Some("http://icon".into()),
                    gender: Some(2),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(patched.name, "name of erin");
        assert_eq!(patched.icon, "http://icon");
        assert_eq!(patched.gender, 2);
        assert_eq!(s.account(a.id, &erin).await.unwrap().unwrap(), patched);
        assert!(matches!(
            s.update_account(a.id, &id("nobody"), AccountPatch::default())
                .await,
            Err(StoreError::NotFound)
        ));
    }

    /// Blacklists are per owner, need both accounts, and can be undone.
    pub async fn blacklists_are_per_owner(s: &Stores) {
        let a = s.apps.create_app("a", "ka", "sa").await.unwrap();
        let s = &s.accounts;
        for n in ["ann", "bob", "cid"] {
            s.create_account(a.id, new_account(n, "t")).await.unwrap();
        }
        s.set_blacklisted(a.id, &id("ann"), &id("bob"), true)
            .await
            .unwrap();
        s.set_blacklisted(a.id, &id("ann"), &id("cid"), true)
            .await
            .unwrap();
        s.set_blacklisted(a.id, &id("ann"), &id("bob"), true)
            .await
            .unwrap();
        assert_eq!(
            s.blacklist(a.id, &id("ann")).await.unwrap(),
            [id("bob"), id("cid")]
        );
        assert!(s.blacklist(a.id, &id("bob")).await.unwrap().is_empty());
        s.set_blacklisted(a.id, &id("ann"), &id("bob"), false)
            .await
            .unwrap();
        assert_eq!(s.blacklist(a.id, &id("ann")).await.unwrap(), [id("cid")]);
        assert!(matches!(
            s.set_blacklisted(a.id, &id("ann"), &id("nobody"), true)
                .await,
            Err(StoreError::NotFound)
        ));
    }

    /// A batch of accounts is created whole, or not at all.
    pub async fn batch_creation_is_all_or_nothing(s: &Stores) {
        let a = s.apps.create_app("a", "ka", "sa").await.unwrap();
        let s = &s.accounts;
        let batch = |names: &[&str]| {
            names
                .iter()
                .map(|n| new_account(n, "t"))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            s.create_accounts(a.id, batch(&["b1", "b2", "b3"]))
                .await
                .unwrap(),
            3
        );
        assert!(s
            .account(a.id, &id("b2"))
            .await
            .unwrap()
            .unwrap()
            .token
            .verify("t"));
        assert!(matches!(
            s.create_accounts(a.id, batch(&["b4", "b1"])).await,
            Err(StoreError::Conflict)
        ));
        assert!(
            s.account(a.id, &id("b4")).await.unwrap().is_none(),
            "nothing of a failed batch stays"
        );
        assert!(matches!(
            s.create_accounts(a.id, batch(&["b5", "b5"])).await,
            Err(StoreError::Conflict)
        ));
        assert!(s.account(a.id, &id("b5")).await.unwrap().is_none());
    }
}

/// Checks of [`OperatorStore`](crate::OperatorStore).
pub mod operators {
    use crate::{StoreError, Stores};

    /// Operators are created once per name, found, and get new passwords.
    pub async fn operators_are_created_once_and_found(s: &Stores) {
        let o = &s.operators;
        o.create_operator("root", "$argon2id$one").await.unwrap();
        assert!(matches!(
            o.create_operator("root", "$argon2id$two").await,
            Err(StoreError::Conflict)
        ));
        let found = o.operator("root").await.unwrap().unwrap();
        assert_eq!(
            (found.name.as_str(), found.password_hash.as_str()),
            ("root", "$argon2id$one")
        );
        assert!(found.created_at > 0);
        assert!(o.operator("nobody").await.unwrap().is_none());
        o.set_operator_password("root", "$argon2id$three")
            .await
            .unwrap();
        assert_eq!(
            o.operator("root").await.unwrap().unwrap().password_hash,
            "$argon2id$three"
        );
        assert!(matches!(
            o.set_operator_password("nobody", "x").await,
            Err(StoreError::NotFound)
        ));
    }
}

/// Checks of [`EventOutbox`](crate::EventOutbox).
pub mod events {
    use crate::{now_ms, Stores};

    /// Events come out in order when due; a failure counts an attempt and
    /// postpones the event; a delivered event leaves; old events expire;
    /// a deleted app's events go with it.
    pub async fn outbox_events_wait_until_delivered(s: &Stores) {
        let a = s.apps.create_app("a", "ka", "sa").await.unwrap();
        let b = s.apps.create_app("b", "kb", "sb").await.unwrap();
        let e = &s.events;
        e.push_events(vec![
            (a.id, "1".into()),
            (b.id, "2".into()),
            (a.id, "3".into()),
        ])
        .await
        .unwrap();
        let now = now_ms() + 1;
        let due = e.due_events(now, 10).await.unwrap();
        let bodies: Vec<&str> = due.iter().map(|x| x.body.as_str()).collect();
        assert_eq!(bodies, ["1", "2", "3"]);
        assert!(due[0].id < due[1].id && due[1].id < due[2].id);
        assert_eq!(due[1].app_id, b.id);
        assert_eq!(e.due_events(now, 2).await.unwrap().len(), 2);
        e.event_failed(due[0].id, now + 60_000).await.unwrap();
        let later = e.due_events(now, 10).await.unwrap();
        assert_eq!(
            later.iter().map(|x| x.body.as_str()).collect::<Vec<_>>(),
            ["2", "3"]
        );
        let retry = e.due_events(now + 60_000, 10).await.unwrap();
        assert_eq!((retry[0].body.as_str(), retry[0].attempts), ("1", 1));
        e.event_delivered(due[1].id).await.unwrap();
        assert_eq!(e.due_events(now + 60_000, 10).await.unwrap().len(), 2);
        s.apps.delete_app(b.id).await.unwrap();
        s.apps.delete_app(a.id).await.unwrap();
        assert!(e.due_events(now + 60_000, 10).await.unwrap().is_empty());
        e.push_events(vec![(9, "old".into())]).await.unwrap();
        assert_eq!(e.expire_events(now_ms() + 1).await.unwrap(), 1);
        assert!(e.due_events(now_ms() + 1, 10).await.unwrap().is_empty());
    }
}

/// Checks of [`MessageStore`](crate::MessageStore).
pub mod messages {
    use super::id;
    use crate::message::SERVER_ID_PLACEHOLDER;
    use crate::{Append, EntryKind, HistoryRange, NewMessage, NewNote, Stores};

    fn msg(from: &str, to: &str, client: &str, time: i64) -> Append {
        Append::Msg(NewMessage {
            from: id(from),
            to: id(to),
            client_msg_id: client.into(),
            resent: true,
            time,
            msg_type: 0,
            json: format!(
                r#"{{{SERVER_ID_PLACEHOLDER},"from_id":"{from}","to_accid":"{to}","client_msg_id":"{client}","time":{time}}}"#
            ),
            history: true,
            to_log: true,
            from_log: true,
        })
    }

    fn note(account: &str, kind: EntryKind, json: &str, dedup: Option<(&str, &str)>) -> Append {
        Append::Note(NewNote {
            account: id(account),
            kind,
            json: json.into(),
            dedup: dedup.map(|(a, c)| (id(a), c.to_owned())),
            time: 1,
        })
    }

    fn range(limit: u32, ascending: bool) -> HistoryRange {
        HistoryRange {
            keyword: String::new(),
            from_time: 0,
            end_time: 0,
            end_msg_id: 0,
            limit,
            ascending,
            msg_types: Vec::new(),
        }
    }

    /// A one-way deletion hides a message from one of its two accounts
    /// (history and sync), a cleared history hides a conversation up to a
    /// time from one account's history (and with `sync` its sync); the
    /// other account keeps everything and the positions stay.
    pub async fn messages_deleted_for_one_account_leave_only_its_history_and_sync(s: &Stores) {
        let app = s.apps.create_app("a", "k", "s").await.unwrap().id;
        let m = &s.messages;
        let sent = m
            .append(vec![
                (app, msg("ann", "bob", "c1", 10)),
                (app, msg("ann", "bob", "c2", 20)),
                (app, msg("bob", "ann", "c3", 30)),
                (app, msg("ann", "bob", "c4", 40)),
                (app, msg("ann", "carl", "c5", 15)),
            ])
            .await
            .unwrap();
        let ids = |v: &[usize]| v.iter().map(|&i| sent[i].server_id).collect::<Vec<_>>();
        let history = |a: &'static str, b: &'static str| async move {
            m.history(app, &id(a), &id(b), range(10, true))
                .await
                .unwrap()
                .iter()
                .map(|x| x.server_id)
                .collect::<Vec<_>>()
        };
        let hidden = |a: &'static str| async move {
            m.log(app, &id(a), 0, 10)
                .await
                .unwrap()
                .entries
                .iter()
                .map(|e| e.hidden)
                .collect::<Vec<_>>()
        };
        let hide = |account: &str, from: &str, client: &str| Append::Hide {
            account: id(account),
            from: id(from),
            client_msg_id: client.into(),
        };
        // Bob deletes ann's c1 for himself; ann deletes bob's c3 (received).
        let r = m
            .append(vec![
                (app, hide("bob", "ann", "c1")),
                (app, hide("ann", "bob", "c3")),
                (app, hide("bob", "ann", "c9")),
            ])
            .await
            .unwrap();
        assert_eq!(
            r.iter().map(|a| a.server_id).collect::<Vec<_>>(),
            [sent[0].server_id, sent[2].server_id, 0]
        );
        assert_eq!(history("bob", "ann").await, ids(&[1, 2, 3]));
        assert_eq!(history("ann", "bob").await, ids(&[0, 1, 3]));
        assert_eq!(hidden("bob").await, [true, false, false, false]);
        assert_eq!(hidden("ann").await, [false, false, true, false, false]);
        // Ann clears her history with bob up to 20, keeping her sync.
        m.append(vec![(
            app,
            Append::ClearHistory {
                account: id("ann"),
                peer: id("bob"),
                upto: 20,
                history: true,
                sync: false,
            },
        )])
        .await
        .unwrap();
        assert_eq!(history("ann", "bob").await, ids(&[3]));
        assert_eq!(
            history("ann", "carl").await,
            ids(&[4]),
            "other sessions stay"
        );
        assert_eq!(hidden("ann").await, [false, false, true, false, false]);
        assert_eq!(
            history("bob", "ann").await,
            ids(&[1, 2, 3]),
            "bob keeps his"
        );
        // Bob clears all of it, with his sync.
        m.append(vec![(
            app,
            Append::ClearHistory {
                account: id("bob"),
                peer: id("ann"),
                upto: 40,
                history: true,
                sync: true,
            },
        )])
        .await
        .unwrap();
        assert_eq!(history("bob", "ann").await, ids(&[]));
        assert_eq!(hidden("bob").await, [true; 4]);
        assert_eq!(history("ann", "bob").await, ids(&[3]), "ann keeps hers");
        assert_eq!(
            m.log(app, &id("bob"), 0, 10).await.unwrap().entries.len(),
            4
        );
        // Ann deletes her roaming copies only: her history stays.
        m.append(vec![(
            app,
            Append::ClearHistory {
                account: id("ann"),
                peer: id("bob"),
                upto: 40,
                history: false,
                sync: true,
            },
        )])
        .await
        .unwrap();
        assert_eq!(history("ann", "bob").await, ids(&[3]));
        assert_eq!(hidden("ann").await, [true, true, true, true, false]);
    }

    /// Every message makes (or moves up) a server-side session of each of
    /// its accounts with the other, newest first, paged by update time; the
    /// extension is set (creating a session), a session is dropped until
    /// the next message; a recall marks the last message, a one-way
    /// deletion hides it from one side, retention takes old sessions.
    pub async fn server_sessions_follow_messages(s: &Stores) {
        use crate::{SessionQuery, StoreResult};
        /// (peer, update time, extension, last message: (recalled, is c3)).
        type Seen = (String, i64, String, Option<(bool, bool)>);
        let app = s.apps.create_app("a", "k", "s").await.unwrap().id;
        let m = &s.messages;
        let sent = m
            .append(vec![
                (app, msg("ann", "bob", "c1", 10)),
                (app, msg("ann", "cat", "c2", 20)),
                (app, msg("bob", "ann", "c3", 30)),
            ])
            .await
            .unwrap();
        let page = |who: &'static str, min_time: i64, max_time: i64, limit: u32| async move {
            let p: StoreResult<_> = m
                .server_sessions(
                    app,
                    &id(who),
                    SessionQuery {
                        min_time,
                        max_time,
                        limit,
                    },
                )
                .await;
            let p = p.unwrap();
            let list: Vec<Seen> = p
                .sessions
                .iter()
                .map(|x| {
                    assert_eq!(x.to_type, 0);
                    (
                        x.session_id.clone(),
                        x.update_time,
                        x.ext.clone(),
                        x.last.as_ref().map(|l| (l.recalled, l.json.contains("c3"))),
                    )
                })
                .collect();
            (list, p.has_more)
        };
        let s3 =
            |p: &str, t: i64, last: Option<(bool, bool)>| (p.to_owned(), t, String::new(), last);
        assert_eq!(
            page("ann", 0, 0, 100).await,
            (
                vec![
                    s3("bob", 30, Some((false, true))),
                    s3("cat", 20, Some((false, false)))
                ],
                false
            )
        );
        assert_eq!(
            page("ann", 0, 0, 1).await,
            (vec![s3("bob", 30, Some((false, true)))], true)
        );
        assert_eq!(
            page("ann", 0, 30, 1).await,
            (vec![s3("cat", 20, Some((false, false)))], false),
            "the next page: before the last one's time"
        );
        assert_eq!(page("ann", 25, 0, 10).await.0.len(), 1, "min_time");
        assert_eq!(
            page("bob", 0, 0, 10).await.0,
            vec![s3("ann", 30, Some((false, true)))]
        );
        assert_eq!(
            page("cat", 0, 0, 10).await.0,
            vec![s3("ann", 20, Some((false, false)))]
        );
        let c1 = m
            .server_session(app, &id("ann"), 0, "cat")
            .await
            .unwrap()
            .expect("ann-cat");
        assert!(c1
            .last
            .unwrap()
            .json
            .contains(&format!("\"server_msg_id\":{}", sent[1].server_id)));
        assert_eq!(
            m.server_session(app, &id("ann"), 1, "cat").await.unwrap(),
            None,
            "by type"
        );
        assert_eq!(
            m.server_session(app, &id("dan"), 0, "ann").await.unwrap(),
            None
        );

        let ext = |who: &str, peer: &str, ext: &str, time| {
            (
                app,
                Append::SessionExt {
                    account: id(who),
                    to_type: 0,
                    session_id: peer.into(),
                    ext: ext.into(),
                    time,
                },
            )
        };
        m.append(vec![
            ext("ann", "cat", "e", 40),
            ext("ann", "dan", "new", 41),
        ])
        .await
        .unwrap();
        let (list, _) = page("ann", 0, 0, 10).await;
        assert_eq!(
            list,
            vec![
                ("dan".to_owned(), 41, "new".to_owned(), None),
                ("cat".to_owned(), 40, "e".to_owned(), Some((false, false))),
                s3("bob", 30, Some((false, true))),
            ]
        );
        assert_eq!(
            page("cat", 0, 0, 10).await.0,
            vec![s3("ann", 20, Some((false, false)))],
            "one side only"
        );

        let recall = Append::Recall {
            from: id("bob"),
            client_msg_id: "c3".into(),
        };
        let hide = Append::Hide {
            account: id("ann"),
            from: id("ann"),
            client_msg_id: "c2".into(),
        };
        m.append(vec![(app, recall), (app, hide)]).await.unwrap();
        assert_eq!(
            page("bob", 0, 0, 10).await.0,
            vec![s3("ann", 30, Some((true, true)))],
            "recalled"
        );
        let (list, _) = page("ann", 0, 0, 10).await;
        assert_eq!(
            list[1],
            ("cat".to_owned(), 40, "e".to_owned(), None),
            "deleted for ann"
        );
        assert_eq!(
            page("cat", 0, 0, 10).await.0,
            vec![s3("ann", 20, Some((false, false)))],
            "cat keeps it"
        );

        let drop = Append::DropSession {
            account: id("ann"),
            to_type: 0,
            session_id: "bob".into(),
        };
        m.append(vec![(app, drop)]).await.unwrap();
        let names = |l: Vec<Seen>| l.into_iter().map(|x| x.0).collect::<Vec<_>>();
        assert_eq!(names(page("ann", 0, 0, 10).await.0), ["dan", "cat"]);
        assert_eq!(
            names(page("bob", 0, 0, 10).await.0),
            ["ann"],
            "bob keeps his"
        );
        m.append(vec![(app, msg("bob", "ann", "c4", 50))])
            .await
            .unwrap();
        assert_eq!(
            names(page("ann", 0, 0, 10).await.0),
            ["bob", "dan", "cat"],
            "back with a message"
        );
        // Sessions of one millisecond stay on one page, past the limit.
        m.append(vec![
            (app, msg("ann", "gus", "c5", 60)),
            (app, msg("ann", "hal", "c6", 60)),
            (app, msg("ann", "ivy", "c7", 60)),
        ])
        .await
        .unwrap();
        let (first, more) = page("ann", 0, 0, 2).await;
        assert_eq!(
            (names(first), more),
            (vec!["ivy".to_owned(), "hal".into(), "gus".into()], true)
        );
        let (next, more) = page("ann", 0, 60, 2).await;
        assert_eq!(
            (names(next), more),
            (vec!["bob".to_owned(), "dan".into()], true)
        );

        let other = s.apps.create_app("b", "k2", "s2").await.unwrap().id;
        let none = m
            .server_sessions(
                other,
                &id("ann"),
                SessionQuery {
                    min_time: 0,
                    max_time: 0,
                    limit: 10,
                },
            )
            .await
            .unwrap();
        assert!(none.sessions.is_empty() && !none.has_more, "per app");

        m.prune(app, Some(41), None).await.unwrap();
        assert_eq!(
            names(page("ann", 0, 0, 10).await.0),
            ["ivy", "hal", "gus", "bob", "dan"],
            "retention"
        );
        assert!(page("cat", 0, 0, 10).await.0.is_empty());
    }

    /// A history query with a keyword returns only the messages whose text
    /// or file name contains it, ignoring case.
    pub async fn history_finds_a_keyword_in_texts_and_file_names(s: &Stores) {
        let app = s.apps.create_app("a", "k", "s").await.unwrap().id;
        let m = &s.messages;
        let with = |client: &str, time, msg_type, body: &str, attach: &str| {
            let Append::Msg(mut n) = msg("ann", "bob", client, time) else {
                unreachable!()
            };
            n.msg_type = msg_type;
            n.json = serde_json::json!({
                "server_msg_id": 0, "from_id": "ann", "to_accid": "bob", "client_msg_id": client,
                "time": time, "msg_type": msg_type, "msg_body": body, "msg_attach": attach,
            })
            .to_string();
            (app, Append::Msg(n))
        };
        let sent = m
            .append(vec![
                with("k1", 10, 0, "Lunch at noon?", ""),
                with("k2", 20, 0, "no", ""),
                with("k3", 30, 6, "", r#"{"name":"lunch-menu.pdf","size":3}"#),
                with("k4", 40, 100, "lunch", r#"{"lunch":1}"#),
            ])
            .await
            .unwrap();
        let found = |keyword: &str| {
            let mut r = range(10, true);
            r.keyword = keyword.into();
            async move {
                m.history(app, &id("bob"), &id("ann"), r)
                    .await
                    .unwrap()
                    .iter()
                    .map(|x| x.server_id)
                    .collect::<Vec<_>>()
            }
        };
        let ids = |v: &[usize]| v.iter().map(|&i| sent[i].server_id).collect::<Vec<_>>();
        assert_eq!(
            found("LUNCH").await,
            ids(&[0, 2, 3]),
            "text, file name, custom body"
        );
        assert_eq!(found("menu").await, ids(&[2]));
        assert_eq!(found("").await, ids(&[0, 1, 2, 3]));
        assert!(found("dinner").await.is_empty());
    }

    /// A message is found by its sender and client id; a recall takes it
    /// out of the server's history and leaves the logs alone.
    pub async fn recalled_messages_leave_history(s: &Stores) {
        let app = s.apps.create_app("a", "k", "s").await.unwrap().id;
        let m = &s.messages;
        let sent = m
            .append(vec![
                (app, msg("ann", "bob", "c1", 10)),
                (app, msg("ann", "bob", "c2", 20)),
            ])
            .await
            .unwrap();
        let found = m
            .sent_message(app, &id("ann"), "c1")
            .await
            .unwrap()
            .expect("c1");
        assert_eq!(
            (
                found.server_id,
                found.to.clone(),
                found.time,
                found.in_history
            ),
            (sent[0].server_id, id("bob"), 10, true)
        );
        assert_eq!(
            (found.from.clone(), found.client_msg_id.as_str()),
            (id("ann"), "c1")
        );
        let by_id = m.message_by_id(app, sent[0].server_id).await.unwrap();
        assert_eq!(by_id, Some(found));
        assert_eq!(
            m.message_by_id(app, sent[1].server_id + 100).await.unwrap(),
            None
        );
        let other = s.apps.create_app("b", "k2", "s2").await.unwrap().id;
        assert_eq!(
            m.message_by_id(other, sent[0].server_id).await.unwrap(),
            None,
            "per app"
        );
        assert_eq!(m.sent_message(app, &id("bob"), "c1").await.unwrap(), None);
        assert_eq!(m.sent_message(app, &id("ann"), "c9").await.unwrap(), None);
        let r = m
            .append(vec![(
                app,
                Append::Recall {
                    from: id("ann"),
                    client_msg_id: "c1".into(),
                },
            )])
            .await
            .unwrap();
        assert_eq!(r[0].server_id, sent[0].server_id);
        let h = m
            .history(app, &id("bob"), &id("ann"), range(10, true))
            .await
            .unwrap();
        assert_eq!(
            h.iter().map(|x| x.server_id).collect::<Vec<_>>(),
            [sent[1].server_id]
        );
        let found = m
            .sent_message(app, &id("ann"), "c1")
            .await
            .unwrap()
            .expect("c1");
        assert!(!found.in_history);
        let log = m.log(app, &id("bob"), 0, 10).await.unwrap();
        assert_eq!(log.entries.len(), 2, "positions stay");
    }

    /// Positions are assigned in each log without gaps, in batch order, in
    /// the receiver's and the sender's log; ids grow; the stored JSON
    /// carries the assigned id.
    pub async fn messages_enter_both_logs_in_order(s: &Stores) {
        let app = s.apps.create_app("a", "ka", "sa").await.unwrap();
        let m = &s.messages;
        let out = m
            .append(vec![
                (app.id, msg("ann", "bob", "c1", 10)),
                (app.id, msg("bob", "ann", "c2", 11)),
                (app.id, msg("ann", "bob", "c3", 12)),
            ])
            .await
            .unwrap();
        assert_eq!(
            out.iter()
                .map(|a| (a.to_seq, a.from_seq, a.duplicate))
                .collect::<Vec<_>>(),
            [(1, 1, false), (2, 2, false), (3, 3, false)]
        );
        assert!(out[0].server_id > 0 && out[1].server_id > out[0].server_id);
        assert!(out[0]
            .json
            .contains(&format!("\"server_msg_id\":{}", out[0].server_id)));
        let page = m.log(app.id, &id("bob"), 0, 10).await.unwrap();
        assert_eq!((page.from, page.head), (1, 3));
        assert_eq!(
            page.entries
                .iter()
                .map(|e| (e.seq, e.kind, e.from.as_ref().map(|a| a.to_string())))
                .collect::<Vec<_>>(),
            [
                (1, EntryKind::Msg, Some("ann".into())),
                (2, EntryKind::Msg, Some("bob".into())),
                (3, EntryKind::Msg, Some("ann".into()))
            ]
        );
        assert_eq!(page.entries[0].json, out[0].json);
        // Paging: after 1, at most 1.
        let page = m.log(app.id, &id("ann"), 1, 1).await.unwrap();
        assert_eq!((page.from, page.head, page.entries.len()), (2, 3, 1));
        assert_eq!(page.entries[0].seq, 2);
        // Past the head: nothing, from the next position.
        let page = m.log(app.id, &id("ann"), 3, 10).await.unwrap();
        assert!(page.entries.is_empty());
        assert_eq!((page.from, page.head), (4, 3));
        let none = m.log(app.id, &id("nobody"), 0, 10).await.unwrap();
        assert_eq!((none.entries.len(), none.from, none.head), (0, 1, 0));
    }

    /// A (sender, client id) seen before, in an earlier batch or the same
    /// one, writes nothing and answers with the stored message.
    pub async fn duplicates_by_client_id_write_nothing(s: &Stores) {
        let app = s.apps.create_app("a", "ka", "sa").await.unwrap();
        let other = s.apps.create_app("b", "kb", "sb").await.unwrap();
        let m = &s.messages;
        let first = m
            .append(vec![(app.id, msg("ann", "bob", "c1", 10))])
            .await
            .unwrap();
        let again = m
            .append(vec![
                (app.id, msg("ann", "bob", "c1", 99)),
                (app.id, msg("ann", "bob", "c2", 20)),
                (app.id, msg("ann", "bob", "c2", 21)),
                (app.id, msg("bob", "ann", "c1", 22)),
                (other.id, msg("ann", "bob", "c1", 23)),
            ])
            .await
            .unwrap();
        assert!(again[0].duplicate);
        assert_eq!(
            (
                again[0].server_id,
                again[0].time,
                again[0].to_seq,
                again[0].json.clone()
            ),
            (first[0].server_id, 10, 1, first[0].json.clone())
        );
        assert!(!again[1].duplicate && again[2].duplicate);
        assert_eq!(again[2].server_id, again[1].server_id);
        assert!(
            !again[3].duplicate,
            "another sender's c1 is another message"
        );
        assert!(!again[4].duplicate, "another app's c1 is another message");
        assert_eq!(m.log(app.id, &id("bob"), 0, 10).await.unwrap().head, 3);
    }

    /// A message kept out of the receiver's log reaches only the sender's,
    /// and the other way round; a message to oneself takes one entry.
    pub async fn logs_follow_the_message_settings(s: &Stores) {
        let app = s.apps.create_app("a", "ka", "sa").await.unwrap();
        let m = &s.messages;
        let mut online_only = msg("ann", "bob", "c1", 10);
        if let Append::Msg(x) = &mut online_only {
            x.to_log = false;
        }
        let mut no_sync = msg("ann", "bob", "c2", 11);
        if let Append::Msg(x) = &mut no_sync {
            x.from_log = false;
        }
        let out = m
            .append(vec![
                (app.id, online_only),
                (app.id, no_sync),
                (app.id, msg("ann", "ann", "c3", 12)),
            ])
            .await
            .unwrap();
        assert_eq!((out[0].to_seq, out[0].from_seq), (0, 1));
        assert_eq!((out[1].to_seq, out[1].from_seq), (1, 0));
        assert_eq!((out[2].to_seq, out[2].from_seq), (2, 2));
        assert_eq!(m.log(app.id, &id("bob"), 0, 10).await.unwrap().head, 1);
        assert_eq!(m.log(app.id, &id("ann"), 0, 10).await.unwrap().head, 2);
    }

    /// Notes enter one log; stored notifications are unique by (sender, client id).
    pub async fn notes_enter_one_log(s: &Stores) {
        let app = s.apps.create_app("a", "ka", "sa").await.unwrap();
        let m = &s.messages;
        let out = m
            .append(vec![
                (
                    app.id,
                    note(
                        "bob",
                        EntryKind::Sysmsg,
                        r#"{"attach":"1"}"#,
                        Some(("ann", "n1")),
                    ),
                ),
                (
                    app.id,
                    note(
                        "bob",
                        EntryKind::Sysmsg,
                        r#"{"attach":"2"}"#,
                        Some(("ann", "n1")),
                    ),
                ),
                (
                    app.id,
                    note("bob", EntryKind::Read, r#"{"id":"ann","read_seq":1}"#, None),
                ),
                (app.id, msg("ann", "bob", "n1", 5)),
            ])
            .await
            .unwrap();
        assert_eq!((out[0].to_seq, out[0].duplicate), (1, false));
        assert_eq!((out[1].to_seq, out[1].duplicate), (1, true));
        assert_eq!(out[1].json, r#"{"attach":"1"}"#);
        assert_eq!(out[2].to_seq, 2);
        assert!(
            !out[3].duplicate,
            "message ids and notification ids are apart"
        );
        let page = m.log(app.id, &id("bob"), 0, 10).await.unwrap();
        assert_eq!(
            page.entries
                .iter()
                .map(|e| (e.seq, e.kind))
                .collect::<Vec<_>>(),
            [
                (1, EntryKind::Sysmsg),
                (2, EntryKind::Read),
                (3, EntryKind::Msg)
            ]
        );
        assert_eq!(page.entries[1].json, r#"{"id":"ann","read_seq":1}"#);
        assert_eq!(page.entries[1].from, None);
    }

    /// The delivered mark only rises.
    pub async fn delivered_marks_only_rise(s: &Stores) {
        let app = s.apps.create_app("a", "ka", "sa").await.unwrap();
        let m = &s.messages;
        m.append(vec![(app.id, msg("ann", "bob", "c1", 1))])
            .await
            .unwrap();
        let mark = |upto| {
            (
                app.id,
                Append::Delivered {
                    account: id("bob"),
                    upto,
                },
            )
        };
        m.append(vec![mark(5), mark(3)]).await.unwrap();
        m.append(vec![mark(4)]).await.unwrap();
        assert_eq!(m.log(app.id, &id("bob"), 0, 1).await.unwrap().delivered, 5);
        assert_eq!(m.log(app.id, &id("ann"), 0, 1).await.unwrap().delivered, 0);
    }

    /// History: both directions of one conversation, by time, either way,
    /// paged by the last message's id, filtered by type and by the history
    /// setting.
    pub async fn history_pages_one_conversation(s: &Stores) {
        let app = s.apps.create_app("a", "ka", "sa").await.unwrap();
        let m = &s.messages;
        let mut batch = Vec::new();
        for i in 0..6 {
            let (f, t) = if i % 2 == 0 {
                ("ann", "bob")
            } else {
                ("bob", "ann")
            };
            batch.push((app.id, msg(f, t, &format!("h{i}"), 100 + i / 2)));
        }
        batch.push((app.id, msg("ann", "cid", "other", 100)));
        let mut hidden = msg("ann", "bob", "hidden", 101);
        if let Append::Msg(x) = &mut hidden {
            x.history = false;
        }
        batch.push((app.id, hidden));
        let mut custom = msg("bob", "ann", "custom", 103);
        if let Append::Msg(x) = &mut custom {
            x.msg_type = 100;
        }
        batch.push((app.id, custom));
        let ids: Vec<i64> = m
            .append(batch)
            .await
            .unwrap()
            .iter()
            .map(|a| a.server_id)
            .collect();
        let newest = m
            .history(app.id, &id("ann"), &id("bob"), range(3, false))
            .await
            .unwrap();
        assert_eq!(
            newest.iter().map(|x| x.server_id).collect::<Vec<_>>(),
            [ids[8], ids[5], ids[4]]
        );
        // The next page continues after the last one shown.
        let mut next = range(3, false);
        next.end_time = newest[2].time;
        next.end_msg_id = newest[2].server_id;
        let page = m
            .history(app.id, &id("bob"), &id("ann"), next)
            .await
            .unwrap();
        assert_eq!(
            page.iter().map(|x| x.server_id).collect::<Vec<_>>(),
            [ids[3], ids[2], ids[1]]
        );
        // Without an end time, the anchor message alone places the page.
        let mut by_anchor = range(3, false);
        by_anchor.end_msg_id = newest[2].server_id;
        let page = m
            .history(app.id, &id("bob"), &id("ann"), by_anchor)
            .await
            .unwrap();
        assert_eq!(
            page.iter().map(|x| x.server_id).collect::<Vec<_>>(),
            [ids[3], ids[2], ids[1]]
        );
        let mut oldest = range(2, true);
        oldest.from_time = 101;
        let page = m
            .history(app.id, &id("ann"), &id("bob"), oldest)
            .await
            .unwrap();
        assert_eq!(
            page.iter().map(|x| x.server_id).collect::<Vec<_>>(),
            [ids[2], ids[3]]
        );
        let mut after = range(10, true);
        after.from_time = page[1].time;
        after.end_msg_id = page[1].server_id;
        let rest = m
            .history(app.id, &id("ann"), &id("bob"), after)
            .await
            .unwrap();
        assert_eq!(
            rest.iter().map(|x| x.server_id).collect::<Vec<_>>(),
            [ids[4], ids[5], ids[8]]
        );
        let mut customs = range(10, false);
        customs.msg_types = vec![100];
        let page = m
            .history(app.id, &id("ann"), &id("bob"), customs)
            .await
            .unwrap();
        assert_eq!(
            page.iter().map(|x| x.server_id).collect::<Vec<_>>(),
            [ids[8]]
        );
        let mut window = range(10, false);
        window.from_time = 101;
        window.end_time = 101;
        let page = m
            .history(app.id, &id("ann"), &id("bob"), window)
            .await
            .unwrap();
        assert_eq!(
            page.iter().map(|x| x.server_id).collect::<Vec<_>>(),
            [ids[3], ids[2]]
        );
    }

    async fn log_len(s: &Stores, app_id: i64) -> usize {
        s.messages
            .log(app_id, &id("bob"), 0, 10)
            .await
            .unwrap()
            .entries
            .len()
    }

    /// An app's name is taken once; its secret can be replaced; deleting it
    /// removes everything it holds and nothing of other apps, its id is
    /// never given again, and writes that were in flight at the deletion
    /// are purged.
    pub async fn apps_are_renamed_rotated_and_deleted_with_all_they_hold(s: &Stores) {
        use crate::{NewAccount, StoreError, TokenHash};
        let a = s.apps.create_app("one", "ka", "sa").await.unwrap();
        let b = s.apps.create_app("two", "kb", "sb").await.unwrap();
        assert!(matches!(
            s.apps.create_app("one", "kc", "sc").await,
            Err(StoreError::Conflict)
        ));
        s.apps.rotate_secret(a.id, "sa2").await.unwrap();
        assert_eq!(
            s.apps.app_by_key("ka").await.unwrap().unwrap().app_secret,
            "sa2"
        );
        assert!(matches!(
            s.apps.rotate_secret(9999, "x").await,
            Err(StoreError::NotFound)
        ));
        for app in [&a, &b] {
            s.accounts
                .create_account(app.id, NewAccount::new(id("ann"), TokenHash::new("t")))
                .await
                .unwrap();
            s.messages
                .append(vec![(app.id, msg("ann", "bob", "c1", 1000))])
                .await
                .unwrap();
        }
        s.apps.delete_app(a.id).await.unwrap();
        assert!(s.apps.app_by_key("ka").await.unwrap().is_none());
        assert_eq!(
            s.apps
                .list_apps()
                .await
                .unwrap()
                .iter()
                .map(|x| x.id)
                .collect::<Vec<_>>(),
            [b.id]
        );
        assert!(s
            .accounts
            .account(a.id, &id("ann"))
            .await
            .unwrap()
            .is_none());
        assert_eq!(log_len(s, a.id).await, 0);
        assert!(s
            .messages
            .history(a.id, &id("ann"), &id("bob"), range(10, true))
            .await
            .unwrap()
            .is_empty());
        assert!(matches!(
            s.apps.delete_app(a.id).await,
            Err(StoreError::NotFound)
        ));
        // The other app keeps everything.
        assert!(s
            .accounts
            .account(b.id, &id("ann"))
            .await
            .unwrap()
            .is_some());
        assert_eq!(log_len(s, b.id).await, 1);
        // The name is free again; the id is not.
        let c = s.apps.create_app("one", "kc", "sc").await.unwrap();
        assert!(c.id != a.id && c.id != b.id);
        // A message that was being stored when the app went is purged.
        s.messages
            .append(vec![(a.id, msg("ann", "bob", "late", 1001))])
            .await
            .unwrap();
        assert!(s.messages.purge_deleted_apps().await.unwrap() >= 1);
        assert_eq!(log_len(s, a.id).await, 0);
        assert_eq!(s.messages.purge_deleted_apps().await.unwrap(), 0);
        assert_eq!(log_len(s, b.id).await, 1);
    }

    /// Retention removes old messages and old entries, never the newest
    /// entry of a log, and a later page starts where the kept log starts.
    pub async fn retention_keeps_positions(s: &Stores) {
        let app = s.apps.create_app("a", "ka", "sa").await.unwrap();
        let m = &s.messages;
        // Bob's log: r0..r2 (1..3), a read mark of the same age (4), r3..r9 (5..11).
        let mut batch: Vec<_> = (0..3)
            .map(|i| (app.id, msg("ann", "bob", &format!("r{i}"), 1000 + i)))
            .collect();
        batch.push((
            app.id,
            Append::Note(NewNote {
                account: id("bob"),
                kind: EntryKind::Read,
                json: r#"{"to_type":0,"id":"ann","read_seq":3}"#.into(),
                dedup: None,
                time: 1002,
            }),
        ));
        batch.extend((3..10).map(|i| (app.id, msg("ann", "bob", &format!("r{i}"), 1000 + i))));
        m.append(batch).await.unwrap();
        // By age: the three old messages in both logs, and the read mark
        // between them, so the log keeps no hole.
        let p = m.prune(app.id, Some(1003), None).await.unwrap();
        assert_eq!((p.messages, p.entries), (3, 7));
        let page = m.log(app.id, &id("bob"), 0, 100).await.unwrap();
        assert_eq!((page.from, page.head, page.entries.len()), (5, 11, 7));
        assert_eq!(page.entries[0].seq, 5, "contiguous from `from`");
        let p = m.prune(app.id, None, Some(2)).await.unwrap();
        assert_eq!(p.entries, 10);
        let page = m.log(app.id, &id("bob"), 3, 100).await.unwrap();
        assert_eq!((page.from, page.head), (10, 11));
        // Everything older than the last message: the logs still end at 11.
        m.prune(app.id, Some(1_000_000), Some(1)).await.unwrap();
        let page = m.log(app.id, &id("bob"), 0, 100).await.unwrap();
        assert_eq!((page.entries.len(), page.from, page.head), (0, 12, 11));
        let next = m
            .append(vec![(app.id, msg("ann", "bob", "after", 2000))])
            .await
            .unwrap();
        assert_eq!(next[0].to_seq, 12, "positions never start over");
        assert!(
            m.history(app.id, &id("ann"), &id("bob"), range(100, true))
                .await
                .unwrap()
                .len()
                == 1
        );
    }
}

/// Expands to one `#[tokio::test]` per conformance check of every concern.
/// `$make` is an expression whose value is a future of `(Stores, G)`, where
/// the guard `G` keeps the backend's resources (a temp dir, a database)
/// alive for the test.
#[macro_export]
macro_rules! store_conformance_suite {
    ($make:expr) => {
        $crate::store_conformance_suite!(@each $make; apps;
            apps_are_created_and_found_by_key,
            settings_are_stored_per_app_and_group
        );
        $crate::store_conformance_suite!(@each $make; operators;
            operators_are_created_once_and_found
        );
        $crate::store_conformance_suite!(@each $make; events;
            outbox_events_wait_until_delivered
        );
        $crate::store_conformance_suite!(@each $make; messages;
            messages_enter_both_logs_in_order,
            duplicates_by_client_id_write_nothing,
            logs_follow_the_message_settings,
            notes_enter_one_log,
            delivered_marks_only_rise,
            history_pages_one_conversation,
            history_finds_a_keyword_in_texts_and_file_names,
            recalled_messages_leave_history,
            server_sessions_follow_messages,
            messages_deleted_for_one_account_leave_only_its_history_and_sync,
            retention_keeps_positions,
            apps_are_renamed_rotated_and_deleted_with_all_they_hold
        );
        $crate::store_conformance_suite!(@each $make; accounts;
            accounts_are_isolated_per_app,
            duplicate_account_conflicts,
            accounts_are_found_by_prefix,
            token_replacement_invalidates_the_old_token,
            block_and_unblock,
            push_settings_are_per_account_and_device,
            stick_tops_are_per_account,
            profile_patch_changes_only_named_fields,
            blacklists_are_per_owner,
            batch_creation_is_all_or_nothing
        );
    };
    (@each $make:expr; $concern:ident; $($name:ident),*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let (stores, _guard) = $make.await;
                $crate::conformance::$concern::$name(&stores).await;
            }
        )*
    };
}

#[cfg(test)]
mod tests {
    use crate::{MemoryStore, Stores};
    use std::sync::Arc;

    store_conformance_suite!(async { (Stores::new(Arc::new(MemoryStore::new())), ()) });
}
