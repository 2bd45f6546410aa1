//! The local pipeline end to end: generated clips are uploaded to a real SeaweedFS, the
//! runner (poller → handler → FFmpeg worker → handler) converts them with real ffmpeg, and the
//! outputs are checked with ffprobe. One runner serves every test of this file.

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use common::fakes::bucket;
use common::{
    Edge, WEBHOOK_SECRET, clip, duration_s, ffprobe, put_file, stream, video_packet_hashes,
    wait_for,
};
use model::storage::KeyPrefix;
use model::{ObjectKey, VideoContainer, VideoId};
use origin::clock::{Clock, SystemClock};
use origin::config::LocalConfig;
use origin::ffmpeg::{Ffmpeg, file_fast_start};
use origin::local::{RunningPipeline, Stage};
use origin::s3::S3Store;
use origin::store::ObjectStore;
use origin::{Buckets, Plan};
use serde_json::Value;

/// S3's smallest part (SeaweedFS enforces it too), so a ~15 MB output goes up in parts.
const TEST_PART_SIZE: u64 = 5 << 20;
const JOB_TIMEOUT: Duration = Duration::from_secs(240);

struct Harness {
    rt: tokio::runtime::Runtime,
    running: RunningPipeline,
    edge: Edge,
    store: S3Store<SystemClock>,
}

fn harness() -> &'static Harness {
    static H: OnceLock<Harness> = OnceLock::new();
    H.get_or_init(|| {
        let weed = testkit::SeaweedFs::shared();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let edge = Edge::start();
        let mut ffmpeg = Ffmpeg::new(
            Some(testkit::tool("ffmpeg")),
            Some(testkit::tool("ffprobe")),
        );
        ffmpeg.preset = "veryfast".into();
        let config = LocalConfig {
            s3: common::s3_config(&weed.s3_endpoint),
            region: testkit::S3_REGION.into(),
            buckets: Buckets {
                incoming: bucket("incoming"),
                media: bucket("media"),
            },
            edge_url: edge.url.clone(),
            webhook_secret: WEBHOOK_SECRET.as_bytes().to_vec().into(),
            state_dir: testkit::temp_dir("origin-pipeline-state"),
            poll_interval: Duration::from_millis(200),
            part_size: TEST_PART_SIZE,
            ffmpeg,
        };
        let running = {
            let _guard = rt.enter();
            origin::local::start(config).expect("start the local pipeline")
        };
        Harness {
            rt,
            running,
            edge,
            store: common::store(&weed.s3_endpoint),
        }
    })
}

fn dir() -> PathBuf {
    testkit::temp_dir("origin-pipeline")
}

/// The source key of a video uploaded from `file` (its extension names the container).
fn source_key(id: &VideoId, file: &Path) -> ObjectKey {
    let ext = file.extension().unwrap().to_str().unwrap();
    ObjectKey::source(id, VideoContainer::from_extension(ext).unwrap())
}

/// Uploads a source for a fresh video; returns the video id.
fn upload(file: &Path) -> VideoId {
    let h = harness();
    let id = common::video_id();
    h.rt.block_on(put_file(&h.store, "incoming", &source_key(&id, file), file));
    id
}

/// The plan of the video's job; `None` when it needed no job (a copy).
fn plan_of(id: &VideoId) -> Option<Plan> {
    let h = harness();
    h.running
        .state
        .jobs()
        .into_iter()
        .find(|r| r.spec.video_id == *id)
        .map(|record| record.spec.plan)
}

fn outputs_of(id: &VideoId) -> Vec<ObjectKey> {
    let h = harness();
    h.rt.block_on(h.store.list(&bucket("media"), &KeyPrefix::outputs(id)))
        .unwrap()
        .into_iter()
        .map(|o| o.key)
        .collect()
}

fn source_exists(id: &VideoId, ext: &str) -> bool {
    let h = harness();
    let key = ObjectKey::source(id, VideoContainer::from_extension(ext).unwrap());
    h.rt.block_on(h.store.head(&bucket("incoming"), &key))
        .unwrap()
        .is_some()
}

