//! The catalog's SQL, written once for D1 and SQLite (`migrations/*.sql` is the schema).

use crate::error::{Error, Result};
use crate::ports::{Database, Row, SqlValue};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use signer::ids::Role;

#[derive(Debug, Clone, Deserialize)]
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub password_hash: String,
    pub role: Role,
    pub created_at: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VideoStatus {
    Uploading,
    Processing,
    Ready,
    Failed,
}

#[derive(Debug, Clone, Deserialize)]
pub struct VideoRow {
    pub id: String,
    pub owner: String,
    pub title: String,
    pub file_name: String,
    pub file_size: u64,
    pub file_type: String,
    pub status: VideoStatus,
    pub progress: Option<u8>,
    pub error: Option<String>,
    pub source_key: String,
    pub upload_id: Option<String>,
    pub output_key: Option<String>,
    pub duration_ms: Option<u64>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A job event as the catalog applies it (already verified and validated).
#[derive(Debug)]
pub enum JobUpdate {
    Processing {
        progress: Option<u8>,
    },
    Ready {
        output_key: String,
        duration_ms: Option<u64>,
        width: Option<u32>,
        height: Option<u32>,
    },
    Failed {
        reason: String,
    },
}

/// Where a page of the video list starts: after this (created_at, id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListCursor {
    pub created_at: i64,
    pub id: String,
}

/// How long applied job event ids are remembered.
pub const JOB_EVENT_RETENTION_MS: i64 = 7 * 24 * 3600 * 1000;

pub struct Catalog<'a, D> {
    db: &'a D,
}

/// `?1, ?2, …` for an `IN (…)` list of scopes, and the scopes as parameters.
fn scope_params(scopes: &[String]) -> (String, Vec<SqlValue>) {
    let list = (1..=scopes.len())
        .map(|i| format!("?{i}"))
        .collect::<Vec<_>>()
        .join(", ");
    (list, scopes.iter().map(|s| s.as_str().into()).collect())
}

fn rows<T: DeserializeOwned>(rows: Vec<Row>) -> Result<Vec<T>> {
    rows.into_iter()
        .map(|row| {
            serde_json::from_value(serde_json::Value::Object(row))
                .map_err(|e| Error::Database(format!("unexpected row shape: {e}")))
        })
        .collect()
}

const VIDEO_COLUMNS: &str = "id, owner, title, file_name, file_size, file_type, status, progress, \
    error, source_key, upload_id, output_key, duration_ms, width, height, \
    created_at, updated_at";

impl<'a, D: Database> Catalog<'a, D> {
    pub fn new(db: &'a D) -> Self {
        Catalog { db }
    }

    async fn one<T: DeserializeOwned>(&self, sql: &str, params: &[SqlValue]) -> Result<Option<T>> {
        Ok(rows(self.db.query(sql, params).await?)?.into_iter().next())
    }

    pub async fn user_by_email(&self, email: &str) -> Result<Option<UserRow>> {
        self.one(
            "SELECT id, email, password_hash, role, created_at FROM users WHERE email = ?1",
            &[email.into()],
        )
        .await
    }

    /// Inserts a user unless the email is taken; false when it was.
    pub async fn insert_user(
        &self,
        id: &str,
        email: &str,
        password_hash: &str,
        role: Role,
        now_ms: i64,
    ) -> Result<bool> {
        let changed = self
            .db
            .execute(
                "INSERT INTO users (id, email, password_hash, role, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (email) DO NOTHING",
                &[
                    id.into(),
                    email.into(),
                    password_hash.into(),
                    role_text(role).into(),
                    now_ms.into(),
                ],
            )
            .await?;
        Ok(changed == 1)
    }

    pub async fn set_password_hash(&self, user_id: &str, password_hash: &str) -> Result<()> {
        self.db
            .execute(
                "UPDATE users SET password_hash = ?2 WHERE id = ?1",
                &[user_id.into(), password_hash.into()],
            )
            .await
            .map(|_| ())
    }

    /// The production bootstrap admin follows its configured hash (so rotating the secret
    /// rotates the password) and is always an admin.
    pub async fn upsert_admin(
        &self,
        id: &str,
        email: &str,
        password_hash: &str,
        now_ms: i64,
    ) -> Result<()> {
        self.db
            .execute(
                "INSERT INTO users (id, email, password_hash, role, created_at) \
                 VALUES (?1, ?2, ?3, 'admin', ?4) \
                 ON CONFLICT (email) DO UPDATE SET password_hash = excluded.password_hash, role = 'admin' \
                 WHERE users.password_hash <> excluded.password_hash OR users.role <> 'admin'",
                &[id.into(), email.into(), password_hash.into(), now_ms.into()],
            )
            .await?;
        Ok(())
    }

