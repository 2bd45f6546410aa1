//! Videos: the rows, the library's pages, and the lifecycle's state changes (each guarded by
//! the state it moves from, so concurrent requests cannot skip a step).

use super::Catalog;
use crate::config::Quota;
use crate::error::Result;
use crate::ports::{Database, SqlValue};
use model::{
    FileName, FileType, LadderStatus, ObjectKey, Timestamp, Title, UserId, VideoId, VideoStatus,
};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct VideoRow {
    pub id: VideoId,
    pub owner: UserId,
    pub title: Title,
    pub file_name: FileName,
    pub file_size: u64,
    pub file_type: FileType,
    pub status: VideoStatus,
    pub progress: Option<u8>,
    pub error: Option<String>,
    pub source_key: ObjectKey,
    /// Set while a multipart upload is open; the part plan is a pure function of the size.
    pub upload_id: Option<String>,
    pub output_key: Option<ObjectKey>,
    pub duration_ms: Option<u64>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// The ladder's master playlist, poster and storyboard, once made.
    pub hls_key: Option<ObjectKey>,
    pub poster_key: Option<ObjectKey>,
    pub storyboard_key: Option<ObjectKey>,
    /// What the origin last said of the ladder: processing, ready or failed.
    pub streams_state: Option<LadderStatus>,
    pub streams_progress: Option<u8>,
    pub streams_error: Option<String>,
    #[serde(with = "model::time::unix_ms")]
    pub created_at: Timestamp,
    #[serde(with = "model::time::unix_ms")]
    pub updated_at: Timestamp,
}

/// Where a page of the video list starts: after this (created_at, id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListCursor {
    pub created_at: Timestamp,
    pub id: VideoId,
}

pub(super) const VIDEO_COLUMNS: &str = "id, owner, title, file_name, file_size, file_type, status, progress, \
    error, source_key, upload_id, output_key, duration_ms, width, height, \
    hls_key, poster_key, storyboard_key, streams_state, streams_progress, streams_error, \
    created_at, updated_at";

