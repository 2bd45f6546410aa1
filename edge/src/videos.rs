//! Videos: create (presigned single PUT or multipart), parts, complete, abort, list, get,
//! delete, playback URLs, and the edge playback stream.

use crate::app::{App, Caller, Ctx, upstream};
use crate::catalog::{ListCursor, VideoRow, VideoStatus, status_text};
use crate::config::PlaybackMode;
use crate::error::{Error, Result};
use crate::ports::Platform;
use crate::respond::{self, Reply};
use crate::storage::Refusal;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use signer::ids::{ObjectKey, VideoContainer, VideoId, accepts_file_type};
use signer::multipart::MultipartPlan;
use signer::playback::edge_token;
use signer::s3::S3Request;
use signer::s3::xml::CompletedPart;
use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const MAX_FILE_NAME_CHARS: usize = 255;
const MAX_TITLE_CHARS: usize = 200;
const DEFAULT_PAGE: u32 = 20;
const MAX_PAGE: u32 = 100;
const MAX_PARTS_PER_CALL: usize = 100;
/// How long an unfinished multipart upload stays resumable (the buckets' lifecycle rule
/// aborts incomplete uploads after 7 days).
pub const MULTIPART_UPLOAD_LIFETIME: Duration = Duration::from_secs(7 * 24 * 3600);
/// Response headers worth passing through from S3 to a player.
pub const UPSTREAM_HEADERS: [http::HeaderName; 6] = [
    http::header::CONTENT_TYPE,
    http::header::CONTENT_LENGTH,
    http::header::CONTENT_RANGE,
    http::header::ACCEPT_RANGES,
    http::header::ETAG,
    http::header::LAST_MODIFIED,
];

/// RFC 3339 in UTC with milliseconds, for the API's times.
pub fn rfc3339(unix_ms: i64) -> String {
    let nanos = i128::from(unix_ms) * 1_000_000;
    time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// The `Video` object of the API contract.
pub fn video_json(video: &VideoRow) -> Value {
    json!({
        "id": video.id,
        "title": video.title,
        "fileName": video.file_name,
        "fileSize": video.file_size,
        "fileType": video.file_type,
        "status": status_text(video.status),
        "progress": video.progress,
        "error": video.error,
        "owner": video.owner,
        "createdAt": rfc3339(video.created_at),
        "updatedAt": rfc3339(video.updated_at),
        "durationMs": video.duration_ms,
        "width": video.width,
        "height": video.height,
    })
}

fn expires_at(ctx: &Ctx<'_>, ttl: Duration) -> String {
    rfc3339(ctx.now_ms() + i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX / 2))
}