    /// Failed sign-ins for `scope` at or after `since_ms`: how many, and the oldest one's time.
    /// Reserves one attempt row per scope, unless a scope already holds `limit` rows in the
    /// window (failures, and attempts still being checked); false when it does. One
    /// statement, so concurrent sign-ins cannot all pass a count taken before any is recorded.
    pub async fn reserve_attempt(
        &self,
        scopes: &[String],
        attempt: &str,
        limit: u32,
        now_ms: i64,
        window_start_ms: i64,
    ) -> Result<bool> {
        let (list, mut params) = scope_params(scopes);
        let first = params.len();
        let values = (1..=first)
            .map(|i| format!("(?{i})"))
            .collect::<Vec<_>>()
            .join(", ");
        params.extend([
            attempt.into(),
            now_ms.into(),
            window_start_ms.into(),
            limit.into(),
        ]);
        let (attempt, now, window, limit) = (first + 1, first + 2, first + 3, first + 4);
        let reserve = format!(
            "INSERT INTO login_failures (scope, at, attempt) \
             SELECT column1, ?{now}, ?{attempt} FROM (VALUES {values}) \
             WHERE NOT EXISTS (SELECT 1 FROM login_failures \
                 WHERE scope IN ({list}) AND at >= ?{window} \
                 GROUP BY scope HAVING COUNT(*) >= ?{limit})"
        );
        let changed = self
            .db
            .batch(vec![
                (
                    "DELETE FROM login_failures WHERE at < ?1",
                    vec![window_start_ms.into()],
                ),
                (reserve.as_str(), params),
            ])
            .await?;
        Ok(changed.get(1).copied().unwrap_or(0) > 0)
    }

