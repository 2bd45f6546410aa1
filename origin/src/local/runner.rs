//! The job runner: runs queued jobs one at a time (FFmpeg uses every core anyway), each as
//! one FFmpeg run that makes every output ([`crate::ffmpeg::job`]), reporting through the
//! handler exactly as MediaConvert reports through EventBridge.

use std::path::Path;
use std::sync::{Arc, Mutex};

use model::layout::MP4_NAME;
use tokio::sync::mpsc;

use super::LocalOrigin;
use super::outputs::{finish_streams, reported_groups, upload_all};
use super::state::{JobRecord, OutputFacts, PendingUpload, Stage, StateDir};
use super::transcoder::{fetch_source, log_transition};
use crate::clock::Clock;
use crate::edge::Edge;
use crate::error::{Error, Result};
use crate::event::{JobProgress, JobStateChange, job_state_change_json};
use crate::ffmpeg::job::JobRun;
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
            user_metadata: record
                .spec
                .metadata()
                .to_pairs()
                .into_iter()
                .map(|(name, value)| (name.to_string(), value))
                .collect(),
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
        self.remove_work(record).await;
        Ok(())
    }

    /// The job's work directory, and the source's download (probed there before the job).
    async fn remove_work(&self, record: &JobRecord) {
        for token in [&record.spec.token, &record.spec.source.token()] {
            let _ = tokio::fs::remove_dir_all(self.state().work(token)).await;
        }
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
        // Uploaded: report COMPLETE; finalize (verify, report, delete source) is idempotent.
        let facts = record.output.clone().unwrap_or_default();
        let change = JobStateChange {
            output_group_details: reported_groups(&record.spec, &facts),
            ..Default::default()
        };
        self.emit(&record, "COMPLETE", change).await?;
        self.set_stage(&mut record, Stage::Done, "done")?;
        self.remove_work(&record).await;
        Ok(())
    }

    async fn convert_and_upload(&self, record: &mut JobRecord) -> Result<()> {
        let store = &self.origin.store;
        let spec = record.spec.clone();
        if let Some(pending) = record.upload.take() {
            // A restart in the middle of a multipart upload: that upload is abandoned.
            store
                .abort_upload(&spec.output_bucket, &pending.key, &pending.upload_id)
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
        // Laid out as `videos/{id}/`; whatever an interrupted run left is made again.
        let out = self.state().work(&spec.token).join("out");
        let _ = tokio::fs::remove_dir_all(&out).await;
        tokio::fs::create_dir_all(&out).await?;
        let made = match self.convert(record, &input, &out).await {
            Ok(()) => self.facts(record, &out).await,
            Err(e) => Err(e),
        };
        let facts = match made {
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
        let journal = |pending: Option<PendingUpload>| {
            let mut r = journal_record.lock().unwrap_or_else(|p| p.into_inner());
            if r.upload != pending {
                r.upload = pending;
                let _ = self.state().save(&r);
            }
        };
        upload_all(store, &spec, &out, &journal).await?;
        record.upload = None;
        record.output = Some(facts);
        self.set_stage(record, Stage::Uploaded, "uploaded")?;
        Ok(())
    }

    /// What MediaConvert would report of the MP4 (none when the job makes none), once the
    /// streaming set is finished.
    async fn facts(&self, record: &JobRecord, out: &Path) -> Result<OutputFacts> {
        finish_streams(&record.spec, out).await?;
        if record.spec.mp4.is_none() {
            return Ok(OutputFacts::default());
        }
        let ffmpeg = &self.origin.transcoder.ffmpeg;
        let (duration_ms, width, height) = ffmpeg.output_facts(&out.join(MP4_NAME)).await?;
        Ok(OutputFacts {
            duration_ms,
            width,
            height,
        })
    }

    /// Runs FFmpeg, sending STATUS_UPDATE events as it goes (every 10 %).
    async fn convert(&self, record: &JobRecord, input: &Path, out: &Path) -> Result<()> {
        let (tx, mut rx) = mpsc::unbounded_channel::<u8>();
        let ffmpeg = &self.origin.transcoder.ffmpeg;
        let spec = &record.spec;
        let args = ffmpeg.job_args(&JobRun {
            input,
            dir: out,
            mp4: spec.mp4.as_ref().map(|_| spec.plan),
            scaled_to: spec.scaled_to,
            streams: spec.streams.as_ref(),
        });
        let run = ffmpeg.run(&args, spec.info.duration_ms, move |pct| {
            let _ = tx.send(pct);
        });
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
