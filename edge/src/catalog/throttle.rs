//! Sign-in attempts, for throttling: one row per attempt and scope (`email:<address>`,
//! `ip:<address>`). A failure's rows stay for the window; a success removes its own.

use super::{Catalog, placeholders};
use crate::error::Result;
use crate::ports::{Database, SqlValue};
use model::Timestamp;
use serde::Deserialize;
use std::time::Duration;

/// The throttling rule: at most `limit` attempts per scope within `window`.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub limit: u32,
    pub window: Duration,
}

impl<D: Database> Catalog<'_, D> {
    /// Reserves one attempt row per scope, unless a scope already holds `limit` rows in the
    /// window (failures, and attempts still being checked); false when it does. One
    /// statement, so concurrent sign-ins cannot all pass a count taken before any is recorded.
    pub async fn reserve_attempt(
        &self,
        scopes: &[String],
        attempt: &str,
        rule: Window,
        now: Timestamp,
    ) -> Result<bool> {
        let n = scopes.len();
        let mut params: Vec<SqlValue> = scopes.iter().map(|s| s.as_str().into()).collect();
        params.extend([
            attempt.into(),
            now.into(),
            (now - rule.window).into(),
            rule.limit.into(),
        ]);
        let (attempt, at, window, limit) = (n + 1, n + 2, n + 3, n + 4);
        let values = placeholders(1, n, |p| format!("({p})"));
        let list = placeholders(1, n, |p| p);
        let reserve = format!(
            "INSERT INTO login_failures (scope, at, attempt) \
             SELECT column1, ?{at}, ?{attempt} FROM (VALUES {values}) \
             WHERE NOT EXISTS (SELECT 1 FROM login_failures \
                 WHERE scope IN ({list}) AND at >= ?{window} \
                 GROUP BY scope HAVING COUNT(*) >= ?{limit})"
        );
        let changed = self
            .db
            .batch(vec![
                (
                    "DELETE FROM login_failures WHERE at < ?1",
                    vec![(now - rule.window).into()],
                ),
                (reserve.as_str(), params),
            ])
            .await?;
        Ok(changed.get(1).copied().unwrap_or(0) > 0)
    }

    /// When the earliest attempt in a scope at the limit leaves the window: the time a
    /// refused sign-in may try again.
    pub async fn throttled_until(
        &self,
        scopes: &[String],
        rule: Window,
        now: Timestamp,
    ) -> Result<Option<Timestamp>> {
        #[derive(Deserialize)]
        struct Frees {
            at: Option<i64>,
        }
        let n = scopes.len();
        let mut params: Vec<SqlValue> = scopes.iter().map(|s| s.as_str().into()).collect();
        params.extend([
            i64::try_from(rule.window.as_millis())
                .unwrap_or(i64::MAX)
                .into(),
            (now - rule.window).into(),
            rule.limit.into(),
        ]);
        let (window_ms, window, limit) = (n + 1, n + 2, n + 3);
        let list = placeholders(1, n, |p| p);
        let frees: Option<Frees> = self
            .one(
                &format!(
                    "SELECT MAX(oldest) + ?{window_ms} AS at FROM (\
                     SELECT MIN(at) AS oldest FROM login_failures \
                     WHERE scope IN ({list}) AND at >= ?{window} \
                     GROUP BY scope HAVING COUNT(*) >= ?{limit})"
                ),
                &params,
            )
            .await?;
        Ok(frees.and_then(|f| f.at).map(Timestamp::from_unix_ms))
    }

    /// A good sign-in: its reserved rows were no failures, and its email starts afresh.
    pub async fn settle_success(&self, attempt: &str, email_scope: &str) -> Result<()> {
        self.db
            .execute(
                "DELETE FROM login_failures WHERE attempt = ?1 OR scope = ?2",
                &[attempt.into(), email_scope.into()],
            )
            .await
            .map(|_| ())
    }
}
