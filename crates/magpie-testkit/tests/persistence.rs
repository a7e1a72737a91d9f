//! Apps and accounts survive a restart of the server.

use magpie_testkit::*;

#[tokio::test]
async fn apps_accounts_tokens_and_blocks_survive_a_restart() {
    let mut s = TestServer::start().await;
    let app = s.app("durable").await;
    s.account(&app, "p1", "t1").await;
    s.account(&app, "p2", "t2").await;
    let admin = s.admin(&app);
    admin
        .form("/nimserver/user/block.action", &[("accid", "p2")])
        .await;
    let v = admin
        .form("/nimserver/user/refreshToken.action", &[("accid", "p1")])
        .await;
    let t1 = v["info"]["token"].as_str().unwrap().to_owned();
    s.restart().await;
    let c = TestClient::new(s.options());
    assert!(c.login(&app, "p1", &t1).await.is_success());
    assert_eq!(
        TestClient::new(s.options())
            .login(&app, "p1", "t1")
            .await
            .err_code,
        ResCode::UID_PASS_ERROR
    );
    assert_eq!(
        TestClient::new(s.options())
            .login(&app, "p2", "t2")
            .await
            .err_code,
        ResCode::ACCOUNT_BLOCK
    );
    // The admin API still knows the app's secret.
    let v = s
        .admin(&app)
        .json(reqwest::Method::GET, "/im/v2/accounts/p1", None)
        .await;
    assert_eq!(v["code"], 200);
}

#[tokio::test]
async fn an_app_created_by_another_store_handle_is_accepted_at_once() {
    let s = TestServer::start().await;
    // What `magpie app create --data-dir` does while the server runs.
    let other = magpie_store_sqlite::SqliteStore::open_shared(s.db_path()).unwrap();
    use magpie_store::AppStore;
    let app = other
        .create_app("late", "latekey0000000000000000000000000", "latesecret")
        .await
        .unwrap();
    let app = TestApp {
        key: app.app_key,
        secret: app.app_secret,
    };
    s.account(&app, "late1", "t").await;
    assert!(TestClient::new(s.options())
        .login(&app, "late1", "t")
        .await
        .is_success());
}
