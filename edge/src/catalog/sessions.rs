//! Refresh tokens, stored only as their SHA-256: a sign-in starts a family, each renewal
//! uses up its token and adds the next, and a used token presented again revokes its family.

use super::{Catalog, UserRow};
use crate::error::Result;
use crate::ports::{Database, Statement};
use model::{Timestamp, UserId};

/// What presenting a refresh token led to.
#[derive(Debug)]
pub enum Renewal {
    /// The token was good: it is used up, `next` replaces it, and this is its user.
    Renewed(UserRow),
    /// The token had been used before: a copy is in someone else's hands. Its family is
    /// revoked now (every token of that sign-in).
    Reused,
    /// Unknown, expired, revoked, or its user is disabled or gone.
    Invalid,
}

impl<D: Database> Catalog<'_, D> {
    /// Stores the first token of a new family, after `before` in the same round trip.
    pub async fn start_session(
        &self,
        before: Vec<Statement<'_>>,
        user: &UserId,
        token_hash: &str,
        family: &str,
        now: Timestamp,
        expires: Timestamp,
    ) -> Result<()> {
        let mut statements = before;
        statements.push((
            "INSERT INTO sessions (token_hash, family, user_id, created_at, expires_at) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
            vec![
                token_hash.into(),
                family.into(),
                user.into(),
                now.into(),
                expires.into(),
            ],
        ));
        self.db.batch(statements).await.map(|_| ())
    }

    /// Uses up the token `presented` and stores `next` in its family, in one round trip.
    pub async fn renew_session(
        &self,
        presented: &str,
        next: &str,
        now: Timestamp,
        expires: Timestamp,
    ) -> Result<Renewal> {
        let outcomes = self
            .db
            .batch(vec![
                // The presented token, if it is good, is used up now.
                (
                    "UPDATE sessions SET used_at = ?2 WHERE token_hash = ?1 AND used_at IS NULL \
                       AND revoked_at IS NULL AND expires_at > ?2 \
                       AND user_id IN (SELECT id FROM users WHERE disabled_at IS NULL)",
                    vec![presented.into(), now.into()],
                ),
                (
                    "INSERT INTO sessions (token_hash, family, user_id, created_at, expires_at) \
                     SELECT ?2, family, user_id, ?3, ?4 FROM sessions \
                     WHERE token_hash = ?1 AND used_at = ?3 AND changes() = 1",
                    vec![presented.into(), next.into(), now.into(), expires.into()],
                ),
                // Used before now: a replay. The family goes.
                (
                    "UPDATE sessions SET revoked_at = ?2 WHERE revoked_at IS NULL AND family = \
                       (SELECT family FROM sessions WHERE token_hash = ?1 AND used_at < ?2)",
                    vec![presented.into(), now.into()],
                ),
                (
                    "SELECT users.id, email, password_hash, role, users.created_at, disabled_at, \
                       quota_bytes, quota_videos, quota_uploads \
                     FROM sessions JOIN users ON users.id = sessions.user_id \
                     WHERE token_hash = ?1",
                    vec![next.into()],
                ),
            ])
            .await?;
        let mut outcomes = outcomes.into_iter();
        let reused = outcomes.nth(2).is_some_and(|o| o.changes > 0);
        let renewed = outcomes.next().map(|o| o.rows).unwrap_or_default();
        if let Some(user) = super::rows::<UserRow>(renewed)?.into_iter().next() {
            return Ok(Renewal::Renewed(user));
        }
        Ok(if reused {
            Renewal::Reused
        } else {
            Renewal::Invalid
        })
    }

    /// Ends the sign-in the token belongs to (every token of its family). Unknown tokens
    /// end nothing.
    pub async fn end_session(&self, token_hash: &str, now: Timestamp) -> Result<()> {
        self.db
            .execute(
                "UPDATE sessions SET revoked_at = ?2 WHERE revoked_at IS NULL AND family = \
                   (SELECT family FROM sessions WHERE token_hash = ?1)",
                &[token_hash.into(), now.into()],
            )
            .await
            .map(|_| ())
    }

    /// Forgets tokens that expired before `before` (the sweep): they open nothing either way.
    pub async fn prune_sessions(&self, before: Timestamp) -> Result<u64> {
        self.db
            .execute(
                "DELETE FROM sessions WHERE expires_at < ?1",
                &[before.into()],
            )
            .await
    }
}
