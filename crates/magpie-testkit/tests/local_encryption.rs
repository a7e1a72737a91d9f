//! NIM's `db_encrypt_key`: the SDK's local databases are encrypted at rest
//! (SQLCipher), and a key that does not fit an existing database is a clear
//! init error.

use magpie_client::{Client, ClientError, DbKey, ImMessage, LocalOp, LoginParams};
use magpie_proto::msg::message_type;
use magpie_proto::ResCode;
use magpie_testkit::*;

#[tokio::test]
async fn the_local_database_is_encrypted_and_a_wrong_key_is_an_init_error() {
    let s = TestServer::start().await;
    let app = s.app("a").await;
    s.account(&app, "eve", "t").await;
    s.account(&app, "bob", "t").await;
    let dir = tempfile::tempdir().unwrap();
    let key = DbKey::new("correct horse").unwrap();
    assert!(DbKey::new("").is_none() && DbKey::new("x".repeat(33)).is_none());
    assert_eq!(format!("{key:?}"), "DbKey(<redacted>)", "never printed");
    let c = Client::init(dir.path(), s.options().with_db_key(key.clone())).unwrap();
    assert!(c
        .login(&app.key, "eve", "t", LoginParams::default())
        .await
        .is_success());
    let secret = "a sentence that must not be readable on disk";
    let ack = c
        .send_message(ImMessage {
            to_accid: "bob".into(),
            msg_type: message_type::TEXT,
            msg_body: secret.into(),
            client_msg_id: "m1".into(),
            ..Default::default()
        })
        .await;
    assert_eq!(ack.rescode, ResCode::SUCCESS);
    let file = c.cache_file(&app.key, "eve");
    c.logout(1).await;
    c.cleanup().await.unwrap();
    drop(c);
    // On disk: no SQLite header, no message text.
    let bytes = std::fs::read(&file).unwrap();
    assert!(
        !bytes.starts_with(b"SQLite format 3"),
        "the file is encrypted"
    );
    assert!(
        !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
        "the message text is not on disk in clear"
    );
    assert_eq!(Client::cached_login_count(&file, Some(&key)), Some(1));
    assert_eq!(Client::cached_login_count(&file, None), None);
    // A wrong key, or none: init refuses and names the file and the fix.
    for (opts, keyed) in [
        (s.options().with_db_key(DbKey::new("wrong").unwrap()), true),
        (s.options(), false),
    ] {
        match Client::init(dir.path(), opts) {
            Err(e @ ClientError::DatabaseKey { .. }) => {
                let text = e.to_string();
                assert!(text.contains(&file.display().to_string()), "{text}");
                assert!(text.contains("db_encrypt_key"), "{text}");
                assert_eq!(text.contains("without a db_encrypt_key"), !keyed, "{text}");
            }
            Ok(_) => panic!("init with a key that does not fit must fail"),
            Err(e) => panic!("{e}"),
        }
    }
    // The right key opens it again, history included.
    let c = Client::init(dir.path(), s.options().with_db_key(key)).unwrap();
    assert!(c
        .login(&app.key, "eve", "t", LoginParams::default())
        .await
        .is_success());
    let q = c.query_local_messages(0, "bob", 10, 0).await;
    assert_eq!(q.rescode, ResCode::SUCCESS);
    assert_eq!(q.content.len(), 1);
    assert_eq!(q.content[0].msg_body, secret);
    // Export and import work on the encrypted database; the export is
    // encrypted with the same key.
    let export = dir.path().join("eve-export.db");
    let r = c
        .local_op(LocalOp::MsgExport {
            path: export.to_str().unwrap().into(),
        })
        .await;
    assert_eq!(r.rescode, ResCode::SUCCESS, "{r:?}");
    let bytes = std::fs::read(&export).unwrap();
    assert!(
        !bytes.starts_with(b"SQLite format 3"),
        "the export is encrypted"
    );
    let r = c
        .local_op(LocalOp::MsgImport {
            path: export.to_str().unwrap().into(),
        })
        .await;
    assert_eq!(r.rescode, ResCode::SUCCESS, "{r:?}");
    c.logout(1).await;
}