fn has_control_chars(text: &str) -> bool {
    text.chars().any(char::is_control)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewVideo {
    file_name: String,
    file_size: u64,
    file_type: String,
    title: Option<String>,
}

pub async fn create<P: Platform>(app: &App<P>, ctx: &Ctx<'_>, caller: &Caller) -> Result<Reply> {
    let input: NewVideo = ctx.json()?;
    let file_name = input.file_name.trim();
    if file_name.is_empty()
        || file_name.chars().count() > MAX_FILE_NAME_CHARS
        || has_control_chars(file_name)
    {
        return Err(Error::invalid(format!(
            "fileName must be 1 to {MAX_FILE_NAME_CHARS} printable characters"
        )));
    }
    let container = VideoContainer::from_file_name(file_name).map_err(|_| {
        Error::bad_request(
            "unsupported_type",
            "fileName must end in a video container extension (mp4 mov m4v mkv webm avi wmv flv \
             mpg mpeg ts m2ts 3gp ogv)",
        )
    })?;
    let file_type = input.file_type.trim();
    if !accepts_file_type(file_type) {
        return Err(Error::bad_request(
            "unsupported_type",
            "fileType must be video/* or application/octet-stream",
        ));
    }
    if input.file_size == 0 {
        return Err(Error::invalid("fileSize must be at least 1 byte"));
    }
    if input.file_size > app.config.max_upload_bytes {
        return Err(Error::bad_request(
            "file_too_large",
            format!(
                "fileSize is above the {} byte limit",
                app.config.max_upload_bytes
            ),
        ));
    }
    let title = match input.title.as_deref().map(str::trim) {
        Some(title) if !title.is_empty() => title.to_string(),
        _ => file_name
            .rsplit_once('.')
            .map_or(file_name, |(stem, _)| stem)
            .chars()
            .take(MAX_TITLE_CHARS)
            .collect(),
    };
    if title.chars().count() > MAX_TITLE_CHARS || has_control_chars(&title) {
        return Err(Error::invalid(format!(
            "title must be at most {MAX_TITLE_CHARS} printable characters"
        )));
    }

    let now_ms = ctx.now_ms();
    let id = VideoId::new(u64::try_from(now_ms).unwrap_or(0), app.random_bytes());
    let key = ObjectKey::source(&id, &container);
    let bucket = &app.config.incoming_bucket;
    let mut video = VideoRow {
        id: id.as_str().to_string(),
        owner: caller.id.clone(),
        title,
        file_name: file_name.to_string(),
        file_size: input.file_size,
        file_type: file_type.to_string(),
        status: VideoStatus::Uploading,
        progress: None,
        error: None,
        source_key: key.as_str().to_string(),
        upload_id: None,
        output_key: None,
        duration_ms: None,
        width: None,
        height: None,
        created_at: now_ms,
        updated_at: now_ms,
    };

    let (upload, upload_url) = if input.file_size <= app.config.single_put_max_bytes {
        let presigned = app.config.s3.presign(
            &S3Request::PutObject {
                bucket,
                key: &key,
                content_length: input.file_size,
                content_type: file_type,
            },
            ctx.now,
            app.config.upload_url_ttl,
        )?;
        // Content-Length is bound by the signature but set by the client's HTTP stack
        // (browsers refuse to set it): list only what the client must add itself.
        let headers: serde_json::Map<String, Value> = presigned
            .headers
            .iter()
            .filter(|(name, _)| !name.eq_ignore_ascii_case("content-length"))
            .map(|(name, value)| (canonical_header_name(name), Value::String(value.clone())))
            .collect();
        let upload = json!({
            "method": "PUT",
            "uploadUrl": presigned.url,
            "headers": headers,
            "key": key.as_str(),
            "bucket": bucket.as_str(),
            "expiresAt": expires_at(ctx, app.config.upload_url_ttl),
        });
        (upload, Some(presigned.url))
    } else {
        let plan = MultipartPlan::new(input.file_size, app.config.max_upload_bytes)?;
        let upload_id = app
            .storage(ctx.now)
            .create_multipart_upload(bucket, &key, file_type)
            .await?;
        video.upload_id = Some(upload_id.clone());
        let upload = json!({
            "method": "multipart",
            "uploadId": upload_id,
            "key": key.as_str(),
            "bucket": bucket.as_str(),
            "partSize": plan.part_size(),
            "partCount": plan.part_count(),
            "expiresAt": expires_at(ctx, MULTIPART_UPLOAD_LIFETIME),
        });
        (upload, None)
    };

    if let Err(error) = app.catalog().insert_video(&video).await {
        // Leave nothing behind at S3 for a video the catalog does not know.
        if let Some(upload_id) = &video.upload_id {
            let _ = app
                .storage(ctx.now)
                .abort_multipart_upload(bucket, &key, upload_id)
                .await;
        }
        return Err(error);
    }

    let mut body = json!({
        "video": video_json(&video),
        "upload": upload,
        "key": key.as_str(),
        "bucket": bucket.as_str(),
    });
    if let Some(url) = upload_url {
        body["uploadUrl"] = Value::String(url);
    }
    Ok(respond::success(StatusCode::CREATED, body))
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

/// The video if the caller may see it: its owner, or an admin. Others get 404 so that ids
/// of other people's videos reveal nothing.
async fn visible_video<P: Platform>(
    app: &App<P>,
    ctx: &Ctx<'_>,
    caller: &Caller,
) -> Result<VideoRow> {
    match app.catalog().video(ctx.param(0)).await? {
        Some(video) if video.owner == caller.id || caller.is_admin() => Ok(video),
        _ => Err(Error::not_found("video")),
    }
}

/// The video if the caller uploads it: only its owner may sign, list, complete or abort.
async fn owned_video<P: Platform>(
    app: &App<P>,
    ctx: &Ctx<'_>,
    caller: &Caller,
) -> Result<VideoRow> {
    let video = visible_video(app, ctx, caller).await?;
    if video.owner != caller.id {
        return Err(Error::forbidden("only the uploader can do this"));
    }
    Ok(video)
}

/// The multipart upload of a video that is still uploading.
fn open_upload(video: &VideoRow) -> Result<(&str, MultipartPlan)> {
    if video.status != VideoStatus::Uploading {
        return Err(Error::conflict(
            "invalid_state",
            "the video is no longer uploading",
        ));
    }
    let upload_id = video.upload_id.as_deref().ok_or_else(|| {
        Error::conflict("not_multipart", "this video is uploaded with a single PUT")
    })?;
    // The plan is a pure function of the size: recomputing it gives the client's.
    let plan = MultipartPlan::new(video.file_size, u64::MAX)?;
    Ok((upload_id, plan))
}

fn source_key(video: &VideoRow) -> Result<ObjectKey> {
    Ok(ObjectKey::parse(&video.source_key)?)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PartNumbers {
    part_numbers: Vec<u32>,
}

pub async fn sign_parts<P: Platform>(
    app: &App<P>,
    ctx: &Ctx<'_>,
    caller: &Caller,
) -> Result<Reply> {
    let video = owned_video(app, ctx, caller).await?;
    let input: PartNumbers = ctx.json()?;
    let (upload_id, plan) = open_upload(&video)?;
    if input.part_numbers.is_empty() || input.part_numbers.len() > MAX_PARTS_PER_CALL {
        return Err(Error::invalid(format!(
            "partNumbers must list 1 to {MAX_PARTS_PER_CALL} part numbers"
        )));
    }
    let key = source_key(&video)?;
    let mut parts = Vec::with_capacity(input.part_numbers.len());
    let mut seen = std::collections::HashSet::new();
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
                key: &key,
                upload_id,
                part_number,
                content_length: plan.part_len(part_number)?,
            },
            ctx.now,
            app.config.upload_url_ttl,
        )?;
        parts.push(json!({ "partNumber": part_number, "url": presigned.url }));
    }
    Ok(respond::success(
        StatusCode::OK,
        json!({ "parts": parts, "expiresAt": expires_at(ctx, app.config.upload_url_ttl) }),
    ))
}

