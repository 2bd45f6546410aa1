//! The caps a source must meet, on the local pipeline with real ffmpeg: a runner whose caps
//! are tiny (2 s, 640x240) fails a longer clip with the reason and converts nothing, and
//! scales a taller one down: its MP4 is encoded at the cap (never remuxed at its own size)
//! and its ladder starts there, checked with ffprobe.

mod common;

use std::sync::OnceLock;

use common::fakes::bucket;
use common::hls;
use common::local::{Harness, JOB_TIMEOUT, dir, source_key};
use common::{clip, duration_s, ffprobe, put_file, stream, video_id};
use model::VideoId;
use model::storage::KeyPrefix;
use origin::Plan;
use origin::media::Caps;
use origin::store::ObjectStore;
use origin::transcoder::Makes;
use serde_json::json;

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

fn harness() -> &'static Harness {
    static H: OnceLock<Harness> = OnceLock::new();
    H.get_or_init(|| {
        Harness::start(Caps {
            max_duration_ms: 2000,
            max_long_side: 640,
            max_short_side: 240,
            ..Caps::default()
        })
    })
}

/// Uploads `file` as a fresh video's source.
fn upload(h: &Harness, file: &std::path::Path) -> VideoId {
    let id = video_id();
    h.rt.block_on(put_file(&h.store, "incoming", &source_key(&id, file), file));
    id
}

#[test]
fn a_source_longer_than_the_cap_fails_with_the_reason_and_is_not_converted() {
    let h = harness();
    let src = clip(&dir(), "long.mkv", "320x240", 3, H264_AAC);
    let id = upload(h, &src);
    let failed = h.edge.wait_final(&id, JOB_TIMEOUT);
    assert_eq!(failed["status"], "failed", "{failed}");
    assert_eq!(failed["error"]["code"], "too_long");
    let message = failed["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("the video lasts 3.")
            && message.ends_with("longer than the 2 s allowed"),
        "{message}"
    );
    let jobs = h.running.state.jobs();
    assert!(jobs.iter().all(|r| r.spec.video_id != id), "no job");
    let source =
        h.rt.block_on(h.store.head(&bucket("incoming"), &source_key(&id, &src)));
    assert!(source.unwrap().is_some(), "a failed video keeps its source");
    let outputs =
        h.rt.block_on(h.store.list(&bucket("media"), &KeyPrefix::outputs(&id)));
    assert!(outputs.unwrap().is_empty());
}

#[test]
fn a_picture_larger_than_the_cap_is_scaled_down_to_it() {
    let h = harness();
    // Portrait 320x480 H.264/AAC: a remux under the default caps; its short side is over
    // 240, so it is transcoded at 240x360, in one job with its ladder.
    let src = clip(&dir(), "tall.mkv", "320x480", 1, H264_AAC);
    let id = upload(h, &src);
    let ready = h.edge.wait_final(&id, JOB_TIMEOUT);
    assert_eq!(ready["status"], "ready", "{ready}");
    assert_eq!(
        (&ready["width"], &ready["height"]),
        (&json!(240), &json!(360))
    );
    let jobs: Vec<(Makes, Plan)> = h
        .running
        .state
        .jobs()
        .into_iter()
        .filter(|r| r.spec.video_id == id)
        .map(|r| (r.spec.makes(), r.spec.plan))
        .collect();
    assert_eq!(jobs, [(Makes::All, Plan::Transcode)]);
    let done = h.edge.wait_streams(&id, JOB_TIMEOUT);
    assert!(done.get("hlsKey").is_some(), "{done}");

    let local = dir().join(id.to_string());
    h.rt.block_on(hls::download(&h.store, &id, &local));
    let mp4 = ffprobe(&local.join("video.mp4"));
    let video = stream(&mp4, "video").expect("a video stream");
    assert_eq!(video["codec_name"], "h264");
    assert_eq!(
        (&video["width"], &video["height"]),
        (&json!(240), &json!(360))
    );
    // The ladder, poster and storyboard as for a 240x360 source: one 240p rendition.
    hls::check(
        &local,
        &hls::Source {
            width: 240,
            height: 360,
            audio: true,
            duration_s: duration_s(&ffprobe(&src)),
        },
    );
}
