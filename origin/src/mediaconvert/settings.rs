//! The CreateJob settings for a job: a pure function of the job spec and the defaults, so
//! the exact request is tested against reviewed fixtures.

use aws_sdk_mediaconvert::types::{
    AacCodecProfile, AacCodingMode, AacRateControlMode, AacSettings, AudioCodec,
    AudioCodecSettings, AudioDefaultSelection, AudioDescription, AudioSelector, ContainerSettings,
    ContainerType, FileGroupSettings, H264QualityTuningLevel, H264QvbrSettings,
    H264RateControlMode, H264SceneChangeDetect, H264Settings, Input, InputTimecodeSource,
    JobSettings, Mp4MoovPlacement, Mp4Settings, Output, OutputGroup, OutputGroupSettings,
    OutputGroupType, VideoCodec, VideoCodecSettings, VideoDescription, VideoSelector,
};

use super::JobDefaults;
use crate::media::Plan;
use crate::transcoder::JobSpec;

const AUDIO_SELECTOR: &str = "Audio Selector 1";

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
        .as_str()
        .strip_suffix(".mp4")
        .unwrap_or(job.output_key.as_str());
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
