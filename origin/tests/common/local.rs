//! The local pipeline as the pipeline tests drive it: one runner per test binary on the
//! shared SeaweedFS, real ffmpeg, a stand-in edge; and the check of a converted video as a
//! browser needs it.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use model::storage::KeyPrefix;
use model::{ObjectKey, VideoContainer, VideoId};
use origin::clock::SystemClock;
use origin::config::LocalConfig;
use origin::ffmpeg::{Ffmpeg, file_fast_start};
use origin::local::RunningPipeline;
use origin::local::watcher::FilerTail;
use origin::media::Caps;
use origin::s3::S3Store;
use origin::store::ObjectStore;
use origin::transcoder::Makes;
use origin::{Buckets, Plan};
use serde_json::Value;

use super::fakes::bucket;
use super::hls;
use super::{Edge, WEBHOOK_SECRET, duration_s, ffprobe, put_file, stream, wait_for};

/// S3's smallest part (SeaweedFS enforces it too), so a ~15 MB output goes up in parts.
pub const TEST_PART_SIZE: u64 = 5 << 20;
pub const JOB_TIMEOUT: Duration = Duration::from_secs(240);

pub struct Harness {
    pub rt: tokio::runtime::Runtime,
    pub running: RunningPipeline,
    pub edge: Edge,
    pub store: S3Store<SystemClock>,
}

impl Harness {
    /// A runner under `caps` with its own runtime and stand-in edge.
    pub fn start(caps: Caps) -> Harness {
        let weed = testkit::SeaweedFs::shared();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let edge = Edge::start();
        let state_dir = testkit::temp_dir("origin-pipeline-state");
        let running = {
            let _guard = rt.enter();
            origin::local::start(config(&edge, state_dir, caps)).expect("start the local pipeline")
        };
        Harness {
            rt,
            running,
            edge,
            store: super::store(&weed.s3_endpoint),
        }
    }
}

/// The runner of this test binary, under the default caps.
pub fn harness() -> &'static Harness {
    static H: OnceLock<Harness> = OnceLock::new();
    H.get_or_init(|| Harness::start(Caps::default()))
}

/// A local runner's settings on the shared SeaweedFS, reporting to `edge`, under `caps`.
pub fn config(edge: &Edge, state_dir: PathBuf, caps: Caps) -> LocalConfig {
    let weed = testkit::SeaweedFs::shared();
    LocalConfig {
        s3: super::s3_config(&weed.s3_endpoint),
        region: testkit::S3_REGION.into(),
        buckets: Buckets {
            incoming: bucket("incoming"),
            media: bucket("media"),
        },
        edge_url: edge.url.clone(),
        webhook_secret: WEBHOOK_SECRET.as_bytes().to_vec().into(),
        state_dir,
        poll_interval: Duration::from_millis(200),
        filer_tail: Some(FilerTail {
            address: weed.filer_address.clone(),
            weed: weed.weed.clone(),
        }),
        part_size: TEST_PART_SIZE,
        ffmpeg: Ffmpeg::new(
            Some(testkit::tool("ffmpeg")),
            Some(testkit::tool("ffprobe")),
        ),
        caps,
    }
}

pub fn dir() -> PathBuf {
    testkit::temp_dir("origin-pipeline")
}

/// The source key of a video uploaded from `file` (its extension names the container).
pub fn source_key(id: &VideoId, file: &Path) -> ObjectKey {
    let ext = file.extension().unwrap().to_str().unwrap();
    ObjectKey::source(id, VideoContainer::from_extension(ext).unwrap())
}

/// Uploads a source for a fresh video; returns the video id.
pub fn upload(file: &Path) -> VideoId {
    let h = harness();
    let id = super::video_id();
    h.rt.block_on(put_file(&h.store, "incoming", &source_key(&id, file), file));
    id
}

/// What each of the video's jobs makes, and its plan.
pub fn jobs_of(id: &VideoId) -> Vec<(Makes, Plan)> {
    harness()
        .running
        .state
        .jobs()
        .into_iter()
        .filter(|r| r.spec.video_id == *id)
        .map(|r| (r.spec.makes(), r.spec.plan))
        .collect()
}

pub fn outputs_of(id: &VideoId) -> Vec<ObjectKey> {
    let h = harness();
    h.rt.block_on(h.store.list(&bucket("media"), &KeyPrefix::outputs(id)))
        .unwrap()
        .into_iter()
        .map(|o| o.key)
        .collect()
}

pub fn source_exists(id: &VideoId, file: &Path) -> bool {
    let h = harness();
    h.rt.block_on(h.store.head(&bucket("incoming"), &source_key(id, file)))
        .unwrap()
        .is_some()
}

