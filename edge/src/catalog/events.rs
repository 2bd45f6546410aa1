//! Job events from the origin, applied once each.

use super::videos::VIDEO_COLUMNS;
use super::{Catalog, VideoRow};
use crate::error::Result;
use crate::ports::{Database, SqlValue};
use model::Timestamp;
use model::job::{JobEvent, JobUpdate, Streams, StreamsUpdate};
use std::time::Duration;

/// How long applied job event ids are remembered.
pub const JOB_EVENT_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);

/// The columns naming a ladder's outputs, as parameters ?4, ?5, ?6.
fn streams_params(streams: &Streams) -> Vec<SqlValue> {
    vec![
        (&streams.hls).into(),
        streams.poster.as_ref().into(),
        streams.storyboard.as_ref().into(),
    ]
}

impl<D: Database> Catalog<'_, D> {
    /// Applies a job event once: the update and the event id commit together, and an event
    /// id seen before changes nothing. `ready` is final: nothing moves a video back from it,
    /// and a ladder that is `ready` or `failed` stays so. Returns whether the event was new,
    /// and the video as it is after (None: it does not exist); one round trip.
    pub async fn apply_job_event(
        &self,
        event: &JobEvent,
        now: Timestamp,
    ) -> Result<(bool, Option<VideoRow>)> {
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
                streams,
            } => {
                // Without its streams, a ready video's ladder is still to come.
                let mut params = match streams {
                    Some(streams) => streams_params(streams),
                    None => vec![SqlValue::Null, SqlValue::Null, SqlValue::Null],
                };
                params.extend([
                    output_key.into(),
                    (*duration_ms).into(),
                    (*width).into(),
                    (*height).into(),
                ]);
                (
                    "UPDATE videos SET status = 'ready', progress = 100, error = NULL, output_key = ?7, \
                       duration_ms = ?8, width = ?9, height = ?10, upload_id = NULL, updated_at = ?3, \
                       hls_key = COALESCE(?4, hls_key), poster_key = COALESCE(?5, poster_key), \
                       storyboard_key = COALESCE(?6, storyboard_key), \
                       streams_state = CASE WHEN ?4 IS NOT NULL THEN 'ready' \
                         ELSE COALESCE(streams_state, 'processing') END, \
                       streams_progress = CASE WHEN ?4 IS NOT NULL THEN 100 ELSE streams_progress END \
                     WHERE id = ?1 AND status <> 'ready' \
                       AND NOT EXISTS (SELECT 1 FROM job_events WHERE event_id = ?2)",
                    params,
                )
            }
            JobUpdate::Failed { error } => (
                "UPDATE videos SET status = 'failed', progress = NULL, error = ?4, updated_at = ?3 \
                 WHERE id = ?1 AND status <> 'ready' \
                   AND NOT EXISTS (SELECT 1 FROM job_events WHERE event_id = ?2)",
                vec![error.reason().into()],
            ),
            JobUpdate::Streams(StreamsUpdate::Processing { progress }) => (
                "UPDATE videos SET streams_state = 'processing', \
                   streams_progress = MAX(COALESCE(streams_progress, 0), COALESCE(?4, 0)), \
                   updated_at = ?3 \
                 WHERE id = ?1 AND COALESCE(streams_state, 'processing') = 'processing' \
                   AND NOT EXISTS (SELECT 1 FROM job_events WHERE event_id = ?2)",
                vec![progress.map(u32::from).into()],
            ),
            JobUpdate::Streams(StreamsUpdate::Ready(streams)) => (
                "UPDATE videos SET streams_state = 'ready', streams_progress = 100, \
                   streams_error = NULL, hls_key = ?4, poster_key = ?5, storyboard_key = ?6, \
                   updated_at = ?3 \
                 WHERE id = ?1 AND COALESCE(streams_state, 'processing') <> 'ready' \
                   AND NOT EXISTS (SELECT 1 FROM job_events WHERE event_id = ?2)",
                streams_params(streams),
            ),
            JobUpdate::Streams(StreamsUpdate::Failed { error }) => (
                "UPDATE videos SET streams_state = 'failed', streams_progress = NULL, \
                   streams_error = ?4, updated_at = ?3 \
                 WHERE id = ?1 AND COALESCE(streams_state, 'processing') = 'processing' \
                   AND NOT EXISTS (SELECT 1 FROM job_events WHERE event_id = ?2)",
                vec![error.reason().into()],
            ),
        };
        let read = format!("SELECT {VIDEO_COLUMNS} FROM videos WHERE id = ?1");
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
                (read.as_str(), vec![(&event.video_id).into()]),
            ])
            .await?;
        let new = changed.get(1).is_some_and(|o| o.changes == 1);
        let video = changed
            .into_iter()
            .last()
            .map(|o| o.rows)
            .unwrap_or_default();
        Ok((new, super::rows(video)?.into_iter().next()))
    }
}
