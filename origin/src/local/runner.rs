//! The job runner: runs queued jobs one at a time (FFmpeg uses every core anyway), reporting
//! through the handler exactly as MediaConvert reports through EventBridge.

use std::path::Path;
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;

use super::LocalOrigin;
use super::state::{JobRecord, OutputFacts, Stage, StateDir};
use super::transcoder::{fetch_source, log_transition};
use crate::clock::Clock;
use crate::edge::Edge;
use crate::error::{Error, Result};
use crate::event::{
    JobProgress, JobStateChange, OutputDetail, OutputGroupDetail, VideoDetails,
    job_state_change_json,
};
use crate::retry::Backoff;
use crate::store::ObjectStore;

/// Error codes the local runner puts in ERROR events (MediaConvert's own are 1xxx–3xxx).
pub const ERROR_CONVERSION_FAILED: i64 = 9400;
pub const ERROR_SOURCE_DELETED: i64 = 9404;
pub const ERROR_INTERNAL: i64 = 9500;

pub struct JobRunner<S, E, C> {
    pub origin: Arc<LocalOrigin<S, E, C>>,
    pub region: String,
}

impl<S: ObjectStore + 'static, E: Edge + 'static, C: Clock> JobRunner<S, E, C> {
    fn state(&self) -> &StateDir {
        &self.origin.transcoder.state
    }

