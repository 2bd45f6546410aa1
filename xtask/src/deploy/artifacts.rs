//! What a deploy ships: the origin Lambda zip (cargo lambda, arm64) and the Worker bundle
//! (wrangler's dry run, measured as Cloudflare measures it).

use std::path::PathBuf;

use crate::run::{cmd, root, status, target_dir, tee, venv_tool};

/// Cloudflare refuses larger Workers on the free plan; the project holds the bundle to it.
const WORKER_GZIP_LIMIT_KIB: f64 = 1024.0;

/// What the checks built, for the summary and the real deploy.
#[derive(Default)]
pub struct Artifacts {
    pub lambda_zip: Option<(PathBuf, u64)>,
    worker_bundle: Option<WorkerBundle>,
}

struct WorkerBundle {
    dir: PathBuf,
    upload_kib: f64,
    gzip_kib: f64,
}

impl Artifacts {
    pub fn print(&self) {
        println!("\n== artifacts");
        match &self.lambda_zip {
            Some((path, bytes)) => println!(
                "  origin Lambda zip  {:>8.2} MiB  {}",
                *bytes as f64 / 1024.0 / 1024.0,
                path.display()
            ),
            None => println!("  origin Lambda zip  (not built)"),
        }
        match &self.worker_bundle {
            Some(bundle) => println!(
                "  Worker bundle      {:>8.2} MiB gzip ({:.2} MiB uncompressed, limit 1 MiB gzip)  {}",
                bundle.gzip_kib / 1024.0,
                bundle.upload_kib / 1024.0,
                bundle.dir.display()
            ),
            None => println!("  Worker bundle      (not built)"),
        }
    }

    pub fn build_lambda_zip(&mut self) -> Result<(), String> {
        // zig (from the ziglang wheel in .venv) links for aarch64; cargo-lambda finds it
        // through `python3 -m ziglang` because .venv/bin leads PATH, and never downloads one.
        status(cmd(venv_tool("cargo-lambda")).args([
            "lambda",
            "build",
            "--release",
            "--arm64",
            "--output-format",
            "zip",
            "--package",
            "origin",
            "--bin",
            "bootstrap",
        ]))?;
        let zip = target_dir().join("lambda/bootstrap/bootstrap.zip");
        let bytes = std::fs::metadata(&zip)
            .map_err(|e| format!("{}: {e}", zip.display()))?
            .len();
        println!(
            "origin Lambda zip: {:.2} MiB ({})",
            bytes as f64 / 1024.0 / 1024.0,
            zip.display()
        );
        self.lambda_zip = Some((zip, bytes));
        Ok(())
    }

    /// Builds the production bundle and holds it to the size limit.
    pub fn build_worker_bundle(&mut self) -> Result<(), String> {
        let dir = target_dir().join("worker-bundle");
        let _ = std::fs::remove_dir_all(&dir);
        let (result, stdout) = tee(cmd(root().join("node_modules/.bin/wrangler"))
            .args(["deploy", "--dry-run", "--env", "production", "--outdir"])
            .arg(&dir));
        result?;
        let (upload_kib, gzip_kib) = bundle_size(&stdout)?;
        self.worker_bundle = Some(WorkerBundle {
            dir,
            upload_kib,
            gzip_kib,
        });
        if gzip_kib <= WORKER_GZIP_LIMIT_KIB {
            println!("Worker bundle: {gzip_kib:.2} KiB gzip");
            Ok(())
        } else {
            Err(format!(
                "the Worker bundle is {gzip_kib:.2} KiB after gzip, over the {WORKER_GZIP_LIMIT_KIB} KiB limit"
            ))
        }
    }
}

/// What wrangler reports Cloudflare will measure, in KiB: (upload, gzip), from its line
/// `Total Upload: 812.34 KiB / gzip: 301.2 KiB`.
fn bundle_size(wrangler_output: &str) -> Result<(f64, f64), String> {
    let line = wrangler_output
        .lines()
        .find(|line| line.contains("Total Upload:"))
        .ok_or("wrangler printed no `Total Upload:` line to read the bundle size from")?;
    let kib_after = |label: &str| -> Result<f64, String> {
        let rest = line
            .split(label)
            .nth(1)
            .ok_or_else(|| format!("no `{label}` in `{line}`"))?;
        let mut words = rest.split_whitespace();
        let number: f64 = words
            .next()
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| format!("no number after `{label}` in `{line}`"))?;
        match words.next() {
            Some("KiB") => Ok(number),
            Some("MiB") => Ok(number * 1024.0),
            Some("B") => Ok(number / 1024.0),
            other => Err(format!("unknown unit {other:?} in `{line}`")),
        }
    };
    Ok((kib_after("Total Upload:")?, kib_after("gzip:")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_wranglers_size_line() {
        let out = "Total Upload: 1510.22 KiB / gzip: 586.01 KiB\n";
        assert_eq!(bundle_size(out), Ok((1510.22, 586.01)));
        assert_eq!(
            bundle_size("Total Upload: 2 MiB / gzip: 512 B"),
            Ok((2048.0, 0.5))
        );
        assert!(bundle_size("nothing").is_err());
    }
}
