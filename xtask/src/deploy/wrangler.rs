//! wrangler.toml, read with a TOML parser: what the settings checks and the deploy need.

use std::collections::BTreeSet;

use toml::{Table, Value};

use crate::run::read;

/// Values that an operator has to replace before the first deploy.
pub const PLACEHOLDER_DOMAIN: &str = "example.com";
pub const PLACEHOLDER_DATABASE_ID: &str = "00000000-0000-4000-8000-000000000000";

pub struct Wrangler(Table);

impl Wrangler {
    pub fn load() -> Result<Wrangler, String> {
        Self::parse(&read("wrangler.toml")?)
    }

    pub fn parse(text: &str) -> Result<Wrangler, String> {
        text.parse::<Table>()
            .map(Wrangler)
            .map_err(|e| format!("wrangler.toml: {e}"))
    }

    fn at(&self, path: &[&str]) -> Option<&Value> {
        let (first, rest) = path.split_first()?;
        rest.iter()
            .try_fold(self.0.get(*first)?, |value, key| value.get(key))
    }

    fn keys(&self, path: &[&str]) -> BTreeSet<String> {
        self.at(path)
            .and_then(Value::as_table)
            .map(|table| table.keys().cloned().collect())
            .unwrap_or_default()
    }

    fn strings(&self, path: &[&str]) -> Vec<String> {
        self.at(path)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect()
    }

    /// `[vars]`: the development settings.
    pub fn dev_vars(&self) -> BTreeSet<String> {
        self.keys(&["vars"])
    }

    /// `[env.production.vars]`.
    pub fn production_vars(&self) -> BTreeSet<String> {
        self.keys(&["env", "production", "vars"])
    }

    /// `[env.production.secrets] required`.
    pub fn production_secrets(&self) -> Vec<String> {
        self.strings(&["env", "production", "secrets", "required"])
    }

    pub fn production_var(&self, name: &str) -> Option<&str> {
        self.at(&["env", "production", "vars", name])?.as_str()
    }

    /// The first production route's pattern (the app's domain).
    pub fn production_domain(&self) -> Option<&str> {
        self.at(&["env", "production", "routes"])?
            .as_array()?
            .first()?
            .get("pattern")?
            .as_str()
    }

    /// (database_name, database_id) of the first production D1 database.
    pub fn production_database(&self) -> Option<(&str, &str)> {
        let database = self
            .at(&["env", "production", "d1_databases"])?
            .as_array()?
            .first()?;
        Some((
            database.get("database_name")?.as_str()?,
            database
                .get("database_id")
                .and_then(Value::as_str)
                .unwrap_or_default(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_the_deploy_needs() {
        let wrangler = Wrangler::parse(
            r#"
name = "edgevid"
[vars]
ENVIRONMENT = "development" # a comment
[env.production]
routes = [
  { pattern = "video.example.org", custom_domain = true },
]
[[env.production.d1_databases]]
binding = "DB"
database_name = "edgevid-production"
database_id = "4f1c1a55-8d0e-4a53-9d7e-2a3c1d9b7e10"
[env.production.vars]
ALLOWED_ORIGINS = "https://video.example.org"
[env.production.secrets]
required = [
  "JWT_SIGNING_KEY", # Ed25519 seed
  "WEBHOOK_SECRET",
]
"#,
        )
        .unwrap();
        assert_eq!(wrangler.dev_vars(), BTreeSet::from(["ENVIRONMENT".into()]));
        assert_eq!(
            wrangler.production_secrets(),
            ["JWT_SIGNING_KEY", "WEBHOOK_SECRET"]
        );
        assert_eq!(wrangler.production_domain(), Some("video.example.org"));
        assert_eq!(
            wrangler.production_var("ALLOWED_ORIGINS"),
            Some("https://video.example.org")
        );
        assert_eq!(
            wrangler.production_database(),
            Some(("edgevid-production", "4f1c1a55-8d0e-4a53-9d7e-2a3c1d9b7e10"))
        );
        assert!(Wrangler::parse("[broken").is_err());
    }

    /// The review's findings on wrangler.toml: a plain `wrangler deploy` cannot ship the
    /// development settings, a request's CPU is bounded, and Workers Logs are on.
    #[test]
    fn the_committed_wrangler_toml_cannot_ship_development_and_bounds_cpu() {
        let wrangler = Wrangler::load().unwrap();
        // Without a top-level name, wrangler refuses a deploy without --env.
        assert!(wrangler.at(&["name"]).is_none());
        assert_eq!(
            wrangler
                .at(&["vars", "ENVIRONMENT"])
                .and_then(Value::as_str),
            Some("development")
        );
        assert!(wrangler.at(&["env", "production", "name"]).is_some());
        assert_eq!(wrangler.production_var("ENVIRONMENT"), Some("production"));
        let cpu_ms = wrangler
            .at(&["limits", "cpu_ms"])
            .and_then(Value::as_integer)
            .unwrap();
        // Over sign-in's argon2id (about 130 ms here), within Workers Paid's 300,000.
        assert!((500..=300_000).contains(&cpu_ms), "{cpu_ms}");
        assert_eq!(
            wrangler
                .at(&["observability", "enabled"])
                .and_then(Value::as_bool),
            Some(true)
        );
    }
}
