//! Asking an LBS (location service) for the link addresses: `GET
//! URL?k=APPKEY` answering `{"code":200,"link":["host:port",...]}`, as
//! `magpie serve` serves it (`[lbs] listen`).

use std::time::Duration;

/// Largest LBS answer read, bytes.
const MAX_BODY: usize = 64 << 10;

/// Most link addresses taken from one answer.
const MAX_LINKS: usize = 16;

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
        let mut resp = resp;
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| e.to_string())? {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_BODY {
                return Err(format!("HTTP {status}: an answer over {MAX_BODY} bytes"));
            }
        }
        let a: Answer = serde_json::from_slice(&body)
            .map_err(|e| format!("HTTP {status}, not the LBS's JSON: {e}"))?;
        if a.code != 200 {
            return Err(format!("refused: {} {}", a.code, a.desc));
        }
        let links: Vec<String> = a
            .link
            .into_iter()
            .filter(|l| crate::connect::split_addr(l).is_ok())
            .take(MAX_LINKS)
            .collect();
        if links.is_empty() {
            return Err("it gave no usable link address (host:port)".into());
        }
        Ok(links)
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
