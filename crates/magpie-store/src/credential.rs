use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A stored token: a random salt and SHA-256(salt || token).
///
/// Tokens are bearer credentials issued by app servers (NIM's model), usually
/// random; a fast salted hash keeps a stolen database from revealing them while
/// keeping a login within the CPU budget. Verification is constant-time.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct TokenHash {
    /// 16 random bytes.
    pub salt: Vec<u8>,
    /// 32-byte digest.
    pub hash: Vec<u8>,
}

impl std::fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenHash(..)")
    }
}

fn digest(salt: &[u8], token: &str) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(salt);
    h.update(token.as_bytes());
    h.finalize().to_vec()
}

impl TokenHash {
    /// Hashes a token with a new random salt.
    pub fn new(token: &str) -> TokenHash {
        let mut salt = vec![0u8; 16];
        rand::thread_rng().fill_bytes(&mut salt);
        let hash = digest(&salt, token);
        TokenHash { salt, hash }
    }

    /// True when `token` is the token this hash was made from (constant time).
    pub fn verify(&self, token: &str) -> bool {
        let d = digest(&self.salt, token);
        d.len() == self.hash.len() && bool::from(d.ct_eq(&self.hash))
    }
}

/// A random lowercase hex string of `bytes` random bytes (keys, secrets, tokens).
pub fn generate_key(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut b);
    hex::encode(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifies_only_the_original_token() {
        let h = TokenHash::new("secret-token");
        assert!(h.verify("secret-token"));
        assert!(!h.verify("secret-tokeN"));
        assert!(!h.verify(""));
        assert_ne!(TokenHash::new("secret-token").salt, h.salt);
        assert_eq!(format!("{h:?}"), "TokenHash(..)");
    }
}
