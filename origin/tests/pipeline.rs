//! The local pipeline end to end, by kind of source: generated clips are uploaded to a real
//! SeaweedFS, the runner (poller → handler → one FFmpeg run per job → handler) converts them
//! with real ffmpeg, and every output is checked with ffprobe (`common::local`,
//! `common::hls`). Failures, retries and large outputs are in `pipeline_failures.rs`.

mod common;

use common::local::{convert_and_check, dir, displayed};
use common::{clip, ffmpeg, ffprobe, video_packet_hashes};
use origin::Plan;
use origin::ffmpeg::file_fast_start;

const H264_AAC: &[&str] = &[
    "-c:v",
    "libx264",
    "-preset",
    "ultrafast",
    "-pix_fmt",
    "yuv420p",
    "-c:a",
    "aac",
];

#[test]
fn avi_mpeg4_pcm_is_transcoded_with_a_ladder_of_three() {
    // 640x480, 7 s: renditions 480p, 360p and 240p, two segments each.
    let src = clip(
        &dir(),
        "in.avi",
        "640x480",
        7,
        &["-c:v", "mpeg4", "-c:a", "pcm_s16le"],
    );
    convert_and_check(&src, Plan::Transcode);
}

#[test]
fn mkv_h264_aac_is_remuxed() {
    let src = clip(&dir(), "in.mkv", "320x240", 3, H264_AAC);
    let (_, _, out) = convert_and_check(&src, Plan::Remux);
    assert_eq!(
        video_packet_hashes(&src),
        video_packet_hashes(&out.join("video.mp4")),
        "video copied, not re-encoded"
    );
}

#[test]
fn mov_h264_aac_is_remuxed() {
    let mut args = H264_AAC.to_vec();
    args.extend(["-f", "mov"]);
    let src = clip(&dir(), "in.mov", "320x240", 3, &args);
    let (_, _, out) = convert_and_check(&src, Plan::Remux);
    assert_eq!(
        video_packet_hashes(&src),
        video_packet_hashes(&out.join("video.mp4"))
    );
}

#[test]
fn webm_vp9_opus_is_transcoded() {
    let src = clip(
        &dir(),
        "in.webm",
        "320x240",
        3,
        &[
            "-c:v",
            "libvpx-vp9",
            "-deadline",
            "realtime",
            "-cpu-used",
            "8",
            "-b:v",
            "300k",
            "-c:a",
            "libopus",
        ],
    );
    convert_and_check(&src, Plan::Transcode);
}

#[test]
fn mp4_h264_aac_with_the_index_at_the_end_is_remuxed_not_reencoded() {
    let src = clip(&dir(), "in.mp4", "320x240", 3, H264_AAC);
    assert_eq!(
        file_fast_start(&src),
        Some(false),
        "ffmpeg writes moov last by default"
    );
    let (_, _, out) = convert_and_check(&src, Plan::Remux);
    assert_eq!(
        video_packet_hashes(&src),
        video_packet_hashes(&out.join("video.mp4")),
        "identical video packets"
    );
}

#[test]
fn fast_start_mp4_h264_aac_is_served_as_it_is_and_gets_its_ladder_after() {
    let mut args = H264_AAC.to_vec();
    args.extend(["-movflags", "+faststart"]);
    let src = clip(&dir(), "in.mp4", "320x240", 2, &args);
    let (_, _, out) = convert_and_check(&src, Plan::Copy);
    assert_eq!(
        std::fs::read(&src).unwrap(),
        std::fs::read(out.join("video.mp4")).unwrap(),
        "byte for byte"
    );
}

#[test]
fn mp4_hevc_is_transcoded() {
    let src = clip(
        &dir(),
        "in.mp4",
        "320x240",
        3,
        &[
            "-c:v",
            "libx265",
            "-preset",
            "ultrafast",
            "-tag:v",
            "hvc1",
            "-x265-params",
            "log-level=error",
            "-c:a",
            "aac",
        ],
    );
    let (_, _, out) = convert_and_check(&src, Plan::Transcode);
    assert_ne!(
        video_packet_hashes(&src),
        video_packet_hashes(&out.join("video.mp4"))
    );
}

#[test]
fn a_phone_video_held_upright_streams_upright() {
    // A landscape picture with a quarter turn in its display matrix, as phones record.
    let dir = dir();
    let landscape = clip(&dir, "landscape.mp4", "480x360", 7, H264_AAC);
    let src = dir.join("rotated.mp4");
    let (from, to) = (landscape.to_str().unwrap(), src.to_str().unwrap());
    ffmpeg(&["-i", from, "-c", "copy", "-metadata:s:v:0", "rotate=90", to]);
    assert_eq!(displayed(&ffprobe(&src)), (360, 480), "shown standing up");
    // The MP4 keeps the matrix (a remux); the renditions are 360x480 and 240x320.
    let (_, ready, out) = convert_and_check(&src, Plan::Remux);
    assert_eq!(
        (&ready["width"], &ready["height"]),
        (&360.into(), &480.into())
    );
    assert_eq!(displayed(&ffprobe(&out.join("video.mp4"))), (360, 480));
}

#[test]
fn a_silent_mp4_is_copied_and_streams_without_an_audio_group() {
    let src = dir().join("silent.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x240:rate=25:duration=3",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        "-movflags",
        "+faststart",
        src.to_str().unwrap(),
    ]);
    convert_and_check(&src, Plan::Copy);
}
