//! Response bodies several handlers share, as `Serialize` types: the JSON the API promises
//! (`edge/openapi.yaml`'s schemas), field for field.

use crate::catalog::{UserRow, VideoRow};
use model::{Email, Role, Timestamp, UserId};
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
