//! The Lambda (`bootstrap`): S3 notifications and MediaConvert job state changes, one handler.

use lambda_runtime::{Error as LambdaError, LambdaEvent, service_fn};
use model::Timestamp;
use origin::clock::SystemClock;
use origin::config::LambdaConfig;
use origin::edge::HttpEdge;
use origin::mediaconvert::{MediaConvert, client};
use origin::s3::S3Store;
use origin::{Origin, Outcome};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), LambdaError> {
    let config = LambdaConfig::from_env(|k| std::env::var(k).ok())?;
    let http = reqwest::Client::builder().build()?;
    let store = S3Store::new(&config.s3, http.clone(), SystemClock)?;
    let origin = Origin {
        buckets: config.buckets.clone(),
        caps: config.caps,
        transcoder: MediaConvert {
            client: client(&config.aws),
            defaults: config.job.clone(),
            store: store.clone(),
        },
        store,
        edge: HttpEdge::new(
            &config.edge_url,
            config.webhook_secret.clone(),
            http,
            SystemClock,
        ),
        clock: SystemClock,
    };
    let origin = &origin;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        // The invocation's own deadline bounds every call to the edge.
        let deadline = i64::try_from(event.context.deadline)
            .ok()
            .map(Timestamp::from_unix_ms);
        match origin.handle(event.payload, deadline).await {
            Ok(outcomes) => Ok::<Vec<Outcome>, LambdaError>(outcomes),
            // Retryable (every failure to reach a verdict from the edge is): hand the error
            // back, so AWS retries the event and, after its retries, dead-letters it.
            Err(e) if e.is_retryable() => Err(e.into()),
            // Not an event of ours, or one no retry can fix: log it and let it go.
            Err(e) => {
                eprintln!("origin: event dropped: {e}");
                Ok(vec![Outcome::Ignored {
                    reason: e.to_string(),
                }])
            }
        }
    }))
    .await
}
