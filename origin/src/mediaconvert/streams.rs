//! The streaming set in MediaConvert terms: one CMAF group with an HLS manifest (the master
//! lands at `videos/{id}/hls/index.m3u8`), one CMFC video output per rendition of the ladder
//! (H.264 QVBR under the rung's MaxBitrate, closed 2 s GOPs so every rendition's 6 s segments
//! start on the same frames), one CMFC AAC output as the audio group every rendition plays
//! with, and image-based trick play for the storyboard's sprites; then a frame capture for
//! the poster.
//!
//! Why trick play for the storyboard: it tiles the thumbnails into sprites itself (a frame
//! capture makes one JPEG per thumbnail, which would leave the tiling to the Lambda) and
//! names them in an image playlist, from which the Lambda writes `storyboard.vtt`.

use aws_sdk_mediaconvert::types::{
    AudioDescription, CmafCodecSpecification, CmafGroupSettings, CmafImageBasedTrickPlay,
    CmafImageBasedTrickPlaySettings, CmafIntervalCadence, CmafManifestDurationFormat,
    CmafSegmentControl, CmafSegmentLengthControl, CmafStreamInfResolution,
    CmafTargetDurationCompatibilityMode, CmafWriteDashManifest, CmafWriteHlsManifest,
    CmfcAudioTrackType, CmfcSettings, ContainerSettings, ContainerType, FrameCaptureSettings,
    H264CodecLevel, H264CodecProfile, H264GopSizeUnits, H264QualityTuningLevel, H264QvbrSettings,
    H264RateControlMode, H264SceneChangeDetect, H264Settings, Output, OutputGroup,
    OutputGroupSettings, OutputGroupType, VideoCodec, VideoCodecSettings, VideoDescription,
};
use model::ObjectKey;
use model::ladder::{GOP, Profile, SEGMENT, Variant};
use model::storyboard::Storyboard;

use super::settings::{AUDIO_SELECTOR, aac, destination, file_group};
use crate::transcoder::{JobSpec, StreamsPlan};

/// The audio rendition group every video rendition names.
const AUDIO_GROUP: &str = "audio_aac";
/// Fragments inside a segment: one per GOP.
const FRAGMENT_SECONDS: i32 = GOP.as_secs() as i32;

/// The ladder's CMAF group and the poster's frame capture group.
pub(super) fn output_groups(job: &JobSpec, streams: &StreamsPlan) -> [OutputGroup; 2] {
    let mut outputs: Vec<Output> = streams
        .variants
        .iter()
        .map(|variant| rendition(variant, streams.audio))
        .collect();
    if streams.audio {
        outputs.push(audio_rendition());
    }
    let mut cmaf = CmafGroupSettings::builder()
        .destination(destination(job, &ObjectKey::hls_master(&job.video_id)))
        .segment_length(SEGMENT.as_secs() as i32)
        .fragment_length(FRAGMENT_SECONDS)
        .segment_control(CmafSegmentControl::SegmentedFiles)
        .segment_length_control(CmafSegmentLengthControl::GopMultiple)
        .write_hls_manifest(CmafWriteHlsManifest::Enabled)
        .write_dash_manifest(CmafWriteDashManifest::Disabled)
        .codec_specification(CmafCodecSpecification::Rfc6381)
        .manifest_duration_format(CmafManifestDurationFormat::FloatingPoint)
        .stream_inf_resolution(CmafStreamInfResolution::Include)
        .target_duration_compatibility_mode(CmafTargetDurationCompatibilityMode::SpecCompliant);
    if let Some(board) = &streams.storyboard {
        cmaf = cmaf
            .image_based_trick_play(CmafImageBasedTrickPlay::Advanced)
            .image_based_trick_play_settings(trick_play(board));
    }
    let ladder = OutputGroup::builder()
        .name("HLS")
        .output_group_settings(
            OutputGroupSettings::builder()
                .r#type(OutputGroupType::CmafGroupSettings)
                .cmaf_group_settings(cmaf.build())
                .build(),
        )
        .set_outputs(Some(outputs))
        .build();
    let poster = ObjectKey::poster(&job.video_id);
    let (width, height) = streams.poster_size();
    [
        ladder,
        file_group(
            "Poster",
            destination(job, &poster),
            vec![poster_capture(width, height)],
        ),
    ]
}

