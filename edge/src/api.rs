//! Response bodies several handlers share, as `Serialize` types: the JSON the API promises
//! (`edge/openapi.yaml`'s schemas), field for field.

use crate::catalog::{UserRow, VideoRow};
use model::{Email, LadderStatus, Role, Timestamp, UserId, VideoStatus};
use serde::Serialize;

/// The `Video` of the API contract.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VideoView<'a> {
    pub id: &'a model::VideoId,
    pub title: &'a model::Title,
    pub file_name: &'a model::FileName,
    pub file_size: u64,
    pub file_type: &'a model::FileType,
    pub status: model::VideoStatus,
    pub progress: Option<u8>,
    pub error: Option<&'a str>,
    pub owner: &'a UserId,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub duration_ms: Option<u64>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub streams: StreamsView<'a>,
    /// A signed, expiring URL of the poster, once there is one.
    pub poster_url: Option<String>,
}

/// Which ways a video plays, and how far its adaptive ladder is: a video is `ready` (its MP4
/// plays) while the ladder may still be `processing`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamsView<'a> {
    pub mp4: bool,
    pub hls: bool,
    pub ladder: LadderStatus,
    pub ladder_progress: Option<u8>,
    pub ladder_error: Option<&'a str>,
}

impl<'a> VideoView<'a> {
    /// The video, its poster signed with `poster_url`.
    pub fn with_poster(row: &'a VideoRow, poster_url: Option<String>) -> Self {
        VideoView {
            poster_url,
            ..row.into()
        }
    }
}

impl<'a> From<&'a VideoRow> for VideoView<'a> {
    fn from(row: &'a VideoRow) -> Self {
        VideoView {
            id: &row.id,
            title: &row.title,
            file_name: &row.file_name,
            file_size: row.file_size,
            file_type: &row.file_type,
            status: row.status,
            progress: row.progress,
            error: row.error.as_deref(),
            owner: &row.owner,
            created_at: row.created_at,
            updated_at: row.updated_at,
            duration_ms: row.duration_ms,
            width: row.width,
            height: row.height,
            streams: StreamsView {
                mp4: row.status == VideoStatus::Ready && row.output_key.is_some(),
                hls: row.status == VideoStatus::Ready && row.hls_key.is_some(),
                ladder: LadderStatus::of(row.status, row.streams_state),
                ladder_progress: row.streams_progress,
                ladder_error: row.streams_error.as_deref(),
            },
            poster_url: None,
        }
    }
}

/// `{video}`: one video.
#[derive(Serialize)]
pub struct VideoBody<'a> {
    pub video: VideoView<'a>,
}

impl<'a> VideoBody<'a> {
    pub fn of(row: &'a VideoRow) -> Self {
        VideoBody { video: row.into() }
    }
}

/// The `User` of the API contract.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserView<'a> {
    pub id: &'a UserId,
    pub email: &'a Email,
    pub role: Role,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<Timestamp>,
}

impl<'a> From<&'a UserRow> for UserView<'a> {
    fn from(row: &'a UserRow) -> Self {
        UserView {
            id: &row.id,
            email: &row.email,
            role: row.role,
            created_at: Some(row.created_at),
        }
    }
}

/// `{}`: done, nothing more to say.
#[derive(Serialize)]
pub struct Done {}
