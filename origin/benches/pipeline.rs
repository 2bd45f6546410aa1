//! `cargo bench -p origin --bench pipeline`: a 60 s 720p clip through the local pipeline
//! (upload → poll → ffprobe → FFmpeg → uploads → finalize → events at the edge) beside the
//! FFmpeg run of its job by hand on the same file, for a copy, a remux and a transcode: the
//! MP4 alone by hand vs the MP4 with the ladder (what the ladder costs), and in the pipeline
//! the time to the first playable event (`ready`) and to the finished ladder. Prints one
//! JSON line. Needs ffmpeg/ffprobe and SeaweedFS (`weed`), as the tests do.
//!
//! Under `cargo test --benches` (no `--bench` argument) it only checks that it builds.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use model::{BucketName, ObjectKey, VideoContainer, VideoId};
use origin::Plan;
use origin::clock::{Clock, SystemClock};
use origin::config::LocalConfig;
use origin::ffmpeg::Ffmpeg;
use origin::ffmpeg::job::JobRun;
use origin::local::watcher::FilerTail;
use origin::media::Caps;
use origin::store::ObjectStore;
use origin::transcoder::StreamsPlan;
use signer::s3::{Addressing, Credentials, S3Config};

const SECONDS: u32 = 60;
const SIZE: &str = "1280x720";

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("pipeline bench: run it with `cargo bench -p origin --bench pipeline`");
        return;
    }
    let weed = testkit::SeaweedFs::start(&[]);
    let dir = testkit::temp_dir("origin-bench");
    let ffmpeg_bin = testkit::tool("ffmpeg");
    let ffmpeg = Ffmpeg::new(Some(ffmpeg_bin.clone()), Some(testkit::tool("ffprobe")));

    eprintln!("generating {SECONDS} s {SIZE} clips …");
    // Copy input: a fast-start H.264/AAC MP4. Remux input: the same with its index at the
    // end. Transcode input: MPEG-4 Part 2 + PCM AVI.
    let copy_src = generate(
        &ffmpeg_bin,
        &dir.join("copy.mp4"),
        &[
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            "23",
            "-c:a",
            "aac",
            "-movflags",
            "+faststart",
        ],
    );
    let remux_src = generate(
        &ffmpeg_bin,
        &dir.join("remux.mp4"),
        &[
            "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-c:a", "aac",
        ],
    );
    let transcode_src = generate(
        &ffmpeg_bin,
        &dir.join("transcode.avi"),
        &["-c:v", "mpeg4", "-q:v", "4", "-c:a", "pcm_s16le"],
    );

    let (events_tx, events_rx) = mpsc::channel::<String>();
    let edge_url = start_edge(events_tx);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let s3 = S3Config {
        endpoint: weed.s3_endpoint.clone(),
        region: testkit::S3_REGION.into(),
        addressing: Addressing::Path,
        credentials: Credentials {
            access_key_id: testkit::S3_ACCESS_KEY.into(),
            secret_access_key: testkit::S3_SECRET_KEY.into(),
            session_token: None,
        },
    };
    let config = LocalConfig {
        s3: s3.clone(),
        region: testkit::S3_REGION.into(),
        buckets: origin::Buckets {
            incoming: bucket("incoming"),
            media: bucket("media"),
        },
        edge_url,
        webhook_secret: b"bench".to_vec().into(),
        state_dir: dir.join("state"),
        // As `cargo xtask dev` runs it: woken by the filer's change feed, polling as a net.
        poll_interval: Duration::from_millis(1000),
        filer_tail: Some(FilerTail {
            address: weed.filer_address.clone(),
            weed: weed.weed.clone(),
        }),
        part_size: origin::s3::DEFAULT_PART_SIZE,
        ffmpeg: ffmpeg.clone(),
        caps: Caps::default(),
    };
    let running = {
        let _guard = rt.enter();
        origin::local::start(config).expect("start the pipeline")
    };
    let store = origin::s3::S3Store::new(&s3, reqwest::Client::new(), origin::clock::SystemClock)
        .expect("a usable S3 configuration");

    let mut results = serde_json::Map::new();
    for (name, src, plan) in [
        ("copy", &copy_src, Plan::Copy),
        ("remux", &remux_src, Plan::Remux),
        ("transcode", &transcode_src, Plan::Transcode),
    ] {
        // By hand: the job's FFmpeg run, without and with the streaming set.
        let size = std::fs::metadata(src).unwrap().len();
        let info = rt
            .block_on(ffmpeg.probe(src, size))
            .expect("probe the clip");
        let streams = StreamsPlan::of(&info, &Caps::default()).expect("a picture");
        let time = |mp4: Option<Plan>, streams: Option<&StreamsPlan>, what: &str| -> f64 {
            let out = dir.join(format!("{name}-{what}"));
            std::fs::create_dir_all(&out).unwrap();
            let args = ffmpeg.job_args(&JobRun {
                input: src,
                dir: &out,
                mp4,
                scaled_to: None,
                streams,
            });
            let t = Instant::now();
            let status = Command::new(&ffmpeg_bin)
                .args(&args)
                .status()
                .expect("run ffmpeg");
            assert!(status.success());
            t.elapsed().as_secs_f64()
        };
        // A copy's MP4 is a server-side copy in the pipeline; by hand, a stream copy.
        let by_hand = if plan == Plan::Copy {
            Plan::Remux
        } else {
            plan
        };
        let mp4_alone = time(Some(by_hand), None, "mp4");
        let job_mp4 = (plan != Plan::Copy).then_some(plan);
        let with_ladder = time(job_mp4, Some(&streams), "all");

        // The pipeline: from the moment the upload is in the bucket to the first playable
        // event, then to the finished ladder.
        let id = video_id();
        let ext = src.extension().unwrap().to_str().unwrap();
        let container = VideoContainer::from_extension(ext).expect("a video container");
        rt.block_on(store.upload(
            &bucket("incoming"),
            &ObjectKey::source(&id, container),
            src,
            "application/octet-stream",
            &|_| {},
        ))
        .expect("upload the clip");
        let t = Instant::now();
        let mut playable = None;
        loop {
            let body = events_rx
                .recv_timeout(Duration::from_secs(1800))
                .expect("the job to end");
            if !body.contains(id.as_str()) {
                continue;
            }
            assert!(!body.contains("\"status\":\"failed\""), "{body}");
            if body.contains("\"status\":\"ready\"") {
                playable.get_or_insert(t.elapsed().as_secs_f64());
            }
            let ladder_done =
                body.contains("\"hlsKey\"") || body.contains("\"streams\":\"failed\"");
            if ladder_done && playable.is_some() {
                break;
            }
        }
        let ladder_s = t.elapsed().as_secs_f64();
        let playable_s = playable.unwrap_or(ladder_s);
        eprintln!(
            "{name}: by hand mp4 {mp4_alone:.2} s, mp4+ladder {with_ladder:.2} s; \
             pipeline playable {playable_s:.2} s, ladder {ladder_s:.2} s"
        );
        results.insert(
            name.into(),
            serde_json::json!({
                "by_hand_mp4_s": round(mp4_alone),
                "by_hand_mp4_and_ladder_s": round(with_ladder),
                "ladder_cost": round(with_ladder / mp4_alone),
                "pipeline_first_playable_s": round(playable_s),
                "pipeline_ladder_done_s": round(ladder_s),
            }),
        );
    }
    let line = serde_json::json!({
        "bench": "origin-pipeline",
        "clip": format!("{SECONDS}s {SIZE} 25fps"),
        "preset": ffmpeg.preset,
        "crf": ffmpeg.crf,
        "results": results,
    });
    println!("{line}");
    drop(running);
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn generate(ffmpeg: &Path, path: &Path, codec: &[&str]) -> PathBuf {
    let video = format!("testsrc2=size={SIZE}:rate=25:duration={SECONDS}");
    let audio = format!("sine=frequency=440:sample_rate=48000:duration={SECONDS}");
    let status = Command::new(ffmpeg)
        .args([
            "-hide_banner",
            "-nostdin",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            &video,
            "-f",
            "lavfi",
            "-i",
            &audio,
        ])
        .args(codec)
        .arg(path)
        .status()
        .expect("run ffmpeg");
    assert!(status.success(), "generate {}", path.display());
    path.to_path_buf()
}

fn bucket(name: &str) -> BucketName {
    BucketName::parse(name).expect("a bucket name")
}

fn video_id() -> VideoId {
    let now = SystemClock.now();
    let mut random = [7u8; 10];
    random[..4].copy_from_slice(&std::process::id().to_be_bytes());
    random[4..8].copy_from_slice(&(now.unix_ms() as u32).to_be_bytes());
    VideoId::new(now, random)
}

/// Grants every claim and acknowledges every job event (keeping every source: the bench
/// deletes nothing), forwarding the events' bodies; it checks no signature (the tests do).
fn start_edge(events: mpsc::Sender<String>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let (mut request, mut length) = (String::new(), 0usize);
            let _ = reader.read_line(&mut request);
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            let _ = std::io::Read::read_exact(&mut reader, &mut body);
            let answer: &[u8] = if request.contains("/api/internal/claims") {
                br#"{"success":true,"claim":"granted"}"#
            } else {
                let _ = events.send(String::from_utf8_lossy(&body).into_owned());
                br#"{"success":true,"duplicate":false,"sourceNeeded":true}"#
            };
            let mut stream = stream;
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                answer.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(answer);
        }
    });
    url
}