/// NoSuchUpload means the upload was completed, aborted or expired.
fn upload_gone(refusal: &Refusal) -> Option<Error> {
    (refusal.code == "NoSuchUpload" || refusal.status == 404).then(|| {
        Error::conflict(
            "upload_not_found",
            "the multipart upload no longer exists (completed, aborted or expired)",
        )
    })
}

pub async fn list_parts<P: Platform>(
    app: &App<P>,
    ctx: &Ctx<'_>,
    caller: &Caller,
) -> Result<Reply> {
    let video = owned_video(app, ctx, caller).await?;
    let (upload_id, _) = open_upload(&video)?;
    let key = source_key(&video)?;
    let parts = match app
        .storage(ctx.now)
        .list_parts(&app.config.incoming_bucket, &key, upload_id)
        .await?
    {
        Ok(parts) => parts,
        Err(refusal) => {
            return Err(upload_gone(&refusal)
                .unwrap_or_else(|| crate::storage::storage_error("ListParts", &refusal)));
        }
    };
    let parts: Vec<Value> = parts
        .iter()
        .map(|p| json!({ "partNumber": p.part_number, "etag": p.etag, "size": p.size }))
        .collect();
    Ok(respond::success(StatusCode::OK, json!({ "parts": parts })))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CompleteRequest {
    #[serde(default)]
    parts: Vec<CompletePart>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CompletePart {
    part_number: u32,
    etag: String,
}

fn unquoted(etag: &str) -> &str {
    etag.trim().trim_matches('"')
}

pub async fn complete<P: Platform>(app: &App<P>, ctx: &Ctx<'_>, caller: &Caller) -> Result<Reply> {
    let video = owned_video(app, ctx, caller).await?;
    match video.status {
        // A repeated complete (say, after a lost answer) sees the same result.
        VideoStatus::Processing | VideoStatus::Ready => {
            return Ok(respond::success(
                StatusCode::OK,
                json!({ "video": video_json(&video) }),
            ));
        }
        VideoStatus::Failed => {
            return Err(Error::conflict(
                "invalid_state",
                "the video has failed; upload it again",
            ));
        }
        VideoStatus::Uploading => {}
    }
    let key = source_key(&video)?;
    let bucket = &app.config.incoming_bucket;
    let storage = app.storage(ctx.now);

    if let Some(upload_id) = video.upload_id.as_deref() {
        let input: CompleteRequest = ctx.json()?;
        if let Err(error) = complete_parts(&storage, bucket, &key, upload_id, &video, &input).await
        {
            // A completion whose answer was lost, or a concurrent one, has already made the
            // whole object: then this one succeeds too.
            let gone = matches!(
                &error,
                Error::Client {
                    code: "upload_not_found",
                    ..
                }
            );
            if !(gone && storage.object_size(bucket, &key).await? == Some(video.file_size)) {
                return Err(error);
            }
        }
    } else {
        match storage.object_size(bucket, &key).await? {
            None => {
                return Err(Error::bad_request(
                    "upload_incomplete",
                    "nothing has been uploaded to the upload URL yet",
                ));
            }
            Some(size) if size != video.file_size => {
                storage.delete_object(bucket, &key).await?;
                return Err(size_mismatch(size, video.file_size));
            }
            Some(_) => {}
        }
    }

    app.catalog()
        .mark_processing(&video.id, ctx.now_ms())
        .await?;
    let video = app
        .catalog()
        .video(&video.id)
        .await?
        .ok_or_else(|| Error::not_found("video"))?;
    Ok(respond::success(
        StatusCode::OK,
        json!({ "video": video_json(&video) }),
    ))
}

/// Checks the listed parts against what S3 holds (etags, and the sizes adding up to the
/// declared size, so that a short upload stays open and resumable), then completes.
async fn complete_parts<H: crate::ports::HttpClient>(
    storage: &crate::storage::Storage<'_, H>,
    bucket: &signer::ids::BucketName,
    key: &ObjectKey,
    upload_id: &str,
    video: &VideoRow,
    input: &CompleteRequest,
) -> Result<()> {
    if input.parts.is_empty() {
        return Err(Error::invalid(
            "parts must list every uploaded part with its etag",
        ));
    }
    let stored: HashMap<u16, (String, u64)> =
        match storage.list_parts(bucket, key, upload_id).await? {
            Ok(parts) => parts
                .into_iter()
                .map(|p| (p.part_number, (p.etag, p.size)))
                .collect(),
            Err(refusal) => {
                return Err(upload_gone(&refusal)
                    .unwrap_or_else(|| crate::storage::storage_error("ListParts", &refusal)));
            }
        };
    let mut parts = Vec::with_capacity(input.parts.len());
    let mut total: u64 = 0;
    for part in &input.parts {
        let number = u16::try_from(part.part_number).map_err(|_| {
            Error::bad_request(
                "invalid_parts",
                format!("part {} does not exist", part.part_number),
            )
        })?;
        let (etag, size) = stored.get(&number).ok_or_else(|| {
            Error::bad_request(
                "invalid_parts",
                format!("part {number} has not been uploaded"),
            )
        })?;
        if unquoted(etag) != unquoted(&part.etag) {
            return Err(Error::bad_request(
                "invalid_parts",
                format!("part {number}'s etag does not match the stored part"),
            ));
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
        return Err(Error::bad_request(
            "invalid_parts",
            "a part is listed twice",
        ));
    }
    // Checked before completing, so a short upload stays open and resumable.
    if total != video.file_size {
        return Err(size_mismatch(total, video.file_size));
    }
    if let Err(refusal) = storage
        .complete_multipart_upload(bucket, key, upload_id, &parts)
        .await?
    {
        return Err(upload_gone(&refusal).unwrap_or_else(|| {
            if refusal.status == 400 {
                Error::bad_request(
                    "invalid_parts",
                    format!("S3 refused the parts: {}", refusal.code),
                )
            } else {
                crate::storage::storage_error("CompleteMultipartUpload", &refusal)
            }
        }));
    }
    Ok(())
}

fn size_mismatch(stored: u64, declared: u64) -> Error {
    Error::bad_request(
        "size_mismatch",
        format!("{stored} bytes were uploaded but fileSize says {declared}"),
    )
}

pub async fn abort<P: Platform>(app: &App<P>, ctx: &Ctx<'_>, caller: &Caller) -> Result<Reply> {
    let video = owned_video(app, ctx, caller).await?;
    if video.status != VideoStatus::Uploading {
        return Err(Error::conflict(
            "invalid_state",
            "the video is no longer uploading",
        ));
    }
    let key = source_key(&video)?;
    let bucket = &app.config.incoming_bucket;
    let storage = app.storage(ctx.now);
    match video.upload_id.as_deref() {
        Some(upload_id) => {
            storage
                .abort_multipart_upload(bucket, &key, upload_id)
                .await?
        }
        None => storage.delete_object(bucket, &key).await?,
    }
    app.catalog().delete_video(&video.id).await?;
    Ok(respond::success(StatusCode::OK, json!({})))
}

pub async fn get<P: Platform>(app: &App<P>, ctx: &Ctx<'_>, caller: &Caller) -> Result<Reply> {
    let video = visible_video(app, ctx, caller).await?;
    Ok(respond::success(
        StatusCode::OK,
        json!({ "video": video_json(&video) }),
    ))
}

/// Deletes every object of the video in both buckets, then the row. Deleting a video that
/// is already gone succeeds: DELETE is idempotent.
pub async fn delete<P: Platform>(app: &App<P>, ctx: &Ctx<'_>, caller: &Caller) -> Result<Reply> {
    let Some(video) = app.catalog().video(ctx.param(0)).await? else {
        return Ok(respond::success(StatusCode::OK, json!({})));
    };
    if video.owner != caller.id && !caller.is_admin() {
        return Err(Error::not_found("video"));
    }
    remove_objects(app, ctx.now, &video).await?;
    app.catalog().delete_video(&video.id).await?;
    Ok(respond::success(StatusCode::OK, json!({})))
}

/// Every object of a video in both buckets, and its multipart upload if one is open.
pub async fn remove_objects<P: Platform>(
    app: &App<P>,
    now: SystemTime,
    video: &VideoRow,
) -> Result<()> {
    let id = VideoId::parse(&video.id)?;
    let storage = app.storage(now);
    // An upload can still be open whatever the status (a failed event may end an upload).
    if let Some(upload_id) = video.upload_id.as_deref() {
        storage
            .abort_multipart_upload(&app.config.incoming_bucket, &source_key(video)?, upload_id)
            .await?;
    }
    storage
        .delete_prefix(
            &app.config.incoming_bucket,
            ObjectKey::source_prefix(&id).as_str(),
        )
        .await?;
    storage
        .delete_prefix(
            &app.config.media_bucket,
            ObjectKey::output_prefix(&id).as_str(),
        )
        .await
}

pub async fn list<P: Platform>(app: &App<P>, ctx: &Ctx<'_>, caller: &Caller) -> Result<Reply> {
    let limit = match ctx.query("limit") {
        None => DEFAULT_PAGE,
        Some(text) => text
            .parse()
            .ok()
            .filter(|n| (1..=MAX_PAGE).contains(n))
            .ok_or_else(|| {
                Error::invalid(format!("limit must be a whole number from 1 to {MAX_PAGE}"))
            })?,
    };
    let after = match ctx.query("cursor").filter(|c| !c.is_empty()) {
        None => None,
        Some(text) => Some(decode_cursor(&text).ok_or_else(|| {
            Error::bad_request("invalid_cursor", "cursor is not one this API returned")
        })?),
    };
    let owner = (!caller.is_admin()).then_some(caller.id.as_str());
    let mut rows = app
        .catalog()
        .list_videos(owner, after.as_ref(), limit + 1)
        .await?;
    let next_cursor = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last().map(|last| {
            encode_cursor(&ListCursor {
                created_at: last.created_at,
                id: last.id.clone(),
            })
        })
    } else {
        None
    };
    let videos: Vec<Value> = rows.iter().map(video_json).collect();
    Ok(respond::success(
        StatusCode::OK,
        json!({ "videos": videos, "nextCursor": next_cursor }),
    ))
}

fn encode_cursor(cursor: &ListCursor) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}:{}", cursor.created_at, cursor.id))
}

