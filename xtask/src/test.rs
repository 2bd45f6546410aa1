//! `cargo xtask test`: installs what is missing, then every check and suite, then a summary.
//! Exits non-zero if anything failed; later steps still run so one report shows everything.

use crate::run::{Report, cmd, root, tee};
use crate::setup::{self, Need};
use crate::stack::with_throwaway_stack;

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
    // Natively for everything; for wasm32 the crates the Worker is built from.
    let clippy_runs: [(&str, &[&str]); 2] = [
        (
            "cargo clippy (native, all targets)",
            &["--workspace", "--all-targets"],
        ),
        (
            "cargo clippy (wasm32: model, signer, edge)",
            &[
                "--package",
                "model",
                "--package",
                "signer",
                "--package",
                "edge",
                "--target",
                "wasm32-unknown-unknown",
            ],
        ),
    ];
    for (name, scope) in clippy_runs {
        report.step(name, |_| {
            crate::run::status(
                cmd("cargo")
                    .arg("clippy")
                    .args(scope)
                    .args(["--locked", "--", "-D", "warnings"]),
            )
        });
    }
    report.step("cargo test --workspace", |report| {
        let (result, output) = tee(cmd("cargo").args(["test", "--workspace", "--locked"]));
        report.count_cargo_tests(&output);
        result
    });
    crate::deploy::checks(report);
    report.step(
        "end to end: the API in workerd, the web app in Chromium",
        end_to_end,
    );
}

/// The Node suites in `e2e/` against a throwaway stack: the API over real HTTP, and the web
/// app in Debian's Chromium.
fn end_to_end(report: &mut Report) -> Result<(), String> {
    with_throwaway_stack(Vec::new(), |stack| {
        let (result, output) = tee(cmd("node")
            .args(["--test", "--test-reporter=spec", "--test-concurrency=1"])
            .arg(root().join("e2e"))
            .env("EDGEVID_BASE_URL", &stack.base_url)
            .env("DEV_ADMIN_EMAIL", &stack.admin_email)
            .env("DEV_ADMIN_PASSWORD", &stack.admin_password)
            .env("EDGEVID_WEBHOOK_SECRET", &stack.webhook_secret));
        report.count_node_tests(&output);
        result
    })
}
