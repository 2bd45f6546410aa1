//! The conversion pipeline against the same FFmpeg work run by hand (origin/benches): what
//! the ladder costs, and the time from `complete` to playable and to the full ladder.

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
    let figure = |plan: &str, key: &str| json_number(line, &format!("/results/{plan}/{key}"));
    let mut lines = vec![format!(
        "origin ladder cost: the MP4 and the HLS ladder in one FFmpeg run take {:.2}× the MP4 \
         alone, for the 60 s 720p clip transcoded by hand",
        figure("transcode", "ladder_cost")?
    )];
    for plan in ["copy", "remux", "transcode"] {
        lines.push(format!(
            "origin {plan}: complete → playable {:.2} s, → full ladder {:.2} s in the pipeline; \
             by hand the MP4 alone {:.2} s, the MP4 and the ladder {:.2} s",
            figure(plan, "pipeline_first_playable_s")?,
            figure(plan, "pipeline_ladder_done_s")?,
            figure(plan, "by_hand_mp4_s")?,
            figure(plan, "by_hand_mp4_and_ladder_s")?,
        ));
    }
    let elapsed = Duration::from_secs(started.elapsed().as_secs());
    lines.push(format!("(origin bench took {elapsed:?})"));
    Ok(lines)
}
