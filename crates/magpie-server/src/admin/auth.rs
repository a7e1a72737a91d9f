//! NIM's server-API authentication.
//!
//! Headers `AppKey`, `Nonce`, `CurTime` (UTC seconds) and `CheckSum` =
//! lowercase hex SHA1(AppSecret + Nonce + CurTime). A call is refused when the
//! checksum is wrong, when CurTime is further than the window from the server
//! clock, or when its Nonce was already used by that app within the window.

use super::error::{ApiError, Flavor};
use crate::state::Shared;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use magpie_proto::sign::checksum;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use subtle::ConstantTimeEq;

/// Why a nonce was not accepted.
#[derive(Debug, PartialEq, Eq)]
pub enum NonceError {
    /// Seen within the window.
    Replayed,
    /// The cache is full of live nonces.
    Full,
}

/// Nonces seen per app, remembered for twice the window (a CurTime up to one
/// window in the future stays valid for two windows). Each app has its own
/// bound: one app that fills its memory gets 416 alone, every other app
/// goes on.
pub struct NonceCache {
    keep: Duration,
    max_per_app: usize,
    apps: Mutex<HashMap<i64, HashMap<String, Instant>>>,
}

impl NonceCache {
    /// A cache for a window of `window_secs`, holding at most `max_per_app`
    /// nonces for each app.
    pub fn new(window_secs: u64, max_per_app: usize) -> Self {
        NonceCache {
            keep: Duration::from_secs(window_secs * 2),
            max_per_app,
            apps: Mutex::new(HashMap::new()),
        }
    }

    /// Records a nonce, refusing one seen before.
    pub fn check_and_insert(&self, app_id: i64, nonce: &str) -> Result<(), NonceError> {
        let now = Instant::now();
        let mut apps = self.apps.lock();
        let seen = apps.entry(app_id).or_default();
        if let Some(exp) = seen.get(nonce) {
            if *exp > now {
                return Err(NonceError::Replayed);
            }
        }
        if seen.len() >= self.max_per_app {
            seen.retain(|_, exp| *exp > now);
            if seen.len() >= self.max_per_app {
                return Err(NonceError::Full);
            }
        }
        seen.insert(nonce.to_owned(), now + self.keep);
        Ok(())
    }

    /// Forgets expired nonces (and apps with none left).
    pub fn sweep(&self) {
        let now = Instant::now();
        self.apps.lock().retain(|_, seen| {
            seen.retain(|_, exp| *exp > now);
            !seen.is_empty()
        });
    }
}

fn header<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// Middleware: authenticates the call and puts the app in the request's extensions.
pub async fn require_checksum(
    State(shared): State<Arc<Shared>>,
    mut req: Request,
    next: Next,
) -> Response {
    let flavor = if req.uri().path().starts_with("/nimserver/") {
        Flavor::V1
    } else {
        Flavor::V2
    };
    let err = |code: u32, msg: &str| {
        ApiError {
            flavor,
            code,
            msg: msg.to_owned(),
        }
        .into_response()
    };
    let (Some(app_key), Some(nonce), Some(cur_time), Some(sum)) = (
        header(&req, "AppKey"),
        header(&req, "Nonce"),
        header(&req, "CurTime"),
        header(&req, "CheckSum"),
    ) else {
        return err(
            414,
            "missing header: AppKey, Nonce, CurTime and CheckSum are required",
        );
    };
    if nonce.is_empty() || nonce.len() > 128 {
        return err(414, "Nonce must be 1 to 128 characters");
    }
    let Ok(cur) = cur_time.parse::<i64>() else {
        return err(414, "CurTime must be UTC seconds");
    };
    let app = match shared.apps.get(app_key).await {
        Ok(Some(a)) => a,
        Ok(None) => return err(403, "unknown AppKey"),
        Err(e) => {
            tracing::error!(error = %e, "app lookup failed");
            return err(500, "internal error");
        }
    };
    let expected = checksum(&[&app.app_secret, nonce, cur_time]);
    let given = sum.to_ascii_lowercase();
    if !bool::from(expected.as_bytes().ct_eq(given.as_bytes())) {
        return err(403, "CheckSum mismatch");
    }
    let now = magpie_store::now_ms() / 1000;
    let window = shared.config.admin.checksum_window_secs as i64;
    if (now - cur).abs() > window {
        return err(403, "CurTime is outside the allowed window");
    }
    // Only a caller holding the app's secret gets here, so only the app
    // itself can spend its call budget.
    let a = &shared.config.admin;
    if !shared
        .admin_limiter
        .check_with(&app.id, Instant::now(), a.per_app_per_sec, a.per_app_burst)
    {
        shared.metrics.rate_limited("admin", &app.app.app_key);
        return err(
            416,
            "too many calls for this app: the admin API allows admin.per_app_per_sec per app; retry later",
        );
    }
    match shared.nonces.check_and_insert(app.id, nonce) {
        Ok(()) => {}
        Err(NonceError::Replayed) => return err(403, "Nonce was already used"),
        Err(NonceError::Full) => {
            return err(
                416,
                "too many signed calls for this app within the CheckSum window; retry later",
            )
        }
    }
    req.extensions_mut().insert(app);
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_are_single_use_and_bounded() {
        let c = NonceCache::new(300, 2);
        assert_eq!(c.check_and_insert(1, "a"), Ok(()));
        assert_eq!(c.check_and_insert(1, "a"), Err(NonceError::Replayed));
        assert_eq!(c.check_and_insert(2, "a"), Ok(()), "nonces are per app");
        assert_eq!(c.check_and_insert(1, "b"), Ok(()));
        assert_eq!(c.check_and_insert(1, "c"), Err(NonceError::Full));
        // App 1 is full; app 2 has its own room.
        assert_eq!(c.check_and_insert(2, "b"), Ok(()));
        assert_eq!(c.check_and_insert(3, "x"), Ok(()));
    }
}
