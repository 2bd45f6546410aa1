//! The one handler: S3 `ObjectCreated` → probe → plan → job; `MediaConvert Job State
//! Change` → progress, or finalize (verify output, delete source, report), or failure.

use serde::Serialize;

use crate::clock::{Clock, rfc3339};
use crate::error::{Error, Result};
use crate::event::{JobStateChange, OriginEvent, decode_s3_key, split_s3_url};
use crate::media::{Plan, plan};
use crate::store::ObjectStore;
use crate::transcoder::{JobSpec, Source, Transcoder, request_token};
use crate::webhook::{JobError, JobEvent, JobStatus, WebhookSender};

/// The two buckets of the platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Buckets {
    pub incoming: String,
    pub media: String,
}

/// What one record of an event led to (logged, and returned by the Lambda).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    Submitted {
        video_id: String,
        job_id: String,
        plan: Plan,
    },
    /// The source no longer exists: already converted and deleted, or the video was deleted.
    SourceGone {
        key: String,
    },
    Progress {
        video_id: String,
        progress: Option<u8>,
    },
    Ready {
        video_id: String,
        output_key: String,
    },
    Failed {
        video_id: String,
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

/// `uploads/{videoId}/source.{ext}` → the video id (validated).
pub fn video_of_source_key(key: &str) -> Option<signer::ids::VideoId> {
    let (id, file) = key.strip_prefix("uploads/")?.split_once('/')?;
    let ext = file.strip_prefix("source.")?;
    if ext.is_empty() || ext.contains('/') {
        return None;
    }
    signer::ids::VideoId::parse(id).ok()
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
        let bucket = record.s3.bucket.name.clone().unwrap_or_default();
        if bucket != self.buckets.incoming {
            return ignored(format!("bucket {bucket:?} is not the incoming bucket"));
        }
        let Some(raw_key) = record.s3.object.key.as_deref() else {
            return Err(Error::BadEvent("S3 record without an object key".into()));
        };
        let key = decode_s3_key(raw_key)?;
        let Some(video_id) = video_of_source_key(&key) else {
            return ignored(format!("key {key:?} is not an upload source"));
        };
        let video_id = video_id.as_str().to_string();
        let etag = record
            .s3
            .object
            .e_tag
            .clone()
            .unwrap_or_default()
            .trim_matches('"')
            .to_string();
        let size = record.s3.object.size.unwrap_or(0).max(0) as u64;
        let token = request_token(&bucket, &key, &etag);
        let source = Source {
            bucket,
            key,
            etag,
            size,
        };

        let info = match self.transcoder.probe(&source).await {
            Ok(info) => info,
            // Converted and deleted already (a late duplicate), or the video was deleted:
            // nothing to do, and nothing to report (it would undo a `ready`).
            Err(Error::NotFound { key, .. }) => return Ok(Outcome::SourceGone { key }),
            Err(Error::InvalidInput(reason)) => {
                let event = self.failed(
                    &format!("{token}:failed"),
                    &video_id,
                    "invalid_input",
                    &reason,
                );
                self.webhook.send(&event).await?;
                return Ok(Outcome::Failed {
                    video_id,
                    code: "invalid_input".into(),
                });
            }
            Err(e) => return Err(e),
        };
        let plan = plan(&info);
        let output_key = signer::ids::ObjectKey::output(&video_id_typed(&video_id)?, "video.mp4")
            .map_err(|e| Error::BadEvent(format!("output key: {e}")))?
            .as_str()
            .to_string();
        let spec = JobSpec {
            token,
            video_id: video_id.clone(),
            source,
            info,
            plan,
            output_bucket: self.buckets.media.clone(),
            output_key,
        };
        let job_id = self.transcoder.submit(&spec).await?;
        Ok(Outcome::Submitted {
            video_id,
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
        let video_id = video_id_typed(video_id)?.as_str().to_string();
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
                let event = JobEvent {
                    progress,
                    ..self.event(&event_id, &video_id, JobStatus::Processing)
                };
                self.webhook.send(&event).await?;
                Ok(Outcome::Progress { video_id, progress })
            }
            "COMPLETE" => self.finalize(detail, &video_id, source_key).await,
            "ERROR" => {
                let code = detail.error_code.map_or_else(
                    || "mediaconvert_error".into(),
                    |c| format!("mediaconvert_{c}"),
                );
                let message = detail
                    .error_message
                    .clone()
                    .unwrap_or_else(|| "the conversion failed".into());
                self.webhook
                    .send(&self.failed(&format!("{job}:failed"), &video_id, &code, &message))
                    .await?;
                Ok(Outcome::Failed { video_id, code })
            }
            "CANCELED" => {
                let event = self.failed(
                    &format!("{job}:failed"),
                    &video_id,
                    "job_canceled",
                    "the conversion job was canceled",
                );
                self.webhook.send(&event).await?;
                Ok(Outcome::Failed {
                    video_id,
                    code: "job_canceled".into(),
                })
            }
            other => Ok(Outcome::Ignored {
                reason: format!("job {job} status {other}"),
            }),
        }
    }

    /// A job that claims success without a usable output: the video fails, the source stays.
    async fn output_missing(&self, job: &str, video_id: &str, message: &str) -> Result<Outcome> {
        self.webhook
            .send(&self.failed(
                &format!("{job}:failed"),
                video_id,
                "output_missing",
                message,
            ))
            .await?;
        Ok(Outcome::Failed {
            video_id: video_id.into(),
            code: "output_missing".into(),
        })
    }

    /// COMPLETE: the output must exist and be non-empty; then the source goes, then the edge
    /// hears `ready`. Every step is idempotent, so a redelivered event repeats harmlessly.
    async fn finalize(
        &self,
        detail: &JobStateChange,
        video_id: &str,
        source_key: &str,
    ) -> Result<Outcome> {
        let job = &detail.job_id;
        let output = detail
            .output_group_details
            .iter()
            .flat_map(|g| &g.output_details)
            .next();
        let path = output.and_then(|o| o.output_file_paths.first());
        let expected_prefix = format!("videos/{video_id}/");
        let target = path.and_then(|p| split_s3_url(p)).filter(|(bucket, key)| {
            *bucket == self.buckets.media && key.starts_with(&expected_prefix)
        });
        let Some((bucket, output_key)) = target else {
            let message = format!(
                "job {job} reported no output under s3://{}/{expected_prefix}: {path:?}",
                self.buckets.media
            );
            return self.output_missing(job, video_id, &message).await;
        };
        match self.store.head(bucket, output_key).await? {
            Some(meta) if meta.size > 0 => {}
            found => {
                let what = if found.is_some() {
                    "is empty"
                } else {
                    "does not exist"
                };
                let message = format!("the output s3://{bucket}/{output_key} {what}");
                return self.output_missing(job, video_id, &message).await;
            }
        }
        self.store
            .delete(&self.buckets.incoming, source_key)
            .await?;
        let video = output.and_then(|o| o.video_details.as_ref());
        let event = JobEvent {
            duration_ms: output.and_then(|o| o.duration_in_ms),
            width: video.and_then(|v| v.width_in_px),
            height: video.and_then(|v| v.height_in_px),
            output_key: Some(output_key.to_string()),
            ..self.event(&format!("{job}:ready"), video_id, JobStatus::Ready)
        };
        self.webhook.send(&event).await?;
        Ok(Outcome::Ready {
            video_id: video_id.into(),
            output_key: output_key.into(),
        })
    }

    fn event(&self, event_id: &str, video_id: &str, status: JobStatus) -> JobEvent {
        JobEvent {
            event_id: event_id.into(),
            video_id: video_id.into(),
            status,
            progress: None,
            duration_ms: None,
            width: None,
            height: None,
            output_key: None,
            error: None,
            occurred_at: rfc3339(self.clock.now()),
        }
    }

    fn failed(&self, event_id: &str, video_id: &str, code: &str, message: &str) -> JobEvent {
        JobEvent {
            error: Some(JobError {
                code: code.into(),
                message: message.into(),
            }),
            ..self.event(event_id, video_id, JobStatus::Failed)
        }
    }
}

fn video_id_typed(id: &str) -> Result<signer::ids::VideoId> {
    signer::ids::VideoId::parse(id).map_err(|e| Error::BadEvent(format!("video id {id:?}: {e}")))
}

fn log_outcome(outcome: &Outcome) {
    println!(
        "origin: {}",
        serde_json::to_string(outcome).unwrap_or_default()
    );
}
