//! Log in with a dynamic token (NIM's auth type 1) from a token provider:
//! the SDK asks the provider for a fresh token before every login and every
//! automatic re-login, so an expired token never ends a session.
//!
//! ```sh
//! eval "$(magpie app create demo --export)"      # sets MAGPIE_APP_KEY and MAGPIE_APP_SECRET
//! magpie admin account create alice
//! cargo run -p magpie-client --example token_provider -- alice
//! ```
//!
//! A real app asks its own app server for the token; this example plays the
//! app server and signs the token here from `MAGPIE_APP_SECRET` (never ship
//! an app secret inside a client):
//!
//! ```text
//! token     = base64( {"signature": s, "curTime": <ms>, "ttl": <s>} )
//! signature = lowercase hex SHA1(appkey + accid + curTime + ttl + appsecret)
//! ```

use base64::Engine;
use magpie_client::{auth_type, logout_type, Client, ClientOptions, LoginParams};

/// What an app server does: a dynamic token valid for `ttl` seconds.
fn dynamic_token(app_key: &str, app_secret: &str, account: &str, ttl: u64) -> String {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis()
        .to_string();
    let signature = magpie_client::proto::sign::checksum(&[
        app_key,
        account,
        &now_ms,
        &ttl.to_string(),
        app_secret,
    ]);
    let body = serde_json::json!({"signature": signature, "curTime": now_ms.parse::<i64>().unwrap_or(0), "ttl": ttl});
    base64::engine::general_purpose::STANDARD.encode(body.to_string())
}

fn usage() -> ! {
    eprintln!("usage: cargo run -p magpie-client --example token_provider -- ACCOUNT");
    eprintln!("       with MAGPIE_APP_KEY and MAGPIE_APP_SECRET set (`eval \"$(magpie app create demo --export)\"`)");
    std::process::exit(2);
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Some(account) = std::env::args().nth(1) else {
        usage()
    };
    let (Ok(app_key), Ok(app_secret)) = (
        std::env::var("MAGPIE_APP_KEY"),
        std::env::var("MAGPIE_APP_SECRET"),
    ) else {
        usage()
    };
    let server = std::env::var("MAGPIE_SERVER").unwrap_or_else(|_| "127.0.0.1:9300".into());
    let data = std::env::temp_dir().join(format!("magpie-token-example-{}", std::process::id()));
    let client = Client::init(&data, ClientOptions::new(&server))?;

    // Called on a blocking thread before each login: it may do blocking I/O,
    // such as an HTTP request to the app server.
    let (key, secret) = (app_key.clone(), app_secret.clone());
    client.set_token_provider(move |req| {
        println!(
            "provider: fresh token for {} ({})",
            req.account,
            if req.relogin { "re-login" } else { "login" }
        );
        Some(dynamic_token(&key, &secret, &req.account, 600))
    });

    let params = LoginParams {
        auth_type: auth_type::DYNAMIC_TOKEN,
        ..LoginParams::default()
    };
    // Two sessions in a row; each login asks the provider for a fresh token
    // (the token argument is unused when the provider answers).
    for round in 1..=2 {
        let res = client.login(&app_key, &account, "", params.clone()).await;
        if !res.is_success() {
            eprintln!("login failed: NIM code {} {}", res.err_code, res.desc);
            std::process::exit(3);
        }
        println!("session {round}: logged in as {account} with a dynamic token");
        if round == 1 {
            let out = client.logout(logout_type::CHANGE_ACCOUNT).await;
            println!("session {round}: logged out, NIM code {}", out.err_code);
        }
    }
    let out = client.logout(logout_type::APP_EXIT).await;
    println!("logged out, NIM code {}", out.err_code);
    client.cleanup().await?;
    let _ = std::fs::remove_dir_all(&data);
    Ok(())
}
