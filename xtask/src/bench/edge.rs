//! The built Worker in workerd: signing and verifying inside it, a sign-in, load on the hot
//! routes with wrk, the Worker's size; and the database round trips per route (native count).

use super::{median, timed};
use crate::api;
use crate::run::{cmd, output, root, tee};
use crate::stack::{Stack, with_throwaway_stack};

/// Iterations per timed request inside workerd: enough to dwarf the request's own cost.
const WORKER_ITERATIONS: u32 = 2_000;

const WORKER_REPEATS: usize = 7;

const LOGIN_REPEATS: usize = 9;

/// Load generator bounds: connections and seconds per endpoint.
const LOAD_CONNECTIONS: u32 = 8;

const LOAD_SECONDS: u32 = 10;

/// What the built Worker measured in workerd.
pub(super) struct EdgeFigures {
    pub(super) presign_ns: f64,
    pub(super) verify_ns: f64,
    pub(super) sign_in_ms: f64,
    pub(super) gzip_kib: f64,
    pub(super) lines: Vec<String>,
}

/// Database round trips per route, from the native count (edge/tests/round_trips.rs).
pub(super) struct RoundTrips {
    pub(super) by_route: Vec<(String, u64)>,
}

pub(super) fn edge() -> Result<EdgeFigures, String> {
    println!("==> edge: the built Worker in workerd (wrangler dev) on loopback");
    // Load creates thousands of videos: quotas out of the way (the rate limit is spread
    // over several users below).
    let overrides = [
        ("DEV_BENCH_ROUTES", "1"),
        ("QUOTA_VIDEOS", "1000000"),
        ("QUOTA_UPLOADS", "10000"),
        ("QUOTA_BYTES", "1099511627776"),
    ];
    with_throwaway_stack(
        overrides
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        |stack| measure_edge(stack),
    )
}

