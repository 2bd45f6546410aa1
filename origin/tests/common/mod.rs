//! Shared test support: generated clips (real ffmpeg), a receiver standing in for the edge's
//! internal endpoints (it checks every signature and acknowledges by the edge's rule), a
//! MediaConvert capture endpoint, S3 access to the real SeaweedFS that testkit starts, event
//! fixtures, in-memory [`fakes`], the local pipeline harness ([`local`]), the streaming-set
//! checks ([`hls`]) and the real edge in-process ([`real_edge`]).
#![allow(dead_code)] // each test binary uses a different part of this harness

pub mod fakes;
pub mod hls;
pub mod local;
pub mod real_edge;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use model::{BucketName, ObjectKey, Timestamp, VideoContainer, VideoId};
use origin::clock::{Clock, SystemClock};
use origin::s3::S3Store;
use origin::store::ObjectStore;
use serde_json::Value;
use signer::s3::{Addressing, Credentials, S3Config};

pub const WEBHOOK_SECRET: &str = "test-webhook-secret";

pub fn s3_config(endpoint: &str) -> S3Config {
    S3Config {
        endpoint: endpoint.to_string(),
        region: testkit::S3_REGION.into(),
        addressing: Addressing::Path,
        credentials: Credentials {
            access_key_id: testkit::S3_ACCESS_KEY.into(),
            secret_access_key: testkit::S3_SECRET_KEY.into(),
            session_token: None,
        },
    }
}

pub fn store(endpoint: &str) -> S3Store<SystemClock> {
    S3Store::new(&s3_config(endpoint), reqwest::Client::new(), SystemClock).unwrap()
}

/// A fresh UUID v7 video id.
pub fn video_id() -> VideoId {
    static N: AtomicU32 = AtomicU32::new(0);
    let mut random = [0u8; 10];
    random[..4].copy_from_slice(&std::process::id().to_be_bytes());
    random[4..8].copy_from_slice(&N.fetch_add(1, Ordering::Relaxed).to_be_bytes());
    VideoId::new(SystemClock.now(), random)
}

/// `uploads/{id}/source.mp4`.
pub fn mp4_source(id: &VideoId) -> ObjectKey {
    ObjectKey::source(id, VideoContainer::MP4)
}

/// The video id in the event fixtures.
pub const FIXTURE_VIDEO: &str = "0192f3a4-5b6c-7d8e-9f01-23456789abcd";

/// An event fixture (real AWS JSON), with its video id replaced by `video` when given
/// (tests share one SeaweedFS).
pub fn fixture(name: &str, video: Option<&VideoId>) -> Value {
    let path = testkit::workspace_root().join("origin/fixtures").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let text = match video {
        Some(id) => text.replace(FIXTURE_VIDEO, id.as_str()),
        None => text,
    };
    serde_json::from_str(&text).unwrap()
}

/// Runs ffmpeg (quiet, overwrite); panics with its stderr on failure.
pub fn ffmpeg(args: &[&str]) {
    let out = Command::new(testkit::tool("ffmpeg"))
        .args(["-hide_banner", "-nostdin", "-loglevel", "error", "-y"])
        .args(args)
        .output()
        .expect("run ffmpeg");
    assert!(
        out.status.success(),
        "ffmpeg {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A generated clip: `seconds` of testsrc2 + a sine tone, encoded with `codec_args`.
pub fn clip(dir: &Path, name: &str, size: &str, seconds: u32, codec_args: &[&str]) -> PathBuf {
    let path = dir.join(name);
    let video = format!("testsrc2=size={size}:rate=25:duration={seconds}");
    let audio = format!("sine=frequency=440:sample_rate=48000:duration={seconds}");
    let mut args = vec!["-f", "lavfi", "-i", &video, "-f", "lavfi", "-i", &audio];
    args.extend_from_slice(codec_args);
    let p = path.to_str().unwrap().to_string();
    args.push(&p);
    ffmpeg(&args);
    path
}

/// ffprobe's JSON for a file.
pub fn ffprobe(path: &Path) -> Value {
    let out = Command::new(testkit::tool("ffprobe"))
        .args([
            "-v",
            "error",
            "-print_format",
            "json",
            "-show_format",
            "-show_streams",
        ])
        .arg(path)
        .output()
        .expect("run ffprobe");
    assert!(
        out.status.success(),
        "ffprobe {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

pub fn duration_s(probe: &Value) -> f64 {
    probe["format"]["duration"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

pub fn stream<'a>(probe: &'a Value, kind: &str) -> Option<&'a Value> {
    probe["streams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["codec_type"] == kind)
}

/// MD5 of every video packet, in order (timestamps left out): equal lists mean the video
/// was copied, not re-encoded.
pub fn video_packet_hashes(path: &Path) -> Vec<String> {
    let out = Command::new(testkit::tool("ffmpeg"))
        .args(["-hide_banner", "-nostdin", "-loglevel", "error", "-i"])
        .arg(path)
        .args(["-map", "0:v:0", "-c", "copy", "-f", "framemd5", "-"])
        .output()
        .expect("run ffmpeg framemd5");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.rsplit(',').next().map(|h| h.trim().to_string()))
        .collect()
}

/// Polls `f` until it returns Some, or panics after `timeout`.
pub fn wait_for<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// (method, path, lower-cased headers, body).
pub type Request<B> = (String, String, Vec<(String, String)>, B);

/// A small blocking HTTP/1.1 request reader.
pub fn read_request(stream: &mut TcpStream) -> Option<Request<Vec<u8>>> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (name, value) = h.split_once(':')?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    let header = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    let mut body = Vec::new();
    if let Some(len) = header("content-length").and_then(|v| v.parse::<usize>().ok()) {
        body.resize(len, 0);
        reader.read_exact(&mut body).ok()?;
    } else if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).ok()?;
            let n = usize::from_str_radix(size.trim(), 16).ok()?;
            let mut chunk = vec![0; n + 2];
            reader.read_exact(&mut chunk).ok()?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    }
    Some((method, path, headers, body))
}

fn respond(stream: &mut TcpStream, status: u16, body: &str) {
    let reason = match status {
        200 => "OK",
        201 => "Created",
        401 => "Unauthorized",
        503 => "Service Unavailable",
        _ => "Status",
    };
    let _ = write!(
        stream,
        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.flush();
}

/// Writes a whole `http::Response` (status, headers, body) and closes the connection.
pub fn write_response(stream: &mut TcpStream, response: http::Response<Vec<u8>>) {
    let (parts, body) = response.into_parts();
    let mut head = format!("HTTP/1.1 {}\r\n", parts.status);
    for (name, value) in &parts.headers {
        if name != http::header::CONTENT_LENGTH {
            head.push_str(&format!(
                "{name}: {}\r\n",
                value.to_str().unwrap_or_default()
            ));
        }
    }
    head.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    ));
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&body);
    let _ = stream.flush();
}

