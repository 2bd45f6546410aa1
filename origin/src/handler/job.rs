//! A MediaConvert job changed state. Its metadata says what it makes: the MP4 and the
//! streaming set, the MP4 alone, or the streaming set alone. Progress goes to the edge as
//! the video's or as its streaming set's; a COMPLETE job's outputs are checked before they
//! are reported; ERROR and CANCELED fail the video, or only its streaming set when the MP4
//! plays already. Event ids are the job's and the kind's, so a redelivered event is a no-op.

use model::job::{JobUpdate, Streams, StreamsUpdate};
use model::{ObjectKey, VideoId};

use super::{Ends, Origin, Outcome, TOO_LONG, Upload};
use crate::clock::Clock;
use crate::edge::{Deadline, Edge};
use crate::error::{Error, Result};
use crate::event::{JobStateChange, OutputDetail};
use crate::store::ObjectStore;
use crate::transcoder::{JobMetadata, Makes, Source, StreamsPlan, Transcoder};

/// Where a finished MP4's streaming set stands.
enum StreamsAfter {
    /// This job made it (`Err`: what is missing).
    Made(std::result::Result<Streams, String>),
    /// Its own job follows (`Err`: why none can).
    Next(std::result::Result<String, String>),
}

impl<T: Transcoder, S: ObjectStore, E: Edge, C: Clock> Origin<T, S, E, C> {
    pub(super) async fn job_state_change(
        &self,
        detail: &JobStateChange,
        deadline: Deadline,
    ) -> Result<Outcome> {
        let Some(metadata) = JobMetadata::from_map(&detail.user_metadata)? else {
            return Ok(Outcome::Ignored {
                reason: format!("job {} is not one of ours", detail.job_id),
            });
        };
        let upload = Upload {
            video: &metadata.video_id,
            source: &metadata.source_key,
        };
        let job = &detail.job_id;
        let streams_only = metadata.makes == Makes::Streams;
        match detail.status.as_str() {
            "PROGRESSING" | "STATUS_UPDATE" => {
                let progress = detail
                    .job_progress
                    .as_ref()
                    .and_then(|p| p.job_percent_complete)
                    .map(|p| p.min(100));
                let kind = if streams_only { ":streams" } else { "" };
                let event_id = match progress {
                    Some(p) => format!("{job}{kind}:progress:{p}"),
                    None => format!("{job}{kind}:progressing"),
                };
                let update = if streams_only {
                    JobUpdate::Streams(StreamsUpdate::Processing { progress })
                } else {
                    JobUpdate::Processing { progress }
                };
                self.report(&event_id, upload, update, deadline).await?;
                Ok(Outcome::Progress {
                    video_id: metadata.video_id.clone(),
                    progress,
                })
            }
            "COMPLETE" if streams_only => self.complete_streams(detail, upload, deadline).await,
            "COMPLETE" => self.complete(detail, &metadata, deadline).await,
            "ERROR" | "CANCELED" => {
                let (code, message) = failure(detail);
                let failure = (code.as_str(), message.as_str());
                let ends = if streams_only {
                    Ends::Ladder
                } else {
                    Ends::Conversion
                };
                self.report_failure(job, upload, ends, failure, deadline)
                    .await
            }
            other => Ok(Outcome::Ignored {
                reason: format!("job {job} status {other}"),
            }),
        }
    }

    /// COMPLETE of a job that made the streaming set alone: checked and named, then
    /// reported. Every step is idempotent, so a redelivered event repeats harmlessly.
    async fn complete_streams(
        &self,
        detail: &JobStateChange,
        upload: Upload<'_>,
        deadline: Deadline,
    ) -> Result<Outcome> {
        let job = &detail.job_id;
        match self.publish_streams(upload.video, detail).await? {
            Ok(streams) => {
                let hls_key = streams.hls.clone();
                let update = JobUpdate::Streams(StreamsUpdate::Ready(streams));
                self.report(&format!("{job}:streams:ready"), upload, update, deadline)
                    .await?;
                Ok(Outcome::StreamsReady {
                    video_id: upload.video.clone(),
                    hls_key,
                })
            }
            Err(missing) => {
                let failure = ("output_missing", missing.as_str());
                self.report_failure(job, upload, Ends::Ladder, failure, deadline)
                    .await
            }
        }
    }

