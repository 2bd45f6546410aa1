//! Scheduled housekeeping (a Cron Trigger in the Worker): videos whose upload was started
//! and abandoned leave the catalog, and their objects leave the buckets (the buckets'
//! lifecycle rules are the backstop for anything a sweep could not remove); conversions that
//! stopped reporting end `failed` instead of `processing` forever.

use crate::app::{App, unix_ms};
use crate::error::Result;
use crate::ports::Platform;
use crate::videos::{MULTIPART_UPLOAD_LIFETIME, remove_objects};
use std::time::{Duration, SystemTime};

/// How long past its upload's `expiresAt` a video may stay `uploading`: a PUT or part that
/// began just before the URL expired still gets to finish, and its client to complete.
pub const ABANDONED_AFTER: Duration = Duration::from_secs(24 * 3600);
/// How long a conversion may go without a job event (the origin reports progress every few
/// seconds while it works) before it counts as lost: an S3 event that never arrived, a job
/// stuck in its queue, an origin that gave up.
pub const STALLED_AFTER: Duration = Duration::from_secs(24 * 3600);
const STALLED_REASON: &str = "conversion stalled: no word from the converter for 24 hours; \
    delete the video and upload it again";
/// Videos handled per run, so one run stays well inside a Worker's CPU and subrequest
/// limits; the next run takes the rest.
const SWEEP_BATCH: u32 = 25;

/// Removes up to one batch of abandoned uploads; returns how many it removed.
pub async fn abandoned_uploads<P: Platform>(app: &App<P>, now: SystemTime) -> Result<u64> {
    let cutoff = |lifetime: Duration| unix_ms(now) - duration_ms(lifetime + ABANDONED_AFTER);
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
pub async fn stalled_conversions<P: Platform>(app: &App<P>, now: SystemTime) -> Result<u64> {
    let now_ms = unix_ms(now);
    app.catalog()
        .fail_stalled(
            now_ms - duration_ms(STALLED_AFTER),
            STALLED_REASON,
            now_ms,
            SWEEP_BATCH,
        )
        .await
}

fn duration_ms(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}