    /// When the earliest failure in a scope at `limit` leaves the window: the time a refused
    /// sign-in may try again.
    pub async fn throttled_until(
        &self,
        scopes: &[String],
        limit: u32,
        window_start_ms: i64,
        window_ms: i64,
    ) -> Result<Option<i64>> {
        #[derive(Deserialize)]
        struct Frees {
            at: Option<i64>,
        }
        let (list, mut params) = scope_params(scopes);
        params.extend([window_ms.into(), window_start_ms.into(), limit.into()]);
        let n = scopes.len();
        let (window_ms, window, limit) = (n + 1, n + 2, n + 3);
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
        Ok(frees.and_then(|f| f.at))
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

    pub async fn insert_video(&self, video: &VideoRow) -> Result<()> {
        self.db
            .execute(
                &format!(
                    "INSERT INTO videos ({VIDEO_COLUMNS}) VALUES \
                     (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)"
                ),
                &[
                    video.id.as_str().into(),
                    video.owner.as_str().into(),
                    video.title.as_str().into(),
                    video.file_name.as_str().into(),
                    video.file_size.into(),
                    video.file_type.as_str().into(),
                    status_text(video.status).into(),
                    video.progress.map(u32::from).into(),
                    video.error.clone().into(),
                    video.source_key.as_str().into(),
                    video.upload_id.clone().into(),
                    video.output_key.clone().into(),
                    video.duration_ms.into(),
                    video.width.into(),
                    video.height.into(),
                    video.created_at.into(),
                    video.updated_at.into(),
                ],
            )
            .await
            .map(|_| ())
    }

    pub async fn video(&self, id: &str) -> Result<Option<VideoRow>> {
        self.one(
            &format!("SELECT {VIDEO_COLUMNS} FROM videos WHERE id = ?1"),
            &[id.into()],
        )
        .await
    }

    /// Newest first; `owner` None lists everyone's. Returns up to `limit` rows. Each filter
    /// is in the SQL only when given, so that the (owner, created_at, id) and (created_at, id)
    /// indexes serve every page, however deep.
    pub async fn list_videos(
        &self,
        owner: Option<&str>,
        after: Option<&ListCursor>,
        limit: u32,
    ) -> Result<Vec<VideoRow>> {
        let mut conditions = Vec::new();
        let mut params: Vec<SqlValue> = Vec::new();
        if let Some(owner) = owner {
            params.push(owner.into());
            conditions.push(format!("owner = ?{}", params.len()));
        }
        if let Some(cursor) = after {
            params.push(cursor.created_at.into());
            params.push(cursor.id.as_str().into());
            conditions.push(format!(
                "(created_at, id) < (?{}, ?{})",
                params.len() - 1,
                params.len()
            ));
        }
        params.push(limit.into());
        let filter = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        let sql = format!(
            "SELECT {VIDEO_COLUMNS} FROM videos {filter} ORDER BY created_at DESC, id DESC LIMIT ?{}",
            params.len()
        );
        rows(self.db.query(&sql, &params).await?)
    }

    /// uploading → processing; false if the video was not uploading any more.
    pub async fn mark_processing(&self, id: &str, now_ms: i64) -> Result<bool> {
        let changed = self
            .db
            .execute(
                "UPDATE videos SET status = 'processing', progress = 0, upload_id = NULL, \
                   updated_at = ?2 WHERE id = ?1 AND status = 'uploading'",
                &[id.into(), now_ms.into()],
            )
            .await?;
        Ok(changed == 1)
    }

    /// The oldest videos still `uploading` whose upload can no longer finish: single PUTs
    /// created before `single_before_ms`, multipart uploads before `multipart_before_ms`.
    pub async fn abandoned_uploads(
        &self,
        single_before_ms: i64,
        multipart_before_ms: i64,
        limit: u32,
    ) -> Result<Vec<VideoRow>> {
        rows(
            self.db
                .query(
                    &format!(
                        "SELECT {VIDEO_COLUMNS} FROM videos WHERE status = 'uploading' AND \
                         ((upload_id IS NULL AND created_at < ?1) \
                          OR (upload_id IS NOT NULL AND created_at < ?2)) \
                         ORDER BY created_at LIMIT ?3"
                    ),
                    &[
                        single_before_ms.into(),
                        multipart_before_ms.into(),
                        limit.into(),
                    ],
                )
                .await?,
        )
    }

    /// Deletes a video that is still `uploading`; false when it is gone or has moved on
    /// (a late `complete` wins over the sweep).
    pub async fn delete_uploading_video(&self, id: &str) -> Result<bool> {
        let changed = self
            .db
            .execute(
                "DELETE FROM videos WHERE id = ?1 AND status = 'uploading'",
                &[id.into()],
            )
            .await?;
        Ok(changed > 0)
    }

    /// Marks up to `limit` videos `failed` with `reason` when they have been `processing`
    /// with no word since `before_ms`; returns how many. A late `ready` still wins.
    pub async fn fail_stalled(
        &self,
        before_ms: i64,
        reason: &str,
        now_ms: i64,
        limit: u32,
    ) -> Result<u64> {
        self.db
            .execute(
                "UPDATE videos SET status = 'failed', progress = NULL, error = ?2, updated_at = ?3 \
                 WHERE id IN (SELECT id FROM videos WHERE status = 'processing' \
                     AND updated_at < ?1 ORDER BY updated_at LIMIT ?4)",
                &[before_ms.into(), reason.into(), now_ms.into(), limit.into()],
            )
            .await
    }

    pub async fn delete_video(&self, id: &str) -> Result<()> {
        self.db
            .execute("DELETE FROM videos WHERE id = ?1", &[id.into()])
            .await
            .map(|_| ())
    }

    /// Applies a job event once: the update and the event id commit together, and an event
    /// id seen before changes nothing. `ready` is final: nothing moves a video back from it.
    /// Returns whether the event was new.
    pub async fn apply_job_event(
        &self,
        event_id: &str,
        video_id: &str,
        update: &JobUpdate,
        now_ms: i64,
    ) -> Result<bool> {
        let (sql, mut params): (&'static str, Vec<SqlValue>) = match update {
            JobUpdate::Processing { progress } => (
                // Progress only moves forward: events can arrive out of order.
                "UPDATE videos SET status = 'processing', \
                   progress = MAX(COALESCE(progress, 0), COALESCE(?4, 0)), error = NULL, updated_at = ?3 \
                 WHERE id = ?1 AND status IN ('uploading', 'processing') \
                   AND NOT EXISTS (SELECT 1 FROM job_events WHERE event_id = ?2)",
                vec![progress.map(u32::from).into()],
            ),
            JobUpdate::Ready {
                output_key,
                duration_ms,
                width,
                height,
            } => (
                "UPDATE videos SET status = 'ready', progress = 100, error = NULL, output_key = ?4, \
                   duration_ms = ?5, width = ?6, height = ?7, upload_id = NULL, updated_at = ?3 \
                 WHERE id = ?1 AND status <> 'ready' \
                   AND NOT EXISTS (SELECT 1 FROM job_events WHERE event_id = ?2)",
                vec![
                    output_key.as_str().into(),
                    (*duration_ms).into(),
                    (*width).into(),
                    (*height).into(),
                ],
            ),
            JobUpdate::Failed { reason } => (
                "UPDATE videos SET status = 'failed', progress = NULL, error = ?4, updated_at = ?3 \
                 WHERE id = ?1 AND status <> 'ready' \
                   AND NOT EXISTS (SELECT 1 FROM job_events WHERE event_id = ?2)",
                vec![reason.as_str().into()],
            ),
        };
        let mut bound = vec![video_id.into(), event_id.into(), now_ms.into()];
        bound.append(&mut params);
        let changed = self
            .db
            .batch(vec![
                (sql, bound),
                (
                    "INSERT INTO job_events (event_id, video_id, received_at) VALUES (?1, ?2, ?3) \
                     ON CONFLICT (event_id) DO NOTHING",
                    vec![event_id.into(), video_id.into(), now_ms.into()],
                ),
                // Ids are kept long enough to outlast the origin's redelivery; older replays
                // fail the signature's time window anyway.
                (
                    "DELETE FROM job_events WHERE received_at < ?1",
                    vec![(now_ms - JOB_EVENT_RETENTION_MS).into()],
                ),
            ])
            .await?;
        Ok(changed.get(1) == Some(&1))
    }
}

pub fn role_text(role: Role) -> &'static str {
    match role {
        Role::Admin => "admin",
        Role::Member => "member",
    }
}

pub fn status_text(status: VideoStatus) -> &'static str {
    match status {
        VideoStatus::Uploading => "uploading",
        VideoStatus::Processing => "processing",
        VideoStatus::Ready => "ready",
        VideoStatus::Failed => "failed",
    }
}
