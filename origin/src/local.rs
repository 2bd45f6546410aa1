//! The local runner (`origin-local`, started by `cargo xtask dev`): notices new uploads in
//! SeaweedFS's incoming bucket by ListObjectsV2 polling, feeds the handler the same S3
//! notification JSON AWS sends, converts with FFmpeg in MediaConvert's place, and feeds the
//! handler `MediaConvert Job State Change` events for progress and the end of each job.
//!
//! State lives under `ORIGIN_STATE_DIR`: `jobs/<token>.json` (one per uploaded object
//! version: the idempotency record and the job's stage), `seen/<token>` (the polling
//! cursor: objects already handed to the handler), `outbox/` (job events not yet accepted
//! by the edge) and `work/<token>/` (downloads and outputs in progress).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use crate::clock::{Clock, SystemClock};
use crate::error::{Error, Result};
use crate::event::{
    JobProgress, JobStateChange, NewObject, OutputDetail, OutputGroupDetail, VideoDetails,
    job_state_change_json, s3_event_json,
};
use crate::ffmpeg::Ffmpeg;
use crate::handler::{Buckets, Origin};
use crate::media::{MediaInfo, Plan};
use crate::store::ObjectStore;
use crate::transcoder::{JobSpec, Source, Transcoder, request_token};
use crate::webhook::WebhookSender;

/// Error codes the local runner puts in ERROR events (MediaConvert's own are 1xxx–3xxx).
pub const ERROR_CONVERSION_FAILED: i64 = 9400;
pub const ERROR_SOURCE_DELETED: i64 = 9404;
pub const ERROR_INTERNAL: i64 = 9500;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Queued,
    Converting,
    /// The output is in the media bucket; only the finalize step remains.
    Uploaded,
    Done,
    Failed,
    Canceled,
}

impl Stage {
    pub fn is_terminal(self) -> bool {
        matches!(self, Stage::Done | Stage::Failed | Stage::Canceled)
    }
}

/// One job, persisted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRecord {
    pub job_id: String,
    pub spec: JobSpec,
    pub stage: Stage,
    /// A multipart upload in flight: aborted if the runner restarts mid-upload.
    #[serde(default)]
    pub upload_id: Option<String>,
    #[serde(default)]
    pub output: Option<OutputFacts>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputFacts {
    pub duration_ms: Option<u64>,
    pub width: Option<u32>,
    pub height: Option<u32>,
}

/// The state directory.
#[derive(Debug)]
pub struct StateDir {
    root: PathBuf,
    lock: Mutex<()>,
}

