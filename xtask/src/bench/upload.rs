//! The web app's multipart upload in Chromium beside `aws s3 cp` of the same file to the same
//! SeaweedFS.

use super::{aws_s3, median};
use crate::run::{cmd, root};
use crate::stack::{Stack, with_throwaway_stack};

/// The web app's multipart upload in Chromium and `aws s3 cp` of the same file to the same
/// SeaweedFS, in MiB/s (medians of alternating rounds).
pub(super) struct UploadFigures {
    pub(super) browser_mib_s: f64,
    pub(super) aws_mib_s: f64,
    pub(super) lines: Vec<String>,
}

/// The upload benchmark's file: random bytes (no video: nothing here converts it).
pub(super) const UPLOAD_MIB: u64 = 400;
/// Each side uploads this many times, alternating, so both meet the same machine load.
const UPLOAD_ROUNDS: usize = 3;

pub(super) fn upload() -> Result<UploadFigures, String> {
    println!(
        "==> upload: {UPLOAD_MIB} MiB from the web app in Chromium and with `aws s3 cp`, to one SeaweedFS"
    );
    with_throwaway_stack(Vec::new(), |stack| {
        let dir = testkit::temp_dir("upload-bench");
        let result = measure_upload(stack, &dir);
        let _ = std::fs::remove_dir_all(&dir);
        result
    })
}

fn measure_upload(stack: &Stack, dir: &std::path::Path) -> Result<UploadFigures, String> {
    use std::io::Read;
    let file = dir.join("upload-bench.mkv");
    let mut random =
        std::fs::File::open("/dev/urandom").map_err(|e| format!("/dev/urandom: {e}"))?;
    let mut out = std::fs::File::create(&file).map_err(|e| format!("{}: {e}", file.display()))?;
    std::io::copy(&mut (&mut random).take(UPLOAD_MIB << 20), &mut out)
        .map_err(|e| format!("write {}: {e}", file.display()))?;
    drop(out);
    let tiny = dir.join("one-byte");
    std::fs::write(&tiny, b"x").map_err(|e| format!("{}: {e}", tiny.display()))?;

    // The AWS CLI with its defaults (10 requests at once, 8 MiB parts).
    let aws = |args: &[&std::ffi::OsStr]| aws_s3(stack, args);
    let copy = |from: &std::path::Path, key: &str| {
        aws(&[
            "cp".as_ref(),
            from.as_os_str(),
            format!("s3://incoming/bench/{key}").as_ref(),
        ])
    };
    let remove = |key: &str| aws(&["rm".as_ref(), format!("s3://incoming/bench/{key}").as_ref()]);

    let mut browser = Vec::new();
    let mut aws_seconds = Vec::new();
    let mut start_up = Vec::new();
    let mut parts_seen = String::new();
    for round in 1..=UPLOAD_ROUNDS {
        // The CLI's own start-up (Python, botocore) is no upload time: a 1-byte copy measures it.
        start_up.push(copy(&tiny, "one-byte")?);
        aws_seconds.push(copy(&file, "upload-bench")?);
        remove("upload-bench")?;

        let answer = crate::run::capture(
            cmd("node")
                .arg(root().join("e2e/upload-speed.mjs"))
                .arg(&file)
                .env("EDGEVID_BASE_URL", &stack.base_url)
                .env("DEV_ADMIN_EMAIL", &stack.admin_email)
                .env("DEV_ADMIN_PASSWORD", &stack.admin_password),
        )?;
        let line = answer
            .lines()
            .rev()
            .find(|line| line.starts_with('{'))
            .ok_or_else(|| format!("e2e/upload-speed.mjs printed no result: {answer}"))?;
        let json: serde_json::Value =
            serde_json::from_str(line).map_err(|e| format!("{e}: {line}"))?;
        let number = |key: &str| {
            json[key]
                .as_f64()
                .ok_or_else(|| format!("no {key} in {line}"))
        };
        browser.push(number("seconds")?);
        parts_seen = format!(
            "{} parts, up to {} at once",
            number("parts")?,
            number("most_in_flight")?
        );
        println!(
            "  round {round}: aws s3 cp {:.2} s (start-up {:.2} s), browser {:.2} s ({parts_seen})",
            aws_seconds[round - 1],
            start_up[round - 1],
            browser[round - 1]
        );
    }
    let mib = UPLOAD_MIB as f64;
    let start_up = median(start_up);
    let aws_upload = (median(aws_seconds) - start_up).max(f64::EPSILON);
    let browser_upload = median(browser);
    Ok(UploadFigures {
        browser_mib_s: mib / browser_upload,
        aws_mib_s: mib / aws_upload,
        lines: vec![format!(
            "upload {UPLOAD_MIB} MiB to SeaweedFS, median of {UPLOAD_ROUNDS} alternating rounds: \
                 the web app in Chromium {browser_upload:.2} s = {:.1} MiB/s ({parts_seen}, \
                 create to complete); aws s3 cp {aws_upload:.2} s = {:.1} MiB/s (less its \
                 {start_up:.2} s start-up)",
            mib / browser_upload,
            mib / aws_upload
        )],
    })
}
