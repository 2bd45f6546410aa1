//! Parts of a multipart upload: presigned part URLs, and the parts S3 already holds.

use super::open_upload;
use crate::app::App;
use crate::catalog::VideoRow;
use crate::error::{Error, ErrorCode, Result};
use crate::ports::Platform;
use crate::request::Ctx;
use crate::respond::{self, Reply};
use crate::storage::{Refusal, storage_error};
use http::StatusCode;
use model::Timestamp;
use serde::{Deserialize, Serialize};
use signer::s3::S3Request;
use signer::s3::xml::Part;
use std::collections::HashSet;

const MAX_PARTS_PER_CALL: usize = 100;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PartNumbers {
    part_numbers: Vec<u32>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PartUrl {
    part_number: u16,
    url: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SignedParts {
    parts: Vec<PartUrl>,
    expires_at: Timestamp,
}

#[derive(Serialize)]
struct StoredParts {
    parts: Vec<Part>,
}

pub fn sign_parts<P: Platform>(app: &App<P>, ctx: &Ctx<'_>, video: &VideoRow) -> Result<Reply> {
    let input: PartNumbers = ctx.json()?;
    let (upload_id, plan) = open_upload(video)?;
    if input.part_numbers.is_empty() || input.part_numbers.len() > MAX_PARTS_PER_CALL {
        return Err(Error::invalid(format!(
            "partNumbers must list 1 to {MAX_PARTS_PER_CALL} part numbers"
        )));
    }
    let mut parts = Vec::with_capacity(input.part_numbers.len());
    let mut seen = HashSet::new();
    let mut expires_at = ctx.now;
    for &number in &input.part_numbers {
        let part_number = u16::try_from(number)
            .ok()
            .filter(|n| (1..=plan.part_count()).contains(n))
            .ok_or_else(|| {
                Error::invalid(format!(
                    "part number {number} is outside 1..={}",
                    plan.part_count()
                ))
            })?;
        if !seen.insert(part_number) {
            return Err(Error::invalid(format!(
                "part number {number} is listed twice"
            )));
        }
        let presigned = app.config.s3.presign(
            &S3Request::UploadPart {
                bucket: &app.config.incoming_bucket,
                key: &video.source_key,
                upload_id,
                part_number,
                content_length: plan.part_len(part_number)?,
            },
            ctx.now,
            app.config.upload_url_ttl,
        )?;
        expires_at = presigned.expires_at;
        parts.push(PartUrl {
            part_number,
            url: presigned.url,
        });
    }
    Ok(respond::success(
        StatusCode::OK,
        &SignedParts { parts, expires_at },
    ))
}

/// NoSuchUpload means the upload was completed, aborted or expired.
pub fn upload_gone(refusal: &Refusal) -> Option<Error> {
    (refusal.code == "NoSuchUpload" || refusal.status == 404).then(|| {
        Error::new(
            ErrorCode::UploadNotFound,
            "the multipart upload no longer exists (completed, aborted or expired)",
        )
    })
}

/// Every part S3 holds for the video's open upload.
pub async fn stored_parts<P: Platform>(
    app: &App<P>,
    now: Timestamp,
    video: &VideoRow,
    upload_id: &str,
) -> Result<Vec<Part>> {
    app.storage(now)
        .list_parts(&app.config.incoming_bucket, &video.source_key, upload_id)
        .await?
        .map_err(|refusal| {
            upload_gone(&refusal).unwrap_or_else(|| storage_error("ListParts", &refusal))
        })
}

pub async fn list_parts<P: Platform>(
    app: &App<P>,
    ctx: &Ctx<'_>,
    video: &VideoRow,
) -> Result<Reply> {
    let (upload_id, _) = open_upload(video)?;
    let parts = stored_parts(app, ctx.now, video, upload_id).await?;
    Ok(respond::success(StatusCode::OK, &StoredParts { parts }))
}