impl StateDir {
    pub fn open(root: &Path) -> std::io::Result<StateDir> {
        for sub in ["jobs", "seen", "outbox", "work"] {
            std::fs::create_dir_all(root.join(sub))?;
        }
        Ok(StateDir {
            root: root.to_path_buf(),
            lock: Mutex::new(()),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn outbox(&self) -> PathBuf {
        self.root.join("outbox")
    }

    pub fn work(&self, token: &str) -> PathBuf {
        self.root.join("work").join(token)
    }

    fn job_path(&self, token: &str) -> PathBuf {
        self.root.join("jobs").join(format!("{token}.json"))
    }

    pub fn load(&self, token: &str) -> Option<JobRecord> {
        let bytes = std::fs::read(self.job_path(token)).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// Writes atomically (temp file + rename).
    pub fn save(&self, record: &JobRecord) -> std::io::Result<()> {
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let path = self.job_path(&record.spec.token);
        let tmp = path.with_extension("tmp");
        std::fs::write(
            &tmp,
            serde_json::to_vec_pretty(record).expect("a job record serialises"),
        )?;
        std::fs::rename(tmp, path)
    }

    /// Creates the record unless one exists; returns the record that is now stored.
    pub fn create(&self, record: JobRecord) -> std::io::Result<(JobRecord, bool)> {
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(existing) = self.load(&record.spec.token) {
            return Ok((existing, false));
        }
        let path = self.job_path(&record.spec.token);
        let tmp = path.with_extension("tmp");
        std::fs::write(
            &tmp,
            serde_json::to_vec_pretty(&record).expect("a job record serialises"),
        )?;
        std::fs::rename(tmp, path)?;
        Ok((record, true))
    }

    /// Every job record, oldest first.
    pub fn jobs(&self) -> Vec<JobRecord> {
        let mut entries: Vec<(SystemTime, JobRecord)> = std::fs::read_dir(self.root.join("jobs"))
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok())
            .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
            .filter_map(|e| {
                let modified = e
                    .metadata()
                    .ok()?
                    .created()
                    .or_else(|_| e.metadata()?.modified())
                    .ok()?;
                let record = serde_json::from_slice(&std::fs::read(e.path()).ok()?).ok()?;
                Some((modified, record))
            })
            .collect();
        entries.sort_by_key(|(t, _)| *t);
        entries.into_iter().map(|(_, r)| r).collect()
    }

    pub fn seen(&self, token: &str) -> bool {
        self.root.join("seen").join(token).exists()
    }

    pub fn mark_seen(&self, token: &str) -> std::io::Result<()> {
        std::fs::write(self.root.join("seen").join(token), b"")
    }
}

/// The FFmpeg [`Transcoder`]: probing downloads the source and runs ffprobe; submitting
/// records the job (once per token) and queues it for [`Worker`].
pub struct FfmpegTranscoder<S> {
    pub store: S,
    pub ffmpeg: Ffmpeg,
    pub state: Arc<StateDir>,
    queue: mpsc::UnboundedSender<String>,
}

impl<S> FfmpegTranscoder<S> {
    pub fn new(
        store: S,
        ffmpeg: Ffmpeg,
        state: Arc<StateDir>,
    ) -> (Self, mpsc::UnboundedReceiver<String>) {
        let (queue, rx) = mpsc::unbounded_channel();
        (
            FfmpegTranscoder {
                store,
                ffmpeg,
                state,
                queue,
            },
            rx,
        )
    }
}

fn source_file(state: &StateDir, source: &Source) -> PathBuf {
    let token = request_token(&source.bucket, &source.key, &source.etag);
    let ext = Path::new(&source.key)
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("bin");
    state.work(&token).join(format!("source.{ext}"))
}

/// Downloads the source into the job's work directory unless it is there already.
async fn fetch_source<S: ObjectStore>(
    store: &S,
    state: &StateDir,
    source: &Source,
) -> Result<PathBuf> {
    let path = source_file(state, source);
    if tokio::fs::metadata(&path)
        .await
        .is_ok_and(|m| m.len() == source.size)
    {
        return Ok(path);
    }
    tokio::fs::create_dir_all(path.parent().expect("a work dir")).await?;
    store.download(&source.bucket, &source.key, &path).await?;
    Ok(path)
}

impl<S: ObjectStore> Transcoder for FfmpegTranscoder<S> {
    async fn probe(&self, source: &Source) -> Result<MediaInfo> {
        let token = request_token(&source.bucket, &source.key, &source.etag);
        if let Some(record) = self.state.load(&token) {
            return Ok(record.spec.info);
        }
        let path = fetch_source(&self.store, &self.state, source).await?;
        let probed = self.ffmpeg.probe(&path, source.size).await;
        if probed.is_err() {
            let _ = tokio::fs::remove_dir_all(self.state.work(&token)).await;
        }
        probed
    }

    async fn submit(&self, job: &JobSpec) -> Result<String> {
        let record = JobRecord {
            job_id: format!("local-{}", &job.token[..20]),
            spec: job.clone(),
            stage: Stage::Queued,
            upload_id: None,
            output: None,
        };
        let (record, created) = self.state.create(record)?;
        if created {
            log_transition(&record, "queued");
            let _ = self.queue.send(record.spec.token.clone());
        }
        Ok(record.job_id)
    }
}

pub fn log_transition(record: &JobRecord, what: &str) {
    println!(
        "origin-local: job {} video {} {:?} {what}",
        record.job_id, record.spec.video_id, record.spec.plan
    );
}

pub type LocalOrigin<S, W, C> = Origin<FfmpegTranscoder<S>, S, W, C>;

/// Runs queued jobs one at a time (FFmpeg uses every core anyway), reporting through the
/// handler exactly as MediaConvert reports through EventBridge.
pub struct Worker<S, W, C> {
    pub origin: Arc<LocalOrigin<S, W, C>>,
    pub region: String,
}

impl<S: ObjectStore + 'static, W: WebhookSender + 'static, C: Clock> Worker<S, W, C> {
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
                eprintln!("origin-local: job {token}: {e}; retrying in 5 s");
                let requeue = requeue.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_secs(5)).await;
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

    async fn emit(&self, record: &JobRecord, status: &str, change: JobStateChange) -> Result<()> {
        let detail = JobStateChange {
            timestamp: Some(
                self.origin
                    .clock
                    .now()
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .unwrap_or_default()
                    .as_millis() as i64,
            ),
            account_id: Some("000000000000".into()),
            queue: Some(format!(
                "arn:aws:mediaconvert:{}:000000000000:queues/Default",
                self.region
            )),
            job_id: record.job_id.clone(),
            status: status.into(),
            user_metadata: [
                ("videoId".to_string(), record.spec.video_id.clone()),
                ("sourceKey".to_string(), record.spec.source.key.clone()),
            ]
            .into(),
            ..change
        };
        let event = job_state_change_json(&self.region, &detail, self.origin.clock.now());
        self.origin.handle(event).await.map(|_| ())
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
        let facts = record.output.clone().unwrap_or(OutputFacts {
            duration_ms: None,
            width: None,
            height: None,
        });
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
        let output = match spec.plan {
            Plan::Copy => input.clone(),
            Plan::Remux | Plan::Transcode => {
                let output = self.state().work(&spec.token).join("video.mp4");
                match self.convert(record, &input, &output).await {
                    Ok(()) => output,
                    Err(Error::InvalidInput(reason)) => {
                        return self
                            .fail(record, Stage::Failed, ERROR_CONVERSION_FAILED, reason)
                            .await;
                    }
                    Err(e) => return Err(e),
                }
            }
        };
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

/// One poll: every object under `uploads/` not handed to the handler yet becomes an S3
/// notification. Returns how many were handed over.
pub async fn poll_once<S: ObjectStore, W: WebhookSender, C: Clock>(
    origin: &LocalOrigin<S, W, C>,
    region: &str,
) -> Result<usize> {
    let state = &origin.transcoder.state;
    let bucket = &origin.buckets.incoming;
    let mut handed = 0;
    for object in origin.store.list(bucket, "uploads/").await? {
        let token = request_token(bucket, &object.key, &object.etag);
        if state.seen(&token) {
            continue;
        }
        let new = NewObject {
            region,
            bucket,
            key: &object.key,
            size: object.size,
            etag: &object.etag,
        };
        let event = s3_event_json(&new, origin.clock.now());
        match origin.handle(event).await {
            Ok(_) => state.mark_seen(&token)?,
            Err(e) if e.is_retryable() => {
                eprintln!("origin-local: {}: {e}; will retry", object.key);
                continue;
            }
            Err(e) => {
                eprintln!(
                    "origin-local: {}: {e}; giving up on this object",
                    object.key
                );
                state.mark_seen(&token)?;
            }
        }
        handed += 1;
    }
    Ok(handed)
}

/// Settings of the local runner (see origin/README.md for the environment variables).
#[derive(Debug, Clone)]
pub struct LocalConfig {
    pub s3: signer::s3::S3Config,
    pub region: String,
    pub buckets: Buckets,
    pub edge_url: String,
    pub webhook_secret: Vec<u8>,
    pub state_dir: PathBuf,
    pub poll_interval: Duration,
    pub part_size: u64,
    pub ffmpeg: Ffmpeg,
}

pub type Runner = LocalOrigin<
    crate::s3::S3Store<SystemClock>,
    Arc<crate::webhook::Outbox<SystemClock>>,
    SystemClock,
>;

/// A running local pipeline; its tasks stop when this is dropped.
pub struct RunningPipeline {
    pub origin: Arc<Runner>,
    pub state: Arc<StateDir>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for RunningPipeline {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Starts the poller, the worker and the webhook outbox on the current runtime.
pub fn start(config: LocalConfig) -> Result<RunningPipeline> {
    let state = Arc::new(StateDir::open(&config.state_dir)?);
    let http = reqwest::Client::builder()
        .build()
        .map_err(|e| Error::Config(format!("HTTP client: {e}")))?;
    let mut store = crate::s3::S3Store::new(config.s3.clone(), http.clone(), SystemClock);
    store.part_size = config.part_size;
    let hook = crate::webhook::HttpWebhook::new(
        &config.edge_url,
        &config.webhook_secret,
        http,
        SystemClock,
    );
    let outbox = crate::webhook::Outbox::new(&state.outbox(), hook)?;
    let (transcoder, queue) =
        FfmpegTranscoder::new(store.clone(), config.ffmpeg.clone(), state.clone());
    let requeue = transcoder.queue.clone();
    let origin = Arc::new(Origin {
        buckets: config.buckets.clone(),
        transcoder,
        store,
        webhook: outbox.clone(),
        clock: SystemClock,
    });
    let mut tasks = vec![tokio::spawn(outbox.run())];
    let worker = Worker {
        origin: origin.clone(),
        region: config.region.clone(),
    };
    tasks.push(tokio::spawn(worker.run(queue, requeue)));
    let poller = origin.clone();
    let region = config.region.clone();
    let interval = config.poll_interval;
    tasks.push(tokio::spawn(async move {
        loop {
            if let Err(e) = poll_once(&poller, &region).await {
                eprintln!("origin-local: polling {}: {e}", poller.buckets.incoming);
            }
            tokio::time::sleep(interval).await;
        }
    }));
    Ok(RunningPipeline {
        origin,
        state,
        tasks,
    })
}
