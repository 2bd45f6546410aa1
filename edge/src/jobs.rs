//! `POST /api/internal/jobs`: signed status events from the origin (conversion pipeline).

use crate::app::{App, Ctx};
use crate::catalog::JobUpdate;
use crate::error::{Error, Result};
use crate::ports::Platform;
use crate::respond::{self, Reply};
use http::StatusCode;
use serde::Deserialize;
use signer::ids::{ObjectKey, VideoId};

/// How far an event's signature time may be from ours.
pub const SIGNATURE_TOLERANCE_SECS: u64 = 300;
const MAX_EVENT_ID_CHARS: usize = 200;
const MAX_REASON_CHARS: usize = 1000;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct JobEvent {
    event_id: String,
    video_id: String,
    status: String,
    progress: Option<u8>,
    duration_ms: Option<u64>,
    width: Option<u32>,
    height: Option<u32>,
    output_key: Option<String>,
    error: Option<JobError>,
}

#[derive(Deserialize)]
struct JobError {
    code: Option<String>,
    message: String,
}

pub async fn receive<P: Platform>(app: &App<P>, ctx: &Ctx<'_>) -> Result<Reply> {
    let signature = ctx.header("x-signature").ok_or_else(|| {
        Error::unauthorized("invalid_signature", "the X-Signature header is missing")
    })?;
    signer::webhook::verify(
        &app.config.webhook_secret,
        signature,
        ctx.request.body(),
        ctx.now_secs(),
        SIGNATURE_TOLERANCE_SECS,
    )
    .map_err(|e| match e {
        signer::Error::WebhookTimestampOutOfTolerance { .. } => Error::unauthorized(
            "signature_expired",
            format!("the signature is more than {SIGNATURE_TOLERANCE_SECS} s from now"),
        ),
        _ => Error::unauthorized("invalid_signature", "the signature does not match"),
    })?;

    let event: JobEvent = ctx.json()?;
    if event.event_id.is_empty()
        || event.event_id.chars().count() > MAX_EVENT_ID_CHARS
        || event.event_id.chars().any(char::is_control)
    {
        return Err(Error::invalid(format!(
            "eventId must be 1 to {MAX_EVENT_ID_CHARS} printable characters"
        )));
    }
    if event.video_id.is_empty() || event.video_id.chars().any(char::is_control) {
        return Err(Error::invalid("videoId must be a video id"));
    }
    let Ok(video_id) = VideoId::parse(&event.video_id) else {
        // No video ever had this id: like an event for a deleted one, nothing to apply.
        return Ok(respond::success(
            StatusCode::OK,
            serde_json::json!({ "duplicate": false }),
        ));
    };
    let update = match event.status.as_str() {
        "processing" => {
            if event.progress.is_some_and(|p| p > 100) {
                return Err(Error::invalid("progress must be 0 to 100"));
            }
            JobUpdate::Processing {
                progress: event.progress,
            }
        }
        "ready" => {
            let prefix = ObjectKey::output_prefix(&video_id);
            let output_key = event
                .output_key
                .as_deref()
                .and_then(|key| key.strip_prefix(prefix.as_str()))
                .and_then(|name| ObjectKey::output(&video_id, name).ok())
                .ok_or_else(|| {
                    Error::invalid("outputKey must name an object under videos/{videoId}/")
                })?;
            JobUpdate::Ready {
                output_key: output_key.as_str().to_string(),
                duration_ms: event.duration_ms,
                width: event.width,
                height: event.height,
            }
        }
        "failed" => {
            let error = event
                .error
                .ok_or_else(|| Error::invalid("a failed event needs error.message"))?;
            let reason = match error.code.filter(|c| !c.is_empty()) {
                Some(code) => format!("{code}: {}", error.message),
                None => error.message,
            };
            JobUpdate::Failed {
                reason: reason.chars().take(MAX_REASON_CHARS).collect(),
            }
        }
        other => {
            return Err(Error::invalid(format!(
                "status must be processing, ready or failed, got `{other}`"
            )));
        }
    };
    let catalog = app.catalog();
    let new = catalog
        .apply_job_event(&event.event_id, video_id.as_str(), &update, ctx.now_ms())
        .await?;
    // A conversion that finished after its video was deleted leaves its output behind:
    // remove it, so that deleting a video always removes all of it.
    if new
        && matches!(update, JobUpdate::Ready { .. })
        && catalog.video(video_id.as_str()).await?.is_none()
    {
        app.storage(ctx.now)
            .delete_prefix(
                &app.config.media_bucket,
                ObjectKey::output_prefix(&video_id).as_str(),
            )
            .await?;
    }
    Ok(respond::success(
        StatusCode::OK,
        serde_json::json!({ "duplicate": !new }),
    ))
}
