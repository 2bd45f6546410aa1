//! Users: their rows, the admin's changes, and what each may hold.

use super::Catalog;
use crate::config::Quota;
use crate::error::Result;
use crate::ports::{Database, SqlValue, Statement};
use model::{Email, Role, Timestamp, UserId};
use serde::Deserialize;

pub(super) const USER_COLUMNS: &str = "id, email, password_hash, role, created_at, disabled_at, \
    quota_bytes, quota_videos, quota_uploads";

#[derive(Debug, Clone, Deserialize)]
pub struct UserRow {
    pub id: UserId,
    pub email: Email,
    pub password_hash: String,
    pub role: Role,
    #[serde(with = "model::time::unix_ms")]
    pub created_at: Timestamp,
    /// Set while an admin has disabled the account: no sign-in, no renewal.
    #[serde(default, with = "model::time::unix_ms_option")]
    pub disabled_at: Option<Timestamp>,
    /// Per-user limits an admin set; None: the configured default.
    #[serde(flatten)]
    pub quota: QuotaOverrides,
}

/// An admin's per-user limits, each replacing one configured default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub struct QuotaOverrides {
    #[serde(rename = "quota_bytes")]
    pub bytes: Option<u64>,
    #[serde(rename = "quota_videos")]
    pub videos: Option<u64>,
    #[serde(rename = "quota_uploads")]
    pub uploads: Option<u64>,
}

impl QuotaOverrides {
    /// The limits that apply, given the defaults.
    pub fn over(self, defaults: Quota) -> Quota {
        Quota {
            bytes: self.bytes.unwrap_or(defaults.bytes),
            videos: self.videos.unwrap_or(defaults.videos),
            uploads: self.uploads.unwrap_or(defaults.uploads),
        }
    }
}

/// What a user holds, counted as the quotas count it (the `used_*` columns).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub struct Usage {
    #[serde(rename = "used_bytes")]
    pub bytes: u64,
    #[serde(rename = "used_videos")]
    pub videos: u64,
    #[serde(rename = "used_uploads")]
    pub uploads: u64,
}

/// A user with what they hold (the admin's list).
#[derive(Debug, Clone, Deserialize)]
pub struct UserWithUsage {
    #[serde(flatten)]
    pub user: UserRow,
    #[serde(flatten)]
    pub usage: Usage,
}

/// The `used_*` columns of the user `owner` names (`users.id`, or a parameter).
pub fn usage_columns(owner: &str) -> String {
    format!(
        "(SELECT COALESCE(SUM(file_size), 0) FROM videos WHERE owner = {owner}) AS used_bytes, \
         (SELECT COUNT(*) FROM videos WHERE owner = {owner}) AS used_videos, \
         (SELECT COUNT(*) FROM videos WHERE owner = {owner} AND status = 'uploading') AS used_uploads"
    )
}

/// An admin's change to a user; None leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UserChange {
    pub role: Option<Role>,
    pub disabled: Option<bool>,
    /// Some(None) returns a limit to the default.
    pub quota_bytes: Option<Option<u64>>,
    pub quota_videos: Option<Option<u64>>,
    pub quota_uploads: Option<Option<u64>>,
}

/// "Another enabled admin than `?1` exists": the guard of every change that could leave the
/// platform without one.
const ANOTHER_ADMIN: &str = "EXISTS (SELECT 1 FROM users AS other WHERE other.id <> ?1 \
    AND other.role = 'admin' AND other.disabled_at IS NULL)";

/// What an admin's change did.
#[derive(Debug)]
pub struct Changed {
    /// False when it was refused: it would have left no enabled admin.
    pub applied: bool,
    pub user: UserWithUsage,
}

/// One step of ending a user ([`Catalog::retire_user`]).
#[derive(Debug)]
pub struct Retirement {
    /// The user is the last enabled admin: nothing changed.
    pub refused: bool,
    /// Videos that left the catalog in this step; their objects go next.
    pub videos: Vec<super::VideoRow>,
    pub remaining_videos: u64,
    /// The user no longer exists (left in this step, or before).
    pub gone: bool,
}

