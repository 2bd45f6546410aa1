//! A MediaConvert job changed state: progress goes to the edge; a COMPLETE job is verified
//! and reported ready before its source is deleted; ERROR and CANCELED fail the video and
//! keep the source.

use model::job::JobUpdate;
use model::storage::KeyPrefix;
use model::{ObjectKey, VideoId};

use super::{Origin, Outcome};
use crate::clock::Clock;
use crate::edge::{Deadline, Edge};
use crate::error::{Error, Result};
use crate::event::{JobStateChange, split_s3_url};
use crate::store::ObjectStore;
use crate::transcoder::Transcoder;

impl<T: Transcoder, S: ObjectStore, E: Edge, C: Clock> Origin<T, S, E, C> {
    pub(super) async fn job_state_change(
        &self,
        detail: &JobStateChange,
        deadline: Deadline,
    ) -> Result<Outcome> {
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
                let update = JobUpdate::Processing { progress };
                self.report(&event_id, &video, update, deadline).await?;
                Ok(Outcome::Progress {
                    video_id: video,
                    progress,
                })
            }
            "COMPLETE" => self.finalize(detail, video, &source_key, deadline).await,
            "ERROR" => {
                let code = detail.error_code.map_or_else(
                    || "mediaconvert_error".into(),
                    |c| format!("mediaconvert_{c}"),
                );
                let message = detail
                    .error_message
                    .clone()
                    .unwrap_or_else(|| "the conversion failed".into());
                let event_id = format!("{job}:failed");
                self.report_failure(&event_id, &video, (&code, &message), deadline)
                    .await
            }
            "CANCELED" => {
                let canceled = ("job_canceled", "the conversion job was canceled");
                self.report_failure(&format!("{job}:failed"), &video, canceled, deadline)
                    .await
            }
            other => Ok(Outcome::Ignored {
                reason: format!("job {job} status {other}"),
            }),
        }
    }

    /// COMPLETE: the output must exist and be non-empty; then the edge hears `ready`, and
    /// only once it has acknowledged does the source go, so a lost report can be replayed
    /// from a source that still exists. Every step is idempotent, so a redelivered event
    /// repeats harmlessly.
    async fn finalize(
        &self,
        detail: &JobStateChange,
        video: VideoId,
        source_key: &ObjectKey,
        deadline: Deadline,
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
            let missing = ("output_missing", message.as_str());
            return self
                .report_failure(&failed, &video, missing, deadline)
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
                let missing = ("output_missing", message.as_str());
                return self
                    .report_failure(&failed, &video, missing, deadline)
                    .await;
            }
        }
        let details = output.and_then(|o| o.video_details.as_ref());
        let update = JobUpdate::Ready {
            output_key: output_key.clone(),
            duration_ms: output.and_then(|o| o.duration_in_ms),
            width: details.and_then(|v| v.width_in_px),
            height: details.and_then(|v| v.height_in_px),
        };
        self.report(&format!("{job}:ready"), &video, update, deadline)
            .await?;
        self.store
            .delete(&self.buckets.incoming, source_key)
            .await?;
        Ok(Outcome::Ready {
            video_id: video,
            output_key,
        })
    }
}
