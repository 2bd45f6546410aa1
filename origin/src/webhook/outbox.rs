//! The local runner's sender: every event is first written to a directory (so a restart or
//! an unreachable edge loses nothing), then delivered in order by [`Outbox::run`].

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use model::job::JobEvent;
use sha2::{Digest, Sha256};

use super::{HttpWebhook, WebhookSender};
use crate::clock::Clock;
use crate::error::Result;
use crate::retry::Backoff;

/// How long an idle outbox waits before looking again (a new event wakes it at once).
const IDLE_WAIT: Duration = Duration::from_secs(5);

pub struct Outbox<C> {
    dir: PathBuf,
    http: HttpWebhook<C>,
    wake: tokio::sync::Notify,
    /// Orders events sent within the same millisecond.
    sequence: AtomicU64,
}

impl<C: Clock> Outbox<C> {
    pub fn new(dir: &Path, http: HttpWebhook<C>) -> std::io::Result<Arc<Self>> {
        std::fs::create_dir_all(dir)?;
        Ok(Arc::new(Outbox {
            dir: dir.to_path_buf(),
            http,
            wake: tokio::sync::Notify::new(),
            sequence: AtomicU64::new(0),
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

    /// Delivers forever: in order, a retryable failure waits (backing off) and tries the
    /// same event again; a refused event (4xx) is logged and dropped.
    pub async fn run(self: Arc<Self>) {
        let mut failures = 0u32;
        loop {
            let mut blocked = false;
            for path in self.pending().unwrap_or_default() {
                let Ok(body) = std::fs::read(&path) else {
                    continue;
                };
                match self.http.deliver_once(&body).await {
                    Ok(()) => {
                        failures = 0;
                        let _ = std::fs::remove_file(&path);
                    }
                    Err(e) if e.is_retryable() => {
                        failures += 1;
                        eprintln!("origin: webhook delivery deferred ({e}); will retry");
                        blocked = true;
                        break;
                    }
                    Err(e) => {
                        eprintln!("origin: webhook event dropped, the edge refused it: {e}");
                        let _ = std::fs::remove_file(&path);
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
}

impl<C: Clock> WebhookSender for Outbox<C> {
    async fn send(&self, event: &JobEvent) -> Result<()> {
        let body = event.to_json();
        // Named by time, then event: delivery follows the order events were sent in.
        let at = self.http.clock().now().unix_ms();
        let sequence = self.sequence.fetch_add(1, Ordering::Relaxed);
        let id = hex::encode(&Sha256::digest(event.event_id.as_bytes())[..8]);
        let path = self.dir.join(format!("{at:020}-{sequence:010}-{id}.json"));
        let tmp = path.with_extension("tmp");
        tokio::fs::write(&tmp, &body).await?;
        tokio::fs::rename(&tmp, &path).await?;
        self.wake.notify_one();
        Ok(())
    }
}
