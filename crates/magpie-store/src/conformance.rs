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
        $crate::store_conformance_suite!(@each $make; accounts;
            accounts_are_isolated_per_app,
            duplicate_account_conflicts,
            token_replacement_invalidates_the_old_token,
            block_and_unblock,
            profile_patch_changes_only_named_fields,
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
