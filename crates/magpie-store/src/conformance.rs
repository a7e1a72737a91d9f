//! The storage conformance suite. Every backend runs it through
//! [`store_conformance_suite!`](crate::store_conformance_suite), so all
//! backends behave the same to their callers.
//!
//! Each check takes a fresh, empty store and panics on a violation.

use crate::{AccountPatch, NewAccount, Store, StoreError, TokenHash};

fn new_account(accid: &str, token: &str) -> NewAccount {
    NewAccount {
        accid: accid.to_owned(),
        token: TokenHash::new(token),
        profile: AccountPatch {
            name: Some(format!("name of {accid}")),
            ..Default::default()
        },
    }
}

/// Apps are created once per key and found by key.
pub async fn apps_are_created_and_found_by_key(s: &dyn Store) {
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
    assert!(s.app_by_key("nope").await.unwrap().is_none());
    let all = s.list_apps().await.unwrap();
    assert_eq!(
        all.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(),
        ["one", "two"]
    );
}

/// An account exists only inside its own app.
pub async fn accounts_are_isolated_per_app(s: &dyn Store) {
    let a = s.create_app("a", "ka", "sa").await.unwrap();
    let b = s.create_app("b", "kb", "sb").await.unwrap();
    s.create_account(a.id, new_account("alice", "t1"))
        .await
        .unwrap();
    assert!(s.account(b.id, "alice").await.unwrap().is_none());
    assert!(matches!(
        s.set_token(b.id, "alice", TokenHash::new("x")).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.set_blocked(b.id, "alice", true).await,
        Err(StoreError::NotFound)
    ));
    // The same accid may exist in another app, independently.
    s.create_account(b.id, new_account("alice", "t2"))
        .await
        .unwrap();
    let in_a = s.account(a.id, "alice").await.unwrap().unwrap();
    let in_b = s.account(b.id, "alice").await.unwrap().unwrap();
    assert!(in_a.token.verify("t1") && !in_a.token.verify("t2"));
    assert!(in_b.token.verify("t2") && !in_b.token.verify("t1"));
}

/// Creating an existing account conflicts and changes nothing.
pub async fn duplicate_account_conflicts(s: &dyn Store) {
    let a = s.create_app("a", "ka", "sa").await.unwrap();
    s.create_account(a.id, new_account("bob", "t1"))
        .await
        .unwrap();
    assert!(matches!(
        s.create_account(a.id, new_account("bob", "t2")).await,
        Err(StoreError::Conflict)
    ));
    let bob = s.account(a.id, "bob").await.unwrap().unwrap();
    assert!(bob.token.verify("t1"));
    assert_eq!(bob.name, "name of bob");
}

/// A new token replaces the old one.
pub async fn token_replacement_invalidates_the_old_token(s: &dyn Store) {
    let a = s.create_app("a", "ka", "sa").await.unwrap();
    s.create_account(a.id, new_account("carol", "old"))
        .await
        .unwrap();
    s.set_token(a.id, "carol", TokenHash::new("new"))
        .await
        .unwrap();
    let c = s.account(a.id, "carol").await.unwrap().unwrap();
    assert!(c.token.verify("new"));
    assert!(!c.token.verify("old"));
}

/// Blocking and unblocking are stored.
pub async fn block_and_unblock(s: &dyn Store) {
    let a = s.create_app("a", "ka", "sa").await.unwrap();
    s.create_account(a.id, new_account("dave", "t"))
        .await
        .unwrap();
    assert!(!s.account(a.id, "dave").await.unwrap().unwrap().blocked);
    s.set_blocked(a.id, "dave", true).await.unwrap();
    assert!(s.account(a.id, "dave").await.unwrap().unwrap().blocked);
    s.set_blocked(a.id, "dave", false).await.unwrap();
    assert!(!s.account(a.id, "dave").await.unwrap().unwrap().blocked);
}

