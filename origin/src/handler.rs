//! The one handler: S3 `ObjectCreated` → probe → plan → job; `MediaConvert Job State
//! Change` → progress, or finalize (verify output, delete source, report), or failure.

use model::job::{JobError, JobEvent, JobUpdate};
use model::layout::{Located, locate};
use model::storage::KeyPrefix;
use model::{BucketName, ObjectKey, VideoId};
use serde::Serialize;

use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::event::{JobStateChange, OriginEvent, decode_s3_key, split_s3_url};
use crate::media::{Plan, plan};
use crate::store::ObjectStore;
use crate::transcoder::{JobSpec, Source, Transcoder};
use crate::webhook::WebhookSender;

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
    /// The source no longer exists: already converted and deleted, or the video was deleted.
    SourceGone {
        key: ObjectKey,
    },
    Progress {
        video_id: VideoId,
        progress: Option<u8>,
    },
    Ready {
        video_id: VideoId,
        output_key: ObjectKey,
    },
    Failed {
        video_id: VideoId,
        code: String,
    },
    Ignored {
        reason: String,
    },
}

/// The handler, generic over its ports.
pub struct Origin<T, S, W, C> {
    pub buckets: Buckets,
    pub transcoder: T,
    pub store: S,
    pub webhook: W,
    pub clock: C,
}

impl<T: Transcoder, S: ObjectStore, W: WebhookSender, C: Clock> Origin<T, S, W, C> {
    /// Handles one event of either kind, one outcome per record.
    pub async fn handle(&self, event: serde_json::Value) -> Result<Vec<Outcome>> {
        match OriginEvent::from_value(event)? {
            OriginEvent::S3(s3) => {
                let mut outcomes = Vec::with_capacity(s3.records.len());
                for record in &s3.records {
                    let outcome = self.object_created(record).await?;
                    log_outcome(&outcome);
                    outcomes.push(outcome);
                }
                Ok(outcomes)
            }
            OriginEvent::JobStateChange(change) => {
                let outcome = self.job_state_change(&change.detail).await?;
                log_outcome(&outcome);
                Ok(vec![outcome])
            }
        }
    }

    async fn object_created(
        &self,
        record: &aws_lambda_events::event::s3::S3EventRecord,
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
        let token = source.token();

        let info = match self.transcoder.probe(&source).await {
            Ok(info) => info,
            // Converted and deleted already (a late duplicate), or the video was deleted:
            // nothing to do, and nothing to report (it would undo a `ready`).
            Err(Error::NotFound { .. }) => return Ok(Outcome::SourceGone { key: source.key }),
            Err(Error::InvalidInput(reason)) => {
                return self
                    .report_failure(&format!("{token}:failed"), &video, "invalid_input", &reason)
                    .await;
            }
            Err(e) => return Err(e),
        };
        let plan = plan(&info);
        let spec = JobSpec {
            token,
            output_key: ObjectKey::mp4(&video),
            video_id: video,
            source,
            info,
            plan,
            output_bucket: self.buckets.media.clone(),
        };
        let job_id = self.transcoder.submit(&spec).await?;
        Ok(Outcome::Submitted {
            video_id: spec.video_id,
            job_id,
            plan,
        })
    }