fn measure_edge(stack: &Stack) -> Result<EdgeFigures, String> {
    let port = stack.edge_port;
    let mut lines = Vec::new();
    // Per operation: (n iterations) minus (the same request doing nothing), over n.
    let per_op = |op: &str, n: u32| -> Result<f64, String> {
        let path = |op: &str| format!("/api/internal/bench?op={op}&n={n}");
        timed(|| testkit::http_get(port, &path(op), &[]))?; // warm-up
        let mut samples = Vec::new();
        for _ in 0..WORKER_REPEATS {
            let work = timed(|| testkit::http_get(port, &path(op), &[]))?;
            let idle = timed(|| testkit::http_get(port, &path("none"), &[]))?;
            samples.push((work - idle).max(0.0) / f64::from(n));
        }
        Ok(median(samples) * 1e9)
    };
    let presign = per_op("presign", WORKER_ITERATIONS)?;
    // Requests verify with workerd's WebCrypto; our Ed25519 compiled to wasm is the other
    // option, measured beside it.
    let verify_wasm = per_op("verify", WORKER_ITERATIONS)?;
    let verify = per_op("verify-platform", WORKER_ITERATIONS)?;
    lines.push(format!(
        "in workerd: presign UploadPart {:.1} µs; verify JWT {:.1} µs with WebCrypto's Ed25519 \
         (what requests use), {:.1} µs with ours in wasm ({:.2}×)",
        presign / 1e3,
        verify / 1e3,
        verify_wasm / 1e3,
        verify_wasm / verify
    ));
    // The s3 playback mode's costliest answer: a 2-hour rendition's playlist, one presigned
    // URL per segment (edge mode serves it untouched; cloudfront signs once per playlist).
    let rewrite = per_op("rewrite", 5)?;
    lines.push(format!(
        "in workerd: a 1,200-segment playlist rewritten with presigned URLs takes {:.1} ms \
         ({:.2}× the cost of 1,200 bare presigns)",
        rewrite / 1e6,
        rewrite / (1200.0 * presign)
    ));

    let credentials = format!(
        r#"{{"email":"{}","password":"{}"}}"#,
        stack.admin_email, stack.admin_password
    );
    let sign_in = || {
        testkit::http_request(
            port,
            "POST",
            "/api/auth",
            &[("Content-Type", "application/json")],
            credentials.as_bytes(),
        )
    };
    let token = api::sign_in(port, &stack.admin_email, &stack.admin_password)?.token;
    let logins: Vec<f64> = (0..LOGIN_REPEATS)
        .map(|_| timed(sign_in))
        .collect::<Result<_, _>>()?;
    let sign_in_ms = median(logins) * 1e3;
    lines.push(format!(
        "in workerd: a sign-in (argon2id verify + D1) takes {sign_in_ms:.0} ms wall, median of {LOGIN_REPEATS}, one at a time"
    ));

    let base = &stack.base_url;
    let health = load(base, "/api/health", &wrk_script(&[], false))?;
    // Creating videos is rate limited per user (60 a minute): the load is spread over
    // enough users that none reaches it, even at the rate health itself is answered (an
    // upper bound: a creation does more).
    let needed = (health.rps * f64::from(LOAD_SECONDS) / CREATIONS_PER_USER).ceil() as usize;
    let uploaders = uploaders(port, &token, needed + needed / 4)?;
    let create = load(base, "/api/videos", &wrk_script(&uploaders, true))?;
    // What one local D1 query costs, to read the ratio by: an authorized read of one video.
    let video: serde_json::Value = serde_json::from_str(CREATE_BODY).expect("CREATE_BODY is JSON");
    let created = api::expect(
        201,
        api::call(port, "POST", "/api/videos", Some(&token), Some(&video)),
    )?;
    let video_id = created["video"]["id"]
        .as_str()
        .ok_or_else(|| format!("no video id in {created}"))?;
    let read = load(
        base,
        &format!("/api/videos/{video_id}"),
        &wrk_script(std::slice::from_ref(&token), false),
    )?;
    lines.push(format!(
        "load, {LOAD_CONNECTIONS} connections × {LOAD_SECONDS} s: GET /api/health {:.0} req/s (p50 {:.2} ms, p99 {:.2} ms)",
        health.rps, health.p50_ms, health.p99_ms
    ));
    lines.push(format!(
        "load, same: POST /api/videos {:.0} req/s (p50 {:.2} ms, p99 {:.2} ms) → {:.2} of health (goal ≥ 0.5)",
        create.rps,
        create.p50_ms,
        create.p99_ms,
        create.rps / health.rps
    ));
    lines.push(format!(
        "load, same: GET /api/videos/{{id}} (auth + one D1 read) {:.0} req/s (p50 {:.2} ms) → {:.2} of health: local D1 sets the pace",
        read.rps,
        read.p50_ms,
        read.rps / health.rps
    ));

    let wasm = root().join("edge/build/index_bg.wasm");
    let gzip = output(
        std::process::Command::new("sh")
            .arg("-c")
            .arg("gzip -9 -c \"$1\" | wc -c")
            .arg("sh")
            .arg(&wasm),
    )
    .and_then(|n| n.trim().parse::<f64>().ok())
    .ok_or("gzip the wasm")?;
    let raw = std::fs::metadata(&wasm).map_err(|e| e.to_string())?.len() as f64;
    lines.push(format!(
        "Worker wasm: {:.0} KiB, {:.0} KiB after gzip",
        raw / 1024.0,
        gzip / 1024.0
    ));
    Ok(EdgeFigures {
        presign_ns: presign,
        verify_ns: verify,
        sign_in_ms,
        gzip_kib: gzip / 1024.0,
        lines,
    })
}

struct Load {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
}

/// The body of `POST /api/videos` under load: a small video, so a single presigned PUT.
const CREATE_BODY: &str = r#"{"fileName":"bench.mp4","fileSize":1000,"fileType":"video/mp4"}"#;

/// What the upload rate limit lets one user create within a load run (60 a minute).
const CREATIONS_PER_USER: f64 = 60.0;