    /// COMPLETE of a job that made the MP4 (and the streaming set, or not): the MP4 must
    /// exist and be non-empty before the edge hears `ready`. Idempotent, as above.
    async fn complete(
        &self,
        detail: &JobStateChange,
        metadata: &JobMetadata,
        deadline: Deadline,
    ) -> Result<Outcome> {
        let job = &detail.job_id;
        let upload = Upload {
            video: &metadata.video_id,
            source: &metadata.source_key,
        };
        let output = match self.verified_mp4(upload.video, detail).await? {
            Ok(output) => output,
            Err(missing) => {
                let failure = ("output_missing", missing.as_str());
                return self
                    .report_failure(job, upload, Ends::Conversion, failure, deadline)
                    .await;
            }
        };
        // A source whose duration the probe could not tell (a container the Lambda does not
        // read) is held to the cap by its MP4's, as MediaConvert reports it: the job cannot
        // cap a duration without cutting the video short.
        if !metadata.duration_known
            && let Some(reason) = self.caps.too_long(output.duration_in_ms)
        {
            let failure = (TOO_LONG, reason.as_str());
            return self
                .report_failure(job, upload, Ends::Conversion, failure, deadline)
                .await;
        }
        // The streaming set: made by this job, or by the next one, which starts before
        // `ready` is reported (a redelivered event after `ready` could not tell).
        let streams = if metadata.makes == Makes::All {
            StreamsAfter::Made(self.publish_streams(upload.video, detail).await?)
        } else {
            StreamsAfter::Next(self.follow_mp4(metadata, job).await?)
        };
        let details = output.video_details.as_ref();
        let update = JobUpdate::Ready {
            output_key: ObjectKey::mp4(upload.video),
            duration_ms: output.duration_in_ms,
            width: details.and_then(|v| v.width_in_px),
            height: details.and_then(|v| v.height_in_px),
            streams: match &streams {
                StreamsAfter::Made(Ok(streams)) => Some(streams.clone()),
                _ => None,
            },
        };
        self.report(&format!("{job}:ready"), upload, update, deadline)
            .await?;
        match streams {
            StreamsAfter::Made(Ok(_)) => {}
            StreamsAfter::Made(Err(missing)) => {
                let failure = ("output_missing", missing.as_str());
                self.report_failure(job, upload, Ends::Ladder, failure, deadline)
                    .await?;
            }
            StreamsAfter::Next(next) => {
                self.streams_started(upload, next, job, deadline).await?;
            }
        }
        Ok(Outcome::Ready {
            video_id: upload.video.clone(),
            output_key: ObjectKey::mp4(upload.video),
        })
    }

    /// The MP4 a job reports, if it is in place under the video's folder and not empty
    /// (`Err`: why not).
    async fn verified_mp4<'d>(
        &self,
        video: &VideoId,
        detail: &'d JobStateChange,
    ) -> Result<Result<&'d OutputDetail, String>> {
        let key = ObjectKey::mp4(video);
        let url = format!("s3://{}/{key}", self.buckets.media);
        let reported = detail
            .output_group_details
            .iter()
            .flat_map(|g| &g.output_details)
            .find(|o| o.output_file_paths.contains(&url));
        let Some(output) = reported else {
            return Ok(Err(format!(
                "job {} reported no {url} among its outputs",
                detail.job_id
            )));
        };
        Ok(match self.store.head(&self.buckets.media, &key).await? {
            Some(meta) if meta.size > 0 => Ok(output),
            Some(_) => Err(format!("the output {url} is empty")),
            None => Err(format!("the output {url} does not exist")),
        })
    }

    /// After a job that made the MP4 alone (verified before): plans the streaming set from
    /// the MP4 (its picture, upright, and its audio: what the upload holds, read where the
    /// Lambda can read it) and starts its job on the original upload. `Err`: why it cannot.
    async fn follow_mp4(
        &self,
        metadata: &JobMetadata,
        job: &str,
    ) -> Result<std::result::Result<String, String>> {
        let video = &metadata.video_id;
        let (mp4, media) = (ObjectKey::mp4(video), &self.buckets.media);
        let Some(made) = self.store.head(media, &mp4).await? else {
            return Ok(Err(format!("s3://{media}/{mp4} is gone")));
        };
        let made = Source {
            bucket: media.clone(),
            key: mp4,
            etag: made.etag,
            size: made.size,
        };
        let info = match self.transcoder.probe(&made).await {
            Ok(info) => info,
            Err(Error::InvalidInput(reason)) => return Ok(Err(reason)),
            Err(e) => return Err(e),
        };
        let Some(streams) = StreamsPlan::of(&info, &self.caps) else {
            return Ok(Err("the MP4's picture size could not be read".into()));
        };
        let incoming = &self.buckets.incoming;
        let Some(upload) = self.store.head(incoming, &metadata.source_key).await? else {
            return Ok(Err("the upload is gone".into()));
        };
        let source = Source {
            bucket: incoming.clone(),
            key: metadata.source_key.clone(),
            etag: upload.etag,
            size: upload.size,
        };
        let first = metadata.token.as_deref().unwrap_or(job);
        let spec = self.streams_job(first, video, source, info, streams);
        self.transcoder.submit(&spec).await.map(Ok)
    }
}

/// A failed job's (code, message): MediaConvert's error, or the cancellation.
fn failure(detail: &JobStateChange) -> (String, String) {
    if detail.status == "CANCELED" {
        return (
            "job_canceled".into(),
            "the conversion job was canceled".into(),
        );
    }
    let code = detail.error_code.map_or_else(
        || "mediaconvert_error".into(),
        |c| format!("mediaconvert_{c}"),
    );
    let message = detail
        .error_message
        .clone()
        .unwrap_or_else(|| "the conversion failed".into());
    (code, message)
}
