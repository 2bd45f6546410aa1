//! The one handler: an S3 `ObjectCreated` becomes a conversion ([`upload`]: claim, probe,
//! plan, then a server-side copy or a job), and a `MediaConvert Job State Change` becomes a
//! report to the edge ([`job`]: progress, or finalize, or failure). A video's MP4 and its
//! streaming set (HLS ladder, poster, storyboard) come from one job, or, when the MP4 came
//! first (a copy, or a source whose picture size the probe could not tell), from two; the
//! streaming set's outputs are checked and named by [`outputs`].
//!
//! The source goes as soon as the edge acknowledges an event saying the video no longer
//! needs it (it plays and its streaming set is done, or the video is gone), never before.

mod job;
mod outputs;
mod upload;

use model::job::{Acknowledgement, JobError, JobEvent, JobUpdate, StreamsUpdate};
use model::{BucketName, ObjectKey, VideoId};
use serde::Serialize;

use crate::clock::Clock;
use crate::edge::{Deadline, Edge};
use crate::error::Result;
use crate::event::OriginEvent;
use crate::media::{Caps, Plan};
use crate::store::ObjectStore;
use crate::transcoder::Transcoder;

/// The failure code of a source longer than the cap (`Caps::max_duration_ms`).
const TOO_LONG: &str = "too_long";

/// The two buckets of the platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Buckets {
    pub incoming: BucketName,
    pub media: BucketName,
}

/// What one record of an event led to (logged, and returned by the Lambda).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    Submitted {
        video_id: VideoId,
        job_id: String,
        plan: Plan,
    },
    /// The catalog does not expect this upload (deleted, converted already, another size,
    /// another upload): nothing is converted.
    NotExpected {
        video_id: VideoId,
        reason: String,
    },
    /// The same upload was claimed and its job started before: a retried, duplicated or
    /// replayed notification, which starts nothing.
    AlreadyStarted {
        video_id: VideoId,
        job_id: String,
    },
    /// The source no longer exists: already converted and deleted, or the video was deleted.
    SourceGone {
        key: ObjectKey,
    },
    Progress {
        video_id: VideoId,
        progress: Option<u8>,
    },
    /// The MP4 plays.
    Ready {
        video_id: VideoId,
        output_key: ObjectKey,
    },
    Failed {
        video_id: VideoId,
        code: String,
    },
    /// The streaming set of a video whose MP4 came first is in place.
    StreamsReady {
        video_id: VideoId,
        hls_key: ObjectKey,
    },
    /// The streaming set was given up on; the MP4 plays on.
    StreamsFailed {
        video_id: VideoId,
        code: String,
    },
    Ignored {
        reason: String,
    },
}

/// The handler, generic over its ports.
pub struct Origin<T, S, E, C> {
    pub buckets: Buckets,
    /// The caps a source must meet, and the ladder's top.
    pub caps: Caps,
    pub transcoder: T,
    pub store: S,
    pub edge: E,
    pub clock: C,
}

impl<T: Transcoder, S: ObjectStore, E: Edge, C: Clock> Origin<T, S, E, C> {
    /// Handles one event of either kind, one outcome per record, within `deadline`.
    pub async fn handle(
        &self,
        event: serde_json::Value,
        deadline: Deadline,
    ) -> Result<Vec<Outcome>> {
        match OriginEvent::from_value(event)? {
            OriginEvent::S3(s3) => {
                let mut outcomes = Vec::with_capacity(s3.records.len());
                for record in &s3.records {
                    let outcome = self.object_created(record, deadline).await?;
                    log_outcome(&outcome);
                    outcomes.push(outcome);
                }
                Ok(outcomes)
            }
            OriginEvent::JobStateChange(change) => {
                let outcome = self.job_state_change(&change.detail, deadline).await?;
                log_outcome(&outcome);
                Ok(vec![outcome])
            }
        }
    }

    /// Tells the edge about `upload`'s video, then deletes the upload if the edge's
    /// acknowledgement says nothing needs it any more.
    async fn report(
        &self,
        event_id: &str,
        upload: Upload<'_>,
        update: JobUpdate,
        deadline: Deadline,
    ) -> Result<Acknowledgement> {
        let event = JobEvent {
            event_id: event_id.into(),
            video_id: upload.video.clone(),
            update,
            occurred_at: Some(self.clock.now()),
        };
        let acknowledged = self.edge.report(&event, deadline).await?;
        if !acknowledged.source_needed {
            self.store
                .delete(&self.buckets.incoming, upload.source)
                .await?;
        }
        Ok(acknowledged)
    }

    /// Reports a failure as the event `{stem}:failed`, or `{stem}:streams:failed` when it
    /// ends only the ladder.
    async fn report_failure(
        &self,
        stem: &str,
        upload: Upload<'_>,
        ends: Ends,
        (code, message): (&str, &str),
        deadline: Deadline,
    ) -> Result<Outcome> {
        let error = JobError::new(code, message);
        let (video_id, code) = (upload.video.clone(), code.to_string());
        let (event_id, update, outcome) = match ends {
            Ends::Conversion => (
                format!("{stem}:failed"),
                JobUpdate::Failed { error },
                Outcome::Failed { video_id, code },
            ),
            Ends::Ladder => (
                format!("{stem}:streams:failed"),
                JobUpdate::Streams(StreamsUpdate::Failed { error }),
                Outcome::StreamsFailed { video_id, code },
            ),
        };
        self.report(&event_id, upload, update, deadline).await?;
        Ok(outcome)
    }
}

/// What a failure ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ends {
    /// The conversion: the video fails with the reason (the edge keeps wanting the source:
    /// it may be converted again).
    Conversion,
    /// Only the streaming set: the video plays on as MP4.
    Ladder,
}

/// The video an event is about, and the upload it was converted from.
#[derive(Debug, Clone, Copy)]
struct Upload<'a> {
    video: &'a VideoId,
    source: &'a ObjectKey,
}

fn log_outcome(outcome: &Outcome) {
    println!(
        "origin: {}",
        serde_json::to_string(outcome).unwrap_or_default()
    );
}
