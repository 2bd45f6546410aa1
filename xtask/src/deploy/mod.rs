//! `cargo xtask deploy [--dry-run]`: builds the Worker bundle and the origin Lambda zip,
//! validates the AWS templates and the declared configuration, then (without `--dry-run`)
//! deploys the AWS stacks and the Worker. [`checks`] runs the same validations in
//! `cargo xtask test`.
//!
//! - [`artifacts`]: the Lambda zip and the Worker bundle;
//! - [`template`]: the CloudFormation templates read as JSON, [`lint`] their checks, [`iam`]
//!   every role and user allowing exactly what the code calls and the configuration needs;
//! - [`settings`]: every setting the code reads is declared where it is needed;
//! - [`release`]: the real deploy.

mod artifacts;
mod cloudformation;
mod iam;
mod lint;
mod release;
mod rotation;
mod settings;
mod template;
mod wrangler;

use crate::run::Report;
use crate::setup::{self, Need};
pub use artifacts::Artifacts;

const USAGE: &str = "\
usage: cargo xtask deploy [--dry-run]

  --dry-run  build the Worker bundle and the origin Lambda zip, validate the templates
             (cfn-lint, checkov) and the declared configuration, print artifact sizes
  (none)     the same, then deploy: AWS stacks, D1 migrations, Worker secrets, Worker.
             Needs AWS credentials (AWS_ACCESS_KEY_ID or AWS_PROFILE), CLOUDFLARE_API_TOKEN
             and the secrets listed in docs/OPERATIONS.md.
";

pub fn run(args: &[String]) -> Result<(), String> {
    let dry_run = match args {
        [] => false,
        [flag] if flag == "--dry-run" => true,
        [flag] if flag == "-h" || flag == "--help" => {
            print!("{USAGE}");
            return Ok(());
        }
        _ => return Err(format!("unexpected arguments {args:?}\n\n{USAGE}")),
    };
    if !dry_run {
        // Refuse before building anything: a deploy that cannot finish should not start.
        release::missing_credentials().map_or(Ok(()), Err)?;
    }
    let mut report = Report::default();
    let artifacts = checks(&mut report);
    artifacts.print();
    if !report.ok() {
        report.print_summary();
        return Err("deploy validation failed (see the summary above)".into());
    }
    if dry_run {
        report.print_summary();
        return Ok(());
    }
    let deployed = report.step("deploy", |_| release::deploy(&artifacts));
    report.print_summary();
    if deployed {
        Ok(())
    } else {
        Err("deploy failed (see above)".into())
    }
}

/// The deploy validations as separate steps (also of `cargo xtask test`): tool install,
/// cfn-lint, checkov, the IAM permissions against the code, the configuration declarations,
/// the origin Lambda zip, and the Worker bundle size.
pub fn checks(report: &mut Report) -> Artifacts {
    let mut artifacts = Artifacts::default();
    let installed = report.step("install deploy tools", |_| {
        setup::ensure(&[
            Need::WasmToolchain,
            Need::NodeTools,
            Need::PythonVenv,
            Need::LambdaTarget,
            Need::Checkov,
        ])
    });
    if !installed {
        return artifacts;
    }
    report.step("cfn-lint infra/*.yaml (0 errors)", |_| lint::cfn_lint());
    report.step("checkov infra/ (0 failed, skips explained)", |_| {
        lint::checkov()
    });
    report.step("IAM: roles allow exactly what the code calls", |_| {
        iam::check()
    });
    report.step("settings declared for dev and production", |_| {
        settings::check_declarations()
    });
    report.step("origin Lambda zip (cargo lambda, arm64)", |_| {
        artifacts.build_lambda_zip()
    });
    report.step("Worker bundle <= 1 MiB gzip (dry-run)", |_| {
        artifacts.build_worker_bundle()
    });
    artifacts
}
