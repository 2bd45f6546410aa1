//! The Lambda (`bootstrap`): S3 notifications and MediaConvert job state changes, one handler.

use lambda_runtime::{Error as LambdaError, LambdaEvent, service_fn};
use origin::clock::SystemClock;
use origin::config::LambdaConfig;
use origin::mediaconvert::{MediaConvert, client};
use origin::s3::S3Store;
use origin::webhook::HttpWebhook;
use origin::{Origin, Outcome};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), LambdaError> {
    let config = LambdaConfig::from_env(|k| std::env::var(k).ok())?;
    let http = reqwest::Client::builder().build()?;
    let store = S3Store::new(&config.s3, http.clone(), SystemClock)?;
    let origin = Origin {
        buckets: config.buckets.clone(),
        transcoder: MediaConvert {
            client: client(&config.aws),
            defaults: config.job.clone(),
            store: store.clone(),
        },
        store,
        webhook: HttpWebhook::new(
            &config.edge_url,
            config.webhook_secret.clone(),
            http,
            SystemClock,
        ),
        clock: SystemClock,
    };
    let origin = &origin;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        match origin.handle(event.payload).await {
            Ok(outcomes) => Ok::<Vec<Outcome>, LambdaError>(outcomes),
            // Retryable: hand the error back so AWS redelivers the event.
            Err(e) if e.is_retryable() => Err(e.into()),
            // Retrying cannot help: log it and let the event go.
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
