//! `cargo xtask bench`: every benchmark beside its baseline measured in the same run, printed
//! as ratios. Nothing here asserts a speed: the numbers are reported, not tested.

use crate::run::{cmd, output, root, tee};
use crate::setup::{self, Need};
use crate::stack::{Stack, with_throwaway_stack};
use std::time::{Duration, Instant};

/// Iterations per timed request inside workerd: enough to dwarf the request's own cost.
const WORKER_ITERATIONS: u32 = 2_000;
const WORKER_REPEATS: usize = 7;
const LOGIN_REPEATS: usize = 9;
/// Load generator bounds: connections and seconds per endpoint.
const LOAD_CONNECTIONS: u32 = 8;
const LOAD_SECONDS: u32 = 10;

pub fn run(args: &[String]) -> Result<(), String> {
    let only = args.first().map(String::as_str);
    if let Some(other) = only.filter(|o| !["signer", "edge", "origin"].contains(o)) {
        return Err(format!(
            "usage: cargo xtask bench [signer|edge|origin] (got `{other}`)"
        ));
    }
    setup::ensure(&[
        Need::WasmToolchain,
        Need::NodeTools,
        Need::PythonVenv,
        Need::Ffmpeg,
        Need::Wrk,
    ])?;
    let mut lines = Vec::new();
    if only.is_none_or(|o| o == "signer") {
        lines.extend(signer()?);
    }
    if only.is_none_or(|o| o == "edge") {
        lines.extend(edge()?);
    }
    if only.is_none_or(|o| o == "origin") {
        lines.extend(origin()?);
    }
    println!("\n== benchmark results (this machine, this run)");
    for line in &lines {
        println!("  {line}");
    }
    Ok(())
}

/// Criterion's mean ns/iter for each `name` (from `--output-format bencher` lines).
fn criterion_ns(output: &str, name: &str) -> Result<f64, String> {
    output
        .lines()
        .find_map(|line| {
            let rest = line.strip_prefix(&format!("test {name} ... bench:"))?;
            rest.split_whitespace()
                .next()?
                .replace(',', "")
                .parse()
                .ok()
        })
        .ok_or_else(|| format!("criterion printed no result for {name}"))
}

/// The number after `"key":` in a one-line JSON document.
fn json_number(json: &str, key: &str) -> Result<f64, String> {
    let start = json
        .find(&format!("\"{key}\":"))
        .ok_or_else(|| format!("no {key} in {json}"))?
        + key.len()
        + 3;
    json[start..]
        .trim_start()
        .split(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == 'e'))
        .next()
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("{key} is not a number in {json}"))
}

