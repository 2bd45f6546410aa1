//! Running child processes with the project's environment, and reporting what ran.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Instant;

/// The workspace root (xtask lives one level below it).
pub fn root() -> &'static Path {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(testkit::workspace_root)
}

pub fn home() -> PathBuf {
    std::env::var_os("HOME").map_or_else(|| PathBuf::from("/root"), PathBuf::from)
}

/// Where `cargo install` puts binaries: `$CARGO_HOME/bin`, by default `~/.cargo/bin`.
pub fn cargo_bin() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map_or_else(|| home().join(".cargo"), PathBuf::from)
        .join("bin")
}

/// A tool in the project venv.
pub fn venv_tool(name: &str) -> PathBuf {
    root().join(".venv/bin").join(name)
}

/// A file of the workspace, by its path from the root.
pub fn read(relative: &str) -> Result<String, String> {
    std::fs::read_to_string(root().join(relative)).map_err(|e| format!("{relative}: {e}"))
}

/// Where cargo puts build output: `CARGO_TARGET_DIR` if set, else a cache outside the clone
/// so that a fresh clone (CI's) reuses earlier builds.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| home().join(".cache/edgevid/target"))
}

/// The environment every child process gets: project tools first on PATH, the persistent
/// target dir, and worker-build pointed at pre-installed tools (it would download them).
pub fn project_env() -> Vec<(String, String)> {
    let root = root();
    let cargo_bin = cargo_bin();
    let node_bin = root.join("node_modules/.bin");
    let path = std::env::join_paths(
        [root.join(".venv/bin"), node_bin.clone(), cargo_bin.clone()]
            .into_iter()
            .chain(std::env::split_paths(
                &std::env::var_os("PATH").unwrap_or_default(),
            )),
    )
    .expect("PATH entries contain no separator");
    let display = |p: PathBuf| p.to_string_lossy().into_owned();
    vec![
        ("PATH".into(), path.to_string_lossy().into_owned()),
        ("CARGO_TARGET_DIR".into(), display(target_dir())),
        (
            "WASM_BINDGEN_BIN".into(),
            display(cargo_bin.join("wasm-bindgen")),
        ),
        ("ESBUILD_BIN".into(), display(node_bin.join("esbuild"))),
        ("WASM_OPT_BIN".into(), display(node_bin.join("wasm-opt"))),
        // wrangler must not phone home or ask questions in CI.
        ("WRANGLER_SEND_METRICS".into(), "false".into()),
        (
            "CI".into(),
            std::env::var("CI").unwrap_or_else(|_| "1".into()),
        ),
    ]
}

/// A command in the workspace root with the project environment.
pub fn cmd(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut command = Command::new(program);
    command.current_dir(root()).envs(project_env());
    command
}

fn describe(command: &Command) -> String {
    let mut text = command.get_program().to_string_lossy().into_owned();
    for arg in command.get_args() {
        text.push(' ');
        text.push_str(&arg.to_string_lossy());
    }
    text
}

/// Runs with inherited output; Err names the command and its exit status.
pub fn status(command: &mut Command) -> Result<(), String> {
    println!("$ {}", describe(command));
    let status = command
        .status()
        .map_err(|e| format!("cannot start `{}`: {e}", describe(command)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{}` failed ({status})", describe(command)))
    }
}

/// Runs with stdout streamed through and also captured (for parsing test counts).
pub fn tee(command: &mut Command) -> (Result<(), String>, String) {
    println!("$ {}", describe(command));
    let mut child = match command.stdout(Stdio::piped()).spawn() {
        Ok(child) => child,
        Err(e) => {
            return (
                Err(format!("cannot start `{}`: {e}", describe(command))),
                String::new(),
            );
        }
    };
    let mut captured = String::new();
    if let Some(out) = child.stdout.take() {
        let mut stdout = std::io::stdout();
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = writeln!(stdout, "{line}");
            captured.push_str(&line);
            captured.push('\n');
        }
    }
    let result = match child.wait() {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(format!("`{}` failed ({status})", describe(command))),
        Err(e) => Err(format!("`{}`: {e}", describe(command))),
    };
    (result, captured)
}

/// Stdout of a command that must succeed; Err carries its stderr.
pub fn capture(command: &mut Command) -> Result<String, String> {
    pipe(command, None)
}

/// Runs with `input` (if any) on stdin, never on the command line (where `ps` shows it);
/// returns stdout. Err carries stderr, never the input.
pub fn pipe(command: &mut Command, input: Option<&str>) -> Result<String, String> {
    let program = command.get_program().to_string_lossy().into_owned();
    let mut child = command
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {program}: {e}"))?;
    if let (Some(input), Some(mut stdin)) = (input, child.stdin.take()) {
        stdin
            .write_all(input.as_bytes())
            .map_err(|e| format!("{program}: {e}"))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("{program}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "{program} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Stdout of a command that succeeded, quietly; None if it could not run or failed.
pub fn output(command: &mut Command) -> Option<String> {
    let out = command.stderr(Stdio::null()).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// What ran, how long it took and whether it passed; printed as a closing summary.
#[derive(Default)]
pub struct Report {
    steps: Vec<(String, Result<(), String>, f64)>,
    pub tests_passed: u64,
    pub tests_failed: u64,
}

impl Report {
    /// Runs one named step, timing it; a failure is recorded, not propagated.
    pub fn step(
        &mut self,
        name: &str,
        body: impl FnOnce(&mut Report) -> Result<(), String>,
    ) -> bool {
        println!("\n==> {name}");
        let started = Instant::now();
        let result = body(self);
        let secs = started.elapsed().as_secs_f64();
        if let Err(e) = &result {
            println!("!!! {name}: {e}");
        }
        let ok = result.is_ok();
        self.steps.push((name.to_string(), result, secs));
        ok
    }

    /// Adds the counts from a Rust test harness's `test result:` lines.
    pub fn count_cargo_tests(&mut self, output: &str) {
        for line in output.lines() {
            let Some(rest) = line.trim().strip_prefix("test result: ") else {
                continue;
            };
            for part in rest.split(';') {
                let mut words = part.split_whitespace().rev();
                let (Some(kind), Some(n)) = (words.next(), words.next()) else {
                    continue;
                };
                let n: u64 = n.parse().unwrap_or(0);
                match kind {
                    "passed" => self.tests_passed += n,
                    "failed" => self.tests_failed += n,
                    _ => {}
                }
            }
        }
    }

    /// Adds the counts from node's test runner (`ℹ pass N` / `# pass N` closing lines).
    pub fn count_node_tests(&mut self, output: &str) {
        for line in output.lines() {
            let words: Vec<&str> = line.split_whitespace().collect();
            if let [marker, kind, n] = words[..]
                && (marker == "ℹ" || marker == "#")
                && let Ok(n) = n.parse::<u64>()
            {
                match kind {
                    "pass" => self.tests_passed += n,
                    "fail" => self.tests_failed += n,
                    _ => {}
                }
            }
        }
    }

    pub fn ok(&self) -> bool {
        self.steps.iter().all(|(_, r, _)| r.is_ok())
    }

    pub fn print_summary(&self) {
        println!("\n== summary");
        for (name, result, secs) in &self.steps {
            let mark = if result.is_ok() { "ok  " } else { "FAIL" };
            println!("  {mark}  {name:<44} {secs:>7.1} s");
        }
        let total: f64 = self.steps.iter().map(|(_, _, s)| s).sum();
        println!("  total {total:.0} s");
        println!(
            "tests: {} passed, {} failed",
            self.tests_passed, self.tests_failed
        );
    }
}
