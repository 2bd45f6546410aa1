//! `cargo xtask test`: installs what is missing, then every check and suite, then a summary.
//! Exits non-zero if anything failed; later steps still run so one report shows everything.

use crate::run::{Report, cmd, root, tee};
use crate::setup::{self, Need};
use crate::stack::{Stack, with_throwaway_stack};

pub fn run(args: &[String]) -> Result<(), String> {
    if let Some(arg) = args.first() {
        return Err(format!(
            "`cargo xtask test` takes no arguments (got `{arg}`)"
        ));
    }
    // Earlier runs' leftovers would otherwise fill the disk over many runs.
    testkit::remove_stale_temp_dirs();
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
        let (result, output) =
            tee(cmd("cargo").args(["test", "--workspace", "--locked", "--no-fail-fast"]));
        report.count_cargo_tests(&output);
        result
    });
    crate::deploy::checks(report);
    report.step(
        "end to end: the API in workerd, the web app in Chromium",
        |report| end_to_end(report, &[], "e2e", &[], |_| Ok(())),
    );
    // Again where the Worker streams every file: the steps whose outcome depends on the mode.
    // The contract does not depend on it: its fuzzing shares this stack (one start less).
    report.step(
        "end to end in edge mode: adaptive playback, then schemathesis as a member and an admin",
        |report| {
            end_to_end(
                report,
                &[("PLAYBACK_MODE", "edge")],
                "e2e/playback.test.mjs",
                &[("EDGEVID_E2E_PLAYBACK_MODE_ONLY", "1")],
                |stack| crate::schema::contract_fuzz(stack, CONTRACT_BUDGET).map(drop),
            )
        },
    );
}

/// A short pass (about a minute on two cores) from a fixed seed, so the test fails only when
/// the code changed; `cargo xtask stress` runs a longer one from a new seed each time.
const CONTRACT_BUDGET: crate::schema::Budget = crate::schema::Budget {
    examples_per_operation: 10,
    seed: Some(20_261_202),
};

/// Playback URLs in the end-to-end stacks live seconds, not minutes, so the player's refresh
/// runs for real and the playback suite can wait out an expiry.
const E2E_PLAYBACK_URL_TTL_SECONDS: &str = "10";

/// Node suites (a file, or every file of a folder) with `suite_env` against a throwaway stack
/// with these settings: the API over real HTTP, and the web app in Debian's Chromium; then
/// `then` on the same stack, whatever the suites' outcome.
fn end_to_end(
    report: &mut Report,
    settings: &[(&str, &str)],
    suites: &str,
    suite_env: &[(&str, &str)],
    then: impl FnOnce(&Stack) -> Result<(), String>,
) -> Result<(), String> {
    let overrides = [("PLAYBACK_URL_TTL_SECONDS", E2E_PLAYBACK_URL_TTL_SECONDS)]
        .iter()
        .chain(settings)
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    with_throwaway_stack(overrides, |stack| {
        let (result, output) = tee(cmd("node")
            .args(["--test", "--test-reporter=spec", "--test-concurrency=1"])
            .arg(root().join(suites))
            .envs(suite_env.iter().copied())
            .env("EDGEVID_BASE_URL", &stack.base_url)
            .env("DEV_ADMIN_EMAIL", &stack.admin_email)
            .env("DEV_ADMIN_PASSWORD", &stack.admin_password)
            .env("EDGEVID_WEBHOOK_SECRET", &stack.webhook_secret));
        report.count_node_tests(&output);
        let then = then(stack);
        result.and(then)
    })
}