/// (width, height) as displayed: swapped for a quarter turn of the display matrix.
pub fn displayed(probe: &Value) -> (u64, u64) {
    let video = stream(probe, "video").expect("a video stream");
    let rotation = video["side_data_list"]
        .as_array()
        .and_then(|list| list.iter().find_map(|d| d["rotation"].as_f64()))
        .unwrap_or(0.0);
    let (w, h) = (
        video["width"].as_u64().unwrap(),
        video["height"].as_u64().unwrap(),
    );
    if (rotation.abs() as u64) % 180 == 90 {
        (h, w)
    } else {
        (w, h)
    }
}

/// Converts one clip and checks the result as a browser needs it: the MP4 (H.264, AAC when
/// the source has sound, index first, same duration ±0.1 s, its displayed size reported),
/// then the streaming set ([`hls::check`]) and nothing else under the video's folder; the
/// source goes once the ladder is done. Returns (id, ready event, local copy of the outputs).
pub fn convert_and_check(source: &Path, expected_plan: Plan) -> (VideoId, Value, PathBuf) {
    let h = harness();
    let id = upload(source);
    let ready = h.edge.wait_final(&id, JOB_TIMEOUT);
    assert_eq!(ready["status"], "ready", "{ready}");
    let done = h.edge.wait_streams(&id, JOB_TIMEOUT);
    assert!(
        done.get("hlsKey").is_some(),
        "the streaming set was made: {done}"
    );
    // A copy needs no job for its MP4: it is copied into place server-side, then its
    // streaming set gets a job of its own. A remux makes its MP4 alone first (it plays in
    // seconds), then the set from that MP4 (which needs no conversion: a copy's plan). A
    // transcode makes everything in one job.
    let expected_jobs = match expected_plan {
        Plan::Copy => vec![(Makes::Streams, Plan::Copy)],
        Plan::Remux => vec![(Makes::Mp4, Plan::Remux), (Makes::Streams, Plan::Copy)],
        Plan::Transcode => vec![(Makes::All, Plan::Transcode)],
    };
    assert_eq!(jobs_of(&id), expected_jobs);
    assert_eq!(ready["outputKey"], ObjectKey::mp4(&id).as_str());
    assert_eq!(done["hlsKey"], ObjectKey::hls_master(&id).as_str());
    assert_eq!(done["posterKey"], ObjectKey::poster(&id).as_str());
    assert_eq!(done["storyboardKey"], ObjectKey::storyboard(&id).as_str());
    wait_for(
        "the source to go once the ladder is done",
        JOB_TIMEOUT,
        || (!source_exists(&id, source)).then_some(()),
    );

    let local = source.with_file_name(id.to_string());
    let names = h.rt.block_on(hls::download(&h.store, &id, &local));
    let layout = [
        "poster.jpg",
        "storyboard.jpg",
        "storyboard.vtt",
        "video.mp4",
    ];
    for name in &names {
        assert!(
            layout.contains(&name.as_str()) || name.starts_with("hls/"),
            "{name} is not in the layout"
        );
    }
    let output = local.join("video.mp4");
    let (src, out) = (ffprobe(source), ffprobe(&output));
    let video = stream(&out, "video").expect("a video stream");
    assert_eq!(video["codec_name"], "h264");
    assert_eq!(video["pix_fmt"], "yuv420p");
    let audio = stream(&src, "audio").is_some();
    assert_eq!(
        stream(&out, "audio").map(|a| a["codec_name"].clone()),
        audio.then(|| "aac".into())
    );
    assert_eq!(file_fast_start(&output), Some(true), "moov before mdat");
    let (d_src, d_out) = (duration_s(&src), duration_s(&out));
    assert!(
        (d_src - d_out).abs() <= 0.1,
        "duration {d_out} s vs source {d_src} s"
    );
    let (width, height) = displayed(&src);
    assert_eq!(
        displayed(&out),
        (width, height),
        "upright as the source shows"
    );
    assert_eq!(
        (&ready["width"], &ready["height"]),
        (&width.into(), &height.into())
    );
    let reported = ready["durationMs"].as_u64().unwrap() as f64 / 1000.0;
    assert!(
        (reported - d_out).abs() <= 0.1,
        "reported {reported} s vs {d_out} s"
    );
    let events = h.edge.for_video(&id);
    assert!(
        events.iter().any(|e| e["status"] == "processing"
            || (e["status"] == "streams" && e["streams"] == "processing")),
        "progress was reported: {events:?}"
    );
    hls::check(
        &local,
        &hls::Source {
            width: width as u32,
            height: height as u32,
            audio,
            duration_s: d_src,
        },
    );
    (id, ready, local)
}