fn signer() -> Result<Vec<String>, String> {
    println!("==> signer: criterion (ours) and botocore / PyJWT (baselines)");
    let (result, criterion) = tee(cmd("cargo").args([
        "bench",
        "--locked",
        "--package",
        "signer",
        "--bench",
        "signer",
        "--",
        "--output-format",
        "bencher",
    ]));
    result?;
    let presign = criterion_ns(&criterion, "presign_upload_part")?;
    let verify = criterion_ns(&criterion, "verify_jwt_eddsa")?;
    let hash = criterion_ns(&criterion, "password_argon2id_default/hash")?;
    let baselines =
        output(cmd(root().join(".venv/bin/python3")).arg(root().join("signer/benches/oracles.py")))
            .ok_or("signer/benches/oracles.py failed")?;
    let botocore = json_number(&baselines, "botocore_presign_upload_part_ns")?;
    let pyjwt = json_number(&baselines, "pyjwt_decode_eddsa_ns")?;
    Ok(vec![
        format!(
            "presign UploadPart: ours {:.1} µs, botocore {:.1} µs → {:.0}× faster (goal ≥ 40×)",
            presign / 1e3,
            botocore / 1e3,
            botocore / presign
        ),
        format!(
            "verify JWT (EdDSA): ours {:.1} µs, PyJWT {:.1} µs → {:.1}× faster (goal ≥ 3×)",
            verify / 1e3,
            pyjwt / 1e3,
            pyjwt / verify
        ),
        format!(
            "argon2id hash (19 MiB, t=2, p=1), native: {:.1} ms",
            hash / 1e6
        ),
    ])
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn edge() -> Result<Vec<String>, String> {
    println!("==> edge: the built Worker in workerd (wrangler dev) on loopback");
    with_throwaway_stack(vec![("DEV_BENCH_ROUTES".into(), "1".into())], measure_edge)
}

fn timed(mut request: impl FnMut() -> Option<(u16, String)>) -> Result<f64, String> {
    let started = Instant::now();
    match request() {
        Some((200, _)) => Ok(started.elapsed().as_secs_f64()),
        Some((status, body)) => Err(format!("HTTP {status}: {body}")),
        None => Err("no answer".into()),
    }
}

fn measure_edge(stack: &Stack) -> Result<Vec<String>, String> {
    let port = stack.edge_port;
    let mut lines = Vec::new();
    // Per operation: (n iterations) minus (the same request doing nothing), over n.
    let per_op = |op: &str| -> Result<f64, String> {
        let path = |op: &str| format!("/api/internal/bench?op={op}&n={WORKER_ITERATIONS}");
        timed(|| testkit::http_get(port, &path(op), &[]))?; // warm-up
        let mut samples = Vec::new();
        for _ in 0..WORKER_REPEATS {
            let work = timed(|| testkit::http_get(port, &path(op), &[]))?;
            let idle = timed(|| testkit::http_get(port, &path("none"), &[]))?;
            samples.push((work - idle).max(0.0) / f64::from(WORKER_ITERATIONS));
        }
        Ok(median(samples) * 1e9)
    };
    let presign = per_op("presign")?;
    let verify = per_op("verify")?;
    lines.push(format!(
        "in workerd: presign UploadPart {:.1} µs, verify JWT {:.1} µs",
        presign / 1e3,
        verify / 1e3
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
    let (_, answer) = sign_in().ok_or("sign-in did not answer")?;
    let token = answer
        .split("\"token\":\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .ok_or_else(|| format!("no token in {answer}"))?
        .to_string();
    let logins: Vec<f64> = (0..LOGIN_REPEATS)
        .map(|_| timed(sign_in))
        .collect::<Result<_, _>>()?;
    lines.push(format!(
        "in workerd: a sign-in (argon2id verify + D1) takes {:.0} ms wall, median of {LOGIN_REPEATS}, one at a time",
        median(logins) * 1e3
    ));

    let base = &stack.base_url;
    let health = load(base, "/api/health", &wrk_script(None, false))?;
    let create = load(base, "/api/videos", &wrk_script(Some(&token), true))?;
    // What one local D1 query costs, to read the ratio by: an authorized read of one video.
    let bearer = format!("Bearer {token}");
    let (_, created) = testkit::http_request(
        port,
        "POST",
        "/api/videos",
        &[
            ("Content-Type", "application/json"),
            ("Authorization", &bearer),
        ],
        CREATE_BODY.as_bytes(),
    )
    .ok_or("creating a video did not answer")?;
    let video_id = created
        .split("\"id\":\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .ok_or_else(|| format!("no video id in {created}"))?;
    let read = load(
        base,
        &format!("/api/videos/{video_id}"),
        &wrk_script(Some(&token), false),
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
        "Worker wasm: {:.0} KiB, {:.0} KiB after gzip (goal ≤ 1024 KiB)",
        raw / 1024.0,
        gzip / 1024.0
    ));
    Ok(lines)
}

struct Load {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
}

/// The body of `POST /api/videos` under load: a small video, so a single presigned PUT.
const CREATE_BODY: &str = r#"{"fileName":"bench.mp4","fileSize":1000,"fileType":"video/mp4"}"#;

/// wrk's request script: a GET, with a bearer token when given, or a video creation.
fn wrk_script(token: Option<&str>, create: bool) -> String {
    let mut lua = String::new();
    if let Some(token) = token {
        lua.push_str(&format!(
            "wrk.headers[\"Authorization\"] = \"Bearer {token}\"\n"
        ));
    }
    if create {
        lua.push_str(
            "wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\n",
        );
        lua.push_str(&format!("wrk.body = '{CREATE_BODY}'\n"));
    }
    lua
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

fn origin() -> Result<Vec<String>, String> {
    println!("==> origin: a 60 s 720p clip through our pipeline and by hand (several minutes)");
    let started = Instant::now();
    let (result, text) = tee(cmd("cargo").args([
        "bench",
        "--locked",
        "--package",
        "origin",
        "--bench",
        "pipeline",
    ]));
    result?;
    let line = text
        .lines()
        .find(|l| l.contains("\"origin-pipeline\""))
        .ok_or("the pipeline bench printed no result line")?;
    let transcode = &line[line.find("\"transcode\"").ok_or("no transcode result")?..];
    let remux = &line[line.find("\"remux\"").ok_or("no remux result")?..];
    let elapsed = Duration::from_secs(started.elapsed().as_secs());
    Ok(vec![
        format!(
            "origin transcode: pipeline {:.1} s vs ffmpeg by hand {:.1} s → ratio {:.2} (goal ≤ 1.1)",
            json_number(transcode, "pipeline_s")?,
            json_number(transcode, "by_hand_s")?,
            json_number(transcode, "ratio")?
        ),
        format!(
            "origin remux: pipeline {:.2} s vs by hand {:.2} s → ratio {:.2}; remux takes {:.3}× a transcode",
            json_number(remux, "pipeline_s")?,
            json_number(remux, "by_hand_s")?,
            json_number(remux, "ratio")?,
            json_number(line, "remux_vs_transcode")?
        ),
        format!("(origin bench took {elapsed:?})"),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_criterion_bencher_lines_and_json_numbers() {
        let text = "test presign_upload_part ... bench:       6,512 ns/iter (+/- 120)\n";
        assert_eq!(criterion_ns(text, "presign_upload_part"), Ok(6512.0));
        assert!(criterion_ns(text, "other").is_err());
        let json = r#"{"a_ns": 310000, "b": {"ratio": 0.92}}"#;
        assert_eq!(json_number(json, "a_ns"), Ok(310000.0));
        assert_eq!(json_number(json, "ratio"), Ok(0.92));
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), 3.0);
    }
}
