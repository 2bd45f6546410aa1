//! Uploads: create a video and its presigned upload (one PUT, or multipart), sign and list
//! parts, complete, abort. Video bytes never pass the edge.

mod complete;
mod parts;

pub use complete::complete;
pub use parts::{list_parts, sign_parts};

use crate::api::{Done, VideoView};
use crate::app::App;
use crate::catalog::VideoRow;
use crate::error::{Error, ErrorCode, Result};
use crate::library::owned_video;
use crate::ports::{Limiter, Platform};
use crate::request::{Caller, Ctx};
use crate::respond::{self, Reply};
use http::StatusCode;
use model::{
    BucketName, FileName, FileType, ObjectKey, Timestamp, Title, UserId, VideoContainer, VideoId,
    VideoStatus,
};
use serde::{Deserialize, Serialize};
use signer::multipart::MultipartPlan;
use signer::s3::S3Request;
use std::collections::BTreeMap;
use std::time::Duration;

/// How long an unfinished multipart upload stays resumable (the buckets' lifecycle rule
/// aborts incomplete uploads after 7 days).
pub const MULTIPART_UPLOAD_LIFETIME: Duration = Duration::from_secs(7 * 24 * 3600);

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewVideo {
    file_name: String,
    file_size: u64,
    file_type: String,
    title: Option<String>,
}

/// Where and how the browser sends the bytes.
#[derive(Serialize)]
#[serde(tag = "method")]
enum Upload<'a> {
    #[serde(rename = "PUT", rename_all = "camelCase")]
    Single {
        upload_url: String,
        /// Headers the client must send as given (the signature binds them).
        headers: BTreeMap<String, String>,
        key: &'a ObjectKey,
        bucket: &'a BucketName,
        expires_at: Timestamp,
    },
    #[serde(rename = "multipart", rename_all = "camelCase")]
    Multipart {
        upload_id: String,
        key: &'a ObjectKey,
        bucket: &'a BucketName,
        part_size: u64,
        part_count: u16,
        expires_at: Timestamp,
    },
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Created<'a> {
    video: VideoView<'a>,
    upload: Upload<'a>,
    key: &'a ObjectKey,
    bucket: &'a BucketName,
    #[serde(skip_serializing_if = "Option::is_none")]
    upload_url: Option<String>,
}

/// The validated request: text people typed is checked by the model's rules.
struct Validated {
    file_name: FileName,
    file_type: FileType,
    title: Title,
}

fn validate(input: &NewVideo, max_upload_bytes: u64) -> Result<Validated> {
    let file_name = FileName::parse(&input.file_name).map_err(|e| match e {
        model::Error::UnsupportedContainer(_) => Error::new(
            ErrorCode::UnsupportedType,
            format!(
                "fileName must end in a video container extension ({})",
                VideoContainer::extensions()
            ),
        ),
        other => Error::invalid(other.to_string()),
    })?;
    let file_type = FileType::parse(&input.file_type).map_err(|_| {
        Error::new(
            ErrorCode::UnsupportedType,
            "fileType must be video/* or application/octet-stream",
        )
    })?;
    if input.file_size == 0 {
        return Err(Error::invalid("fileSize must be at least 1 byte"));
    }
    if input.file_size > max_upload_bytes {
        return Err(Error::new(
            ErrorCode::FileTooLarge,
            format!("fileSize is above the {max_upload_bytes} byte limit"),
        ));
    }
    let title = match input.title.as_deref().map(str::trim) {
        Some(title) if !title.is_empty() => {
            Title::parse(title).map_err(|e| Error::invalid(e.to_string()))?
        }
        _ => Title::from_file_name(&file_name),
    };
    Ok(Validated {
        file_name,
        file_type,
        title,
    })
}

