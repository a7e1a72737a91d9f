//! Account ids, normalised once.

use std::fmt;
use std::sync::Arc;

/// A valid, normalised account id (NIM's accid): 1 to 32 of `a-z 0-9 _ @ . -`.
/// Upper-case letters are lower-cased on the way in, as NIM does at account
/// creation, so every comparison and lookup sees one spelling. Cheap to clone.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountId(Arc<str>);

/// Why a string is not an account id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AccountIdError {
    /// Empty or longer than 32 bytes.
    #[error("accid must be 1 to 32 characters")]
    Length,
    /// A character outside `a-z 0-9 _ @ . -` (after lower-casing).
    #[error("accid may contain only letters, digits and _ @ . -")]
    Charset,
    /// `.` or `..`, which read as path segments in the V2 API's URLs
    /// (`/im/v2/accounts/{account_id}`).
    #[error("accid may not be \".\" or \"..\"")]
    Dots,
}

impl AccountId {
    /// The longest account id, in bytes.
    pub const MAX_LEN: usize = 32;

    /// Checks and normalises an account id.
    pub fn parse(raw: &str) -> Result<AccountId, AccountIdError> {
        if raw.is_empty() || raw.len() > Self::MAX_LEN {
            return Err(AccountIdError::Length);
        }
        let valid = |b: u8| b.is_ascii_alphanumeric() || b"_@.-".contains(&b);
        if !raw.bytes().all(valid) {
            return Err(AccountIdError::Charset);
        }
        if raw == "." || raw == ".." {
            return Err(AccountIdError::Dots);
        }
        if raw.bytes().any(|b| b.is_ascii_uppercase()) {
            Ok(AccountId(Arc::from(raw.to_ascii_lowercase())))
        } else {
            Ok(AccountId(Arc::from(raw)))
        }
    }

    /// The id as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl AsRef<str> for AccountId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for AccountId {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for AccountId {
    type Err = AccountIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AccountId::parse(s)
    }
}

impl serde::Serialize for AccountId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for AccountId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        AccountId::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_checked_and_lower_cased_once() {
        assert_eq!(
            AccountId::parse("Alice_01@x.y-z").unwrap().as_str(),
            "alice_01@x.y-z"
        );
        assert_eq!(AccountId::parse(""), Err(AccountIdError::Length));
        assert_eq!(
            AccountId::parse(&"a".repeat(33)),
            Err(AccountIdError::Length)
        );
        assert!(AccountId::parse(&"a".repeat(32)).is_ok());
        assert_eq!(AccountId::parse("."), Err(AccountIdError::Dots));
        assert_eq!(AccountId::parse(".."), Err(AccountIdError::Dots));
        assert!(AccountId::parse("...").is_ok() && AccountId::parse(".a").is_ok());
        for bad in ["a b", "é", "a/b", "a:b", "a\u{0}"] {
            assert_eq!(
                AccountId::parse(bad),
                Err(AccountIdError::Charset),
                "{bad:?}"
            );
        }
        let a: AccountId = serde_json::from_str("\"BOB\"").unwrap();
        assert_eq!(serde_json::to_string(&a).unwrap(), "\"bob\"");
        assert!(serde_json::from_str::<AccountId>("\"b b\"").is_err());
    }
}
