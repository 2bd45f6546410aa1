//! The Lambda's probe (ranged reads of the MP4 header from S3) against ffprobe, on generated
//! files in a real SeaweedFS.

mod common;

use common::fakes::{bucket, key};
use common::{clip, mp4_source, put_file};
use origin::ffmpeg::Ffmpeg;
use origin::media::{AudioCodec, Container, VideoCodec};
use origin::mp4::probe_object;
use origin::transcoder::Source;
use origin::{Plan, plan};

/// (file name, encoder arguments, container, video codec, audio codec, plan).
type Case<'a> = (
    &'a str,
    Vec<&'a str>,
    Container,
    VideoCodec,
    Option<AudioCodec>,
    Plan,
);

fn source(key: model::ObjectKey, size: u64) -> Source {
    Source {
        bucket: bucket("incoming"),
        key,
        etag: String::new(),
        size,
    }
}

#[tokio::test]
async fn ranged_reads_tell_what_ffprobe_tells() {
    let weed = testkit::SeaweedFs::shared();
    let store = common::store(&weed.s3_endpoint);
    let dir = testkit::temp_dir("origin-probe");
    let ffmpeg = Ffmpeg::new(
        Some(testkit::tool("ffmpeg")),
        Some(testkit::tool("ffprobe")),
    );
    let h264 = [
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
    ];
    let cases: Vec<Case> = vec![
        (
            "end.mp4",
            h264.to_vec(),
            Container::Mp4,
            VideoCodec::H264,
            Some(AudioCodec::Aac),
            Plan::Remux,
        ),
        (
            "start.mp4",
            [&h264[..], &["-movflags", "+faststart"]].concat(),
            Container::Mp4,
            VideoCodec::H264,
            Some(AudioCodec::Aac),
            Plan::Copy,
        ),
        (
            "qt.mov",
            [&h264[..], &["-f", "mov"]].concat(),
            Container::Mov,
            VideoCodec::H264,
            Some(AudioCodec::Aac),
            Plan::Remux,
        ),
        (
            "hevc.mp4",
            vec![
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
            Container::Mp4,
            VideoCodec::Hevc,
            Some(AudioCodec::Aac),
            Plan::Transcode,
        ),
        (
            "mp3.mp4",
            vec![
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-pix_fmt",
                "yuv420p",
                "-c:a",
                "libmp3lame",
            ],
            Container::Mp4,
            VideoCodec::H264,
            Some(AudioCodec::Mp3),
            Plan::Transcode,
        ),
        (
            "ten.mp4",
            vec![
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-pix_fmt",
                "yuv444p",
                "-c:a",
                "aac",
            ],
            Container::Mp4,
            VideoCodec::H264,
            Some(AudioCodec::Aac),
            Plan::Transcode,
        ),
        (
            "silent.mp4",
            vec![
                "-an",
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-pix_fmt",
                "yuv420p",
            ],
            Container::Mp4,
            VideoCodec::H264,
            None,
            Plan::Remux,
        ),
    ];
    for (name, args, container, video, audio, expected_plan) in cases {
        let file = clip(&dir, name, "320x240", 2, &args);
        let size = std::fs::metadata(&file).unwrap().len();
        let key = mp4_source(&common::video_id());
        put_file(&store, "incoming", &key, &file).await;
        let ranged = probe_object(&store, &source(key, size)).await.unwrap();
        let local = ffmpeg.probe(&file, size).await.unwrap();
        assert_eq!(ranged.container, container, "{name}");
        let v = ranged.video.as_ref().unwrap();
        assert_eq!((&v.codec, v.width, v.height), (&video, 320, 240), "{name}");
        assert_eq!(ranged.audio, audio, "{name}");
        assert_eq!(plan(&ranged), expected_plan, "{name}: {ranged:?}");
        // ffprobe agrees on everything the plan uses.
        assert_eq!(
            (&ranged.container, &ranged.audio, ranged.fast_start),
            (&local.container, &local.audio, local.fast_start),
            "{name}"
        );
        assert_eq!(plan(&local), expected_plan, "{name}: {local:?}");
        let (d1, d2) = (
            ranged.duration_ms.unwrap() as i64,
            local.duration_ms.unwrap() as i64,
        );
        assert!((d1 - d2).abs() <= 100, "{name}: {d1} vs {d2} ms");
    }

    // A phone video: the track header turns the picture; both probes read the turn, and the
    // picture stands up.
    let landscape = clip(&dir, "landscape.mp4", "320x240", 1, &h264);
    for (degrees, turn) in [("90", 90), ("270", 270), ("180", 180)] {
        let rotated = dir.join(format!("rotated-{degrees}.mp4"));
        let (from, to) = (landscape.to_str().unwrap(), rotated.to_str().unwrap());
        let rotate = format!("rotate={degrees}");
        common::ffmpeg(&["-i", from, "-c", "copy", "-metadata:s:v:0", &rotate, to]);
        let size = std::fs::metadata(&rotated).unwrap().len();
        let key = mp4_source(&common::video_id());
        put_file(&store, "incoming", &key, &rotated).await;
        let ranged = probe_object(&store, &source(key, size)).await.unwrap();
        let local = ffmpeg.probe(&rotated, size).await.unwrap();
        let (r, l) = (ranged.video.unwrap(), local.video.unwrap());
        assert_eq!((r.rotation, l.rotation), (turn, turn), "rotate={degrees}");
        let upright = if turn == 180 { (320, 240) } else { (240, 320) };
        assert_eq!((r.upright(), l.upright()), (Some(upright), Some(upright)));
    }

    // Not ISO base media at all: unknown, so transcode (MediaConvert reads any container).
    let mkv = clip(&dir, "x.mkv", "320x240", 1, &h264);
    let size = std::fs::metadata(&mkv).unwrap().len();
    put_file(&store, "incoming", &key("uploads/probe/x.mkv"), &mkv).await;
    let info = probe_object(&store, &source(key("uploads/probe/x.mkv"), size))
        .await
        .unwrap();
    assert!(matches!(info.container, Container::Other(_)) && info.video.is_none());
    assert_eq!(plan(&info), Plan::Transcode);

    // Gone: NotFound, which the handler treats as "nothing to do".
    let err = probe_object(&store, &source(key("uploads/probe/missing.mp4"), 1000))
        .await
        .unwrap_err();
    assert!(matches!(err, origin::Error::NotFound { .. }), "{err}");
}
