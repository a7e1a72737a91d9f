//! NIM's request signatures, shared by the admin API (server and clients),
//! the third-party login callback and, later, event webhooks.
//!
//! - Server API calls carry `AppKey`, `Nonce`, `CurTime` (UTC seconds) and
//!   `CheckSum` = lowercase hex SHA1(AppSecret + Nonce + CurTime).
//! - Callbacks from the server to the app server carry `MD5` = lowercase hex
//!   MD5 of the body and `CheckSum` = SHA1(AppSecret + MD5 + CurTime).

use md5::Md5;
use sha1::{Digest, Sha1};

/// Lowercase hex SHA1 of the concatenated parts (NIM's CheckSum).
pub fn checksum(parts: &[&str]) -> String {
    let mut h = Sha1::new();
    for p in parts {
        h.update(p.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Lowercase hex MD5 of a body (the `MD5` header of NIM's callbacks).
pub fn md5_hex(body: &[u8]) -> String {
    hex::encode(Md5::digest(body))
}

/// The four signature headers of a server API call signed by an app:
/// `[("AppKey",..), ("Nonce",..), ("CurTime",..), ("CheckSum",..)]`.
pub fn signature_headers(
    app_key: &str,
    app_secret: &str,
    nonce: &str,
    cur_time: &str,
) -> [(&'static str, String); 4] {
    [
        ("AppKey", app_key.to_owned()),
        ("Nonce", nonce.to_owned()),
        ("CurTime", cur_time.to_owned()),
        ("CheckSum", checksum(&[app_secret, nonce, cur_time])),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_matches_an_independent_vector() {
        // printf '%s' 'secretnonce1700000000' | sha1sum
        assert_eq!(
            checksum(&["secret", "nonce", "1700000000"]),
            "c0b87c883bf8a70941d7e81c14cc7c7e7ccd3ba2"
        );
        // printf '%s' '{"a":1}' | md5sum
        assert_eq!(md5_hex(br#"{"a":1}"#), "bb6cb5c68df4652941caf652a366f2d8");
    }
}
