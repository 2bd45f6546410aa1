//! An upload landed: claim it from the edge (only uploads the catalog expects are converted,
//! and each once), learn what it holds, then either copy it as it is (an MP4 browsers play:
//! no job, playable at once) or start a conversion job.

use aws_lambda_events::event::s3::S3EventRecord;
use model::claim::{Claim, ClaimAnswer};
use model::job::JobUpdate;
use model::layout::{Located, locate};
use model::{ObjectKey, VideoId};

use super::{Origin, Outcome};
use crate::clock::Clock;
use crate::edge::{Deadline, Edge};
use crate::error::{Error, Result};
use crate::event::decode_s3_key;
use crate::media::{MediaInfo, Plan, plan};
use crate::store::ObjectStore;
use crate::transcoder::{JobSpec, Source, Transcoder};

impl<T: Transcoder, S: ObjectStore, E: Edge, C: Clock> Origin<T, S, E, C> {
    pub(super) async fn object_created(
        &self,
        record: &S3EventRecord,
        deadline: Deadline,
    ) -> Result<Outcome> {
        let ignored = |reason: String| Ok(Outcome::Ignored { reason });
        let name = record.event_name.as_deref().unwrap_or_default();
        if !name.starts_with("ObjectCreated:") {
            return ignored(format!("event {name:?}"));
        }
        let bucket = record.s3.bucket.name.as_deref().unwrap_or_default();
        if bucket != self.buckets.incoming.as_str() {
            return ignored(format!("bucket {bucket:?} is not the incoming bucket"));
        }
        let Some(raw_key) = record.s3.object.key.as_deref() else {
            return Err(Error::BadEvent("S3 record without an object key".into()));
        };
        let decoded = decode_s3_key(raw_key)?;
        let Ok(key) = ObjectKey::parse(&decoded) else {
            return ignored(format!("key {decoded:?} is not an object key"));
        };
        let Some(Located::Source { video, .. }) = locate(&key) else {
            return ignored(format!("key {key} is not an upload source"));
        };
        let source = Source {
            bucket: self.buckets.incoming.clone(),
            key,
            etag: record
                .s3
                .object
                .e_tag
                .as_deref()
                .unwrap_or_default()
                .trim_matches('"')
                .to_string(),
            size: record.s3.object.size.unwrap_or(0).max(0) as u64,
        };
        let mut claim = Claim {
            video_id: video.clone(),
            key: source.key.clone(),
            size: source.size,
            token: source.token(),
            job_id: None,
        };
        match self.edge.claim(&claim, deadline).await? {
            ClaimAnswer::NotExpected { reason } => {
                return Ok(Outcome::NotExpected {
                    video_id: video,
                    reason,
                });
            }
            ClaimAnswer::Held {
                job_id: Some(job_id),
            } => {
                return Ok(Outcome::AlreadyStarted {
                    video_id: video,
                    job_id,
                });
            }
            ClaimAnswer::Granted | ClaimAnswer::Held { job_id: None } => {}
        }

        let info = match self.transcoder.probe(&source).await {
            Ok(info) => info,
            // Converted and deleted already, or the video was deleted: nothing to do, and
            // nothing to report (it would undo a `ready`).
            Err(Error::NotFound { .. }) => return Ok(Outcome::SourceGone { key: source.key }),
            Err(Error::InvalidInput(reason)) => {
                let event_id = format!("{}:failed", claim.token);
                let failure = ("invalid_input", reason.as_str());
                return self
                    .report_failure(&event_id, &video, failure, deadline)
                    .await;
            }
            Err(e) => return Err(e),
        };
        let plan = plan(&info);
        if plan == Plan::Copy {
            return self.publish_copy(&video, &source, &info, deadline).await;
        }
        let spec = JobSpec {
            token: claim.token.clone(),
            output_key: ObjectKey::mp4(&video),
            video_id: video,
            source,
            info,
            plan,
            output_bucket: self.buckets.media.clone(),
        };
        let job_id = self.transcoder.submit(&spec).await?;
        // Recorded with the claim: every later delivery of this upload learns of the job.
        claim.job_id = Some(job_id.clone());
        self.edge.claim(&claim, deadline).await?;
        Ok(Outcome::Submitted {
            video_id: spec.video_id,
            job_id,
            plan,
        })
    }

    /// An MP4 browsers play as it is: copied server-side into place (no job, no re-encode,
    /// playable at once), reported ready, and only then its source deleted.
    async fn publish_copy(
        &self,
        video: &VideoId,
        source: &Source,
        info: &MediaInfo,
        deadline: Deadline,
    ) -> Result<Outcome> {
        let output = ObjectKey::mp4(video);
        let copied = self
            .store
            .copy(
                (&source.bucket, &source.key),
                (&self.buckets.media, &output),
                source.size,
                "video/mp4",
            )
            .await;
        match copied {
            Ok(()) => {}
            Err(Error::NotFound { .. }) => {
                return Ok(Outcome::SourceGone {
                    key: source.key.clone(),
                });
            }
            Err(e) => return Err(e),
        }
        let picture = info.video.as_ref();
        let update = JobUpdate::Ready {
            output_key: output.clone(),
            duration_ms: info.duration_ms,
            width: picture.map(|v| v.width),
            height: picture.map(|v| v.height),
        };
        let event_id = format!("{}:ready", source.token());
        self.report(&event_id, video, update, deadline).await?;
        self.store.delete(&source.bucket, &source.key).await?;
        Ok(Outcome::Ready {
            video_id: video.clone(),
            output_key: output,
        })
    }
}
