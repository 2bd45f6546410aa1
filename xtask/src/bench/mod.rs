//! `cargo xtask bench`: every benchmark beside its baseline measured in the same run, printed
//! as ratios. Nothing here asserts a speed: the numbers are reported, not tested.

use crate::setup::{self, Need};
use crate::stack::Stack;
use edge::{EdgeFigures, RoundTrips};
use signer::SignerFigures;
use std::ffi::OsStr;
use std::time::Instant;
use upload::{UPLOAD_MIB, UploadFigures};

mod edge;
mod origin;
mod playable;
mod signer;
mod upload;

/// The parts `cargo xtask bench <part>...` runs.
const PARTS: [&str; 5] = ["signer", "edge", "upload", "playable", "origin"];

pub fn run(args: &[String]) -> Result<(), String> {
    if let Some(other) = args.iter().find(|a| !PARTS.contains(&a.as_str())) {
        return Err(format!(
            "usage: cargo xtask bench [{}]... (got `{other}`)",
            PARTS.join("|")
        ));
    }
    setup::ensure(&[
        Need::WasmToolchain,
        Need::NodeTools,
        Need::PythonVenv,
        Need::Ffmpeg,
        Need::Wrk,
        Need::Chromium,
    ])?;
    // No part named: every part.
    let wanted = |part: &str| args.is_empty() || args.iter().any(|a| a == part);
    let mut lines = Vec::new();
    let signer = wanted("signer").then(signer::signer).transpose()?;
    let edge = wanted("edge").then(edge::edge).transpose()?;
    let round_trips = wanted("edge").then(edge::round_trips).transpose()?;
    let upload = wanted("upload").then(upload::upload).transpose()?;
    let playable = wanted("playable").then(playable::playable).transpose()?;
    if let Some(figures) = &signer {
        lines.extend(figures.lines.iter().cloned());
    }
    if let Some(figures) = &edge {
        lines.extend(figures.lines.iter().cloned());
    }
    if let Some(figures) = &upload {
        lines.extend(figures.lines.iter().cloned());
    }
    if let Some(figures) = &playable {
        lines.extend(figures.lines.iter().cloned());
    }
    if wanted("origin") {
        lines.extend(origin::origin()?);
    }
    println!("\n== benchmark results (this machine, this run)");
    for line in &lines {
        println!("  {line}");
    }
    if let (Some(signer), Some(edge), Some(round_trips)) = (&signer, &edge, &round_trips) {
        println!("\n== the edge hot path (ratios from this run)");
        for row in hot_path(
            signer,
            edge,
            round_trips,
            upload.as_ref(),
            playable.as_ref(),
        ) {
            println!("  {row}");
        }
    }
    Ok(())
}

/// The table of the hot path issue: each figure beside its baseline from the same run.
fn hot_path(
    signer: &SignerFigures,
    edge: &EdgeFigures,
    trips: &RoundTrips,
    upload: Option<&UploadFigures>,
    playable: Option<&playable::PlayableFigures>,
) -> Vec<String> {
    let worst = trips
        .by_route
        .iter()
        .filter(|(route, _)| route != "sign in")
        .max_by_key(|(_, n)| *n);
    let sign_in_trips = trips
        .by_route
        .iter()
        .find(|(route, _)| route == "sign in")
        .map_or(0, |(_, n)| *n);
    let mut rows = vec![
        format!(
            "JWT verify in workerd ÷ natively: {:.1} / {:.1} µs = {:.2}× (goal ≤ 1.5×)",
            edge.verify_ns / 1e3,
            signer.verify_ns / 1e3,
            edge.verify_ns / signer.verify_ns
        ),
        format!(
            "presign UploadPart in workerd ÷ natively: {:.1} / {:.1} µs = {:.2}× (goal ≤ 1.5×)",
            edge.presign_ns / 1e3,
            signer.presign_ns / 1e3,
            edge.presign_ns / signer.presign_ns
        ),
        format!(
            "signing the 10,000 part URLs of a 5 TiB upload in workerd: 10,000 × {:.1} µs = {:.0} ms of CPU (goal < 100 ms)",
            edge.presign_ns / 1e3,
            edge.presign_ns * 1e4 / 1e6
        ),
        format!(
            "presign natively vs botocore: {:.0}× faster (goal ≥ 100×)",
            signer.botocore_presign_ns / signer.presign_ns
        ),
        format!(
            "sign-in in workerd ÷ argon2id verify natively: {:.1} / {:.1} ms = {:.2}× (goal ≤ 1.5×)",
            edge.sign_in_ms,
            signer.argon2_verify_ns / 1e6,
            edge.sign_in_ms / (signer.argon2_verify_ns / 1e6)
        ),
        match worst {
            Some((route, n)) => format!(
                "sequential D1 round trips, worst non-sign-in route: {n} ({route}); sign-in {sign_in_trips} (goal 1; sign-in ≤ 2)"
            ),
            None => "sequential D1 round trips: none counted".into(),
        },
        format!(
            "Worker bundle: {:.0} KiB after gzip (goal ≤ 1024 KiB)",
            edge.gzip_kib
        ),
    ];
    if let Some(upload) = upload {
        rows.push(format!(
            "browser multipart upload ÷ aws s3 cp, {UPLOAD_MIB} MiB, same SeaweedFS: {:.1} / {:.1} MiB/s = {:.2}× (goal ≥ 1.0×)",
            upload.browser_mib_s,
            upload.aws_mib_s,
            upload.browser_mib_s / upload.aws_mib_s
        ));
    }
    if let Some(playable) = playable {
        rows.push(format!(
            "copy path, upload done → playable ÷ the same S3 copy by hand: {:.2} / {:.2} s = {:.2}× (goal ≤ 2×)",
            playable.platform_s,
            playable.by_hand_s,
            playable.platform_s / playable.by_hand_s
        ));
    }
    rows
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
/// The number at `pointer` (RFC 6901, as `/results/copy/ladder_cost`) in a JSON text.
fn json_number(json: &str, pointer: &str) -> Result<f64, String> {
    let value: serde_json::Value =
        serde_json::from_str(json).map_err(|e| format!("not JSON ({e}): {json}"))?;
    value
        .pointer(pointer)
        .and_then(serde_json::Value::as_f64)
        .ok_or_else(|| format!("no number at {pointer} in {json}"))
}

/// One `aws s3 …` command against the stack's SeaweedFS, timed (start-up included).
fn aws_s3(stack: &Stack, args: &[&OsStr]) -> Result<f64, String> {
    let mut command = stack.aws_cli()?;
    command.arg("s3").args(args).arg("--only-show-errors");
    let started = Instant::now();
    crate::run::capture(&mut command)?;
    Ok(started.elapsed().as_secs_f64())
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn timed(mut request: impl FnMut() -> Option<(u16, String)>) -> Result<f64, String> {
    let started = Instant::now();
    match request() {
        Some((200, _)) => Ok(started.elapsed().as_secs_f64()),
        Some((status, body)) => Err(format!("HTTP {status}: {body}")),
        None => Err("no answer".into()),
    }
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
        assert_eq!(json_number(json, "/a_ns"), Ok(310000.0));
        assert_eq!(json_number(json, "/b/ratio"), Ok(0.92));
        assert!(json_number(json, "/b").is_err());
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), 3.0);
    }
}