/// One job event as the edge received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub event: Value,
    pub signature_ok: bool,
}

/// The claims rule of a stand-in edge that expects every upload: the first claim of an
/// upload is granted, later ones are held with the job recorded for it (the catalog's full
/// rules are tested in the edge's own tests, and with the real edge in `claims.rs`).
#[derive(Clone, Default)]
struct StandInClaims(Arc<Mutex<std::collections::HashMap<String, Option<String>>>>);

impl StandInClaims {
    fn answer(&self, claim: &Value) -> Value {
        let token = claim["token"].as_str().unwrap_or_default().to_string();
        let job_id = claim["jobId"].as_str().map(str::to_string);
        let mut claims = self.0.lock().unwrap();
        let first = !claims.contains_key(&token);
        let recorded = claims.entry(token).or_default();
        if job_id.is_some() {
            recorded.clone_from(&job_id);
        }
        if first && job_id.is_none() {
            serde_json::json!({"success": true, "claim": "granted"})
        } else {
            serde_json::json!({"success": true, "claim": "held", "jobId": recorded})
        }
    }
}

/// The edge's acknowledgement rule, over the events a stand-in has applied: a replayed event
/// id is a duplicate; a video needs its source until it is ready and its streaming set is
/// done (made or given up on). The real rule is tested on SQLite in the edge's own tests, and
/// with the real edge in `claims.rs`.
#[derive(Clone, Default)]
pub struct Acknowledger {
    seen: Arc<Mutex<std::collections::HashSet<String>>>,
    /// video → (ready, streaming set done)
    videos: Arc<Mutex<std::collections::HashMap<String, (bool, bool)>>>,
}

impl Acknowledger {
    pub fn acknowledge(&self, event: &Value) -> Value {
        let id = event["eventId"].as_str().unwrap_or_default().to_string();
        let duplicate = !self.seen.lock().unwrap().insert(id);
        let mut videos = self.videos.lock().unwrap();
        let (ready, done) = videos
            .entry(event["videoId"].as_str().unwrap_or_default().to_string())
            .or_default();
        match (event["status"].as_str(), event["streams"].as_str()) {
            (Some("ready"), _) => {
                *ready = true;
                *done |= event.get("hlsKey").is_some();
            }
            (Some("streams"), Some("ready" | "failed")) => *done = true,
            _ => {}
        }
        serde_json::json!({"success": true, "duplicate": duplicate, "sourceNeeded": !(*ready && *done)})
    }
}

/// Stands in for the edge's internal endpoints: verifies `X-Signature` with the shared
/// secret (401 when wrong, as the edge does), records every job event and acknowledges it
/// ([`Acknowledger`]), and answers claims.
#[derive(Clone)]
pub struct Edge {
    pub url: String,
    pub port: u16,
    pub events: Arc<Mutex<Vec<Received>>>,
    /// While set, job events are answered 503 (and not recorded): an edge that cannot take
    /// them (a deploy, an outage of its database); claims are still answered.
    pub refusing_events: Arc<std::sync::atomic::AtomicBool>,
}

