//! Job events for the edge (`POST {EDGE_URL}/api/internal/jobs`, HMAC-signed), the sender
//! port, an HTTP sender that retries with backoff, and the local runner's persistent outbox.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::clock::Clock;
use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    Processing,
    Ready,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobError {
    pub code: String,
    pub message: String,
}

/// The body of `POST /api/internal/jobs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobEvent {
    /// Stable per logical event: a retry of the same event carries the same id.
    pub event_id: String,
    pub video_id: String,
    pub status: JobStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<JobError>,
    /// RFC 3339.
    pub occurred_at: String,
}

/// Sends job events to the edge.
pub trait WebhookSender: Send + Sync {
    fn send(&self, event: &JobEvent) -> impl Future<Output = Result<()>> + Send;
}

/// Backoff between attempts: `base`, doubled each time, at most `max`.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub attempts: u32,
    pub base: Duration,
    pub max: Duration,
}

impl Backoff {
    pub fn delay(&self, attempt: u32) -> Duration {
        self.base
            .saturating_mul(1u32 << attempt.min(16))
            .min(self.max)
    }
}

impl Default for Backoff {
    /// Five attempts over about 15 s: within one Lambda invocation; after that the error goes
    /// back to the runtime and AWS redelivers the whole event.
    fn default() -> Self {
        Backoff {
            attempts: 5,
            base: Duration::from_secs(1),
            max: Duration::from_secs(8),
        }
    }
}

/// `X-Signature: t=<unix>,v1=<hex hmac>` over `t + "." + body`, POSTed as JSON.
#[derive(Clone)]
pub struct HttpWebhook<C> {
    url: String,
    secret: Vec<u8>,
    client: reqwest::Client,
    clock: C,
    pub backoff: Backoff,
}

impl<C: Clock> HttpWebhook<C> {
    /// `edge_url` is the edge's origin (`http://127.0.0.1:8787`); the path is appended.
    pub fn new(edge_url: &str, secret: &[u8], client: reqwest::Client, clock: C) -> Self {
        HttpWebhook {
            url: format!("{}/api/internal/jobs", edge_url.trim_end_matches('/')),
            secret: secret.to_vec(),
            client,
            clock,
            backoff: Backoff::default(),
        }
    }

    /// One attempt. Signed afresh each time: the edge refuses signatures older than 300 s.
    pub async fn deliver_once(&self, body: &[u8]) -> Result<()> {
        let t = unix_seconds(self.clock.now());
        let signature = signer::webhook::sign(&self.secret, t, body);
        let response = self
            .client
            .post(&self.url)
            .header("content-type", "application/json")
            .header("x-signature", signature)
            .body(body.to_vec())
            .timeout(Duration::from_secs(30))
            .send()
            .await
            .map_err(|e| Error::Webhook {
                message: format!("POST {}: {e}", self.url),
                retryable: true,
            })?;
        let status = response.status().as_u16();
        if response.status().is_success() {
            return Ok(());
        }
        let text = response.text().await.unwrap_or_default();
        Err(Error::Webhook {
            message: format!(
                "POST {} answered {status}: {}",
                self.url,
                truncate(&text, 300)
            ),
            retryable: Error::status_is_retryable(status),
        })
    }
}

impl<C: Clock> WebhookSender for HttpWebhook<C> {
    async fn send(&self, event: &JobEvent) -> Result<()> {
        let body = serde_json::to_vec(event).expect("a job event serialises");
        let mut attempt = 0;
        loop {
            match self.deliver_once(&body).await {
                Err(e) if e.is_retryable() && attempt + 1 < self.backoff.attempts => {
                    eprintln!(
                        "origin: webhook {} attempt {}: {e}",
                        event.event_id,
                        attempt + 1
                    );
                    tokio::time::sleep(self.backoff.delay(attempt)).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }
}

/// The local runner's sender: every event is first written to a directory (so a restart
/// or an unreachable edge loses nothing), then delivered in order by [`Outbox::run`].
pub struct Outbox<C> {
    dir: PathBuf,
    http: HttpWebhook<C>,
    wake: tokio::sync::Notify,
}

impl<C: Clock> Outbox<C> {
    pub fn new(dir: &Path, http: HttpWebhook<C>) -> std::io::Result<Arc<Self>> {
        std::fs::create_dir_all(dir)?;
        Ok(Arc::new(Outbox {
            dir: dir.to_path_buf(),
            http,
            wake: tokio::sync::Notify::new(),
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

    /// Delivers forever: in order, a retryable failure waits (doubling up to 10 s) and tries
    /// the same event again; a refused event (4xx) is logged and dropped.
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
                Backoff {
                    attempts: 0,
                    base: Duration::from_millis(250),
                    max: Duration::from_secs(10),
                }
                .delay(failures.saturating_sub(1))
            } else {
                Duration::from_secs(5)
            };
            let _ = tokio::time::timeout(wait, self.wake.notified()).await;
        }
    }
}

impl<C: Clock> WebhookSender for Outbox<C> {
    async fn send(&self, event: &JobEvent) -> Result<()> {
        let body = serde_json::to_vec(event).expect("a job event serialises");
        let nanos = self
            .http
            .clock
            .now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let id = hex::encode(&Sha256::digest(event.event_id.as_bytes())[..8]);
        let path = self.dir.join(format!("{nanos:024}-{id}.json"));
        let tmp = path.with_extension("tmp");
        tokio::fs::write(&tmp, &body).await?;
        tokio::fs::rename(&tmp, &path).await?;
        self.wake.notify_one();
        Ok(())
    }
}

impl<T: WebhookSender> WebhookSender for Arc<T> {
    fn send(&self, event: &JobEvent) -> impl Future<Output = Result<()>> + Send {
        (**self).send(event)
    }
}

pub fn unix_seconds(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_json_matches_the_contract() {
        let ready = JobEvent {
            event_id: "mc:1-abc:ready".into(),
            video_id: "0b7c4f0e-3f5e-4c43-9a0e-3c2f1d7b8a11".into(),
            status: JobStatus::Ready,
            progress: None,
            duration_ms: Some(3000),
            width: Some(320),
            height: Some(240),
            output_key: Some("videos/0b7c4f0e-3f5e-4c43-9a0e-3c2f1d7b8a11/video.mp4".into()),
            error: None,
            occurred_at: "2025-01-02T03:04:05Z".into(),
        };
        assert_eq!(
            serde_json::to_value(&ready).unwrap(),
            serde_json::json!({
                "eventId": "mc:1-abc:ready",
                "videoId": "0b7c4f0e-3f5e-4c43-9a0e-3c2f1d7b8a11",
                "status": "ready",
                "durationMs": 3000, "width": 320, "height": 240,
                "outputKey": "videos/0b7c4f0e-3f5e-4c43-9a0e-3c2f1d7b8a11/video.mp4",
                "occurredAt": "2025-01-02T03:04:05Z"
            })
        );
        let failed = JobEvent {
            status: JobStatus::Failed,
            error: Some(JobError {
                code: "invalid_input".into(),
                message: "moov atom not found".into(),
            }),
            duration_ms: None,
            width: None,
            height: None,
            output_key: None,
            ..ready
        };
        let v = serde_json::to_value(&failed).unwrap();
        assert_eq!(v["status"], "failed");
        assert_eq!(v["error"]["code"], "invalid_input");
        assert!(v.get("outputKey").is_none());
    }

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        let b = Backoff {
            attempts: 5,
            base: Duration::from_secs(1),
            max: Duration::from_secs(8),
        };
        let delays: Vec<u64> = (0..6).map(|n| b.delay(n).as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 8, 8, 8]);
    }
}
