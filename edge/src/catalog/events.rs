//! Job events from the origin, applied once each.

use super::Catalog;
use crate::error::Result;
use crate::ports::{Database, SqlValue};
use model::Timestamp;
use model::job::{JobEvent, JobUpdate};
use std::time::Duration;

/// How long applied job event ids are remembered.
pub const JOB_EVENT_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);

impl<D: Database> Catalog<'_, D> {
    /// Applies a job event once: the update and the event id commit together, and an event
    /// id seen before changes nothing. `ready` is final: nothing moves a video back from it.
    /// Returns whether the event was new.
    pub async fn apply_job_event(&self, event: &JobEvent, now: Timestamp) -> Result<bool> {
        let (sql, mut params): (&'static str, Vec<SqlValue>) = match &event.update {
            JobUpdate::Processing { progress } => (
                // Progress only moves forward: events can arrive out of order.
                "UPDATE videos SET status = 'processing', \
                   progress = MAX(COALESCE(progress, 0), COALESCE(?4, 0)), error = NULL, updated_at = ?3 \
                 WHERE id = ?1 AND status IN ('uploading', 'processing') \
                   AND NOT EXISTS (SELECT 1 FROM job_events WHERE event_id = ?2)",
                vec![progress.map(u32::from).into()],
            ),
            JobUpdate::Ready {
                output_key,
                duration_ms,
                width,
                height,
            } => (
                "UPDATE videos SET status = 'ready', progress = 100, error = NULL, output_key = ?4, \
                   duration_ms = ?5, width = ?6, height = ?7, upload_id = NULL, updated_at = ?3 \
                 WHERE id = ?1 AND status <> 'ready' \
                   AND NOT EXISTS (SELECT 1 FROM job_events WHERE event_id = ?2)",
                vec![
                    output_key.into(),
                    (*duration_ms).into(),
                    (*width).into(),
                    (*height).into(),
                ],
            ),
            JobUpdate::Failed { error } => (
                "UPDATE videos SET status = 'failed', progress = NULL, error = ?4, updated_at = ?3 \
                 WHERE id = ?1 AND status <> 'ready' \
                   AND NOT EXISTS (SELECT 1 FROM job_events WHERE event_id = ?2)",
                vec![error.reason().into()],
            ),
        };
        let event_id = event.event_id.as_str();
        let mut bound: Vec<SqlValue> = vec![(&event.video_id).into(), event_id.into(), now.into()];
        bound.append(&mut params);
        let changed = self
            .db
            .batch(vec![
                (sql, bound),
                (
                    "INSERT INTO job_events (event_id, video_id, received_at) VALUES (?1, ?2, ?3) \
                     ON CONFLICT (event_id) DO NOTHING",
                    vec![event_id.into(), (&event.video_id).into(), now.into()],
                ),
                // Ids are kept long enough to outlast the origin's redelivery; older replays
                // fail the signature's time window anyway.
                (
                    "DELETE FROM job_events WHERE received_at < ?1",
                    vec![(now - JOB_EVENT_RETENTION).into()],
                ),
            ])
            .await?;
        Ok(changed.get(1) == Some(&1))
    }
}
