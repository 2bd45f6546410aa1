//! The CreateJob settings for a job: a pure function of the job spec and the defaults, so
//! the exact request is tested against reviewed fixtures. One input (turned upright by its
//! rotation metadata), then the output groups of what the job makes: the MP4 file group,
//! and the streaming set ([`super::streams`]).

use aws_sdk_mediaconvert::types::{
    AacCodecProfile, AacCodingMode, AacRateControlMode, AacSettings, AudioCodec,
    AudioCodecSettings, AudioDefaultSelection, AudioDescription, AudioSelector, ContainerSettings,
    ContainerType, FileGroupSettings, H264QualityTuningLevel, H264QvbrSettings,
    H264RateControlMode, H264SceneChangeDetect, H264Settings, Input, InputRotate,
    InputTimecodeSource, JobSettings, Mp4MoovPlacement, Mp4Settings, Output, OutputGroup,
    OutputGroupSettings, OutputGroupType, VideoCodec, VideoCodecSettings, VideoDescription,
    VideoSelector,
};
use model::ObjectKey;
use model::ladder::{AUDIO_BITRATE, AUDIO_SAMPLE_RATE};

use super::JobDefaults;
use crate::media::{MediaInfo, Plan};
use crate::transcoder::JobSpec;

pub(super) const AUDIO_SELECTOR: &str = "Audio Selector 1";

/// The job: one input, then the MP4 (when the job makes it) and the streaming set (when it
/// makes that).
pub fn job_settings(job: &JobSpec, defaults: &JobDefaults) -> JobSettings {
    let input = Input::builder()
        .file_input(format!("s3://{}/{}", job.source.bucket, job.source.key))
        .audio_selectors(
            AUDIO_SELECTOR,
            AudioSelector::builder()
                .default_selection(AudioDefaultSelection::Default)
                .build(),
        )
        // Phone videos come out upright: the rotation metadata of MP4/MOV inputs is applied.
        .video_selector(VideoSelector::builder().rotate(InputRotate::Auto).build())
        .timecode_source(InputTimecodeSource::Zerobased)
        .build();
    let mut settings = JobSettings::builder().inputs(input);
    if let Some(mp4) = &job.mp4 {
        settings = settings.output_groups(mp4_group(job, mp4, defaults));
    }
    if let Some(streams) = &job.streams {
        for group in super::streams::output_groups(job, streams) {
            settings = settings.output_groups(group);
        }
    }
    settings.build()
}

/// Whether the source may have audio: it has some, or its tracks are not known (an input
/// the probe cannot read). MediaConvert refuses an audio output a silent input cannot fill.
pub(super) fn audio_expected(info: &MediaInfo) -> bool {
    info.audio.is_some() || info.video.is_none()
}

/// `s3://bucket/key` without the key's extension: MediaConvert adds its own.
pub(super) fn destination(job: &JobSpec, key: &ObjectKey) -> String {
    let key = key.as_str();
    let base = key.rsplit_once('.').map_or(key, |(base, _)| base);
    format!("s3://{}/{base}", job.output_bucket)
}

/// AAC-LC stereo, CBR at the ladder's rate: the MP4's audio and the ladder's.
pub(super) fn aac() -> AudioCodecSettings {
    AudioCodecSettings::builder()
        .codec(AudioCodec::Aac)
        .aac_settings(
            AacSettings::builder()
                .codec_profile(AacCodecProfile::Lc)
                .coding_mode(AacCodingMode::CodingMode20)
                .rate_control_mode(AacRateControlMode::Cbr)
                .bitrate(AUDIO_BITRATE as i32)
                .sample_rate(AUDIO_SAMPLE_RATE as i32)
                .build(),
        )
        .build()
}

pub(super) fn file_group(name: &str, destination: String, outputs: Vec<Output>) -> OutputGroup {
    OutputGroup::builder()
        .name(name)
        .output_group_settings(
            OutputGroupSettings::builder()
                .r#type(OutputGroupType::FileGroupSettings)
                .file_group_settings(
                    FileGroupSettings::builder()
                        .destination(destination)
                        .build(),
                )
                .build(),
        )
        .set_outputs(Some(outputs))
        .build()
}

/// `videos/{id}/video.mp4` with its index first. Remux passes both streams through;
/// Transcode makes H.264 QVBR + AAC-LC stereo at the source's size, or scaled down to the
/// caps (`scaled_to`, upright: the input is turned first). MediaConvert does not
/// pass rotation metadata through, so a source shown turned is transcoded upright instead
/// (input rotation AUTO) rather than passed through sideways.
fn mp4_group(job: &JobSpec, mp4: &ObjectKey, defaults: &JobDefaults) -> OutputGroup {
    let turned = job
        .info
        .video
        .as_ref()
        .is_some_and(|v| v.rotation % 360 != 0);
    let passthrough = matches!(job.plan, Plan::Copy | Plan::Remux) && !turned;
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
        aac()
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
        .video_description(
            VideoDescription::builder()
                .set_width(job.scaled_to.map(|(width, _)| width as i32))
                .set_height(job.scaled_to.map(|(_, height)| height as i32))
                .codec_settings(video)
                .build(),
        );
    if audio_expected(&job.info) {
        output = output.audio_descriptions(
            AudioDescription::builder()
                .audio_source_name(AUDIO_SELECTOR)
                .codec_settings(audio)
                .build(),
        );
    }
    file_group("File Group", destination(job, mp4), vec![output.build()])
}
