//! Scheduled housekeeping (a Cron Trigger in the Worker): videos whose upload was started
//! and abandoned leave the catalog, and their objects leave the buckets (the buckets'
//! lifecycle rules are the backstop for anything a sweep could not remove); conversions that
//! stopped reporting end `failed` instead of `processing` forever; expired refresh tokens are
//! forgotten.

use crate::app::App;
use crate::error::Result;
use crate::library::remove_objects;
use crate::ports::Platform;
use crate::uploads::MULTIPART_UPLOAD_LIFETIME;
use model::Timestamp;
use std::time::Duration;

/// How long past its upload's `expiresAt` a video may stay `uploading`: a PUT or part that
/// began just before the URL expired still gets to finish, and its client to complete.
pub const ABANDONED_AFTER: Duration = Duration::from_secs(24 * 3600);
/// How long a conversion may go without a job event (the origin reports progress while it
/// works) before it counts as lost: an S3 event that never arrived, a job stuck in its
/// queue, an origin that gave up.
pub const STALLED_AFTER: Duration = Duration::from_secs(24 * 3600);
const STALLED_REASON: &str = "conversion stalled: no word from the converter for 24 hours; \
    delete the video and upload it again";
/// Videos handled per run, so one run stays well inside a Worker's CPU and subrequest
/// limits; the next run takes the rest.
const SWEEP_BATCH: u32 = 25;

/// Runs every scheduled task once and logs what each did; a failure is logged and the next
/// run retries. Both shells call this (the Worker on its Cron Trigger).
pub async fn run_scheduled<P: Platform>(app: &App<P>, now: Timestamp) {
    let outcomes = [
        (
            "abandoned uploads removed",
            abandoned_uploads(app, now).await,
        ),
        (
            "stalled conversions failed",
            stalled_conversions(app, now).await,
        ),
        (
            "expired refresh tokens forgotten",
            app.catalog().prune_sessions(now).await,
        ),
    ];
    for (what, outcome) in outcomes {
        match outcome {
            Ok(0) => {}
            Ok(count) => app.platform.log(&format!("sweep: {count} {what}")),
            Err(error) => app.platform.log(&format!("sweep ({what}): {error}")),
        }
    }
}

/// Removes up to one batch of abandoned uploads; returns how many it removed.
pub async fn abandoned_uploads<P: Platform>(app: &App<P>, now: Timestamp) -> Result<u64> {
    let cutoff = |lifetime: Duration| now - (lifetime + ABANDONED_AFTER);
    let candidates = app
        .catalog()
        .abandoned_uploads(
            cutoff(app.config.upload_url_ttl),
            cutoff(MULTIPART_UPLOAD_LIFETIME),
            SWEEP_BATCH,
        )
        .await?;
    let mut removed = 0;
    for video in candidates {
        // The row goes first, and only while still `uploading`: a client completing at this
        // moment keeps its video. Objects left behind by a failure below are the lifecycle
        // rules' to expire.
        if !app.catalog().delete_uploading_video(&video.id).await? {
            continue;
        }
        if let Err(error) = remove_objects(app, now, &video).await {
            app.platform
                .log(&format!("sweep: objects of video {}: {error}", video.id));
        }
        removed += 1;
    }
    Ok(removed)
}

/// Ends up to one batch of stalled conversions as `failed` (the source is kept); returns how
/// many.
pub async fn stalled_conversions<P: Platform>(app: &App<P>, now: Timestamp) -> Result<u64> {
    app.catalog()
        .fail_stalled(now - STALLED_AFTER, STALLED_REASON, now, SWEEP_BATCH)
        .await
}
