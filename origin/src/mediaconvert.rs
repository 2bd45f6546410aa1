//! The production [`Transcoder`]: probes by ranged reads of the upload ([`crate::mp4`]) and
//! starts an AWS Elemental MediaConvert job built with the SDK's builders.

use aws_sdk_mediaconvert::config::http::HttpResponse;
use aws_sdk_mediaconvert::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_mediaconvert::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_mediaconvert::types::{
    AacCodecProfile, AacCodingMode, AacRateControlMode, AacSettings, AudioCodec,
    AudioCodecSettings, AudioDefaultSelection, AudioDescription, AudioSelector, ContainerSettings,
    ContainerType, FileGroupSettings, H264QualityTuningLevel, H264QvbrSettings,
    H264RateControlMode, H264SceneChangeDetect, H264Settings, Input, InputTimecodeSource,
    JobSettings, Mp4MoovPlacement, Mp4Settings, Output, OutputGroup, OutputGroupSettings,
    OutputGroupType, StatusUpdateInterval, VideoCodec, VideoCodecSettings, VideoDescription,
    VideoSelector,
};

use crate::error::{Error, Result};
use crate::media::{MediaInfo, Plan};
use crate::store::ObjectStore;
use crate::transcoder::{JobSpec, Source, Transcoder};

const AUDIO_SELECTOR: &str = "Audio Selector 1";

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
    pub secret_access_key: String,
    pub session_token: Option<String>,
    pub region: String,
    /// `MEDIACONVERT_ENDPOINT`: an account endpoint, or a local capture server in tests.
    pub endpoint: Option<String>,
}

/// A MediaConvert client built by hand (no aws-config): static credentials, one region.
pub fn client(env: &AwsEnv) -> aws_sdk_mediaconvert::Client {
    let credentials = Credentials::new(
        &env.access_key_id,
        &env.secret_access_key,
        env.session_token.clone(),
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
        crate::mp4::probe_object(&self.store, &source.bucket, &source.key, source.size).await
    }

    async fn submit(&self, job: &JobSpec) -> Result<String> {
        let mut request = self
            .client
            .create_job()
            .role(&self.defaults.role_arn)
            .settings(job_settings(job, &self.defaults))
            .client_request_token(&job.token)
            .status_update_interval(StatusUpdateInterval::Seconds10)
            .user_metadata("videoId", &job.video_id)
            .user_metadata("sourceKey", &job.source.key);
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

/// The job: one input, one MP4 output at `videos/{id}/video.mp4` with its index first.
/// Remux and Copy pass both streams through; Transcode makes H.264 QVBR + AAC-LC stereo.
pub fn job_settings(job: &JobSpec, defaults: &JobDefaults) -> JobSettings {
    let input = Input::builder()
        .file_input(format!("s3://{}/{}", job.source.bucket, job.source.key))
        .audio_selectors(
            AUDIO_SELECTOR,
            AudioSelector::builder()
                .default_selection(AudioDefaultSelection::Default)
                .build(),
        )
        .video_selector(VideoSelector::builder().build())
        .timecode_source(InputTimecodeSource::Zerobased)
        .build();

    let passthrough = matches!(job.plan, Plan::Copy | Plan::Remux);
    let video = if passthrough {
        VideoCodecSettings::builder()
            .codec(VideoCodec::Passthrough)
            .build()
    } else {
        VideoCodecSettings::builder()
            .codec(VideoCodec::H264)
            .h264_settings(
                H264Settings::builder()
                    .rate_control_mode(H264RateControlMode::Qvbr)
                    .qvbr_settings(
                        H264QvbrSettings::builder()
                            .qvbr_quality_level(defaults.qvbr_quality)
                            .build(),
                    )
                    .max_bitrate(defaults.max_bitrate)
                    .quality_tuning_level(H264QualityTuningLevel::SinglePassHq)
                    .scene_change_detect(H264SceneChangeDetect::TransitionDetection)
                    .build(),
            )
            .build()
    };
    let audio = if passthrough {
        AudioCodecSettings::builder()
            .codec(AudioCodec::Passthrough)
            .build()
    } else {
        AudioCodecSettings::builder()
            .codec(AudioCodec::Aac)
            .aac_settings(
                AacSettings::builder()
                    .codec_profile(AacCodecProfile::Lc)
                    .coding_mode(AacCodingMode::CodingMode20)
                    .rate_control_mode(AacRateControlMode::Cbr)
                    .bitrate(128_000)
                    .sample_rate(48_000)
                    .build(),
            )
            .build()
    };
    let mut output = Output::builder()
        .extension("mp4")
        .container_settings(
            ContainerSettings::builder()
                .container(ContainerType::Mp4)
                .mp4_settings(
                    Mp4Settings::builder()
                        .moov_placement(Mp4MoovPlacement::ProgressiveDownload)
                        .build(),
                )
                .build(),
        )
        .video_description(VideoDescription::builder().codec_settings(video).build());
    // A source known to have no audio gets no audio output (MediaConvert refuses a selector
    // that matches nothing); unknown means "expect audio".
    if !(passthrough && job.info.audio.is_none()) {
        output = output.audio_descriptions(
            AudioDescription::builder()
                .audio_source_name(AUDIO_SELECTOR)
                .codec_settings(audio)
                .build(),
        );
    }
    // The destination names the file: `…/video` + `.mp4`.
    let base = job
        .output_key
        .strip_suffix(".mp4")
        .unwrap_or(&job.output_key);
    let group = OutputGroup::builder()
        .name("File Group")
        .output_group_settings(
            OutputGroupSettings::builder()
                .r#type(OutputGroupType::FileGroupSettings)
                .file_group_settings(
                    FileGroupSettings::builder()
                        .destination(format!("s3://{}/{base}", job.output_bucket))
                        .build(),
                )
                .build(),
        )
        .outputs(output.build())
        .build();
    JobSettings::builder()
        .inputs(input)
        .output_groups(group)
        .build()
}
