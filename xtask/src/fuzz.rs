//! `cargo xtask fuzz [target] [--seconds N]`: the long fuzz run. Each target (all, one at a
//! time, or the one named) runs under libFuzzer via cargo-fuzz on nightly for N seconds,
//! seeded with its corpus in `fuzz/corpus/<target>/`; the inputs that reach new code are
//! merged back into that corpus (only those: it stays small), and a line per target sums up
//! runs, time, corpus size and crashes. `cargo xtask test` replays the same corpora on stable.

use crate::run::{cargo_bin, cmd, output, root, status};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

/// cargo-fuzz, pinned so runs are repeatable (any installed version is used as it is).
const CARGO_FUZZ_VERSION: &str = "0.13.2";
const DEFAULT_SECONDS: u64 = 120;
/// The libFuzzer project (outside the workspace: it needs nightly), below the root.
const FUZZ_DIR: &str = "fuzz/libfuzzer";
/// libFuzzer's limits: the same time budget per input as the stable replay, no single
/// allocation over 128 MiB and no process over 1 GiB (the inputs are a few KiB: more means
/// an allocation the input size does not bound).
const LIMITS: [&str; 3] = ["-timeout=1", "-malloc_limit_mb=128", "-rss_limit_mb=1024"];

const USAGE: &str = "usage: cargo xtask fuzz [target] [--seconds N]   (N per target, default 120)";

pub fn run(args: &[String]) -> Result<(), String> {
    let (only, seconds) = parse_args(args)?;
    let targets = match only {
        Some(target) if targets()?.contains(&target) => vec![target],
        Some(target) => {
            return Err(format!(
                "no fuzz target `{target}`; there are: {}",
                targets()?.join(", ")
            ));
        }
        None => targets()?,
    };
    println!("==> install missing tools");
    ensure_nightly()?;
    ensure_cargo_fuzz()?;
    let mut summaries = Vec::new();
    for target in &targets {
        println!("\n==> fuzz {target} for {seconds} s");
        summaries.push(fuzz(target, seconds)?);
    }
    println!("\n== fuzz summary ({seconds} s a target)");
    for summary in &summaries {
        println!("  {summary}");
    }
    let crashes: Vec<&PathBuf> = summaries.iter().flat_map(|s| &s.crashes).collect();
    if crashes.is_empty() {
        return Ok(());
    }
    println!(
        "\nfailing inputs (reproduce: cargo +nightly fuzz run --fuzz-dir {FUZZ_DIR} <target> <file>;"
    );
    println!("once fixed, copy each into fuzz/corpus/<target>/ so the stable replay keeps it):");
    for crash in &crashes {
        println!("  {}", crash.display());
    }
    Err(format!("{} failing input(s) found", crashes.len()))
}

fn parse_args(args: &[String]) -> Result<(Option<String>, u64), String> {
    let mut only = None;
    let mut seconds = DEFAULT_SECONDS;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seconds" => {
                seconds = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|&n| n > 0)
                    .ok_or(USAGE)?;
            }
            "-h" | "--help" => return Err(USAGE.into()),
            target if only.is_none() && !target.starts_with('-') => {
                only = Some(target.to_string());
            }
            _ => return Err(USAGE.into()),
        }
    }
    Ok((only, seconds))
}

/// The targets, by their libFuzzer binaries (`fuzz_targets/<target>.rs`), sorted.
fn targets() -> Result<Vec<String>, String> {
    let dir = root().join(FUZZ_DIR).join("fuzz_targets");
    let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut names: Vec<String> = entries
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            (path.extension()? == "rs").then(|| path.file_stem()?.to_str().map(String::from))?
        })
        .collect();
    names.sort();
    Ok(names)
}

fn ensure_nightly() -> Result<(), String> {
    match output(Command::new("cargo").args(["+nightly", "--version"])) {
        Some(version) => {
            println!("  ok  nightly toolchain ({})", version.trim());
            Ok(())
        }
        None => Err(
            "the nightly toolchain is missing; libFuzzer's instrumentation needs it: \
             `rustup toolchain install nightly`. (`cargo xtask test` replays the corpora on \
             stable without it.)"
                .into(),
        ),
    }
}

fn ensure_cargo_fuzz() -> Result<(), String> {
    let reported = output(Command::new(cargo_bin().join("cargo-fuzz")).arg("--version"));
    if let Some(version) = reported {
        println!("  ok  {}", version.trim());
        return Ok(());
    }
    println!(
        "  ..  installing cargo-fuzz {CARGO_FUZZ_VERSION} (cargo install --locked; a few minutes the first time)"
    );
    status(Command::new("cargo").args([
        "install",
        "cargo-fuzz",
        "--version",
        CARGO_FUZZ_VERSION,
        "--locked",
    ]))
}

/// What one target's run did.
struct Summary {
    target: String,
    runs: u64,
    seconds: f64,
    corpus_files: usize,
    corpus_bytes: u64,
    added: usize,
    crashes: Vec<PathBuf>,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:<18} {:>11} runs in {:>4.0} s, corpus {:>4} files ({:>5.1} KiB, {:+} new), {} crash{}",
            self.target,
            self.runs,
            self.seconds,
            self.corpus_files,
            self.corpus_bytes as f64 / 1024.0,
            self.added,
            self.crashes.len(),
            if self.crashes.len() == 1 { "" } else { "es" }
        )
    }
}

