//! `/api/internal/*`: the origin's signed calls, in the contracts `model` defines for both
//! sides. `POST /api/internal/claims` asks whether to convert an upload (and records that it
//! will be, once); `POST /api/internal/jobs` reports a conversion's progress and end.

use crate::app::App;
use crate::error::{Error, ErrorCode, Result};
use crate::ports::Platform;
use crate::request::Ctx;
use crate::respond::{self, Reply};
use http::StatusCode;
use model::claim::Claim;
use model::job::{JobEvent, JobUpdate, Parsed};
use model::storage::KeyPrefix;
use serde::Serialize;
use std::time::Duration;

/// How far a signature's time may be from ours.
pub const SIGNATURE_TOLERANCE: Duration = Duration::from_secs(300);

#[derive(Serialize)]
struct Applied {
    /// True when this event id was applied before (a replay changes nothing).
    duplicate: bool,
}

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

pub async fn job_event<P: Platform>(app: &App<P>, ctx: &Ctx<'_>) -> Result<Reply> {
    verify_signature(app, ctx)?;
    let event =
        match JobEvent::parse(ctx.request.body()).map_err(|e| Error::invalid(e.to_string()))? {
            Parsed::Event(event) => event,
            // No video ever had this id: like an event for a deleted one, nothing to apply.
            Parsed::NoSuchVideo => {
                return Ok(respond::success(
                    StatusCode::OK,
                    &Applied { duplicate: false },
                ));
            }
        };
    let catalog = app.catalog();
    let new = catalog.apply_job_event(&event, ctx.now).await?;
    // A conversion that finished after its video was deleted leaves its output behind:
    // remove it, so that deleting a video always removes all of it.
    if new
        && matches!(event.update, JobUpdate::Ready { .. })
        && catalog.video(&event.video_id).await?.is_none()
    {
        app.storage(ctx.now)
            .delete_prefix(
                &app.config.media_bucket,
                &KeyPrefix::outputs(&event.video_id),
            )
            .await?;
    }
    Ok(respond::success(
        StatusCode::OK,
        &Applied { duplicate: !new },
    ))
}

pub async fn claim<P: Platform>(app: &App<P>, ctx: &Ctx<'_>) -> Result<Reply> {
    verify_signature(app, ctx)?;
    let claim: Claim = ctx.json()?;
    let answer = app.catalog().claim(&claim, ctx.now).await?;
    Ok(respond::success(StatusCode::OK, &answer))
}