impl<D: Database> Catalog<'_, D> {
    pub async fn user_by_email(&self, email: &Email) -> Result<Option<UserRow>> {
        self.one(
            &format!("SELECT {USER_COLUMNS} FROM users WHERE email = ?1"),
            &[email.into()],
        )
        .await
    }

    pub async fn user(&self, id: &UserId) -> Result<Option<UserWithUsage>> {
        self.one(
            &format!(
                "SELECT {USER_COLUMNS}, {} FROM users WHERE id = ?1",
                usage_columns("users.id")
            ),
            &[id.into()],
        )
        .await
    }

    /// Users by email, after `after`; up to `limit`.
    pub async fn list_users(
        &self,
        after: Option<&Email>,
        limit: u32,
    ) -> Result<Vec<UserWithUsage>> {
        self.all(
            &format!(
                "SELECT {USER_COLUMNS}, {} FROM users \
                 WHERE ?1 IS NULL OR email > ?1 ORDER BY email LIMIT ?2",
                usage_columns("users.id")
            ),
            &[after.into(), limit.into()],
        )
        .await
    }

    /// Inserts a user unless the email is taken; false when it was.
    pub async fn insert_user(&self, user: &UserRow) -> Result<bool> {
        let changed = self
            .db
            .execute(
                "INSERT INTO users (id, email, password_hash, role, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (email) DO NOTHING",
                &[
                    (&user.id).into(),
                    (&user.email).into(),
                    user.password_hash.as_str().into(),
                    user.role.into(),
                    user.created_at.into(),
                ],
            )
            .await?;
        Ok(changed == 1)
    }

    /// Applies an admin's change, unless it would leave no enabled admin, and when it
    /// disables the user or sets their role, ends their sessions; one round trip. The user
    /// as they are after: None when there is no such user.
    pub async fn change_user(
        &self,
        id: &UserId,
        change: &UserChange,
        now: Timestamp,
    ) -> Result<Option<Changed>> {
        let quota = |value: Option<Option<u64>>| -> (SqlValue, SqlValue) {
            (
                SqlValue::from(u32::from(value.is_some())),
                value.flatten().into(),
            )
        };
        let (set_bytes, bytes) = quota(change.quota_bytes);
        let (set_videos, videos) = quota(change.quota_videos);
        let (set_uploads, uploads) = quota(change.quota_uploads);
        let update = format!(
            "UPDATE users SET \
               role = COALESCE(?2, role), \
               disabled_at = CASE WHEN ?3 IS NULL THEN disabled_at \
                 WHEN ?3 = 1 THEN COALESCE(disabled_at, ?4) ELSE NULL END, \
               quota_bytes = CASE WHEN ?5 = 1 THEN ?6 ELSE quota_bytes END, \
               quota_videos = CASE WHEN ?7 = 1 THEN ?8 ELSE quota_videos END, \
               quota_uploads = CASE WHEN ?9 = 1 THEN ?10 ELSE quota_uploads END \
             WHERE id = ?1 AND ( \
               (COALESCE(?2, role) = 'admin' AND COALESCE(?3, disabled_at IS NOT NULL) = 0) \
               OR {ANOTHER_ADMIN})"
        );
        let ends_sessions = change.disabled == Some(true) || change.role.is_some();
        let params = vec![
            id.into(),
            change.role.into(),
            change.disabled.map(u32::from).into(),
            now.into(),
            set_bytes,
            bytes,
            set_videos,
            videos,
            set_uploads,
            uploads,
        ];
        self.apply_and_read(id, (update.as_str(), params), ends_sessions, now)
            .await
    }

    /// Sets a user's password and ends their sessions; one round trip. None when there is
    /// no such user.
    pub async fn reset_password(
        &self,
        id: &UserId,
        password_hash: &str,
        now: Timestamp,
    ) -> Result<Option<Changed>> {
        let update = "UPDATE users SET password_hash = ?2 WHERE id = ?1";
        let params = vec![id.into(), password_hash.into()];
        self.apply_and_read(id, (update, params), true, now).await
    }

    /// One batch: `update` (of the user `id`), then, when it applied and `end_sessions`,
    /// every session of the user ends; then the user as they are.
    async fn apply_and_read(
        &self,
        id: &UserId,
        update: Statement<'_>,
        end_sessions: bool,
        now: Timestamp,
    ) -> Result<Option<Changed>> {
        let read = format!(
            "SELECT {USER_COLUMNS}, {} FROM users WHERE id = ?1",
            usage_columns("users.id")
        );
        let mut statements = vec![update];
        if end_sessions {
            statements.push((
                // changes(): the update above applied.
                "UPDATE sessions SET revoked_at = ?2 \
                 WHERE user_id = ?1 AND revoked_at IS NULL AND changes() = 1",
                vec![id.into(), now.into()],
            ));
        }
        statements.push((read.as_str(), vec![id.into()]));
        let outcomes = self.db.batch(statements).await?;
        let applied = outcomes.first().is_some_and(|o| o.changes == 1);
        let rows = outcomes
            .into_iter()
            .last()
            .map(|o| o.rows)
            .unwrap_or_default();
        Ok(super::rows::<UserWithUsage>(rows)?
            .into_iter()
            .next()
            .map(|user| Changed { applied, user }))
    }

    /// Ends a user one batch of videos at a time, in one round trip: the user is disabled
    /// and their sessions end (unless they are the last enabled admin), then up to `limit`
    /// of their videos leave the catalog, returned so that their objects can go; a user
    /// found with no videos leaves too.
    pub async fn retire_user(&self, id: &UserId, limit: u32, now: Timestamp) -> Result<Retirement> {
        let may = format!("(role <> 'admin' OR {ANOTHER_ADMIN})");
        let disable = format!(
            "UPDATE users SET disabled_at = COALESCE(disabled_at, ?2) WHERE id = ?1 AND {may}"
        );
        let take = format!(
            "DELETE FROM videos WHERE id IN \
               (SELECT id FROM videos WHERE owner = ?1 ORDER BY created_at LIMIT ?2) \
             AND EXISTS (SELECT 1 FROM users WHERE id = ?1 AND {may}) \
             RETURNING {}",
            super::videos::VIDEO_COLUMNS
        );
        // changes(): the step above took no video, so none has objects still to go.
        let leave = format!(
            "DELETE FROM users WHERE id = ?1 AND {may} AND changes() = 0 \
               AND NOT EXISTS (SELECT 1 FROM videos WHERE owner = ?1)"
        );
        let outcomes = self
            .db
            .batch(vec![
                (disable.as_str(), vec![id.into(), now.into()]),
                (
                    "UPDATE sessions SET revoked_at = ?2 \
                     WHERE user_id = ?1 AND revoked_at IS NULL AND changes() = 1",
                    vec![id.into(), now.into()],
                ),
                (take.as_str(), vec![id.into(), limit.into()]),
                (leave.as_str(), vec![id.into()]),
                (
                    "SELECT (SELECT COUNT(*) FROM users WHERE id = ?1) AS present, \
                       (SELECT COUNT(*) FROM videos WHERE owner = ?1) AS remaining",
                    vec![id.into()],
                ),
            ])
            .await?;
        #[derive(Deserialize)]
        struct Left {
            present: u32,
            remaining: u64,
        }
        let mut outcomes = outcomes.into_iter();
        let allowed = outcomes.next().is_some_and(|o| o.changes == 1);
        let videos = super::rows(outcomes.nth(1).map(|o| o.rows).unwrap_or_default())?;
        let left = outcomes.nth(1).map(|o| o.rows).unwrap_or_default();
        let left = super::rows::<Left>(left)?.into_iter().next();
        let present = left.as_ref().is_some_and(|l| l.present == 1);
        Ok(Retirement {
            refused: !allowed && present,
            videos,
            remaining_videos: left.map_or(0, |l| l.remaining),
            gone: !present,
        })
    }

    /// The bootstrap admin: created when no user has its email, never changed after (its
    /// configured secret is not needed once it exists).
    /// Returns whether it was created now.
    pub async fn insert_admin_if_absent(&self, user: &UserRow) -> Result<bool> {
        self.insert_user(&UserRow {
            role: Role::Admin,
            ..user.clone()
        })
        .await
    }
}
