//! A Worker restart between `complete` and the job event (a crash, a deploy), against a
//! throwaway stack: nothing is lost, nothing is made twice.

use crate::api::{self, call, expect};
use crate::run::{capture, cmd};
use crate::stack::Stack;
use model::storage::KeyPrefix;
use model::{ObjectKey, VideoId};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// The objects under `prefix` in `bucket`: (key, size, ETag without quotes).
fn list_objects(
    stack: &Stack,
    bucket: &str,
    prefix: &str,
) -> Result<Vec<(String, u64, String)>, String> {
    let text = capture(stack.aws_cli()?.args([
        "s3api",
        "list-objects-v2",
        "--bucket",
        bucket,
        "--prefix",
        prefix,
        "--output",
        "json",
    ]))?;
    let listing: Value = if text.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).map_err(|e| format!("{e}: {text}"))?
    };
    Ok(listing["Contents"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|o| {
            (
                o["Key"].as_str().unwrap_or_default().to_string(),
                o["Size"].as_u64().unwrap_or_default(),
                o["ETag"].as_str().unwrap_or_default().replace('"', ""),
            )
        })
        .collect())
}

fn wait_for<T>(
    what: &str,
    timeout: Duration,
    mut check: impl FnMut() -> Result<Option<T>, String>,
) -> Result<T, String> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check()? {
            return Ok(value);
        }
        if Instant::now() > deadline {
            return Err(format!("timed out after {timeout:?} waiting for {what}"));
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// A fast-start H.264/AAC MP4 is completed, and the Worker stops at once and starts again
/// (a crash, a deploy) while the origin claims and copies it: the origin's calls wait for
/// the edge, the video becomes ready, there is one MP4 and it is the upload byte for byte,
/// and the source goes only after the ladder was made (or with the video, see below).
pub(super) fn edge_restarted_before_the_job_event(stack: &mut Stack) -> Result<String, String> {
    let dir = testkit::temp_dir("stress-clip");
    let clip = dir.join("clip.mp4");
    let made = capture(
        cmd("ffmpeg")
            .args(["-hide_banner", "-loglevel", "error", "-y"])
            .args([
                "-f",
                "lavfi",
                "-i",
                "testsrc2=size=320x240:rate=25:duration=2",
            ])
            .args(["-f", "lavfi", "-i", "sine=frequency=440:duration=2"])
            .args([
                "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
            ])
            .args(["-c:a", "aac", "-movflags", "+faststart"])
            .arg(&clip),
    )
    .and_then(|_| std::fs::read(&clip).map_err(|e| format!("{}: {e}", clip.display())));
    let md5 = capture(cmd("md5sum").arg(&clip));
    let _ = std::fs::remove_dir_all(&dir);
    let (bytes, md5) = (made?, md5?);
    let md5 = md5
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string();

    let port = stack.edge_port;
    let token = api::sign_in(port, &stack.admin_email, &stack.admin_password)?.token;
    let created = api::create_and_upload(port, &token, "restart.mp4", &bytes)?;
    let id = created["video"]["id"]
        .as_str()
        .and_then(|id| VideoId::parse(id).ok())
        .ok_or("no video id")?;
    let video_path = format!("/api/videos/{id}");
    expect(
        200,
        call(
            port,
            "POST",
            &format!("{video_path}/complete"),
            Some(&token),
            Some(&json!({})),
        ),
    )?;

    let stopped = Instant::now();
    stack.restart_edge()?;
    let down = stopped.elapsed();
    let video = wait_for(
        "the video and its ladder after the restart",
        Duration::from_secs(300),
        || {
            let video = expect(200, call(port, "GET", &video_path, Some(&token), None))?;
            let video = &video["video"];
            match (
                video["status"].as_str(),
                video["streams"]["ladder"].as_str(),
            ) {
                (Some("failed"), _) => Err(format!("the video failed: {video}")),
                (Some("ready"), Some("ready" | "failed")) => Ok(Some(video.clone())),
                _ => Ok(None),
            }
        },
    )?;
    if video["streams"]["ladder"] != "ready" {
        return Err(format!("the ladder failed: {video}"));
    }
    let outputs = list_objects(stack, "media", KeyPrefix::outputs(&id).as_str())?;
    let mp4 = ObjectKey::mp4(&id);
    let mp4s: Vec<_> = outputs
        .iter()
        .filter(|(key, ..)| key == mp4.as_str())
        .collect();
    if mp4s.len() != 1 || mp4s[0].1 != bytes.len() as u64 || mp4s[0].2 != md5 {
        return Err(format!(
            "wanted one MP4 of {} bytes, ETag {md5}; stored {outputs:?}",
            bytes.len()
        ));
    }
    // The ladder's acknowledgement frees the source: at once, or when the origin's outbox
    // delivers the events it had to queue while the Worker was down.
    let source_prefix = KeyPrefix::sources(&id);
    wait_for(
        "the source to go once the ladder was acknowledged",
        Duration::from_secs(60),
        || {
            Ok(list_objects(stack, "incoming", source_prefix.as_str())?
                .is_empty()
                .then_some(()))
        },
    )?;
    Ok(format!(
        "Worker restarted between complete and the job event (down {:.1} s): ready, one MP4 \
         identical to the upload, {} objects of outputs, the source removed once acknowledged",
        down.as_secs_f64(),
        outputs.len(),
    ))
}
