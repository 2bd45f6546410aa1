//! The runner's state directory (`ORIGIN_STATE_DIR`): `jobs/<token>.json` (one per uploaded
//! object version: the idempotency record and the job's stage), `seen/<token>` (the watch
//! cursor: objects already handed to the handler), `outbox/` (job events not yet accepted by
//! the edge) and `work/<token>/` (downloads and outputs in progress).

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use model::ObjectKey;
use serde::{Deserialize, Serialize};

use crate::transcoder::JobSpec;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Queued,
    Converting,
    /// The outputs are in the media bucket; only the finalize step remains.
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
    pub upload: Option<PendingUpload>,
    #[serde(default)]
    pub output: Option<OutputFacts>,
}

/// A multipart upload begun and not yet completed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingUpload {
    pub key: ObjectKey,
    pub upload_id: String,
}

/// What MediaConvert reports about the MP4, as ffprobe found it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputFacts {
    pub duration_ms: Option<u64>,
    pub width: Option<u32>,
    pub height: Option<u32>,
}

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
    fn write(&self, record: &JobRecord) -> std::io::Result<()> {
        let path = self.job_path(&record.spec.token);
        let tmp = path.with_extension("tmp");
        std::fs::write(
            &tmp,
            serde_json::to_vec_pretty(record).expect("a job record serializes"),
        )?;
        std::fs::rename(tmp, path)
    }

    pub fn save(&self, record: &JobRecord) -> std::io::Result<()> {
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        self.write(record)
    }

    /// Creates the record unless one exists; returns the record that is now stored and
    /// whether it is the one given.
    pub fn create(&self, record: JobRecord) -> std::io::Result<(JobRecord, bool)> {
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(existing) = self.load(&record.spec.token) {
            return Ok((existing, false));
        }
        self.write(&record)?;
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
                let metadata = e.metadata().ok()?;
                let created = metadata.created().or_else(|_| metadata.modified()).ok()?;
                let record = serde_json::from_slice(&std::fs::read(e.path()).ok()?).ok()?;
                Some((created, record))
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