    /// Resumes unfinished jobs (a restart mid-job), then serves the queue forever.
    pub async fn run(
        self,
        mut queue: mpsc::UnboundedReceiver<String>,
        requeue: mpsc::UnboundedSender<String>,
    ) {
        for record in self.state().jobs() {
            if !record.stage.is_terminal() {
                log_transition(&record, "resumed after a restart");
                let _ = requeue.send(record.spec.token.clone());
            }
        }
        while let Some(token) = queue.recv().await {
            let Err(e) = self.run_job(&token).await else {
                continue;
            };
            if !e.is_retryable() {
                // Trying again cannot help (a refused upload, a malformed key): end the job.
                eprintln!("origin-local: job {token}: {e}");
                let Some(mut record) = self.state().load(&token) else {
                    continue;
                };
                let reason = e.to_string();
                if let Err(e) = self
                    .fail(&mut record, Stage::Failed, ERROR_INTERNAL, reason)
                    .await
                {
                    eprintln!("origin-local: job {token}: reporting the failure: {e}");
                }
            } else {
                let wait = Backoff::LOCAL_JOB.delay(0);
                eprintln!("origin-local: job {token}: {e}; retrying in {wait:?}");
                let requeue = requeue.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(wait).await;
                    let _ = requeue.send(token);
                });
            }
        }
    }

    fn set_stage(&self, record: &mut JobRecord, stage: Stage, what: &str) -> Result<()> {
        record.stage = stage;
        self.state().save(record)?;
        log_transition(record, what);
        Ok(())
    }

    /// Feeds the handler a `MediaConvert Job State Change` for this job.
    async fn emit(&self, record: &JobRecord, status: &str, change: JobStateChange) -> Result<()> {
        let now = self.origin.clock.now();
        let detail = JobStateChange {
            timestamp: Some(now.unix_ms()),
            account_id: Some("000000000000".into()),
            queue: Some(format!(
                "arn:aws:mediaconvert:{}:000000000000:queues/Default",
                self.region
            )),
            job_id: record.job_id.clone(),
            status: status.into(),
            user_metadata: [
                ("videoId".to_string(), record.spec.video_id.to_string()),
                ("sourceKey".to_string(), record.spec.source.key.to_string()),
            ]
            .into(),
            ..change
        };
        let event = job_state_change_json(&self.region, &detail, now);
        self.origin.handle(event, None).await.map(|_| ())
    }

    async fn fail(
        &self,
        record: &mut JobRecord,
        stage: Stage,
        code: i64,
        message: String,
    ) -> Result<()> {
        let change = JobStateChange {
            error_code: Some(code),
            error_message: Some(message),
            ..Default::default()
        };
        self.emit(record, "ERROR", change).await?;
        self.set_stage(record, stage, "ended")?;
        let _ = tokio::fs::remove_dir_all(self.state().work(&record.spec.token)).await;
        Ok(())
    }

    /// One job, from wherever it stopped. Err: try again later (nothing final happened).
    pub async fn run_job(&self, token: &str) -> Result<()> {
        let Some(mut record) = self.state().load(token) else {
            return Ok(());
        };
        if record.stage.is_terminal() {
            return Ok(());
        }
        if record.stage != Stage::Uploaded {
            self.convert_and_upload(&mut record).await?;
            if record.stage.is_terminal() {
                return Ok(());
            }
        }
        // Uploaded: report COMPLETE; finalize (verify, delete source, `ready`) is idempotent.
        let facts = record.output.clone().unwrap_or_default();
        let output_path = format!(
            "s3://{}/{}",
            record.spec.output_bucket, record.spec.output_key
        );
        let change = JobStateChange {
            output_group_details: vec![OutputGroupDetail {
                output_details: vec![OutputDetail {
                    output_file_paths: vec![output_path],
                    duration_in_ms: facts.duration_ms,
                    video_details: Some(VideoDetails {
                        width_in_px: facts.width,
                        height_in_px: facts.height,
                    }),
                }],
                kind: Some("FILE_GROUP".into()),
            }],
            ..Default::default()
        };
        self.emit(&record, "COMPLETE", change).await?;
        self.set_stage(&mut record, Stage::Done, "done")?;
        let _ = tokio::fs::remove_dir_all(self.state().work(token)).await;
        Ok(())
    }

    async fn convert_and_upload(&self, record: &mut JobRecord) -> Result<()> {
        let store = &self.origin.store;
        let spec = record.spec.clone();
        if let Some(upload_id) = record.upload_id.take() {
            // A restart in the middle of a multipart upload: that upload is abandoned.
            store
                .abort_upload(&spec.output_bucket, &spec.output_key, &upload_id)
                .await?;
            self.state().save(record)?;
        }
        self.emit(record, "PROGRESSING", JobStateChange::default())
            .await?;
        let input = match fetch_source(store, self.state(), &spec.source).await {
            Ok(path) => path,
            Err(Error::NotFound { .. }) => {
                let message = "the source was deleted before it was converted".to_string();
                return self
                    .fail(record, Stage::Canceled, ERROR_SOURCE_DELETED, message)
                    .await;
            }
            Err(e) => return Err(e),
        };
        self.set_stage(record, Stage::Converting, "converting")?;
        // Copies never get here: the handler copies them server-side.
        let output = self.state().work(&spec.token).join("video.mp4");
        match self.convert(record, &input, &output).await {
            Ok(()) => {}
            Err(Error::InvalidInput(reason)) => {
                return self
                    .fail(record, Stage::Failed, ERROR_CONVERSION_FAILED, reason)
                    .await;
            }
            Err(e) => return Err(e),
        }
        let (duration_ms, width, height) =
            match self.origin.transcoder.ffmpeg.output_facts(&output).await {
                Ok(facts) => facts,
                Err(Error::InvalidInput(reason)) => {
                    return self
                        .fail(record, Stage::Failed, ERROR_CONVERSION_FAILED, reason)
                        .await;
                }
                Err(e) => return Err(e),
            };
        // Deleted while it was converted (the video was deleted): upload nothing.
        if store
            .head(&spec.source.bucket, &spec.source.key)
            .await?
            .is_none()
        {
            let message = "the source was deleted while it was converted".to_string();
            return self
                .fail(record, Stage::Canceled, ERROR_SOURCE_DELETED, message)
                .await;
        }
        let journal_record = Mutex::new(record.clone());
        let journal = |upload_id: &str| {
            let mut r = journal_record.lock().unwrap_or_else(|p| p.into_inner());
            r.upload_id = Some(upload_id.to_string());
            let _ = self.state().save(&r);
        };
        store
            .upload(
                &spec.output_bucket,
                &spec.output_key,
                &output,
                "video/mp4",
                &journal,
            )
            .await?;
        record.upload_id = None;
        record.output = Some(OutputFacts {
            duration_ms,
            width,
            height,
        });
        self.set_stage(record, Stage::Uploaded, "uploaded")?;
        Ok(())
    }

    /// Runs FFmpeg, sending STATUS_UPDATE events as it goes (every 10 %).
    async fn convert(&self, record: &JobRecord, input: &Path, output: &Path) -> Result<()> {
        let (tx, mut rx) = mpsc::unbounded_channel::<u8>();
        let ffmpeg = &self.origin.transcoder.ffmpeg;
        let spec = &record.spec;
        let run = ffmpeg.convert(
            spec.plan,
            input,
            output,
            spec.info.duration_ms,
            move |pct| {
                let _ = tx.send(pct);
            },
        );
        let report = async {
            let mut sent = 0u8;
            while let Some(pct) = rx.recv().await {
                if pct >= sent + 10 {
                    sent = pct - pct % 10;
                    let progress = JobProgress {
                        job_percent_complete: Some(sent),
                        current_phase: Some("TRANSCODING".into()),
                    };
                    let change = JobStateChange {
                        job_progress: Some(progress),
                        ..Default::default()
                    };
                    if let Err(e) = self.emit(record, "STATUS_UPDATE", change).await {
                        eprintln!("origin-local: progress of {}: {e}", record.job_id);
                    }
                }
            }
        };
        let (result, ()) = tokio::join!(run, report);
        result
    }
}
