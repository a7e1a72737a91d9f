//! NIM's dynamic token (auth_type 1; NIM's page "动态 Token 鉴权" (Dynamic token authentication)).
//!
//! ```text
//! token     = base64( {"signature": s, "curTime": <ms>, "ttl": <s>} )
//! signature = lowercase hex SHA1(appkey + accid + curTime + ttl + appsecret)
//! ```
//! `curTime` and `ttl` may be JSON numbers or strings; the signature covers
//! their decimal text as sent.

use base64::Engine;
use serde_json::Value;
use subtle::ConstantTimeEq;

/// Why a dynamic token was refused (every case answers 302 to the client).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DynamicTokenError {
    /// Not base64 of a JSON object with signature, curTime and ttl.
    Malformed,
    /// The signature does not match.
    BadSignature,
    /// now > curTime + ttl.
    Expired,
    /// curTime is further in the future than the allowed clock skew.
    FromTheFuture,
    /// ttl is 0 or above the maximum.
    BadTtl,
}

impl DynamicTokenError {
    /// Words for the client and logs.
    pub fn describe(self) -> &'static str {
        match self {
            DynamicTokenError::Malformed => "dynamic token is malformed",
            DynamicTokenError::BadSignature => "dynamic token signature does not match",
            DynamicTokenError::Expired => "dynamic token has expired",
            DynamicTokenError::FromTheFuture => "dynamic token is from the future",
            DynamicTokenError::BadTtl => "dynamic token ttl is zero or above the maximum",
        }
    }
}

/// The signature of a dynamic token.
pub fn signature(
    app_key: &str,
    accid: &str,
    cur_time: &str,
    ttl: &str,
    app_secret: &str,
) -> String {
    magpie_proto::sign::checksum(&[app_key, accid, cur_time, ttl, app_secret])
}

/// Computes a dynamic token, as an app server does.
pub fn make(
    app_key: &str,
    app_secret: &str,
    accid: &str,
    cur_time_ms: i64,
    ttl_secs: u64,
) -> String {
    let (c, t) = (cur_time_ms.to_string(), ttl_secs.to_string());
    let body = serde_json::json!({
        "signature": signature(app_key, accid, &c, &t, app_secret),
        "curTime": cur_time_ms,
        "ttl": ttl_secs,
    });
    base64::engine::general_purpose::STANDARD.encode(body.to_string())
}

fn number_text(v: &Value) -> Option<(String, i64)> {
    match v {
        Value::Number(n) => n.as_i64().map(|i| (i.to_string(), i)),
        Value::String(s) => s.trim().parse::<i64>().ok().map(|i| (s.clone(), i)),
        _ => None,
    }
}

/// The limits a server applies.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Largest accepted ttl, seconds.
    pub max_ttl_secs: u64,
    /// How far in the future curTime may be, ms.
    pub clock_skew_ms: i64,
}

/// Verifies a dynamic token for an account at `now_ms`. The signature is
/// checked against each of `accids` (the account as normalised and as sent).
pub fn verify(
    token: &str,
    app_key: &str,
    app_secret: &str,
    accids: &[&str],
    now_ms: i64,
    limits: Limits,
) -> Result<(), DynamicTokenError> {
    use DynamicTokenError as E;
    let engines = [
        &base64::engine::general_purpose::STANDARD,
        &base64::engine::general_purpose::STANDARD_NO_PAD,
        &base64::engine::general_purpose::URL_SAFE,
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
    ];
    let raw = engines
        .iter()
        .find_map(|e| e.decode(token.trim()).ok())
        .ok_or(E::Malformed)?;
    let v: Value = serde_json::from_slice(&raw).map_err(|_| E::Malformed)?;
    let sig = v
        .get("signature")
        .and_then(Value::as_str)
        .ok_or(E::Malformed)?;
    let (cur_text, cur) = v.get("curTime").and_then(number_text).ok_or(E::Malformed)?;
    let (ttl_text, ttl) = v.get("ttl").and_then(number_text).ok_or(E::Malformed)?;
    let given = sig.to_ascii_lowercase();
    let matches = accids.iter().any(|a| {
        let want = signature(app_key, a, &cur_text, &ttl_text, app_secret);
        bool::from(want.as_bytes().ct_eq(given.as_bytes()))
    });
    if !matches {
        return Err(E::BadSignature);
    }
    if ttl <= 0 || ttl as u64 > limits.max_ttl_secs {
        return Err(E::BadTtl);
    }
    if cur > now_ms + limits.clock_skew_ms {
        return Err(E::FromTheFuture);
    }
    if now_ms > cur.saturating_add(ttl.saturating_mul(1000)) {
        return Err(E::Expired);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const L: Limits = Limits {
        max_ttl_secs: 86_400,
        clock_skew_ms: 300_000,
    };

    #[test]
    fn made_tokens_verify_and_every_flaw_is_named() {
        let now = 1_700_000_000_000;
        let t = make("key", "secret", "alice", now, 600);
        assert_eq!(
            verify(&t, "key", "secret", &["alice"], now + 1000, L),
            Ok(())
        );
        let e =
            |t: &str, acc: &str, at: i64| verify(t, "key", "secret", &[acc], at, L).unwrap_err();
        assert_eq!(e(&t, "bob", now), DynamicTokenError::BadSignature);
        assert_eq!(
            verify(&t, "key", "other", &["alice"], now, L),
            Err(DynamicTokenError::BadSignature)
        );
        assert_eq!(
            verify(&t, "key2", "secret", &["alice"], now, L),
            Err(DynamicTokenError::BadSignature)
        );
        assert_eq!(e(&t, "alice", now + 601_000), DynamicTokenError::Expired);
        assert_eq!(
            e(&t, "alice", now - 301_000),
            DynamicTokenError::FromTheFuture
        );
        assert_eq!(e("!!", "alice", now), DynamicTokenError::Malformed);
        assert_eq!(e("e30=", "alice", now), DynamicTokenError::Malformed);
        let long = make("key", "secret", "alice", now, 86_401);
        assert_eq!(e(&long, "alice", now), DynamicTokenError::BadTtl);
    }

    #[test]
    fn string_fields_are_accepted_and_signed_as_text() {
        let now = 1_700_000_000_000i64;
        let sig = signature("k", "a", &now.to_string(), "60", "s");
        let body = format!(
            r#"{{"signature":"{}","curTime":"{now}","ttl":"60"}}"#,
            sig.to_uppercase()
        );
        let t = base64::engine::general_purpose::STANDARD.encode(body);
        assert_eq!(verify(&t, "k", "s", &["a"], now, L), Ok(()));
    }
}
