//! Secrets that cannot leak through `Debug`: configuration structs derive `Debug` for
//! operators' diagnostics, and a secret inside one prints as redacted.

use std::fmt;

/// A secret value: read it with [`Secret::expose`], never through `{:?}`.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    pub fn new(value: T) -> Self {
        Self(value)
    }

    /// The secret itself, for the one place that uses it (a key derivation, a MAC).
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> From<T> for Secret<T> {
    fn from(value: T) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret<String> {
    fn from(value: &str) -> Self {
        Self(value.to_string())
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(** redacted **)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        #[derive(Debug)]
        #[allow(dead_code)] // read only through Debug
        struct Config {
            name: &'static str,
            key: Secret<String>,
        }
        let config = Config {
            name: "edge",
            key: Secret::new("hunter2".into()),
        };
        let shown = format!("{config:?} {config:#?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("redacted"));
        assert_eq!(config.key.expose(), "hunter2");
    }
}
