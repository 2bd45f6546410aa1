//! The local runner's edge: a job event goes straight to the edge when nothing waits before
//! it and the edge answers; otherwise it is written to a directory (so a restart or an
//! unreachable edge loses nothing) and delivered in order by [`Outbox::run`]. A queued event
//! has no acknowledgement yet, so its caller hears that the source is still needed; when the
//! edge later acknowledges it and needs the source no more, the outbox deletes the video's
//! uploads itself (as the caller would have). Claims go straight to the edge: the caller needs
//! the answer, and retries later without one.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use model::BucketName;
use model::claim::{Claim, ClaimAnswer};
use model::job::{Acknowledgement, JobEvent, Parsed};
use model::storage::KeyPrefix;
use sha2::{Digest, Sha256};

use super::{Deadline, Edge, HttpEdge, JOBS_PATH, acknowledgement};
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::retry::Backoff;
use crate::store::ObjectStore;

/// How long an idle outbox waits before looking again (a new event wakes it at once).
const IDLE_WAIT: Duration = Duration::from_secs(5);

pub struct Outbox<C, S> {
    dir: PathBuf,
    http: HttpEdge<C>,
    /// The incoming bucket, where a delivered event's sources are deleted once not needed.
    sources: (S, BucketName),
    wake: tokio::sync::Notify,
    /// Orders events sent within the same millisecond.
    sequence: AtomicU64,
    /// Held while an event is delivered: one at a time, in order.
    delivering: tokio::sync::Mutex<()>,
}

impl<C: Clock, S: ObjectStore> Outbox<C, S> {
    pub fn new(
        dir: &Path,
        http: HttpEdge<C>,
        sources: (S, BucketName),
    ) -> std::io::Result<Arc<Self>> {
        std::fs::create_dir_all(dir.join("refused"))?;
        Ok(Arc::new(Outbox {
            dir: dir.to_path_buf(),
            http,
            sources,
            wake: tokio::sync::Notify::new(),
            sequence: AtomicU64::new(0),
            delivering: tokio::sync::Mutex::new(()),
        }))
    }

    /// Events waiting for delivery, oldest first.
    pub fn pending(&self) -> std::io::Result<Vec<PathBuf>> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.dir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        Ok(files)
    }

    /// Events the edge refused for good (a 4xx that retrying cannot change): set aside in
    /// `refused/`, the local dead-letter queue, never dropped.
    pub fn refused(&self) -> std::io::Result<Vec<PathBuf>> {
        Ok(std::fs::read_dir(self.dir.join("refused"))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect())
    }

    /// Delivers forever, in order: a failure waits (backing off) and tries the same event
    /// again; an event the edge refuses for good is set aside.
    pub async fn run(self: Arc<Self>) {
        let mut failures = 0u32;
        loop {
            let mut blocked = false;
            for path in self.pending().unwrap_or_default() {
                let _turn = self.delivering.lock().await;
                let Ok(body) = std::fs::read(&path) else {
                    continue;
                };
                match self.http.post_once(JOBS_PATH, &body, None).await {
                    Ok(answer) => {
                        failures = 0;
                        let _ = std::fs::remove_file(&path);
                        self.release_sources(&body, &answer).await;
                    }
                    Err(Error::Edge {
                        status: Some(status),
                        message,
                    }) if (400..500).contains(&status) && !matches!(status, 408 | 429) => {
                        eprintln!(
                            "origin: the edge refused an event, set aside in refused/: {message}"
                        );
                        if let Some(name) = path.file_name() {
                            let _ = std::fs::rename(&path, self.dir.join("refused").join(name));
                        }
                    }
                    Err(e) => {
                        failures += 1;
                        eprintln!("origin: event delivery deferred ({e}); will retry");
                        blocked = true;
                        break;
                    }
                }
            }
            let wait = if blocked {
                Backoff::OUTBOX.delay(failures.saturating_sub(1))
            } else {
                IDLE_WAIT
            };
            let _ = tokio::time::timeout(wait, self.wake.notified()).await;
        }
    }

    /// After a queued event is delivered: when the edge needs its video's sources no more,
    /// they go now. A failure keeps them until the video is deleted (which removes them).
    async fn release_sources(&self, event: &[u8], answer: &[u8]) {
        let needed = acknowledgement(answer).is_ok_and(|ack| ack.source_needed);
        let Ok(Parsed::Event(event)) = JobEvent::parse(event) else {
            return;
        };
        if needed {
            return;
        }
        let (store, bucket) = &self.sources;
        let removed = async {
            for source in store
                .list(bucket, &KeyPrefix::sources(&event.video_id))
                .await?
            {
                store.delete(bucket, &source.key).await?;
            }
            Ok::<_, Error>(())
        };
        if let Err(e) = removed.await {
            eprintln!(
                "origin: the sources of {} stay until it is deleted: {e}",
                event.video_id
            );
        }
    }
}

impl<C: Clock, S: ObjectStore> Edge for Outbox<C, S> {
    async fn claim(&self, claim: &Claim, deadline: Deadline) -> Result<ClaimAnswer> {
        self.http.claim(claim, deadline).await
    }

    async fn report(&self, event: &JobEvent, _deadline: Deadline) -> Result<Acknowledgement> {
        let body = event.to_json();
        let _turn = self.delivering.lock().await;
        if self.pending()?.is_empty() {
            let answer = self.http.post_once(JOBS_PATH, &body, None).await;
            if let Ok(acknowledged) = answer.and_then(|answer| acknowledgement(&answer)) {
                return Ok(acknowledged);
            }
        }
        // Named by time, then sequence: delivery follows the order events were sent in.
        let at = self.http.clock().now().unix_ms();
        let sequence = self.sequence.fetch_add(1, Ordering::Relaxed);
        let id = hex::encode(&Sha256::digest(event.event_id.as_bytes())[..8]);
        let path = self.dir.join(format!("{at:020}-{sequence:010}-{id}.json"));
        let tmp = path.with_extension("tmp");
        tokio::fs::write(&tmp, &body).await?;
        tokio::fs::rename(&tmp, &path).await?;
        self.wake.notify_one();
        Ok(Acknowledgement {
            duplicate: false,
            source_needed: true,
        })
    }
}
