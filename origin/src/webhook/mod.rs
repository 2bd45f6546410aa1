//! Job events for the edge (`POST {EDGE_URL}/api/internal/jobs`, HMAC-signed, in the
//! contract `model::job` defines for both sides): the sender port, an HTTP sender that
//! retries with backoff, and the local runner's persistent [`outbox`].

pub mod outbox;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use model::Secret;
use model::job::JobEvent;

use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::retry::Backoff;

pub use outbox::Outbox;

/// Sends job events to the edge.
pub trait WebhookSender: Send + Sync {
    fn send(&self, event: &JobEvent) -> impl Future<Output = Result<()>> + Send;
}

impl<T: WebhookSender> WebhookSender for Arc<T> {
    fn send(&self, event: &JobEvent) -> impl Future<Output = Result<()>> + Send {
        (**self).send(event)
    }
}

/// `X-Signature: t=<unix>,v1=<hex hmac>` over `t + "." + body`, POSTed as JSON.
#[derive(Clone)]
pub struct HttpWebhook<C> {
    url: String,
    secret: Secret<Vec<u8>>,
    client: reqwest::Client,
    clock: C,
    pub backoff: Backoff,
}

impl<C: Clock> HttpWebhook<C> {
    /// `edge_url` is the edge's origin (`http://127.0.0.1:8787`); the path is appended.
    pub fn new(edge_url: &str, secret: Secret<Vec<u8>>, client: reqwest::Client, clock: C) -> Self {
        HttpWebhook {
            url: format!("{}/api/internal/jobs", edge_url.trim_end_matches('/')),
            secret,
            client,
            clock,
            backoff: Backoff::WEBHOOK,
        }
    }

    pub fn clock(&self) -> &C {
        &self.clock
    }

    /// One attempt. Signed afresh each time: the edge refuses signatures older than 300 s.
    pub async fn deliver_once(&self, body: &[u8]) -> Result<()> {
        let signature = signer::webhook::sign(self.secret.expose(), self.clock.now(), body);
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
        let body = event.to_json();
        let mut attempt = 0;
        loop {
            match self.deliver_once(&body).await {
                Err(e) if e.is_retryable() && self.backoff.allows_retry_after(attempt) => {
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

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}
