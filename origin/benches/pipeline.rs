//! `cargo bench -p origin --bench pipeline`: a 60 s 720p clip through the local pipeline
//! (upload → poll → ffprobe → FFmpeg → multipart upload → finalize → `ready` at the edge)
//! beside the same FFmpeg command run by hand on the same file, for a remux and a transcode.
//! Prints one JSON line. Needs ffmpeg/ffprobe and SeaweedFS (`weed`), as the tests do.
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
use origin::store::ObjectStore;
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
    // Remux input: H.264/AAC MP4 with its index at the end. Transcode input: MPEG-4 Part 2 + PCM AVI.
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
        poll_interval: Duration::from_millis(100),
        part_size: origin::s3::DEFAULT_PART_SIZE,
        ffmpeg: ffmpeg.clone(),
    };
    let running = {
        let _guard = rt.enter();
        origin::local::start(config).expect("start the pipeline")
    };
    let store = origin::s3::S3Store::new(&s3, reqwest::Client::new(), origin::clock::SystemClock)
        .expect("a usable S3 configuration");

    let mut results = Vec::new();
    for (name, src, plan) in [
        ("remux", &remux_src, Plan::Remux),
        ("transcode", &transcode_src, Plan::Transcode),
    ] {
        // By hand: the very command the pipeline runs, on a local file.
        let out = dir.join(format!("{name}-by-hand.mp4"));
        let args = ffmpeg.conversion_args(plan, src, &out);
        let t = Instant::now();
        let status = Command::new(&ffmpeg_bin)
            .args(&args)
            .status()
            .expect("run ffmpeg");
        assert!(status.success());
        let by_hand = t.elapsed().as_secs_f64();

        // The pipeline: from the moment the upload is in the bucket to `ready` at the edge.
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
        loop {
            let body = events_rx
                .recv_timeout(Duration::from_secs(900))
                .expect("the job to end");
            if body.contains(id.as_str()) && body.contains("\"status\":\"ready\"") {
                break;
            }
            assert!(
                !(body.contains(id.as_str()) && body.contains("\"status\":\"failed\"")),
                "{body}"
            );
        }
        let pipeline = t.elapsed().as_secs_f64();
        let record = running
            .state
            .jobs()
            .into_iter()
            .find(|r| r.spec.video_id == id)
            .unwrap();
        assert_eq!(record.spec.plan, plan);
        eprintln!("{name}: by hand {by_hand:.2} s, pipeline {pipeline:.2} s");
        results.push((name, by_hand, pipeline));
    }
    let [
        (_, remux_hand, remux_pipe),
        (_, transcode_hand, transcode_pipe),
    ] = results[..]
    else {
        unreachable!()
    };
    let line = serde_json::json!({
        "bench": "origin-pipeline",
        "clip": format!("{SECONDS}s {SIZE} 25fps"),
        "preset": ffmpeg.preset,
        "crf": ffmpeg.crf,
        "remux": {"by_hand_s": round(remux_hand), "pipeline_s": round(remux_pipe), "ratio": round(remux_pipe / remux_hand)},
        "transcode": {"by_hand_s": round(transcode_hand), "pipeline_s": round(transcode_pipe), "ratio": round(transcode_pipe / transcode_hand)},
        "remux_vs_transcode": round(remux_pipe / transcode_pipe),
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

/// Accepts job events (this bench does not check signatures; the tests do) and forwards bodies.
fn start_edge(events: mpsc::Sender<String>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0usize;
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
            let _ = events.send(String::from_utf8_lossy(&body).into_owned());
            let mut stream = stream;
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}");
        }
    });
    url
}
