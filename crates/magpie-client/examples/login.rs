//! Log in, watch another device of the same account come and go (NIM's
//! multispot notifications), and log out: the SDK's login chapter in one
//! program.
//!
//! ```sh
//! magpie serve                                   # another terminal
//! eval "$(magpie app create demo --export)"      # sets MAGPIE_APP_KEY
//! magpie admin account create alice --token alice-token
//! cargo run -p magpie-client --example login -- alice alice-token
//! ```
//!
//! `MAGPIE_SERVER` sets the server (default `127.0.0.1:9300`). The program
//! logs in a desktop client and then a phone client of the same account; the
//! desktop hears the phone arrive and leave. Under the app's default policy
//! (`all`) both stay online; under `single` the phone's login kicks the
//! desktop, which the program prints too.

use magpie_client::{
    client_type, logout_type, Client, ClientOptions, Event, LoginParams, MultiSpot,
};
use std::time::Duration;

fn usage() -> ! {
    eprintln!("usage: cargo run -p magpie-client --example login -- ACCOUNT TOKEN");
    eprintln!("       with MAGPIE_APP_KEY set (`eval \"$(magpie app create demo --export)\"`)");
    std::process::exit(2);
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(account), Some(token)) = (args.next(), args.next()) else {
        usage()
    };
    let Ok(app_key) = std::env::var("MAGPIE_APP_KEY") else {
        usage()
    };
    let server = std::env::var("MAGPIE_SERVER").unwrap_or_else(|_| "127.0.0.1:9300".into());
    let data = std::env::temp_dir().join(format!("magpie-example-{}", std::process::id()));

    // The desktop: one Client per app data directory (NIM's nim_client_init).
    let desktop = Client::init(
        data.join("desktop"),
        ClientOptions::new(&server).with_client_type(client_type::PC_WINDOWS),
    )?;
    // Register callbacks before the first login, as NIM asks.
    desktop.on_multispot(|m: &MultiSpot| {
        // NIMMultiSpotNotifyType: 2 a device came online, 3 one went offline.
        let verb = if m.multi_spot_notiy_type == 2 {
            "came online"
        } else {
            "went offline"
        };
        let devices: Vec<String> = m
            .other_clients_pres
            .iter()
            .map(|d| format!("{} (client type {})", d.device_id, d.client_type))
            .collect();
        println!(
            "desktop: a device of mine {verb}; listed: [{}]",
            devices.join(", ")
        );
    });
    desktop.on_kickout(|k| println!("desktop: kicked out, NIMKickReason {}", k.reason_code));
    let mut desktop_events = desktop.events();

    let res = desktop
        .login(&app_key, &account, &token, LoginParams::default())
        .await;
    if !res.is_success() {
        eprintln!(
            "desktop login failed: NIM code {} {}",
            res.err_code, res.desc
        );
        std::process::exit(3);
    }
    println!(
        "desktop: logged in as {account}; {} other device(s) online",
        res.other_clients_pres.as_ref().map_or(0, Vec::len)
    );

    // The phone logs in to the same account.
    let phone = Client::init(
        data.join("phone"),
        ClientOptions::new(&server).with_client_type(client_type::ANDROID),
    )?;
    let res = phone
        .login(&app_key, &account, &token, LoginParams::default())
        .await;
    println!("phone: login answered NIM code {}", res.err_code);

    // Wait (bounded) for the desktop to hear about it.
    let heard = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(e) = desktop_events.next().await {
            match e {
                Event::MultiSpot(m) if m.multi_spot_notiy_type == 2 => return true,
                Event::Kickout(_) => return false,
                _ => {}
            }
        }
        false
    })
    .await
    .unwrap_or(false);

    // The phone logs out (the desktop hears it leave), then the desktop.
    let out = phone.logout(logout_type::CHANGE_ACCOUNT).await;
    println!("phone: logged out, NIM code {}", out.err_code);
    if heard {
        let _ = tokio::time::timeout(Duration::from_secs(10), async {
            while let Some(e) = desktop_events.next().await {
                if matches!(e, Event::MultiSpot(ref m) if m.multi_spot_notiy_type == 3) {
                    break;
                }
            }
        })
        .await;
    }
    // Log the desktop out unless it was kicked (then it is logged out already).
    if desktop.login_state() != magpie_client::LoginState::Kicked {
        let out = desktop.logout(logout_type::APP_EXIT).await;
        println!("desktop: logged out, NIM code {}", out.err_code);
    }
    phone.cleanup().await?;
    desktop.cleanup().await?;
    let _ = std::fs::remove_dir_all(&data);
    Ok(())
}
