//! Who signs in: a normalized email address, and what a user may do.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// A normalized email address (trimmed, lowercase).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Email(String);

impl Email {
    pub const MAX_LEN: usize = 254;
    const MAX_LOCAL_LEN: usize = 64;

    /// Trims and lowercases, then requires exactly one `@`, a non-empty local part (≤ 64
    /// bytes), a dotted domain (or `localhost`, for the dev admin), ≤ 254 bytes in all, and no
    /// whitespace or control characters.
    pub fn parse(input: &str) -> Result<Self> {
        let email = input.trim().to_lowercase();
        if email.is_empty() {
            return Err(Error::InvalidEmail("empty"));
        }
        if email.len() > Self::MAX_LEN {
            return Err(Error::InvalidEmail("longer than 254 bytes"));
        }
        if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(Error::InvalidEmail(
                "contains whitespace or control characters",
            ));
        }
        let (local, domain) = email
            .split_once('@')
            .filter(|(_, domain)| !domain.contains('@'))
            .ok_or(Error::InvalidEmail("needs exactly one '@'"))?;
        if local.is_empty() {
            return Err(Error::InvalidEmail("empty local part"));
        }
        if local.len() > Self::MAX_LOCAL_LEN {
            return Err(Error::InvalidEmail("local part longer than 64 bytes"));
        }
        let dotted = domain.contains('.') && domain.split('.').all(|label| !label.is_empty());
        if !(dotted || domain == "localhost") {
            return Err(Error::InvalidEmail(
                "domain must be dotted (example.com) or localhost",
            ));
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

string_newtype!(Email);

/// What a user may do: admins see and manage everything, members their own videos.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Member,
}

impl Role {
    /// `"admin"` or `"member"`, exactly.
    pub fn parse(text: &str) -> Result<Self> {
        match text {
            "admin" => Ok(Role::Admin),
            "member" => Ok(Role::Member),
            other => Err(Error::InvalidRole(other.to_string())),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_normalizes() {
        let email = Email::parse("  Admin@LocalHost ").unwrap();
        assert_eq!(email.as_str(), "admin@localhost");
        assert_eq!(
            Email::parse("a.b+c@x.example").unwrap().as_str(),
            "a.b+c@x.example"
        );
    }

    #[test]
    fn email_refuses_malformed_addresses() {
        let long_local = format!("{}@x.io", "a".repeat(65));
        let long_total = format!("a@{}.io", "b".repeat(250));
        for bad in [
            "",
            "   ",
            "no-at.example",
            "two@@example.com",
            "a@b@example.com",
            "@example.com",
            "a@example",
            "a@.example.com",
            "a@example..com",
            "a@example.com.",
            "a b@example.com",
            "a\u{7}@example.com",
            long_local.as_str(),
            long_total.as_str(),
        ] {
            assert!(
                matches!(Email::parse(bad), Err(Error::InvalidEmail(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn role_parses_and_serializes_lowercase() {
        assert_eq!(Role::parse("admin").unwrap(), Role::Admin);
        assert_eq!("member".parse::<Role>().unwrap(), Role::Member);
        assert_eq!(serde_json::to_string(&Role::Admin).unwrap(), "\"admin\"");
        assert_eq!(
            serde_json::from_str::<Role>("\"member\"").unwrap(),
            Role::Member
        );
        assert_eq!(
            Role::parse("Admin"),
            Err(Error::InvalidRole("Admin".into()))
        );
        assert!(serde_json::from_str::<Role>("\"root\"").is_err());
    }
}