impl<D: Database> Catalog<'_, D> {
    /// Inserts a new video for its owner unless that would take the owner past a quota (its
    /// overrides, else `defaults`) or the owner is disabled or gone; false then. One
    /// statement: concurrent uploads cannot all squeeze under the same limit.
    pub async fn insert_video(&self, video: &VideoRow, defaults: Quota) -> Result<bool> {
        let values = video_values(video);
        let n = values.len();
        let row = (1..=n)
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let (bytes, videos, uploads) = (n + 1, n + 2, n + 3);
        let mut params = values;
        params.extend([
            defaults.bytes.into(),
            defaults.videos.into(),
            defaults.uploads.into(),
        ]);
        let changed = self
            .db
            .execute(
                &format!(
                    "INSERT INTO videos ({VIDEO_COLUMNS}) SELECT {row} \
                     FROM users WHERE users.id = ?2 AND users.disabled_at IS NULL \
                       AND (SELECT COALESCE(SUM(file_size), 0) FROM videos WHERE owner = ?2) + ?5 \
                           <= COALESCE(users.quota_bytes, ?{bytes}) \
                       AND (SELECT COUNT(*) FROM videos WHERE owner = ?2) \
                           < COALESCE(users.quota_videos, ?{videos}) \
                       AND (SELECT COUNT(*) FROM videos WHERE owner = ?2 AND status = 'uploading') \
                           < COALESCE(users.quota_uploads, ?{uploads})"
                ),
                &params,
            )
            .await?;
        Ok(changed == 1)
    }

    pub async fn video(&self, id: &VideoId) -> Result<Option<VideoRow>> {
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
        owner: Option<&UserId>,
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
            params.push((&cursor.id).into());
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
        self.all(&sql, &params).await
    }

    /// The owner's video, moved from uploading to processing in the same statement that
    /// reads it: the row as it is now (its `upload_id` kept for the completion that
    /// follows), or None when `owner` has no such video still uploading. A completion that
    /// then fails goes back with [`Self::reopen_upload`].
    pub async fn start_processing(
        &self,
        id: &VideoId,
        owner: &UserId,
        now: Timestamp,
    ) -> Result<Option<VideoRow>> {
        self.one(
            &format!(
                "UPDATE videos SET status = 'processing', progress = 0, updated_at = ?3 \
                 WHERE id = ?1 AND owner = ?2 AND status = 'uploading' RETURNING {VIDEO_COLUMNS}"
            ),
            &[id.into(), owner.into(), now.into()],
        )
        .await
    }

    /// processing → uploading again: the completion that [`Self::start_processing`] began
    /// did not happen (parts missing, a short upload), so the upload stays resumable.
    pub async fn reopen_upload(&self, id: &VideoId, now: Timestamp) -> Result<()> {
        self.db
            .execute(
                "UPDATE videos SET status = 'uploading', progress = NULL, updated_at = ?2 \
                 WHERE id = ?1 AND status = 'processing'",
                &[id.into(), now.into()],
            )
            .await
            .map(|_| ())
    }

    /// The oldest videos still `uploading` whose upload can no longer finish: single PUTs
    /// created before `single_before`, multipart uploads before `multipart_before`.
    pub async fn abandoned_uploads(
        &self,
        single_before: Timestamp,
        multipart_before: Timestamp,
        limit: u32,
    ) -> Result<Vec<VideoRow>> {
        self.all(
            &format!(
                "SELECT {VIDEO_COLUMNS} FROM videos WHERE status = 'uploading' AND \
                 ((upload_id IS NULL AND created_at < ?1) \
                  OR (upload_id IS NOT NULL AND created_at < ?2)) \
                 ORDER BY created_at LIMIT ?3"
            ),
            &[single_before.into(), multipart_before.into(), limit.into()],
        )
        .await
    }

    /// Deletes a video that is still `uploading`; false when it is gone or has moved on
    /// (a late `complete` wins over the sweep).
    pub async fn delete_uploading_video(&self, id: &VideoId) -> Result<bool> {
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
    /// with no word since `before`; returns how many. A late `ready` still wins.
    pub async fn fail_stalled(
        &self,
        before: Timestamp,
        reason: &str,
        now: Timestamp,
        limit: u32,
    ) -> Result<u64> {
        self.db
            .execute(
                "UPDATE videos SET status = 'failed', progress = NULL, error = ?2, updated_at = ?3 \
                 WHERE id IN (SELECT id FROM videos WHERE status = 'processing' \
                     AND updated_at < ?1 ORDER BY updated_at LIMIT ?4)",
                &[before.into(), reason.into(), now.into(), limit.into()],
            )
            .await
    }

    /// Removes the video's row, when `caller` may (its owner, or any admin when
    /// `admins_too`) and it is in `status` (any when None), and returns it: its objects are
    /// removed next, and if that fails the row comes back with [`Self::restore_video`].
    /// None when there is no such row for this caller.
    pub async fn take_video(
        &self,
        id: &VideoId,
        caller: &UserId,
        admins_too: bool,
        status: Option<VideoStatus>,
    ) -> Result<Option<VideoRow>> {
        self.one(
            &format!(
                "DELETE FROM videos WHERE id = ?1 \
                   AND (owner = ?2 OR (?3 = 1 AND EXISTS \
                     (SELECT 1 FROM users WHERE id = ?2 AND role = 'admin'))) \
                   AND (?4 IS NULL OR status = ?4) \
                 RETURNING {VIDEO_COLUMNS}"
            ),
            &[
                id.into(),
                caller.into(),
                u32::from(admins_too).into(),
                status.into(),
            ],
        )
        .await
    }

    /// Puts back a row [`Self::take_video`] removed, as it was.
    pub async fn restore_video(&self, video: &VideoRow) -> Result<()> {
        let placeholders = (1..=VIDEO_COLUMNS.split(',').count())
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", ");
        self.db
            .execute(
                &format!("INSERT INTO videos ({VIDEO_COLUMNS}) VALUES ({placeholders}) ON CONFLICT (id) DO NOTHING"),
                &video_values(video),
            )
            .await
            .map(|_| ())
    }
}

/// Every column of a row, in [`VIDEO_COLUMNS`] order.
fn video_values(video: &VideoRow) -> Vec<SqlValue> {
    vec![
        (&video.id).into(),
        (&video.owner).into(),
        video.title.as_str().into(),
        video.file_name.as_str().into(),
        video.file_size.into(),
        video.file_type.as_str().into(),
        video.status.into(),
        video.progress.map(u32::from).into(),
        video.error.clone().into(),
        (&video.source_key).into(),
        video.upload_id.clone().into(),
        video.output_key.as_ref().into(),
        video.duration_ms.into(),
        video.width.into(),
        video.height.into(),
        video.hls_key.as_ref().into(),
        video.poster_key.as_ref().into(),
        video.storyboard_key.as_ref().into(),
        video.streams_state.map(|s| s.as_str()).into(),
        video.streams_progress.map(u32::from).into(),
        video.streams_error.clone().into(),
        video.created_at.into(),
        video.updated_at.into(),
    ]
}