fn decode_cursor(text: &str) -> Option<ListCursor> {
    let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(text).ok()?).ok()?;
    let (time, id) = raw.split_once(':')?;
    Some(ListCursor {
        created_at: time.parse().ok()?,
        id: VideoId::parse(id).ok()?.as_str().to_string(),
    })
}

pub async fn playback<P: Platform>(app: &App<P>, ctx: &Ctx<'_>, caller: &Caller) -> Result<Reply> {
    let video = visible_video(app, ctx, caller).await?;
    let output_key = match (&video.status, &video.output_key) {
        (VideoStatus::Ready, Some(key)) => ObjectKey::parse(key)?,
        _ => {
            return Err(Error::conflict(
                "not_ready",
                format!("the video is {}, not ready", status_text(video.status)),
            ));
        }
    };
    let ttl = app.config.playback_url_ttl;
    let expires_unix = ctx
        .now
        .checked_add(ttl)
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs());
    let url = match &app.config.playback {
        PlaybackMode::S3 => {
            app.config
                .s3
                .presign(
                    &S3Request::GetObject {
                        bucket: &app.config.media_bucket,
                        key: &output_key,
                        response_content_disposition: None,
                        range: None,
                    },
                    ctx.now,
                    ttl,
                )?
                .url
        }
        PlaybackMode::CloudFront { domain, signer } => signer.signed_url(
            &format!("https://{domain}/{}", output_key.as_str()),
            expires_unix,
        )?,
        PlaybackMode::Edge { secret } => {
            let token = edge_token::sign(secret, &output_key, expires_unix);
            format!(
                "{}/media/{token}/{}",
                public_origin(ctx),
                output_key.as_str()
            )
        }
    };
    Ok(respond::success(
        StatusCode::OK,
        json!({
            "url": url,
            "expiresAt": rfc3339(i64::try_from(expires_unix).unwrap_or(i64::MAX / 1000) * 1000),
            "mimeType": "video/mp4",
        }),
    ))
}

