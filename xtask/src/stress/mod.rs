//! `cargo xtask stress`: the platform under faults and load, then a summary of figures. First
//! the fault-injection suites (storage failing or restarting under the edge, the origin killed
//! mid-transcode, job events repeated, late or for deleted videos); then, on one throwaway
//! stack as `cargo xtask dev` runs it, the Worker restarted between an upload's completion
//! and its job event, a bounded load of many uploaders and readers with an audit of every
//! byte (`e2e/load.mjs`), and the contract fuzzing. Too long for `cargo xtask test`.

use crate::run::{Report, capture, cmd, root, tee, venv_tool};
use crate::setup::{self, Need};
use crate::stack::{Stack, aws_env, with_throwaway_stack};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// The fault-injection suites: what each injects, and its test target.
const FAULT_SUITES: [(&str, &str, &str); 6] = [
    (
        "S3 answering 500/503, dropping or slow under the edge; SeaweedFS restarted mid multipart upload",
        "edge",
        "faults",
    ),
    (
        "job events duplicated, out of order, for deleted or unknown videos",
        "edge",
        "internal",
    ),
    (
        "the origin runner killed mid-transcode and restarted",
        "origin",
        "restart",
    ),
    (
        "the edge refusing job events while a job finishes",
        "origin",
        "unreachable_edge",
    ),
    (
        "S3 notifications redelivered and replayed from the dead-letter queue",
        "origin",
        "claims",
    ),
    (
        "corrupt uploads, duplicated notifications, a source deleted mid-job",
        "origin",
        "pipeline_failures",
    ),
];

/// Schemathesis cases per operation and phase, per role, from a new seed each run.
const CONTRACT_BUDGET: crate::schema::Budget = crate::schema::Budget {
    examples_per_operation: 50,
    seed: None,
};

pub fn run(args: &[String]) -> Result<(), String> {
    let only = args.first().map(String::as_str);
    if let Some(other) = only.filter(|o| !["suites", "stack"].contains(o)) {
        return Err(format!(
            "usage: cargo xtask stress [suites|stack] (got `{other}`)"
        ));
    }
    let wanted = |part: &str| only.is_none_or(|o| o == part);
    setup::ensure(&[
        Need::WasmToolchain,
        Need::NodeTools,
        Need::PythonVenv,
        Need::Ffmpeg,
    ])?;
    let mut report = Report::default();
    for (faults, package, target) in FAULT_SUITES.into_iter().filter(|_| wanted("suites")) {
        report.step(&format!("faults: {faults}"), |report| {
            let (result, output) = tee(cmd("cargo").args([
                "test",
                "--locked",
                "--package",
                package,
                "--test",
                target,
            ]));
            report.count_cargo_tests(&output);
            result
        });
    }
    let suite_tests = (report.tests_passed, report.tests_failed);

    let mut figures = Vec::new();
    if wanted("stack") {
        // Its parts are steps of their own; a stack that cannot start is one too.
        let stack = with_throwaway_stack(stack_settings(), |stack| {
            report.step(
                "the Worker restarted between complete and the job event",
                |_| {
                    figures.push(edge_restarted_before_the_job_event(stack)?);
                    Ok(())
                },
            );
            report.step("load: many uploaders and readers, then an audit", |_| {
                load(stack, &mut figures)
            });
            report.step("contract fuzzing (schemathesis)", |_| {
                let contract = crate::schema::contract_fuzz(stack, CONTRACT_BUDGET);
                let summary = contract.as_ref().map_or_else(Clone::clone, |f| f.summary());
                figures.push(format!("contract fuzzing: {summary}"));
                contract.map(drop)
            });
            Ok(())
        });
        if let Err(e) = stack {
            report.step("the throwaway stack", |_| Err(e));
        }
    }
    report.print_summary();
    println!("\n== stress figures (this machine, this run)");
    if wanted("suites") {
        println!(
            "  fault suites: {} suites, {} tests passed, {} failed",
            FAULT_SUITES.len(),
            suite_tests.0,
            suite_tests.1
        );
    }
    for line in &figures {
        println!("  {line}");
    }
    if report.ok() {
        Ok(())
    } else {
        Err("some steps failed (see the summary above)".into())
    }
}