/// A patch changes only the fields it names.
pub async fn profile_patch_changes_only_named_fields(s: &dyn Store) {
    let a = s.create_app("a", "ka", "sa").await.unwrap();
    s.create_account(a.id, new_account("erin", "t"))
        .await
        .unwrap();
    let patched = s
        .update_account(
            a.id,
            "erin",
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
    assert_eq!(s.account(a.id, "erin").await.unwrap().unwrap(), patched);
    assert!(matches!(
        s.update_account(a.id, "nobody", AccountPatch::default())
            .await,
        Err(StoreError::NotFound)
    ));
}

/// An app's device policy is stored, read back and reset.
pub async fn device_policy_is_stored_per_app(s: &dyn Store) {
    let a = s.create_app("a", "ka", "sa").await.unwrap();
    let b = s.create_app("b", "kb", "sb").await.unwrap();
    assert_eq!(
        s.app_by_key("ka").await.unwrap().unwrap().device_policy,
        None
    );
    s.set_device_policy(a.id, Some(r#"{"mode":"single"}"#))
        .await
        .unwrap();
    assert_eq!(
        s.app_by_key("ka")
            .await
            .unwrap()
            .unwrap()
            .device_policy
            .as_deref(),
        Some(r#"{"mode":"single"}"#)
    );
    assert_eq!(
        s.app_by_key("kb").await.unwrap().unwrap().device_policy,
        None
    );
    s.set_device_policy(a.id, None).await.unwrap();
    assert_eq!(
        s.app_by_key("ka").await.unwrap().unwrap().device_policy,
        None
    );
    assert!(matches!(
        s.set_device_policy(b.id + 100, Some("{}")).await,
        Err(StoreError::NotFound)
    ));
}

/// An app's login authentication settings are stored, read back and reset.
pub async fn login_auth_is_stored_per_app(s: &dyn Store) {
    let a = s.create_app("a", "ka", "sa").await.unwrap();
    s.set_device_policy(a.id, Some("p")).await.unwrap();
    s.set_login_auth(a.id, Some(r#"{"auth_types":[0]}"#))
        .await
        .unwrap();
    let got = s.app_by_key("ka").await.unwrap().unwrap();
    assert_eq!(got.login_auth.as_deref(), Some(r#"{"auth_types":[0]}"#));
    assert_eq!(
        got.device_policy.as_deref(),
        Some("p"),
        "independent columns"
    );
    s.set_login_auth(a.id, None).await.unwrap();
    assert_eq!(s.app_by_key("ka").await.unwrap().unwrap().login_auth, None);
    assert!(matches!(
        s.set_login_auth(a.id + 100, None).await,
        Err(StoreError::NotFound)
    ));
}

/// A batch of accounts is created whole, or not at all.
pub async fn batch_creation_is_all_or_nothing(s: &dyn Store) {
    let a = s.create_app("a", "ka", "sa").await.unwrap();
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
        .account(a.id, "b2")
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
        s.account(a.id, "b4").await.unwrap().is_none(),
        "nothing of a failed batch stays"
    );
    assert!(matches!(
        s.create_accounts(a.id, batch(&["b5", "b5"])).await,
        Err(StoreError::Conflict)
    ));
    assert!(s.account(a.id, "b5").await.unwrap().is_none());
}

/// Expands to one `#[tokio::test]` per conformance check. `$make` is an
/// expression whose value is `(impl Deref<Target = dyn Store>-like store, guard)`:
/// an `async` block returning `(Arc<dyn Store>, G)`, where the guard `G` keeps
/// the backend's resources (a temp dir, a database) alive for the test.
#[macro_export]
macro_rules! store_conformance_suite {
    ($make:expr) => {
        $crate::store_conformance_suite!(@each $make;
            apps_are_created_and_found_by_key,
            accounts_are_isolated_per_app,
            duplicate_account_conflicts,
            token_replacement_invalidates_the_old_token,
            block_and_unblock,
            profile_patch_changes_only_named_fields,
            device_policy_is_stored_per_app,
            login_auth_is_stored_per_app,
            batch_creation_is_all_or_nothing
        );
    };
    (@each $make:expr; $($name:ident),*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let (store, _guard) = $make.await;
                $crate::conformance::$name(&*store).await;
            }
        )*
    };
}

#[cfg(test)]
mod tests {
    use crate::{MemoryStore, Store};
    use std::sync::Arc;

    store_conformance_suite!(async { (Arc::new(MemoryStore::new()) as Arc<dyn Store>, ()) });
}
