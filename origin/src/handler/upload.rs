//! An upload landed: claim it from the edge (only uploads the catalog expects are converted,
//! and each once), learn what it holds, then either copy it as it is (an MP4 browsers play:
//! no job, playable at once, its streaming set made by a job of its own) or start the job
//! that makes the MP4 and the streaming set.

use aws_lambda_events::event::s3::S3EventRecord;
use model::claim::{Claim, ClaimAnswer};
use model::job::{JobUpdate, StreamsUpdate};
use model::layout::{Located, content_type, locate};
use model::{ObjectKey, VideoId};

use super::{Ends, Origin, Outcome, TOO_LONG, Upload};
use crate::clock::Clock;
use crate::edge::{Deadline, Edge};
use crate::error::{Error, Result};
use crate::event::decode_s3_key;
use crate::media::{MediaInfo, Plan, decide, plan};
use crate::store::ObjectStore;
use crate::transcoder::{JobSpec, Source, StreamsPlan, Transcoder, streams_token};

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

        let upload = Upload {
            video: &video,
            source: &source.key,
        };
        // What it holds, and what becomes of it; `Err`: why it cannot be converted.
        let decided = match self.transcoder.probe(&source).await {
            Ok(info) => match decide(&info, &self.caps) {
                Ok(conversion) => Ok((info, conversion)),
                Err(reason) => Err((TOO_LONG, reason)),
            },
            // Converted and deleted already, or the video was deleted: nothing to do, and
            // nothing to report (it would undo a `ready`).
            Err(Error::NotFound { .. }) => return Ok(Outcome::SourceGone { key: source.key }),
            Err(Error::InvalidInput(reason)) => Err(("invalid_input", reason)),
            Err(e) => return Err(e),
        };
        let (info, conversion) = match decided {
            Ok(decided) => decided,
            Err((code, reason)) => {
                let failure = (code, reason.as_str());
                return self
                    .report_failure(&claim.token, upload, Ends::Conversion, failure, deadline)
                    .await;
            }
        };
        let plan = conversion.plan;
        if plan == Plan::Copy {
            return self.publish_copy(&video, &source, &info, deadline).await;
        }
        // A transcode makes the MP4 and the streaming set in one job. A remux makes the MP4
        // alone first (seconds: nothing is encoded), so the video plays while its ladder is
        // encoded by the job that follows, as after a copy; so does a transcode whose
        // picture's size is not known yet, the set sized from its MP4 (see `job`).
        let streams = match plan {
            Plan::Remux => None,
            _ => StreamsPlan::of(&info, &self.caps),
        };
        let spec = JobSpec {
            token: claim.token.clone(),
            mp4: Some(ObjectKey::mp4(&video)),
            streams,
            video_id: video,
            source,
            info,
            plan,
            scaled_to: conversion.scaled_to,
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
    /// playable at once), its streaming set's job started, then reported ready. The job
    /// starts first: once the video is ready, a redelivered notification finds the claim
    /// closed and could not start it again.
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
                content_type(&output),
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
        let token = source.token();
        let next = match StreamsPlan::of(info, &self.caps) {
            Some(streams) => {
                let job = self.streams_job(&token, video, source.clone(), info.clone(), streams);
                Ok(self.transcoder.submit(&job).await?)
            }
            None => Err("the picture's size could not be read".to_string()),
        };
        let upright = info.video.as_ref().and_then(|v| v.upright());
        let update = JobUpdate::Ready {
            output_key: output.clone(),
            duration_ms: info.duration_ms,
            width: upright.map(|(w, _)| w),
            height: upright.map(|(_, h)| h),
            streams: None,
        };
        let upload = Upload {
            video,
            source: &source.key,
        };
        self.report(&format!("{token}:ready"), upload, update, deadline)
            .await?;
        self.streams_started(upload, next, &token, deadline).await?;
        Ok(Outcome::Ready {
            video_id: video.clone(),
            output_key: output,
        })
    }

    /// The job that makes a video's streaming set alone, after `first` (the copy's or the
    /// MP4 job's token) put its MP4 in place.
    pub(super) fn streams_job(
        &self,
        first: &str,
        video: &VideoId,
        source: Source,
        info: MediaInfo,
        streams: StreamsPlan,
    ) -> JobSpec {
        JobSpec {
            token: streams_token(first),
            video_id: video.clone(),
            plan: plan(&info),
            scaled_to: None,
            source,
            info,
            output_bucket: self.buckets.media.clone(),
            mp4: None,
            streams: Some(streams),
        }
    }

    /// Tells the edge that the streaming set of a video that plays is on its way (`next`: its
    /// job), or that none is coming, and why (`first` names the event: the MP4's job or copy).
    pub(super) async fn streams_started(
        &self,
        upload: Upload<'_>,
        next: std::result::Result<String, String>,
        first: &str,
        deadline: Deadline,
    ) -> Result<()> {
        match next {
            Ok(job) => {
                let update = JobUpdate::Streams(StreamsUpdate::Processing { progress: None });
                self.report(
                    &format!("{job}:streams:progressing"),
                    upload,
                    update,
                    deadline,
                )
                .await?;
            }
            Err(message) => {
                let failure = ("no_streams", message.as_str());
                self.report_failure(first, upload, Ends::Ladder, failure, deadline)
                    .await?;
            }
        }
        Ok(())
    }
}