    async fn job_state_change(&self, detail: &JobStateChange) -> Result<Outcome> {
        let (Some(video_id), Some(source_key)) = (
            detail.user_metadata.get("videoId"),
            detail.user_metadata.get("sourceKey"),
        ) else {
            return Ok(Outcome::Ignored {
                reason: format!("job {} is not one of ours", detail.job_id),
            });
        };
        let video = VideoId::parse(video_id)
            .map_err(|e| Error::BadEvent(format!("video id {video_id:?}: {e}")))?;
        let source_key = ObjectKey::parse(source_key)
            .map_err(|e| Error::BadEvent(format!("source key {source_key:?}: {e}")))?;
        let job = &detail.job_id;
        match detail.status.as_str() {
            "PROGRESSING" | "STATUS_UPDATE" => {
                let progress = detail
                    .job_progress
                    .as_ref()
                    .and_then(|p| p.job_percent_complete)
                    .map(|p| p.min(100));
                let event_id = match progress {
                    Some(p) => format!("{job}:progress:{p}"),
                    None => format!("{job}:progressing"),
                };
                self.report(&event_id, &video, JobUpdate::Processing { progress })
                    .await?;
                Ok(Outcome::Progress {
                    video_id: video,
                    progress,
                })
            }
            "COMPLETE" => self.finalize(detail, video, &source_key).await,
            "ERROR" => {
                let code = detail.error_code.map_or_else(
                    || "mediaconvert_error".into(),
                    |c| format!("mediaconvert_{c}"),
                );
                let message = detail
                    .error_message
                    .clone()
                    .unwrap_or_else(|| "the conversion failed".into());
                self.report_failure(&format!("{job}:failed"), &video, &code, &message)
                    .await
            }
            "CANCELED" => {
                self.report_failure(
                    &format!("{job}:failed"),
                    &video,
                    "job_canceled",
                    "the conversion job was canceled",
                )
                .await
            }
            other => Ok(Outcome::Ignored {
                reason: format!("job {job} status {other}"),
            }),
        }
    }

    /// COMPLETE: the output must exist and be non-empty; then the source goes, then the edge
    /// hears `ready`. Every step is idempotent, so a redelivered event repeats harmlessly.
    async fn finalize(
        &self,
        detail: &JobStateChange,
        video: VideoId,
        source_key: &ObjectKey,
    ) -> Result<Outcome> {
        let job = &detail.job_id;
        let failed = format!("{job}:failed");
        let output = detail
            .output_group_details
            .iter()
            .flat_map(|g| &g.output_details)
            .next();
        let path = output.and_then(|o| o.output_file_paths.first());
        let outputs = KeyPrefix::outputs(&video);
        let target = path
            .and_then(|p| split_s3_url(p))
            .filter(|(bucket, _)| *bucket == self.buckets.media.as_str())
            .and_then(|(_, key)| ObjectKey::parse(key).ok())
            .filter(|key| outputs.relative(key).is_some());
        let Some(output_key) = target else {
            let message = format!(
                "job {job} reported no output under s3://{}/{outputs}: {path:?}",
                self.buckets.media
            );
            return self
                .report_failure(&failed, &video, "output_missing", &message)
                .await;
        };
        match self.store.head(&self.buckets.media, &output_key).await? {
            Some(meta) if meta.size > 0 => {}
            found => {
                let what = if found.is_some() {
                    "is empty"
                } else {
                    "does not exist"
                };
                let message = format!("the output s3://{}/{output_key} {what}", self.buckets.media);
                return self
                    .report_failure(&failed, &video, "output_missing", &message)
                    .await;
            }
        }
        self.store
            .delete(&self.buckets.incoming, source_key)
            .await?;
        let details = output.and_then(|o| o.video_details.as_ref());
        let update = JobUpdate::Ready {
            output_key: output_key.clone(),
            duration_ms: output.and_then(|o| o.duration_in_ms),
            width: details.and_then(|v| v.width_in_px),
            height: details.and_then(|v| v.height_in_px),
        };
        self.report(&format!("{job}:ready"), &video, update).await?;
        Ok(Outcome::Ready {
            video_id: video,
            output_key,
        })
    }

    /// Tells the edge.
    async fn report(&self, event_id: &str, video: &VideoId, update: JobUpdate) -> Result<()> {
        let event = JobEvent {
            event_id: event_id.into(),
            video_id: video.clone(),
            update,
            occurred_at: Some(self.clock.now()),
        };
        self.webhook.send(&event).await
    }

    /// A conversion that cannot succeed: the video fails with the reason, the source stays.
    async fn report_failure(
        &self,
        event_id: &str,
        video: &VideoId,
        code: &str,
        message: &str,
    ) -> Result<Outcome> {
        let error = JobError {
            code: code.into(),
            message: message.into(),
        };
        self.report(event_id, video, JobUpdate::Failed { error })
            .await?;
        Ok(Outcome::Failed {
            video_id: video.clone(),
            code: code.into(),
        })
    }
}

fn log_outcome(outcome: &Outcome) {
    println!(
        "origin: {}",
        serde_json::to_string(outcome).unwrap_or_default()
    );
}
