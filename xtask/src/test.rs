//! `cargo xtask test`: installs what is missing, then every check and suite, then a summary.
//! Exits non-zero if anything failed; later steps still run so one report shows everything.

use crate::run::{Report, cmd, tee};
use crate::setup::{self, Need};

pub fn run(args: &[String]) -> Result<(), String> {
    if let Some(arg) = args.first() {
        return Err(format!(
            "`cargo xtask test` takes no arguments (got `{arg}`)"
        ));
    }
    let mut report = Report::default();
    let installed = report.step("install missing tools", |_| {
        setup::ensure(&[
            Need::WasmToolchain,
            Need::NodeTools,
            Need::PythonVenv,
            Need::Ffmpeg,
            Need::Chromium,
        ])
    });
    if installed {
        checks_and_suites(&mut report);
    }
    report.print_summary();
    if report.ok() {
        Ok(())
    } else {
        Err("some steps failed (see the summary above)".into())
    }
}

fn checks_and_suites(report: &mut Report) {
    report.step("cargo fmt --check", |_| {
        crate::run::status(cmd("cargo").args(["fmt", "--all", "--", "--check"]))
    });
    report.step("cargo clippy (native, all targets)", |_| {
        crate::run::status(cmd("cargo").args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--locked",
            "--",
            "-D",
            "warnings",
        ]))
    });
    report.step("cargo clippy (wasm32: signer, edge)", |_| {
        crate::run::status(cmd("cargo").args([
            "clippy",
            "--package",
            "signer",
            "--package",
            "edge",
            "--target",
            "wasm32-unknown-unknown",
            "--locked",
            "--",
            "-D",
            "warnings",
        ]))
    });
    report.step("cargo test --workspace", |report| {
        let (result, output) = tee(cmd("cargo").args(["test", "--workspace", "--locked"]));
        report.count_cargo_tests(&output);
        result
    });
}
