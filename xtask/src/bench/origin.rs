//! The conversion pipeline against the same FFmpeg work run by hand (origin/benches).

use super::json_number;
use crate::run::{cmd, tee};
use std::time::{Duration, Instant};

pub(super) fn origin() -> Result<Vec<String>, String> {
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
