//! Videos: the rows, the library's pages, and the lifecycle's state changes (each guarded by
//! the state it moves from, so concurrent requests cannot skip a step).

use super::Catalog;
use crate::error::Result;
use crate::ports::{Database, SqlValue};
use model::{FileName, FileType, ObjectKey, Timestamp, Title, UserId, VideoId, VideoStatus};
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

const VIDEO_COLUMNS: &str = "id, owner, title, file_name, file_size, file_type, status, progress, \
    error, source_key, upload_id, output_key, duration_ms, width, height, \
    created_at, updated_at";

impl<D: Database> Catalog<'_, D> {
    pub async fn insert_video(&self, video: &VideoRow) -> Result<()> {
        self.db
            .execute(
                &format!(
                    "INSERT INTO videos ({VIDEO_COLUMNS}) VALUES \
                     (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)"
                ),
                &[
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
                    video.created_at.into(),
                    video.updated_at.into(),
                ],
            )
            .await
            .map(|_| ())
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

    /// uploading → processing; false if the video was not uploading any more.
    pub async fn mark_processing(&self, id: &VideoId, now: Timestamp) -> Result<bool> {
        let changed = self
            .db
            .execute(
                "UPDATE videos SET status = 'processing', progress = 0, upload_id = NULL, \
                   updated_at = ?2 WHERE id = ?1 AND status = 'uploading'",
                &[id.into(), now.into()],
            )
            .await?;
        Ok(changed == 1)
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

    pub async fn delete_video(&self, id: &VideoId) -> Result<()> {
        self.db
            .execute("DELETE FROM videos WHERE id = ?1", &[id.into()])
            .await
            .map(|_| ())
    }
}