/// One rendition: `index_{name}.m3u8` and its segments, H.264 QVBR under the rung's cap.
fn rendition(variant: &Variant, audio: bool) -> Output {
    let rung = variant.rendition;
    let profile = match rung.profile() {
        Profile::Main => H264CodecProfile::Main,
        Profile::High => H264CodecProfile::High,
    };
    let h264 = H264Settings::builder()
        .rate_control_mode(H264RateControlMode::Qvbr)
        .qvbr_settings(
            H264QvbrSettings::builder()
                .qvbr_quality_level(i32::from(rung.qvbr_quality))
                .build(),
        )
        .max_bitrate(rung.max_bitrate as i32)
        .hrd_buffer_size(2 * rung.max_bitrate as i32)
        .gop_size_units(H264GopSizeUnits::Seconds)
        .gop_size(GOP.as_secs_f64())
        .gop_closed_cadence(1)
        .min_i_interval(0)
        .scene_change_detect(H264SceneChangeDetect::TransitionDetection)
        .quality_tuning_level(H264QualityTuningLevel::SinglePassHq)
        .codec_profile(profile)
        .codec_level(H264CodecLevel::Auto)
        .build();
    let mut container = ContainerSettings::builder().container(ContainerType::Cmfc);
    if audio {
        // Plays with the audio group.
        let cmfc = CmfcSettings::builder().audio_rendition_sets(AUDIO_GROUP);
        container = container.cmfc_settings(cmfc.build());
    }
    Output::builder()
        .name_modifier(format!("_{}", rung.name()))
        .container_settings(container.build())
        .video_description(
            VideoDescription::builder()
                .width(variant.width as i32)
                .height(variant.height as i32)
                .codec_settings(
                    VideoCodecSettings::builder()
                        .codec(VideoCodec::H264)
                        .h264_settings(h264)
                        .build(),
                )
                .build(),
        )
        .build()
}

/// The audio rendition, selected by default in the group every video rendition plays with.
fn audio_rendition() -> Output {
    Output::builder()
        .name_modifier("_audio")
        .container_settings(
            ContainerSettings::builder()
                .container(ContainerType::Cmfc)
                .cmfc_settings(
                    CmfcSettings::builder()
                        .audio_group_id(AUDIO_GROUP)
                        .audio_track_type(CmfcAudioTrackType::AlternateAudioAutoSelectDefault)
                        .build(),
                )
                .build(),
        )
        .audio_descriptions(
            AudioDescription::builder()
                .audio_source_name(AUDIO_SELECTOR)
                .codec_settings(aac())
                .build(),
        )
        .build()
}

/// The storyboard's geometry: thumbnails of the tile size every interval, tiled as planned.
fn trick_play(board: &Storyboard) -> CmafImageBasedTrickPlaySettings {
    CmafImageBasedTrickPlaySettings::builder()
        .interval_cadence(CmafIntervalCadence::FollowCustom)
        .thumbnail_interval(board.interval_ms as f64 / 1000.0)
        .thumbnail_width(board.tile_width as i32)
        .thumbnail_height(board.tile_height as i32)
        .tile_width(board.columns as i32)
        .tile_height(board.rows as i32)
        .build()
}

/// The first frame, at the top rendition's size: `poster.0000000.jpg`, copied to `poster.jpg`
/// once the job is done.
fn poster_capture(width: u32, height: u32) -> Output {
    Output::builder()
        .container_settings(
            ContainerSettings::builder()
                .container(ContainerType::Raw)
                .build(),
        )
        .video_description(
            VideoDescription::builder()
                .width(width as i32)
                .height(height as i32)
                .codec_settings(
                    VideoCodecSettings::builder()
                        .codec(VideoCodec::FrameCapture)
                        .frame_capture_settings(
                            FrameCaptureSettings::builder()
                                .framerate_numerator(1)
                                .framerate_denominator(1)
                                .max_captures(1)
                                .quality(80)
                                .build(),
                        )
                        .build(),
                )
                .build(),
        )
        .build()
}
