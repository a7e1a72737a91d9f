//! Asking an LBS (location service) for the link addresses: `GET
//! URL?k=APPKEY` answering `{"code":200,"link":["host:port",...]}`, as
//! `magpie serve` serves it (`[lbs] listen`).

use std::time::Duration;

#[derive(serde::Deserialize)]
struct Answer {
    #[serde(default)]
    code: u32,
    #[serde(default)]
    link: Vec<String>,
    #[serde(default)]
    desc: String,
}

/// The link addresses the LBS gives for `app_key`, or `None` (logged) when
/// it cannot be asked, refuses or gives none: the login then uses the
/// addresses it has.
pub(crate) async fn ask(url: &str, app_key: &str, within: Duration) -> Option<Vec<String>> {
    let client = match reqwest::Client::builder()
        .timeout(within)
        .connect_timeout(within)
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "LBS: no HTTP client");
            return None;
        }
    };
    let answer = async {
        let resp = client
            .get(url)
            .query(&[("k", app_key)])
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = resp.status();
        let a: Answer = resp
            .json()
            .await
            .map_err(|e| format!("HTTP {status}, not the LBS's JSON: {e}"))?;
        if a.code != 200 {
            return Err(format!("refused: {} {}", a.code, a.desc));
        }
        if a.link.is_empty() {
            return Err("it gave no link address".into());
        }
        Ok(a.link)
    };
    match answer.await {
        Ok(links) => {
            tracing::info!(lbs = %url, links = ?links, "LBS answered");
            Some(links)
        }
        Err(why) => {
            tracing::warn!(lbs = %url, reason = %why, "LBS could not be asked; using the link addresses already known");
            None
        }
    }
}
