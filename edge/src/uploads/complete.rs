//! `POST /api/videos/{id}/complete`: the upload is whole; the video starts processing.

use super::parts::{stored_parts, upload_gone};
use crate::api::VideoBody;
use crate::app::App;
use crate::catalog::VideoRow;
use crate::error::{Error, ErrorCode, Result};
use crate::library::owned_video;
use crate::ports::Platform;
use crate::request::{Caller, Ctx};
use crate::respond::{self, Reply};
use crate::storage::storage_error;
use http::StatusCode;
use model::{VideoId, VideoStatus};
use serde::Deserialize;
use signer::s3::xml::CompletedPart;
use std::collections::HashMap;

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct CompleteRequest {
    #[serde(default)]
    parts: Vec<ListedPart>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListedPart {
    part_number: u32,
    etag: String,
}

fn unquoted(etag: &str) -> &str {
    etag.trim().trim_matches('"')
}

fn size_mismatch(stored: u64, declared: u64) -> Error {
    Error::new(
        ErrorCode::SizeMismatch,
        format!("{stored} bytes were uploaded but fileSize says {declared}"),
    )
}

/// The video moves to processing in the statement that reads it (one round trip), then the
/// upload is checked and completed at S3; a completion that does not happen moves it back,
/// so the upload stays resumable.
pub async fn complete<P: Platform>(
    app: &App<P>,
    ctx: &Ctx<'_>,
    id: &VideoId,
    caller: &Caller,
) -> Result<Reply> {
    // Read first: a malformed body is refused whatever the video's state (a single PUT, a
    // repeated complete), and moves nothing to processing.
    let input: CompleteRequest = ctx.json_or_default()?;
    let catalog = app.catalog();
    let Some(video) = catalog.start_processing(id, &caller.id, ctx.now).await? else {
        // Not the caller's upload, or not uploading: only a read tells which.
        let video = owned_video(app, id, caller).await?;
        return match video.status {
            // A repeated complete (say, after a lost answer) sees the same result.
            VideoStatus::Processing | VideoStatus::Ready => {
                Ok(respond::success(StatusCode::OK, &VideoBody::of(&video)))
            }
            VideoStatus::Failed => Err(Error::new(
                ErrorCode::InvalidState,
                "the video has failed; upload it again",
            )),
            VideoStatus::Uploading => Err(Error::new(
                ErrorCode::InvalidState,
                "the upload changed; try again",
            )),
        };
    };
    if let Err(error) = complete_upload(app, ctx, &video, &input).await {
        catalog.reopen_upload(&video.id, ctx.now).await?;
        return Err(error);
    }
    Ok(respond::success(StatusCode::OK, &VideoBody::of(&video)))
}

/// Makes the upload one whole object of the declared size at S3.
async fn complete_upload<P: Platform>(
    app: &App<P>,
    ctx: &Ctx<'_>,
    video: &VideoRow,
    input: &CompleteRequest,
) -> Result<()> {
    let bucket = &app.config.incoming_bucket;
    let storage = app.storage(ctx.now);
    if let Some(upload_id) = video.upload_id.as_deref() {
        if let Err(error) = complete_parts(app, ctx, video, upload_id, input).await {
            // A completion whose answer was lost, or a concurrent one, has already made the
            // whole object: then this one succeeds too.
            let gone = error.has_code(ErrorCode::UploadNotFound);
            if !(gone
                && storage.object_size(bucket, &video.source_key).await? == Some(video.file_size))
            {
                return Err(error);
            }
        }
        return Ok(());
    }
    match storage.object_size(bucket, &video.source_key).await? {
        None => Err(Error::new(
            ErrorCode::UploadIncomplete,
            "nothing has been uploaded to the upload URL yet",
        )),
        Some(size) if size != video.file_size => {
            storage.delete_object(bucket, &video.source_key).await?;
            Err(size_mismatch(size, video.file_size))
        }
        Some(_) => Ok(()),
    }
}

/// Checks the listed parts against what S3 holds (etags, and the sizes adding up to the
/// declared size, so that a short upload stays open and resumable), then completes.
async fn complete_parts<P: Platform>(
    app: &App<P>,
    ctx: &Ctx<'_>,
    video: &VideoRow,
    upload_id: &str,
    input: &CompleteRequest,
) -> Result<()> {
    if input.parts.is_empty() {
        return Err(Error::invalid(
            "parts must list every uploaded part with its etag",
        ));
    }
    let invalid_parts = |message: String| Error::new(ErrorCode::InvalidParts, message);
    let stored: HashMap<u16, (String, u64)> = stored_parts(app, ctx.now, video, upload_id)
        .await?
        .into_iter()
        .map(|p| (p.part_number, (p.etag, p.size)))
        .collect();
    let mut parts = Vec::with_capacity(input.parts.len());
    let mut total: u64 = 0;
    for part in &input.parts {
        let number = u16::try_from(part.part_number)
            .map_err(|_| invalid_parts(format!("part {} does not exist", part.part_number)))?;
        let (etag, size) = stored
            .get(&number)
            .ok_or_else(|| invalid_parts(format!("part {number} has not been uploaded")))?;
        if unquoted(etag) != unquoted(&part.etag) {
            return Err(invalid_parts(format!(
                "part {number}'s etag does not match the stored part"
            )));
        }
        total += size;
        parts.push(CompletedPart {
            part_number: number,
            etag: etag.clone(),
        });
    }
    parts.sort_by_key(|p| p.part_number);
    if parts
        .windows(2)
        .any(|w| w[0].part_number == w[1].part_number)
    {
        return Err(invalid_parts("a part is listed twice".into()));
    }
    // Checked before completing, so a short upload stays open and resumable.
    if total != video.file_size {
        return Err(size_mismatch(total, video.file_size));
    }
    let refusal = match app
        .storage(ctx.now)
        .complete_multipart_upload(
            &app.config.incoming_bucket,
            &video.source_key,
            upload_id,
            &parts,
        )
        .await?
    {
        Ok(()) => return Ok(()),
        Err(refusal) => refusal,
    };
    Err(upload_gone(&refusal).unwrap_or_else(|| {
        if refusal.status == 400 {
            invalid_parts(format!("S3 refused the parts: {}", refusal.code))
        } else {
            storage_error("CompleteMultipartUpload", &refusal)
        }
    }))
}
