//! The production [`Transcoder`]: probes by ranged reads of the upload ([`crate::mp4`]) and
//! starts an AWS Elemental MediaConvert job built with the SDK's builders.

use aws_sdk_mediaconvert::config::http::HttpResponse;
use aws_sdk_mediaconvert::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_mediaconvert::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_mediaconvert::types::StatusUpdateInterval;

use model::Secret;

use crate::error::{Error, Result};
use crate::media::MediaInfo;
use crate::store::ObjectStore;
use crate::transcoder::{JobSpec, Source, Transcoder};

mod settings;
mod streams;

pub use settings::job_settings;

/// Job-wide settings from the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobDefaults {
    /// IAM role MediaConvert assumes to read `incoming` and write `media`.
    pub role_arn: String,
    /// Queue ARN; `None`: the account's Default queue.
    pub queue_arn: Option<String>,
    /// H.264 QVBR quality level (1–10).
    pub qvbr_quality: i32,
    /// H.264 MaxBitrate (bits/s), required with QVBR.
    pub max_bitrate: i32,
}

/// AWS credentials and region as Lambda sets them (`AWS_ACCESS_KEY_ID`, …).
#[derive(Debug, Clone)]
pub struct AwsEnv {
    pub access_key_id: String,
    pub secret_access_key: Secret<String>,
    pub session_token: Option<Secret<String>>,
    pub region: String,
    /// `MEDIACONVERT_ENDPOINT`: an account endpoint, or a local capture server in tests.
    pub endpoint: Option<String>,
}

/// A MediaConvert client built by hand (no aws-config): static credentials, one region.
pub fn client(env: &AwsEnv) -> aws_sdk_mediaconvert::Client {
    let credentials = Credentials::new(
        &env.access_key_id,
        env.secret_access_key.expose(),
        env.session_token
            .as_ref()
            .map(|token| token.expose().clone()),
        None,
        "lambda-environment",
    );
    let mut config = aws_sdk_mediaconvert::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(env.region.clone()))
        .credentials_provider(credentials);
    if let Some(endpoint) = &env.endpoint {
        config = config.endpoint_url(endpoint);
    }
    aws_sdk_mediaconvert::Client::from_conf(config.build())
}

pub struct MediaConvert<S> {
    pub client: aws_sdk_mediaconvert::Client,
    pub defaults: JobDefaults,
    /// For the ranged reads of the probe.
    pub store: S,
}

impl<S: ObjectStore> Transcoder for MediaConvert<S> {
    async fn probe(&self, source: &Source) -> Result<MediaInfo> {
        crate::mp4::probe_object(&self.store, source).await
    }

    async fn submit(&self, job: &JobSpec) -> Result<String> {
        let mut request = self
            .client
            .create_job()
            .role(&self.defaults.role_arn)
            .settings(job_settings(job, &self.defaults))
            .client_request_token(&job.token)
            .status_update_interval(StatusUpdateInterval::Seconds60);
        // Comes back with every event of the job: which video, and what the job makes.
        for (name, value) in job.metadata().to_pairs() {
            request = request.user_metadata(name, value);
        }
        if let Some(queue) = &self.defaults.queue_arn {
            request = request.queue(queue);
        }
        let response = request.send().await.map_err(classify)?;
        response
            .job()
            .and_then(|j| j.id())
            .map(str::to_string)
            .ok_or_else(|| Error::Transcoder {
                message: "CreateJob answered without a job id".into(),
                retryable: true,
            })
    }
}

/// Throttling, 5xx and transport failures are retryable; other 4xx are not.
fn classify<E>(e: SdkError<E, HttpResponse>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let status = match &e {
        SdkError::ServiceError(_) | SdkError::ResponseError(_) => {
            e.raw_response().map(|r| r.status().as_u16())
        }
        _ => None,
    };
    let retryable = match (&e, status) {
        (SdkError::ConstructionFailure(_), _) => false,
        (_, Some(s)) => Error::status_is_retryable(s),
        _ => true,
    };
    let detail = match e.as_service_error() {
        Some(service) => format!(
            "{}: {}",
            service.code().unwrap_or("?"),
            service.message().unwrap_or("")
        ),
        None => aws_sdk_mediaconvert::error::DisplayErrorContext(&e).to_string(),
    };
    Error::Transcoder {
        message: format!("CreateJob: {detail} (status {status:?})"),
        retryable,
    }
}