/// Converts one clip and checks the result as a browser would need it: H.264/AAC MP4, index
/// first, same duration (±0.1 s), size reported. Returns (id, ready event, output file).
fn convert_and_check(source: &Path, expected_plan: Plan) -> (VideoId, Value, PathBuf) {
    let h = harness();
    let id = upload(source);
    let ready = h.edge.wait_final(&id, JOB_TIMEOUT);
    assert_eq!(ready["status"], "ready", "{ready}");
    let copied = expected_plan == Plan::Copy;
    // A copy needs no job: it is copied into place server-side.
    assert_eq!(plan_of(&id), (!copied).then_some(expected_plan));
    let output_key = ObjectKey::mp4(&id);
    assert_eq!(ready["outputKey"], output_key.as_str());
    assert_eq!(
        outputs_of(&id),
        std::slice::from_ref(&output_key),
        "exactly one output"
    );
    let ext = source.extension().unwrap().to_str().unwrap();
    assert!(
        !source_exists(&id, ext),
        "the source is deleted after the output is verified"
    );

    let output = source.with_file_name(format!("{id}-output.mp4"));
    h.rt.block_on(h.store.download(&bucket("media"), &output_key, &output))
        .unwrap();
    let (src, out) = (ffprobe(source), ffprobe(&output));
    let video = stream(&out, "video").expect("a video stream");
    assert_eq!(video["codec_name"], "h264");
    assert_eq!(video["pix_fmt"], "yuv420p");
    assert_eq!(
        stream(&out, "audio").expect("an audio stream")["codec_name"],
        "aac"
    );
    assert!(
        out["format"]["format_name"]
            .as_str()
            .unwrap()
            .contains("mp4")
    );
    assert_eq!(file_fast_start(&output), Some(true), "moov before mdat");
    let (d_src, d_out) = (duration_s(&src), duration_s(&out));
    assert!(
        (d_src - d_out).abs() <= 0.1,
        "duration {d_out} s vs source {d_src} s"
    );
    assert_eq!(ready["width"], video["width"]);
    assert_eq!(ready["height"], video["height"]);
    let reported = ready["durationMs"].as_u64().unwrap() as f64 / 1000.0;
    assert!(
        (reported - d_out).abs() <= 0.1,
        "reported {reported} s vs {d_out} s"
    );
    let events = h.edge.for_video(&id);
    assert!(
        copied || events.iter().any(|e| e["status"] == "processing"),
        "progress was reported: {events:?}"
    );
    (id, ready, output)
}

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
fn avi_mpeg4_pcm_is_transcoded() {
    let src = clip(
        &dir(),
        "in.avi",
        "320x240",
        3,
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
        video_packet_hashes(&out),
        "video copied, not re-encoded"
    );
}

#[test]
fn mov_h264_aac_is_remuxed() {
    let mut args = H264_AAC.to_vec();
    args.extend(["-f", "mov"]);
    let src = clip(&dir(), "in.mov", "320x240", 3, &args);
    let (_, _, out) = convert_and_check(&src, Plan::Remux);
    assert_eq!(video_packet_hashes(&src), video_packet_hashes(&out));
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
        video_packet_hashes(&out),
        "identical video packets"
    );
}