/// `scheme://host` this request came in on (the Worker sees absolute URLs).
fn public_origin(ctx: &Ctx<'_>) -> String {
    let uri = ctx.request.uri();
    match (uri.scheme_str(), uri.authority()) {
        (Some(scheme), Some(authority)) => format!("{scheme}://{authority}"),
        _ => format!("https://{}", ctx.header("host").unwrap_or("localhost")),
    }
}

/// `GET|HEAD /media/{token}/{key}`: in edge playback mode, streams the object from S3,
/// passing `Range` through; the token authorizes exactly this key until it expires.
pub fn media<P: Platform>(app: &App<P>, ctx: &Ctx<'_>) -> Result<Reply> {
    let PlaybackMode::Edge { secret } = &app.config.playback else {
        return Err(Error::not_found("route"));
    };
    let key = ObjectKey::parse(ctx.param(1)).map_err(|_| Error::not_found("media"))?;
    edge_token::verify(secret, ctx.param(0), &key, ctx.now_secs()).map_err(|e| match e {
        signer::Error::PlaybackTokenExpired => Error::client(
            StatusCode::FORBIDDEN,
            "token_expired",
            "this playback URL has expired; ask for a new one",
        ),
        _ => Error::forbidden("this playback URL is not valid"),
    })?;
    let bucket = &app.config.media_bucket;
    let request = if ctx.request.method() == http::Method::HEAD {
        S3Request::HeadObject { bucket, key: &key }
    } else {
        S3Request::GetObject {
            bucket,
            key: &key,
            response_content_disposition: None,
            range: ctx.header("range"),
        }
    };
    Ok(upstream(app.config.s3.sign(
        &request,
        Vec::new(),
        ctx.now,
    )?))
}

/// What the player gets when S3 answers a streamed read with a failure.
pub fn upstream_failure(status: u16) -> Error {
    match status {
        404 => Error::not_found("media"),
        416 => Error::client(
            StatusCode::RANGE_NOT_SATISFIABLE,
            "range_not_satisfiable",
            "the requested range is outside the video",
        ),
        _ => Error::Storage(format!("streamed GetObject: HTTP {status}")),
    }
}
