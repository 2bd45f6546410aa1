//! The FFmpeg [`Transcoder`]: probing downloads the source and runs ffprobe; submitting
//! records the job (once per token) and queues it for the [`super::runner::JobRunner`].

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::mpsc;

use super::state::{JobRecord, Stage, StateDir};
use crate::error::{Error, Result};
use crate::ffmpeg::Ffmpeg;
use crate::media::MediaInfo;
use crate::store::ObjectStore;
use crate::transcoder::{JobSpec, Source, Transcoder};

pub struct FfmpegTranscoder<S> {
    pub store: S,
    pub ffmpeg: Ffmpeg,
    pub state: Arc<StateDir>,
    pub(super) queue: mpsc::UnboundedSender<String>,
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
    let ext = Path::new(source.key.as_str())
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("bin");
    state.work(&source.token()).join(format!("source.{ext}"))
}

/// Downloads the source into the job's work directory unless it is there already.
pub async fn fetch_source<S: ObjectStore>(
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
    let dir = path
        .parent()
        .ok_or_else(|| Error::Io(std::io::Error::other("a source file has a work dir")))?;
    tokio::fs::create_dir_all(dir).await?;
    store.download(&source.bucket, &source.key, &path).await?;
    Ok(path)
}

impl<S: ObjectStore> Transcoder for FfmpegTranscoder<S> {
    async fn probe(&self, source: &Source) -> Result<MediaInfo> {
        let token = source.token();
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
            upload: None,
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
