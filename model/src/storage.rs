//! Names in object storage: bucket names under AWS's rules, object keys, key prefixes. Which
//! keys the platform writes is [`crate::layout`]'s business.

use crate::{Error, Result};

/// An S3 object key.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectKey(pub(crate) String);

impl ObjectKey {
    /// S3's limit, in UTF-8 bytes.
    pub const MAX_LEN: usize = 1024;

    /// 1..=1024 bytes, no control characters (XML 1.0 cannot carry most of them, and they
    /// have no business in a key), no leading `/` (it would double the path separator).
    pub fn parse(key: &str) -> Result<Self> {
        if key.is_empty() {
            return Err(Error::InvalidObjectKey("empty"));
        }
        if key.len() > Self::MAX_LEN {
            return Err(Error::InvalidObjectKey("longer than 1024 bytes"));
        }
        if key.starts_with('/') {
            return Err(Error::InvalidObjectKey("starts with '/'"));
        }
        if key.chars().any(char::is_control) {
            return Err(Error::InvalidObjectKey("contains control characters"));
        }
        Ok(Self(key.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The last `/`-separated segment (`video.mp4`).
    pub fn file_name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or(&self.0)
    }
}

string_newtype!(ObjectKey);

/// The start of a family of keys, ending in `/` (`videos/{id}/`): what a listing or a bulk
/// delete takes. Only [`crate::layout`] makes them.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct KeyPrefix(pub(crate) String);

impl KeyPrefix {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part of `key` after this prefix, when `key` is under it (and not the prefix alone).
    pub fn relative<'k>(&self, key: &'k ObjectKey) -> Option<&'k str> {
        key.as_str()
            .strip_prefix(self.as_str())
            .filter(|rest| !rest.is_empty())
    }
}

impl std::fmt::Display for KeyPrefix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// An S3 bucket name under AWS's general-purpose naming rules.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BucketName(String);

impl BucketName {
    /// 3..=63 characters of `a-z 0-9 . -`, starting and ending with a letter or digit, no
    /// `..`, `.-` or `-.` (so every dot-separated label is a DNS label), not an IPv4 address,
    /// and none of the prefixes and suffixes AWS reserves.
    pub fn parse(name: &str) -> Result<Self> {
        const RESERVED_PREFIXES: [&str; 2] = ["xn--", "sthree-"];
        const RESERVED_SUFFIXES: [&str; 5] =
            ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"];
        let invalid = |reason| Err(Error::InvalidBucketName(reason));
        if !(3..=63).contains(&name.len()) {
            return invalid("must be 3 to 63 characters");
        }
        if !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        {
            return invalid("only lowercase letters, digits, '.' and '-' are allowed");
        }
        let alphanumeric = |b: Option<&u8>| b.is_some_and(u8::is_ascii_alphanumeric);
        if !alphanumeric(name.as_bytes().first()) || !alphanumeric(name.as_bytes().last()) {
            return invalid("must start and end with a letter or digit");
        }
        if ["..", ".-", "-."].iter().any(|pair| name.contains(pair)) {
            return invalid("a dot must sit between letters or digits");
        }
        if name.parse::<std::net::Ipv4Addr>().is_ok() {
            return invalid("must not be an IP address");
        }
        if RESERVED_PREFIXES.iter().any(|p| name.starts_with(p))
            || RESERVED_SUFFIXES.iter().any(|s| name.ends_with(s))
        {
            return invalid("uses a prefix or suffix AWS reserves");
        }
        Ok(Self(name.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

string_newtype!(BucketName);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_key_rules() {
        assert!(ObjectKey::parse("a b/ü+%~x").is_ok());
        assert!(ObjectKey::parse(&"k".repeat(1024)).is_ok());
        for bad in ["", "/x", "a\nb", "a\u{0}b", "a\u{7f}b", "a\u{85}b"] {
            assert!(
                matches!(ObjectKey::parse(bad), Err(Error::InvalidObjectKey(_))),
                "{bad:?}"
            );
        }
        assert!(ObjectKey::parse(&"k".repeat(1025)).is_err());
        assert!(serde_json::from_str::<ObjectKey>("\"/x\"").is_err());
        assert_eq!(ObjectKey::parse("a/b/c.mp4").unwrap().file_name(), "c.mp4");
    }

    #[test]
    fn bucket_name_rules() {
        for good in ["incoming", "media", "my.bucket-1", "a1b", &"a".repeat(63)] {
            assert!(BucketName::parse(good).is_ok(), "{good:?}");
        }
        for bad in [
            "ab",
            &"a".repeat(64),
            "Upper",
            "under_score",
            "-start",
            "end-",
            ".dot",
            "a..b",
            "a.-b",
            "a-.b",
            "192.168.5.4",
            "xn--bucket",
            "sthree-x",
            "x-s3alias",
            "x--ol-s3",
        ] {
            assert!(
                matches!(BucketName::parse(bad), Err(Error::InvalidBucketName(_))),
                "{bad:?}"
            );
        }
    }
}
