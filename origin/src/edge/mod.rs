//! The edge, as the origin sees it (`EDGE_URL`, every call HMAC-signed with `X-Signature`,
//! in the contracts `model` defines for both sides): claim an upload before converting it,
//! and report what happened to the conversion; the edge's acknowledgement says whether the
//! source is still needed. The port, an HTTP implementation that retries within the
//! invocation's time, and the local runner's persistent [`outbox`].
//!
//! Only a deliberate answer ends a call: a 200 with the edge's verdict. Anything else (a
//! refusal, a timeout, an unreachable edge) is an error the caller retries, so a secret
//! rotation, a WAF rule or a routing mistake delays events instead of dropping them.

pub mod outbox;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use model::claim::{Claim, ClaimAnswer};
use model::job::{Acknowledgement, JobEvent};
use model::{Secret, Timestamp};

use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::retry::Backoff;

pub use outbox::Outbox;

/// When the current invocation must be done (a Lambda's deadline); `None`: no limit.
pub type Deadline = Option<Timestamp>;

/// The longest one call may take, deadline or not.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// Time kept back before a deadline, to hand an error to the runtime in time.
const DEADLINE_MARGIN: Duration = Duration::from_secs(1);

pub trait Edge: Send + Sync {
    /// May this upload be converted (and was it already)?
    fn claim(
        &self,
        claim: &Claim,
        deadline: Deadline,
    ) -> impl Future<Output = Result<ClaimAnswer>> + Send;
    /// Tells the edge what happened to a conversion; its acknowledgement says whether the
    /// event was a replay and whether the video still needs its source.
    fn report(
        &self,
        event: &JobEvent,
        deadline: Deadline,
    ) -> impl Future<Output = Result<Acknowledgement>> + Send;
}

impl<T: Edge> Edge for Arc<T> {
    fn claim(
        &self,
        claim: &Claim,
        deadline: Deadline,
    ) -> impl Future<Output = Result<ClaimAnswer>> + Send {
        (**self).claim(claim, deadline)
    }

    fn report(
        &self,
        event: &JobEvent,
        deadline: Deadline,
    ) -> impl Future<Output = Result<Acknowledgement>> + Send {
        (**self).report(event, deadline)
    }
}

/// The edge's internal endpoints over HTTPS, signed with the webhook secret.
#[derive(Clone)]
pub struct HttpEdge<C> {
    base: String,
    secret: Secret<Vec<u8>>,
    client: reqwest::Client,
    clock: C,
    pub backoff: Backoff,
}

/// The edge's answer envelope around a verdict.
#[derive(serde::Deserialize)]
struct Answered<T> {
    success: bool,
    #[serde(flatten)]
    body: T,
}

/// The verdict in a 200 answer of `what`; an answer without one is an error (retried).
fn verdict<T: serde::de::DeserializeOwned>(answer: &[u8], what: &str) -> Result<T> {
    match serde_json::from_slice::<Answered<T>>(answer) {
        Ok(Answered {
            success: true,
            body,
        }) => Ok(body),
        _ => Err(Error::Edge {
            message: format!(
                "the {what} endpoint answered 200 without a verdict: {}",
                truncate(&String::from_utf8_lossy(answer), 300)
            ),
            status: Some(200),
        }),
    }
}

/// Where job events go.
pub const JOBS_PATH: &str = "/api/internal/jobs";

impl<C: Clock> HttpEdge<C> {
    /// `edge_url` is the edge's origin (`http://127.0.0.1:8787`).
    pub fn new(edge_url: &str, secret: Secret<Vec<u8>>, client: reqwest::Client, clock: C) -> Self {
        HttpEdge {
            base: edge_url.trim_end_matches('/').to_string(),
            secret,
            client,
            clock,
            backoff: Backoff::WEBHOOK,
        }
    }

    pub fn clock(&self) -> &C {
        &self.clock
    }

    /// How long the next attempt may take, if any time is left before `deadline`.
    fn attempt_budget(&self, deadline: Deadline) -> Option<Duration> {
        match deadline {
            None => Some(ATTEMPT_TIMEOUT),
            Some(deadline) => deadline
                .since(self.clock.now())
                .checked_sub(DEADLINE_MARGIN)
                .filter(|left| !left.is_zero())
                .map(|left| left.min(ATTEMPT_TIMEOUT)),
        }
    }

    /// One signed POST; the 200 answer's body. Signed afresh each time: the edge refuses
    /// signatures older than 300 s.
    pub async fn post_once(&self, path: &str, body: &[u8], deadline: Deadline) -> Result<Vec<u8>> {
        let url = format!("{}{path}", self.base);
        let budget = self.attempt_budget(deadline).ok_or_else(|| Error::Edge {
            message: format!("POST {url}: no time left before the deadline"),
            status: None,
        })?;
        let signature = signer::webhook::sign(self.secret.expose(), self.clock.now(), body);
        let response = self
            .client
            .post(&url)
            .header("content-type", "application/json")
            .header("x-signature", signature)
            .body(body.to_vec())
            .timeout(budget)
            .send()
            .await
            .map_err(|e| Error::Edge {
                message: format!("POST {url}: {e}"),
                status: None,
            })?;
        let status = response.status().as_u16();
        let text = response.bytes().await.unwrap_or_default().to_vec();
        if status == 200 {
            return Ok(text);
        }
        Err(Error::Edge {
            message: format!(
                "POST {url} answered {status}: {}",
                truncate(&String::from_utf8_lossy(&text), 300)
            ),
            status: Some(status),
        })
    }

    /// POSTs until a 200, backing off between attempts, as long as the deadline allows.
    async fn post(
        &self,
        path: &str,
        body: &[u8],
        what: &str,
        deadline: Deadline,
    ) -> Result<Vec<u8>> {
        let mut attempt = 0;
        loop {
            let error = match self.post_once(path, body, deadline).await {
                Ok(answer) => return Ok(answer),
                Err(error) => error,
            };
            let wait = self.backoff.delay(attempt);
            let time_left = self.attempt_budget(deadline.map(|d| d - wait)).is_some();
            if !(self.backoff.allows_retry_after(attempt) && time_left) {
                return Err(error);
            }
            eprintln!("origin: {what} attempt {}: {error}", attempt + 1);
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }
}

impl<C: Clock> Edge for HttpEdge<C> {
    async fn claim(&self, claim: &Claim, deadline: Deadline) -> Result<ClaimAnswer> {
        let body = serde_json::to_vec(claim).expect("a claim serializes");
        let what = format!("claim on {}", claim.key);
        let answer = self
            .post("/api/internal/claims", &body, &what, deadline)
            .await?;
        verdict(&answer, "claims")
    }

    async fn report(&self, event: &JobEvent, deadline: Deadline) -> Result<Acknowledgement> {
        let what = format!("event {}", event.event_id);
        let answer = self
            .post(JOBS_PATH, &event.to_json(), &what, deadline)
            .await?;
        acknowledgement(&answer)
    }
}

/// The acknowledgement in the jobs endpoint's 200 answer.
pub fn acknowledgement(answer: &[u8]) -> Result<Acknowledgement> {
    verdict(answer, "jobs")
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}
