//! `/api/internal/*`: the origin's signed calls, in the contracts `model` defines for both
//! sides. `POST /api/internal/claims` asks whether to convert an upload (and records that it
//! will be, once); `POST /api/internal/jobs` reports a conversion's progress and end.

use crate::app::App;
use crate::catalog::VideoRow;
use crate::error::{Error, ErrorCode, Result};
use crate::ports::Platform;
use crate::request::Ctx;
use crate::respond::{self, Reply};
use http::StatusCode;
use model::claim::Claim;
use model::job::{Acknowledgement, JobEvent, JobUpdate, Parsed, StreamsUpdate};
use model::storage::KeyPrefix;
use model::{LadderStatus, VideoStatus};
use std::time::Duration;

/// How far a signature's time may be from ours.
pub const SIGNATURE_TOLERANCE: Duration = Duration::from_secs(300);

/// The body was signed by the origin, with the webhook secret or, during a rotation, the
/// previous one, within the tolerance.
fn verify_signature<P: Platform>(app: &App<P>, ctx: &Ctx<'_>) -> Result<()> {
    let signature = ctx.header("x-signature").ok_or_else(|| {
        Error::new(
            ErrorCode::InvalidSignature,
            "the X-Signature header is missing",
        )
    })?;
    let secrets = [
        Some(&app.config.webhook_secret),
        app.config.webhook_secret_previous.as_ref(),
    ];
    let mut outcome = Err(signer::Error::WebhookSignatureMismatch);
    for secret in secrets.into_iter().flatten() {
        outcome = signer::webhook::verify(
            secret.expose(),
            signature,
            ctx.request.body(),
            ctx.now,
            SIGNATURE_TOLERANCE,
        );
        if !matches!(outcome, Err(signer::Error::WebhookSignatureMismatch)) {
            break;
        }
    }
    outcome.map(|_| ()).map_err(|e| match e {
        signer::Error::WebhookTimestampOutOfTolerance { .. } => Error::new(
            ErrorCode::SignatureExpired,
            format!(
                "the signature is more than {} s from now",
                SIGNATURE_TOLERANCE.as_secs()
            ),
        ),
        _ => Error::new(ErrorCode::InvalidSignature, "the signature does not match"),
    })
}

/// Applies a job event and answers with a [`model::job::Acknowledgement`]: whether it was
/// a replay, and whether the origin must keep the source.
pub async fn job_event<P: Platform>(app: &App<P>, ctx: &Ctx<'_>) -> Result<Reply> {
    verify_signature(app, ctx)?;
    let event =
        match JobEvent::parse(ctx.request.body()).map_err(|e| Error::invalid(e.to_string()))? {
            Parsed::Event(event) => event,
            // No video ever had this id: like an event for a deleted one, nothing to apply.
            Parsed::NoSuchVideo => {
                return Ok(respond::success(
                    StatusCode::OK,
                    &Acknowledgement {
                        duplicate: false,
                        source_needed: false,
                    },
                ));
            }
        };
    let catalog = app.catalog();
    let (new, video) = catalog.apply_job_event(&event, ctx.now).await?;
    // A conversion that finished after its video was deleted leaves its outputs behind:
    // remove them, so that deleting a video always removes all of it.
    let made_outputs = matches!(
        event.update,
        JobUpdate::Ready { .. } | JobUpdate::Streams(StreamsUpdate::Ready(_))
    );
    if new && made_outputs && video.is_none() {
        app.storage(ctx.now)
            .delete_prefix(
                &app.config.media_bucket,
                &KeyPrefix::outputs(&event.video_id),
            )
            .await?;
    }
    Ok(respond::success(
        StatusCode::OK,
        &Acknowledgement {
            duplicate: !new,
            source_needed: video.as_ref().is_some_and(source_needed),
        },
    ))
}

/// A video needs its source until it plays and its ladder is done (made or given up on),
/// and while it failed: it may be converted again.
fn source_needed(video: &VideoRow) -> bool {
    video.status != VideoStatus::Ready
        || !LadderStatus::of(video.status, video.streams_state).is_final()
}

pub async fn claim<P: Platform>(app: &App<P>, ctx: &Ctx<'_>) -> Result<Reply> {
    verify_signature(app, ctx)?;
    let claim: Claim = ctx.json()?;
    let answer = app.catalog().claim(&claim, ctx.now).await?;
    Ok(respond::success(StatusCode::OK, &answer))
}
