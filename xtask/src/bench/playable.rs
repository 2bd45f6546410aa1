//! Time to playable on the copy path: a fast-start H.264/AAC MP4 (which needs no conversion)
//! uploaded through the API, timed from the end of its PUT to the video answering `ready`,
//! beside the same server-side S3 copy into the media bucket done by hand with `aws s3 cp`
//! (less the CLI's start-up): what the pipeline adds to the one copy it has to make is the
//! upload's notice (the filer's change feed), the claim, the probe and the job event.

use super::{aws_s3, median};
use crate::run::cmd;
use crate::stack::{Stack, with_throwaway_stack};
use serde_json::Value;
use std::time::{Duration, Instant};

const ROUNDS: usize = 5;
/// Half a minute of 720p, about 10 MiB (one presigned PUT), as a phone clip that is
/// already web-ready.
const CLIP: [&str; 19] = [
    "-f",
    "lavfi",
    "-i",
    "testsrc2=size=1280x720:rate=30:duration=30",
    "-f",
    "lavfi",
    "-i",
    "sine=frequency=440:sample_rate=48000:duration=30",
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
    "-y",
];
const READY_TIMEOUT: Duration = Duration::from_secs(120);

pub(super) struct PlayableFigures {
    pub(super) platform_s: f64,
    pub(super) by_hand_s: f64,
    pub(super) lines: Vec<String>,
}

pub(super) fn playable() -> Result<PlayableFigures, String> {
    println!("==> playable: a web-ready MP4 from upload to `ready`, and the same copy by hand");
    with_throwaway_stack(Vec::new(), |stack| {
        let dir = testkit::temp_dir("playable-bench");
        let result = measure(stack, &dir);
        let _ = std::fs::remove_dir_all(&dir);
        result
    })
}

fn measure(stack: &Stack, dir: &std::path::Path) -> Result<PlayableFigures, String> {
    let clip = dir.join("clip.mp4");
    crate::run::capture(cmd("ffmpeg").args(["-v", "error"]).args(CLIP).arg(&clip))?;
    let bytes = std::fs::read(&clip).map_err(|e| format!("{}: {e}", clip.display()))?;
    let tiny = dir.join("one-byte");
    std::fs::write(&tiny, b"x").map_err(|e| format!("{}: {e}", tiny.display()))?;
    let token =
        crate::api::sign_in(stack.edge_port, &stack.admin_email, &stack.admin_password)?.token;

    let (mut platform, mut by_hand, mut start_up) = (Vec::new(), Vec::new(), Vec::new());
    for round in 1..=ROUNDS {
        let (seconds, key) = upload_until_ready(stack, &token, &bytes, round)?;
        platform.push(seconds);
        start_up.push(aws_s3(
            stack,
            &[
                "cp".as_ref(),
                tiny.as_os_str(),
                "s3://media/bench/one-byte".as_ref(),
            ],
        )?);
        by_hand.push(aws_s3(
            stack,
            &[
                "cp".as_ref(),
                format!("s3://incoming/{key}").as_ref(),
                format!("s3://media/bench/copy-{round}.mp4").as_ref(),
            ],
        )?);
        println!(
            "  round {round}: upload done → ready {seconds:.2} s; aws s3 cp (S3 to S3) {:.2} s, start-up {:.2} s",
            by_hand[round - 1],
            start_up[round - 1]
        );
    }
    let platform_s = median(platform);
    let start_up = median(start_up);
    let by_hand_s = (median(by_hand) - start_up).max(f64::EPSILON);
    let mib = bytes.len() as f64 / f64::from(1 << 20);
    Ok(PlayableFigures {
        platform_s,
        by_hand_s,
        lines: vec![format!(
            "a web-ready {mib:.1} MiB MP4, median of {ROUNDS}: upload done → playable {platform_s:.2} s; \
             the same S3 copy by hand {by_hand_s:.2} s (aws s3 cp less its {start_up:.2} s start-up)"
        )],
    })
}

/// Creates a video, PUTs `bytes` to its presigned URL, completes it as the web app does, and
/// waits for `ready`. Returns the seconds from the PUT's answer to `ready`, and the source key
/// (the copy path keeps the source until its ladder is made, so the copy by hand can read it).
fn upload_until_ready(
    stack: &Stack,
    token: &str,
    bytes: &[u8],
    round: usize,
) -> Result<(f64, String), String> {
    let port = stack.edge_port;
    let api = |method: &str, path: &str, body: Option<&Value>| {
        crate::api::expect(200, crate::api::call(port, method, path, Some(token), body))
    };
    let created =
        crate::api::create_and_upload(port, token, &format!("playable-{round}.mp4"), bytes)?;
    let text = |value: &Value| value.as_str().map(str::to_string);
    let id = text(&created["video"]["id"]).ok_or("no video id")?;
    let key = text(&created["key"]).ok_or("no key")?;
    let uploaded = Instant::now();
    api(
        "POST",
        &format!("/api/videos/{id}/complete"),
        Some(&serde_json::json!({})),
    )?;
    loop {
        let video = api("GET", &format!("/api/videos/{id}"), None)?;
        match video["video"]["status"].as_str() {
            Some("ready") => return Ok((uploaded.elapsed().as_secs_f64(), key)),
            Some("failed") => return Err(format!("the video failed: {video}")),
            _ if uploaded.elapsed() > READY_TIMEOUT => {
                return Err(format!("not ready after {READY_TIMEOUT:?}: {video}"));
            }
            _ => std::thread::sleep(Duration::from_millis(5)),
        }
    }
}