pub async fn create<P: Platform>(app: &App<P>, ctx: &Ctx<'_>, caller: &Caller) -> Result<Reply> {
    let input: NewVideo = ctx.json()?;
    let Validated {
        file_name,
        file_type,
        title,
    } = validate(&input, app.config.max_upload_bytes)?;
    if !app
        .platform
        .within_limit(Limiter::Uploads, caller.id.as_str())
        .await?
    {
        return Err(Error::RateLimited {
            what: "new videos",
            retry_after_secs: Limiter::Uploads.period().as_secs(),
        });
    }
    let id = VideoId::new(ctx.now, app.random_bytes());
    let key = ObjectKey::source(&id, file_name.container());
    let bucket = &app.config.incoming_bucket;
    let mut video = VideoRow {
        id,
        owner: caller.id.clone(),
        title,
        file_name,
        file_size: input.file_size,
        file_type,
        status: VideoStatus::Uploading,
        progress: None,
        error: None,
        source_key: key.clone(),
        upload_id: None,
        output_key: None,
        duration_ms: None,
        width: None,
        height: None,
        hls_key: None,
        poster_key: None,
        storyboard_key: None,
        streams_state: None,
        streams_progress: None,
        streams_error: None,
        created_at: ctx.now,
        updated_at: ctx.now,
    };

    let presigned = if input.file_size <= app.config.single_put_max_bytes {
        Some(app.config.s3.presign(
            &S3Request::PutObject {
                bucket,
                key: &key,
                content_length: input.file_size,
                content_type: video.file_type.as_str(),
                create_only: true,
            },
            ctx.now,
            app.config.upload_url_ttl,
        )?)
    } else {
        let upload_id = app
            .storage(ctx.now)
            .create_multipart_upload(bucket, &key, &video.file_type)
            .await?;
        video.upload_id = Some(upload_id);
        None
    };

    let refusal = match app.catalog().insert_video(&video, app.config.quota).await {
        Ok(true) => None,
        Ok(false) => Some(quota_refusal(app, &caller.id, input.file_size).await),
        Err(error) => Some(error),
    };
    if let Some(error) = refusal {
        // Leave nothing behind at S3 for a video the catalog does not know.
        if let Some(upload_id) = &video.upload_id {
            let _ = app
                .storage(ctx.now)
                .abort_multipart_upload(bucket, &key, upload_id)
                .await;
        }
        return Err(error);
    }

    let upload = match &presigned {
        Some(presigned) => Upload::Single {
            upload_url: presigned.url.clone(),
            // Content-Length is bound by the signature but set by the client's HTTP stack
            // (browsers refuse to set it): list only what the client must add itself.
            headers: presigned
                .headers
                .iter()
                .filter(|(name, _)| !name.eq_ignore_ascii_case("content-length"))
                .map(|(name, value)| (canonical_header_name(name), value.clone()))
                .collect(),
            key: &key,
            bucket,
            expires_at: presigned.expires_at,
        },
        None => {
            let (upload_id, plan) = open_upload(&video)?;
            Upload::Multipart {
                upload_id: upload_id.to_string(),
                key: &key,
                bucket,
                part_size: plan.part_size(),
                part_count: plan.part_count(),
                expires_at: ctx.now + MULTIPART_UPLOAD_LIFETIME,
            }
        }
    };
    Ok(respond::success(
        StatusCode::CREATED,
        &Created {
            video: VideoView::from(&video),
            upload,
            key: &key,
            bucket,
            upload_url: presigned.map(|p| p.url),
        },
    ))
}

/// Why the catalog refused a new video of `size` bytes: which quota it would pass, with the
/// numbers, or that the account is disabled or gone.
async fn quota_refusal<P: Platform>(app: &App<P>, owner: &UserId, size: u64) -> Error {
    let found = match app.catalog().user(owner).await {
        Ok(Some(found)) if found.user.disabled_at.is_none() => found,
        Ok(_) => {
            return Error::new(
                ErrorCode::AccountDisabled,
                "this account is disabled or was deleted",
            );
        }
        Err(error) => return error,
    };
    let quota = found.user.quota.over(app.config.quota);
    let used = found.usage;
    let message = if used.videos >= quota.videos {
        format!(
            "you have {} of your {} videos; delete some first",
            used.videos, quota.videos
        )
    } else if used.uploads >= quota.uploads {
        format!(
            "{} of your {} uploads are still in progress; finish or cancel some first",
            used.uploads, quota.uploads
        )
    } else {
        format!(
            "this {size} byte file would take you past your storage quota: {} of {} bytes used",
            used.bytes, quota.bytes
        )
    };
    Error::new(ErrorCode::QuotaExceeded, message)
}

/// `content-type` → `Content-Type`.
fn canonical_header_name(name: &str) -> String {
    name.split('-')
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + &chars.as_str().to_ascii_lowercase()
            })
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// The multipart upload of a video that is still uploading, and its part plan.
fn open_upload(video: &VideoRow) -> Result<(&str, MultipartPlan)> {
    if video.status != VideoStatus::Uploading {
        return Err(no_longer_uploading());
    }
    let upload_id = video.upload_id.as_deref().ok_or_else(|| {
        Error::new(
            ErrorCode::NotMultipart,
            "this video is uploaded with a single PUT",
        )
    })?;
    // The plan is a pure function of the size: recomputing it gives the client's.
    let plan = MultipartPlan::new(video.file_size, u64::MAX)?;
    Ok((upload_id, plan))
}

fn no_longer_uploading() -> Error {
    Error::new(ErrorCode::InvalidState, "the video is no longer uploading")
}

/// `DELETE /api/videos/{id}/upload`: the row goes in the statement that checks it may (the
/// uploader's, still uploading), then the upload at S3; the row comes back if that fails.
pub async fn abort<P: Platform>(
    app: &App<P>,
    ctx: &Ctx<'_>,
    id: &VideoId,
    caller: &Caller,
) -> Result<Reply> {
    let catalog = app.catalog();
    let Some(video) = catalog
        .take_video(id, &caller.id, false, Some(VideoStatus::Uploading))
        .await?
    else {
        // Only a read tells why not.
        let video = owned_video(app, id, caller).await?;
        return Err(if video.status == VideoStatus::Uploading {
            Error::new(ErrorCode::InvalidState, "the upload changed; try again")
        } else {
            no_longer_uploading()
        });
    };
    let bucket = &app.config.incoming_bucket;
    let storage = app.storage(ctx.now);
    let removed = match video.upload_id.as_deref() {
        Some(upload_id) => {
            storage
                .abort_multipart_upload(bucket, &video.source_key, upload_id)
                .await
        }
        None => storage.delete_object(bucket, &video.source_key).await,
    };
    if let Err(error) = removed {
        catalog.restore_video(&video).await?;
        return Err(error);
    }
    Ok(respond::success(StatusCode::OK, &Done {}))
}