/// The stack as `cargo xtask dev` runs it, but for many users at once: quotas out of the way
/// (the rate limit stays, spread over several users), and multipart from 4 MiB so that small
/// files exercise it (parts are still 8 MiB, S3's 5 MiB minimum respected).
fn stack_settings() -> Vec<(String, String)> {
    [
        ("QUOTA_VIDEOS", "1000000"),
        ("QUOTA_UPLOADS", "10000"),
        ("QUOTA_BYTES", "1099511627776"),
        ("SINGLE_PUT_MAX_BYTES", "4194304"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// A JSON call to the Worker: its status and body (`null` when the body is not JSON).
fn call(
    port: u16,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> Result<(u16, Value), String> {
    let bearer = token.map(|t| format!("Bearer {t}"));
    let mut headers = vec![("Content-Type", "application/json")];
    if let Some(bearer) = &bearer {
        headers.push(("Authorization", bearer));
    }
    let body = body.map(Value::to_string).unwrap_or_default();
    let (status, text) = testkit::http_request(port, method, path, &headers, body.as_bytes())
        .ok_or_else(|| format!("{method} {path}: no answer"))?;
    Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
}

/// Like [`call`], but anything other than `wanted` is an error.
fn expect(wanted: u16, answer: Result<(u16, Value), String>) -> Result<Value, String> {
    match answer? {
        (status, body) if status == wanted => Ok(body),
        (status, body) => Err(format!("HTTP {status} (wanted {wanted}): {body}")),
    }
}

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
fn edge_restarted_before_the_job_event(stack: &mut Stack) -> Result<String, String> {
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
    let credentials = json!({ "email": stack.admin_email, "password": stack.admin_password });
    let signed_in = expect(
        200,
        call(port, "POST", "/api/auth", None, Some(&credentials)),
    )?;
    let token = signed_in["token"].as_str().ok_or("no token")?.to_string();
    let created = expect(
        201,
        call(
            port,
            "POST",
            "/api/videos",
            Some(&token),
            Some(
                &json!({ "fileName": "restart.mp4", "fileSize": bytes.len(), "fileType": "video/mp4" }),
            ),
        ),
    )?;
    let id = created["video"]["id"]
        .as_str()
        .ok_or("no video id")?
        .to_string();
    let upload = &created["upload"];
    let url = upload["uploadUrl"].as_str().ok_or("no upload URL")?;
    let (s3_port, path) = url
        .strip_prefix("http://127.0.0.1:")
        .and_then(|rest| rest.split_once('/'))
        .and_then(|(port, path)| Some((port.parse::<u16>().ok()?, format!("/{path}"))))
        .ok_or_else(|| format!("not a loopback URL: {url}"))?;
    let headers: Vec<(&str, &str)> = upload["headers"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(name, _)| !name.eq_ignore_ascii_case("content-length"))
        .filter_map(|(name, value)| Some((name.as_str(), value.as_str()?)))
        .collect();
    match testkit::http_request(s3_port, "PUT", &path, &headers, &bytes) {
        Some((200, _)) => {}
        other => return Err(format!("the presigned PUT: {other:?}")),
    }
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
    let outputs = list_objects(stack, "media", &format!("videos/{id}/"))?;
    let mp4 = format!("videos/{id}/video.mp4");
    let mp4s: Vec<_> = outputs.iter().filter(|(key, ..)| *key == mp4).collect();
    if mp4s.len() != 1 || mp4s[0].1 != bytes.len() as u64 || mp4s[0].2 != md5 {
        return Err(format!(
            "wanted one MP4 of {} bytes, ETag {md5}; stored {outputs:?}",
            bytes.len()
        ));
    }
    // The ladder's acknowledgement frees the source: at once, or when the origin's outbox
    // delivers the events it had to queue while the Worker was down.
    let source_prefix = format!("uploads/{id}/");
    wait_for(
        "the source to go once the ladder was acknowledged",
        Duration::from_secs(60),
        || {
            Ok(list_objects(stack, "incoming", &source_prefix)?
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

/// `e2e/load.mjs` against the stack, with the bounds it sets itself (200 uploads, 2,000 reads,
/// 180 s); its figures as summary lines (on failure too).
fn load(stack: &Stack, figures_out: &mut Vec<String>) -> Result<(), String> {
    let (result, output) = tee(cmd("node")
        .arg(root().join("e2e/load.mjs"))
        .env("EDGEVID_BASE_URL", &stack.base_url)
        .env("DEV_ADMIN_EMAIL", &stack.admin_email)
        .env("DEV_ADMIN_PASSWORD", &stack.admin_password)
        .env("EDGEVID_S3_ENDPOINT", &stack.s3.s3_endpoint)
        .env("EDGEVID_AWS_BIN", venv_tool("aws"))
        .envs(aws_env()?));
    let line = output
        .lines()
        .rev()
        .find(|line| line.starts_with('{'))
        .ok_or("e2e/load.mjs printed no figures")?;
    let figures: Value = serde_json::from_str(line).map_err(|e| format!("{e}: {line}"))?;
    let mut lines = vec![format!(
        "load: {} s, {} users ({} uploaders, {} readers): {} uploads acknowledged ({} multipart, \
         {} playable clips, {:.0} MiB), {} deleted, {} abandoned; {} reads; {} requests, {} errors",
        figures["seconds"],
        figures["users"],
        figures["uploaders"],
        figures["readers"],
        figures["uploadsAcknowledged"],
        figures["multipart"],
        figures["clips"],
        figures["uploadedMiB"].as_f64().unwrap_or_default(),
        figures["deleted"],
        figures["abandoned"],
        figures["reads"],
        figures["requests"],
        figures["errors"],
    )];
    for (op, o) in figures["operations"].as_object().into_iter().flatten() {
        lines.push(format!(
            "  {op:<12} {:>5} requests, {} errors, p50 {} ms, p99 {} ms",
            o["n"], o["errors"], o["p50"], o["p99"]
        ));
    }
    lines.push(format!(
        "audit: data lost {}, deleted videos with objects left {}",
        figures["lost"], figures["leftovers"]
    ));
    figures_out.extend(lines);
    result.map_err(|e| format!("{e}; problems: {}", figures["problems"]))
}