impl Edge {
    pub fn start() -> Edge {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the edge receiver");
        let port = listener.local_addr().unwrap().port();
        let events: Arc<Mutex<Vec<Received>>> = Arc::default();
        let sink = events.clone();
        let claims = StandInClaims::default();
        let acknowledger = Acknowledger::default();
        let refusing_events: Arc<std::sync::atomic::AtomicBool> = Arc::default();
        let refusing = refusing_events.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let Some((method, path, headers, body)) = read_request(&mut stream) else {
                    continue;
                };
                let claims_path = path == "/api/internal/claims";
                if method != "POST" || !(path == "/api/internal/jobs" || claims_path) {
                    respond(&mut stream, 404, "{}");
                    continue;
                }
                let signature = headers
                    .iter()
                    .find(|(k, _)| k == "x-signature")
                    .map(|(_, v)| v.clone());
                let signature_ok = signature.as_deref().is_some_and(|s| {
                    let t: i64 = s
                        .strip_prefix("t=")
                        .and_then(|r| r.split(',').next())
                        .and_then(|t| t.parse().ok())
                        .unwrap_or(0);
                    let now = SystemClock.now().unix_secs();
                    (now - t).abs() <= 300
                        && signer::webhook::sign(
                            WEBHOOK_SECRET.as_bytes(),
                            Timestamp::from_unix_secs(t),
                            &body,
                        ) == s
                });
                let event: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                if !signature_ok {
                    sink.lock().unwrap().push(Received {
                        event,
                        signature_ok,
                    });
                    respond(
                        &mut stream,
                        401,
                        r#"{"success":false,"error":{"code":"bad_signature","message":"bad signature"}}"#,
                    );
                } else if claims_path {
                    let answer = claims.answer(&event);
                    respond(&mut stream, 200, &answer.to_string());
                } else if refusing.load(std::sync::atomic::Ordering::Relaxed) {
                    respond(&mut stream, 503, r#"{"success":false}"#);
                } else {
                    let answer = acknowledger.acknowledge(&event);
                    sink.lock().unwrap().push(Received {
                        event,
                        signature_ok,
                    });
                    respond(&mut stream, 200, &answer.to_string());
                }
            }
        });
        Edge {
            url: format!("http://127.0.0.1:{port}"),
            port,
            events,
            refusing_events,
        }
    }

    /// The events for one video, in arrival order.
    pub fn for_video(&self, video_id: &VideoId) -> Vec<Value> {
        self.events
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.event["videoId"] == video_id.as_str())
            .map(|r| {
                assert!(r.signature_ok, "bad signature on {}", r.event);
                r.event.clone()
            })
            .collect()
    }

    /// Waits for a `ready` or `failed` event for the video and returns it.
    pub fn wait_final(&self, video_id: &VideoId, timeout: Duration) -> Value {
        wait_for(
            &format!("a final job event for {video_id}"),
            timeout,
            || {
                self.for_video(video_id)
                    .into_iter()
                    .find(|e| e["status"] == "ready" || e["status"] == "failed")
            },
        )
    }

    /// Waits until the video's streaming set is done: a `ready` naming it, or a `streams`
    /// event that is `ready` or `failed`. Returns (hlsKey, posterKey, storyboardKey) as the
    /// event named them, or the failure.
    pub fn wait_streams(&self, video_id: &VideoId, timeout: Duration) -> Value {
        wait_for(&format!("the streaming set of {video_id}"), timeout, || {
            self.for_video(video_id).into_iter().find(|e| {
                (e["status"] == "ready" && e.get("hlsKey").is_some())
                    || (e["status"] == "streams"
                        && matches!(e["streams"].as_str(), Some("ready" | "failed")))
                    || e["status"] == "failed"
            })
        })
    }
}

/// A MediaConvert endpoint that records each request and answers CreateJob as MediaConvert
/// does (201 with the job).
pub struct MediaConvertCapture {
    pub url: String,
    pub requests: Arc<Mutex<Vec<Request<Value>>>>,
}

impl MediaConvertCapture {
    pub fn start(response: Value) -> MediaConvertCapture {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests: Arc<Mutex<Vec<_>>> = Arc::default();
        let sink = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let Some((method, path, headers, body)) = read_request(&mut stream) else {
                    continue;
                };
                let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                sink.lock().unwrap().push((method, path, headers, json));
                respond(&mut stream, 201, &response.to_string());
            }
        });
        MediaConvertCapture { url, requests }
    }
}

/// Uploads a file to a bucket with the crate's own store (single PUT).
pub async fn put_file(store: &S3Store<SystemClock>, bucket: &str, key: &ObjectKey, path: &Path) {
    let bucket = BucketName::parse(bucket).unwrap();
    store
        .upload(&bucket, key, path, "application/octet-stream", &|_| {})
        .await
        .expect("upload");
}