/// `count` members who create videos under load, as bearer tokens.
fn uploaders(port: u16, admin_token: &str, count: usize) -> Result<Vec<String>, String> {
    (0..count)
        .map(|n| {
            let (email, password) = (format!("bench-{n}@example.com"), "bench-password");
            let user = serde_json::json!({ "email": email, "password": password });
            // Whatever the answer (a user left by an earlier run exists): the sign-in tells.
            api::call(port, "POST", "/api/users", Some(admin_token), Some(&user))?;
            Ok(api::sign_in(port, &email, password)?.token)
        })
        .collect()
}

/// wrk's request script: a GET, or a video creation, each request with the next of
/// `tokens` as its bearer token (none when empty).
fn wrk_script(tokens: &[String], create: bool) -> String {
    let list = tokens
        .iter()
        .map(|t| format!("\"{t}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let (method, body) = if create {
        ("POST", format!("'{CREATE_BODY}'"))
    } else {
        ("GET", "nil".into())
    };
    format!(
        "local tokens = {{{list}}}\n\
         local counter = 0\n\
         request = function()\n\
           local headers = {{ [\"Content-Type\"] = \"application/json\" }}\n\
           if #tokens > 0 then\n\
             counter = counter + 1\n\
             headers[\"Authorization\"] = \"Bearer \" .. tokens[(counter % #tokens) + 1]\n\
           end\n\
           return wrk.format(\"{method}\", nil, headers, {body})\n\
         end\n"
    )
}

/// wrk, bounded in connections and time.
fn load(base_url: &str, path: &str, lua: &str) -> Result<Load, String> {
    let script = testkit::temp_dir("wrk").join("request.lua");
    std::fs::write(&script, lua).map_err(|e| e.to_string())?;
    let (result, text) = tee(cmd("wrk")
        .args(["--latency", "-t", "2", "-c"])
        .arg(LOAD_CONNECTIONS.to_string())
        .arg("-d")
        .arg(format!("{LOAD_SECONDS}s"))
        .arg("-s")
        .arg(&script)
        .arg(format!("{base_url}{path}")));
    let _ = std::fs::remove_dir_all(script.parent().unwrap_or(&script));
    result?;
    if text.contains("Non-2xx") {
        return Err(format!("wrk saw failures on {path}:\n{text}"));
    }
    let latency = |label: &str| -> Result<f64, String> {
        let value = text
            .lines()
            .find_map(|l| l.trim().strip_prefix(label).map(str::trim))
            .ok_or_else(|| format!("wrk printed no {label} latency"))?;
        let (number, unit) = value.split_at(
            value
                .find(|c: char| c.is_alphabetic())
                .unwrap_or(value.len()),
        );
        let number: f64 = number.parse().map_err(|_| format!("latency `{value}`"))?;
        Ok(match unit {
            "us" => number / 1e3,
            "ms" => number,
            "s" => number * 1e3,
            _ => return Err(format!("latency unit `{unit}`")),
        })
    };
    let rps = text
        .lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .ok_or("wrk printed no Requests/sec")?;
    Ok(Load {
        rps,
        p50_ms: latency("50%")?,
        p99_ms: latency("99%")?,
    })
}

/// Runs the native round-trip count and reads its `round trips: <route>: <n>` lines.
pub(super) fn round_trips() -> Result<RoundTrips, String> {
    println!("==> edge: database round trips per route (native count)");
    let (result, text) = tee(cmd("cargo").args([
        "test",
        "--locked",
        "--package",
        "edge",
        "--test",
        "round_trips",
        "--",
        "--nocapture",
    ]));
    result?;
    let by_route: Vec<(String, u64)> = text
        .lines()
        .filter_map(|line| line.strip_prefix("round trips: "))
        .filter_map(|rest| {
            let (route, n) = rest.rsplit_once(": ")?;
            Some((route.to_string(), n.trim().parse().ok()?))
        })
        .collect();
    if by_route.is_empty() {
        return Err("the round-trip test printed no counts".into());
    }
    Ok(RoundTrips { by_route })
}