#[test]
fn fast_start_mp4_h264_aac_is_served_as_it_is() {
    let mut args = H264_AAC.to_vec();
    args.extend(["-movflags", "+faststart"]);
    let src = clip(&dir(), "in.mp4", "320x240", 2, &args);
    let (_, _, out) = convert_and_check(&src, Plan::Copy);
    assert_eq!(
        std::fs::read(&src).unwrap(),
        std::fs::read(&out).unwrap(),
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
    assert_ne!(video_packet_hashes(&src), video_packet_hashes(&out));
}

#[test]
fn a_corrupt_file_fails_with_ffprobes_reason_and_keeps_the_source() {
    let h = harness();
    let path = dir().join("broken.mp4");
    let mut junk = b"this is not a video at all\n".repeat(2000);
    junk.extend((0..50_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
    std::fs::write(&path, junk).unwrap();
    let id = upload(&path);
    let failed = h.edge.wait_final(&id, JOB_TIMEOUT);
    assert_eq!(failed["status"], "failed", "{failed}");
    assert_eq!(failed["error"]["code"], "invalid_input");
    let message = failed["error"]["message"].as_str().unwrap();
    assert!(message.starts_with("ffprobe:"), "{message}");
    assert!(
        message.contains("Invalid data") || message.contains("moov atom not found"),
        "{message}"
    );
    assert!(source_exists(&id, "mp4"), "a failed job keeps its source");
    assert!(outputs_of(&id).is_empty());
}

#[test]
fn a_large_output_goes_up_as_a_multipart_upload() {
    let h = harness();
    // Noise at a near-lossless quantizer: a few seconds make an output of several parts.
    // H.264/AAC with its index at the end: remuxed, never re-encoded, so the output is as
    // large as the (noisy, barely compressible) source.
    let path = dir().join("noisy.mp4");
    common::ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=640x360:rate=25:duration=2,noise=alls=60:allf=t",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=300:duration=2",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-qp",
        "4",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        path.to_str().unwrap(),
    ]);
    let size = std::fs::metadata(&path).unwrap().len();
    assert!(
        size > 2 * TEST_PART_SIZE,
        "the clip ({size} bytes) spans several parts"
    );
    let (id, _, out) = convert_and_check(&path, Plan::Remux);
    let out_size = std::fs::metadata(&out).unwrap().len();
    let meta =
        h.rt.block_on(h.store.head(&bucket("media"), &ObjectKey::mp4(&id)))
            .unwrap()
            .unwrap();
    assert_eq!(meta.size, out_size);
    let parts: u64 = meta
        .etag
        .rsplit_once('-')
        .expect("a multipart ETag")
        .1
        .parse()
        .unwrap();
    assert_eq!(parts, out_size.div_ceil(TEST_PART_SIZE));
}

#[test]
fn a_duplicate_event_makes_one_job() {
    let h = harness();
    let src = clip(&dir(), "dup.mkv", "320x240", 2, H264_AAC);
    let id = upload(&src);
    let key = source_key(&id, &src);
    let meta =
        h.rt.block_on(h.store.head(&bucket("incoming"), &key))
            .unwrap()
            .unwrap();
    // The same notification three times (S3 is at-least-once), besides the poller's own.
    let object = origin::event::NewObject {
        region: "us-east-1",
        bucket: &bucket("incoming"),
        key: &key,
        size: meta.size,
        etag: &meta.etag,
    };
    let event = origin::event::s3_event_json(&object, SystemClock.now());
    let mut job_ids = Vec::new();
    for _ in 0..3 {
        for outcome in
            h.rt.block_on(h.running.origin.handle(event.clone(), None))
                .unwrap()
        {
            match outcome {
                origin::Outcome::Submitted { job_id, .. }
                | origin::Outcome::AlreadyStarted { job_id, .. } => job_ids.push(job_id),
                // The job may already be finished and its source deleted.
                origin::Outcome::SourceGone { .. } => {}
                other => panic!("{other:?}"),
            }
        }
    }
    job_ids.dedup();
    assert!(job_ids.len() <= 1, "{job_ids:?}");
    let ready = h.edge.wait_final(&id, JOB_TIMEOUT);
    assert_eq!(ready["status"], "ready");
    std::thread::sleep(Duration::from_secs(1));
    let jobs: Vec<_> = h
        .running
        .state
        .jobs()
        .into_iter()
        .filter(|r| r.spec.video_id == id)
        .collect();
    assert_eq!(jobs.len(), 1, "one job");
    assert_eq!(outputs_of(&id).len(), 1, "one output");
    let mut ready_ids: Vec<String> = h
        .edge
        .for_video(&id)
        .iter()
        .filter(|e| e["status"] == "ready")
        .map(|e| e["eventId"].as_str().unwrap().to_string())
        .collect();
    ready_ids.dedup();
    assert_eq!(ready_ids.len(), 1, "one logical ready event");
}

#[test]
fn a_source_deleted_while_it_is_converted_ends_the_job_cleanly() {
    let h = harness();
    let path = dir().join("long.avi");
    common::ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=640x360:rate=25:duration=12",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=300:duration=12",
        "-c:v",
        "mpeg4",
        "-c:a",
        "pcm_s16le",
        path.to_str().unwrap(),
    ]);
    let id = upload(&path);
    let token = wait_for("the job to start converting", JOB_TIMEOUT, || {
        h.running
            .state
            .jobs()
            .into_iter()
            .find(|r| r.spec.video_id == id && r.stage == Stage::Converting)
            .map(|r| r.spec.token)
    });
    h.rt.block_on(h.store.delete(&bucket("incoming"), &source_key(&id, &path)))
        .unwrap();
    let failed = h.edge.wait_final(&id, JOB_TIMEOUT);
    assert_eq!(failed["status"], "failed", "{failed}");
    assert_eq!(
        failed["error"]["code"],
        format!(
            "mediaconvert_{}",
            origin::local::runner::ERROR_SOURCE_DELETED
        )
    );
    assert!(outputs_of(&id).is_empty(), "no output for a deleted source");
    let record = h.running.state.load(&token).unwrap();
    assert_eq!(record.stage, Stage::Canceled);
    assert!(!h.running.state.work(&token).exists(), "work files removed");
}
