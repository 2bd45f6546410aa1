//! Sign-in attempts, for throttling: one row per attempt and scope (an email and a client
//! together, an email alone, a client alone, a known device). A failure's rows stay for the
//! rule's window; a success removes its own.
//!
//! Each scope has a [`Rule`], written once as SQL: the instant the scope frees up, or NULL
//! when it is free. Reserving an attempt and telling a refused one when to come back read
//! the same expression, so they cannot disagree.

use super::users::USER_COLUMNS;
use super::{Catalog, UserRow, placeholders};
use crate::error::Result;
use crate::ports::{Database, SqlValue};
use model::{Email, Timestamp};
use serde::Deserialize;
use std::time::Duration;

/// How many attempts a scope allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// At most `limit` attempts within `window`.
    Ceiling { limit: u32, window: Duration },
    /// `free` attempts, then each one waits twice as long as the one before (from `first`,
    /// at most `longest`) after the latest; attempts older than `window` are forgotten.
    Backoff {
        free: u32,
        first: Duration,
        longest: Duration,
        window: Duration,
    },
}

impl Rule {
    pub fn window(self) -> Duration {
        match self {
            Rule::Ceiling { window, .. } | Rule::Backoff { window, .. } => window,
        }
    }

    /// SQL for when the scope bound to `?{scope}` frees up (NULL: it is free), given the
    /// instant `?{now}`. Durations are our constants, written in as integers.
    fn frees_at(self, scope: usize, now: usize) -> String {
        let ms = |d: Duration| d.as_millis();
        let window = ms(self.window());
        let frees = match self {
            Rule::Ceiling { limit, window } => {
                format!(
                    "CASE WHEN COUNT(*) >= {limit} THEN MIN(at) + {} END",
                    ms(window)
                )
            }
            Rule::Backoff {
                free,
                first,
                longest,
                ..
            } => format!(
                "CASE WHEN COUNT(*) >= {free} \
                 THEN MAX(at) + MIN({} << MIN(COUNT(*) - {free}, 30), {}) END",
                ms(first),
                ms(longest)
            ),
        };
        format!(
            "SELECT {frees} AS at FROM login_failures \
             WHERE scope = ?{scope} AND at >= ?{now} - {window}"
        )
    }
}

/// SQL for the instants at which the scopes an attempt counts in free up (`at`), from `?1`
/// (now) and `?2..` (the scopes), of those that are not free now.
fn not_free(scopes: &[(String, Rule)]) -> String {
    let frees = scopes
        .iter()
        .enumerate()
        .map(|(i, (_, rule))| rule.frees_at(i + 2, 1))
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    format!("({frees}) WHERE at > ?1")
}

/// The first step of a sign-in, in one round trip: whether its attempt was reserved, when
/// a refused one may come back, and the account the email names.
#[derive(Debug)]
pub struct SignInStart {
    pub reserved: bool,
    pub frees_at: Option<Timestamp>,
    pub user: Option<UserRow>,
}

impl<D: Database> Catalog<'_, D> {
    /// Reserves one attempt row per scope, unless a scope is not free now, in one statement
    /// (concurrent sign-ins cannot all pass a check made before any is recorded); reads when
    /// the scopes free up and the user `email` names, in the same round trip. Rows older than
    /// every window are forgotten on the way.
    pub async fn begin_sign_in(
        &self,
        scopes: &[(String, Rule)],
        attempt: &str,
        email: Option<&Email>,
        now: Timestamp,
    ) -> Result<SignInStart> {
        let n = scopes.len();
        let mut params: Vec<SqlValue> = vec![now.into()];
        params.extend(scopes.iter().map(|(scope, _)| scope.as_str().into()));
        let frees_params = params.clone();
        params.push(attempt.into());
        let values = placeholders(2, n, |p| format!("({p})"));
        let reserve = format!(
            "INSERT INTO login_failures (scope, at, attempt) \
             SELECT column1, ?1, ?{} FROM (VALUES {values}) \
             WHERE NOT EXISTS (SELECT 1 FROM {})",
            n + 2,
            not_free(scopes)
        );
        let frees = format!("SELECT MAX(at) AS at FROM {}", not_free(scopes));
        let user = format!("SELECT {USER_COLUMNS} FROM users WHERE email = ?1");
        let oldest = scopes
            .iter()
            .map(|(_, rule)| rule.window())
            .max()
            .unwrap_or_default();
        let outcomes = self
            .db
            .batch(vec![
                (
                    "DELETE FROM login_failures WHERE at < ?1",
                    vec![(now - oldest).into()],
                ),
                (reserve.as_str(), params),
                (frees.as_str(), frees_params),
                (user.as_str(), vec![email.into()]),
            ])
            .await?;
        #[derive(Deserialize)]
        struct Frees {
            at: Option<i64>,
        }
        let mut outcomes = outcomes.into_iter().skip(1);
        let reserved = outcomes.next().is_some_and(|o| o.changes > 0);
        let frees = super::rows::<Frees>(outcomes.next().map(|o| o.rows).unwrap_or_default())?;
        let user = super::rows::<UserRow>(outcomes.next().map(|o| o.rows).unwrap_or_default())?;
        Ok(SignInStart {
            reserved,
            frees_at: frees
                .into_iter()
                .next()
                .and_then(|f| f.at)
                .map(Timestamp::from_unix_ms),
            user: user.into_iter().next(),
        })
    }
}

/// What a good sign-in leaves to do after its answer: its reserved rows were no failures,
/// and the scopes it names (this email from this client or device) start afresh. Failures
/// counted for the email alone stay: they are someone else's.
pub fn settle_success(attempt: &str, fresh: &[&str]) -> (String, Vec<SqlValue>) {
    let mut params: Vec<SqlValue> = vec![attempt.into()];
    params.extend(fresh.iter().map(|scope| SqlValue::from(*scope)));
    let list = placeholders(2, fresh.len().max(1), |p| p);
    if fresh.is_empty() {
        params.push(SqlValue::Null);
    }
    (
        format!("DELETE FROM login_failures WHERE attempt = ?1 OR scope IN ({list})"),
        params,
    )
}