fn fuzz(target: &str, seconds: u64) -> Result<Summary, String> {
    let corpus = root().join("fuzz/corpus").join(target);
    std::fs::create_dir_all(&corpus).map_err(|e| format!("{}: {e}", corpus.display()))?;
    // New inputs land in a scratch directory first; only those that add coverage go into
    // the corpus in the repository.
    let scratch = root().join(FUZZ_DIR).join("scratch").join(target);
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).map_err(|e| format!("{}: {e}", scratch.display()))?;
    let artifacts = root().join(FUZZ_DIR).join("artifacts").join(target);
    let started_at = SystemTime::now();
    let (before, _) = corpus_size(&corpus);

    let mut run = cargo_fuzz_run(target);
    run.arg(&scratch).arg(&corpus).arg("--").args(LIMITS).args([
        format!("-max_total_time={seconds}"),
        "-print_final_stats=1".into(),
        "-use_value_profile=1".into(),
    ]);
    let dictionary = root().join(FUZZ_DIR).join(format!("dicts/{target}.dict"));
    if dictionary.is_file() {
        run.arg(format!("-dict={}", dictionary.display()));
    }
    let (ran, log, fuzzing) = stream_libfuzzer(&mut run);
    let crashes = files_since(&artifacts, started_at);
    // A failed run that left no failing input is a failed build or a broken setup.
    if let (Err(e), true) = (ran, crashes.is_empty()) {
        return Err(format!("fuzzing {target}: {e}"));
    }

    let mut merge = cargo_fuzz_run(target);
    // The fewest inputs (a greedy set cover) that reach the new edges; edges only, not how
    // often each runs, or thousands of near-copies would join the repository.
    merge
        .arg(&corpus)
        .arg(&scratch)
        .args(["--", "-set_cover_merge=1", "-use_counters=0"])
        .args(LIMITS);
    let (merged, _, _) = stream_libfuzzer(&mut merge);
    merged.map_err(|e| format!("merging the new inputs of {target} into its corpus: {e}"))?;
    let (after, bytes) = corpus_size(&corpus);

    Ok(Summary {
        target: target.to_string(),
        runs: final_stat(&log, "number_of_executed_units"),
        seconds: fuzzing.as_secs_f64(),
        corpus_files: after,
        corpus_bytes: bytes,
        added: after.saturating_sub(before),
        crashes,
    })
}

/// `cargo +nightly fuzz run` of `target`, its arguments to follow.
fn cargo_fuzz_run(target: &str) -> Command {
    let mut command = cmd("cargo");
    command.args(["+nightly", "fuzz", "run", "--fuzz-dir", FUZZ_DIR, target]);
    command
}

/// Runs cargo-fuzz, passing on what matters of libFuzzer's chatter (its progress pulses,
/// errors, crash reports and final stats, not every new input); returns how it ended, its
/// stderr, and how long libFuzzer itself ran (from its `INFO: Seed:` line: the build that
/// comes first is not fuzzing).
fn stream_libfuzzer(command: &mut Command) -> (Result<(), String>, String, Duration) {
    let mut child = match command.stderr(Stdio::piped()).spawn() {
        Ok(child) => child,
        Err(e) => {
            let error = Err(format!("cannot start cargo fuzz: {e}"));
            return (error, String::new(), Duration::ZERO);
        }
    };
    let mut log = String::new();
    let mut seeded = None;
    if let Some(stderr) = child.stderr.take() {
        let mut out = std::io::stdout();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let chatter =
                line.starts_with('#') && !line.contains("pulse") && !line.contains("DONE");
            if !chatter {
                let _ = writeln!(out, "{line}");
            }
            if line.starts_with("INFO: Seed:") {
                seeded.get_or_insert_with(Instant::now);
            }
            log.push_str(&line);
            log.push('\n');
        }
    }
    let result = match child.wait() {
        Ok(exit) if exit.success() => Ok(()),
        Ok(exit) => Err(format!("cargo fuzz exited with {exit}")),
        Err(e) => Err(format!("cargo fuzz: {e}")),
    };
    (
        result,
        log,
        seeded.map_or(Duration::ZERO, |at| at.elapsed()),
    )
}

/// `stat::<name>: N` from `-print_final_stats=1`.
fn final_stat(log: &str, name: &str) -> u64 {
    let prefix = format!("stat::{name}:");
    log.lines()
        .filter_map(|line| line.strip_prefix(&prefix))
        .filter_map(|n| n.trim().parse().ok())
        .next_back()
        .unwrap_or(0)
}

/// Files and bytes in a corpus directory.
fn corpus_size(dir: &Path) -> (usize, u64) {
    let sizes: Vec<u64> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|entry| entry.ok()?.metadata().ok())
        .filter(|meta| meta.is_file())
        .map(|meta| meta.len())
        .collect();
    (sizes.len(), sizes.iter().sum())
}

/// The files of `dir` written since `since` (libFuzzer's crash, timeout and OOM inputs).
fn files_since(dir: &Path, since: SystemTime) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let modified = entry.metadata().ok()?.modified().ok()?;
            (modified >= since).then(|| entry.path())
        })
        .collect();
    files.sort();
    files
}
