//! `cargo xtask stress`: the platform under faults and load, then a summary of figures. First
//! the fault-injection suites (storage failing or restarting under the edge, the origin killed
//! mid-transcode, job events repeated, late or for deleted videos); then, on one throwaway
//! stack as `cargo xtask dev` runs it, the Worker restarted between an upload's completion
//! and its job event, a bounded load of many uploaders and readers with an audit of every
//! byte (`e2e/load.mjs`), and the contract fuzzing. Too long for `cargo xtask test`.

mod restart;

use crate::run::{Report, cmd, root, tee, venv_tool};
use crate::setup;
use crate::stack::{Stack, aws_env, with_throwaway_stack};
use serde_json::Value;

/// The fault-injection suites: what each injects, and its test target.
const FAULT_SUITES: [(&str, &str, &str); 6] = [
    (
        "S3 answering 500/503, dropping or slow under the edge; SeaweedFS restarted mid multipart upload",
        "edge",
        "faults",
    ),
    (
        "job events duplicated, out of order, for deleted or unknown videos",
        "edge",
        "internal",
    ),
    (
        "the origin runner killed mid-transcode and restarted",
        "origin",
        "restart",
    ),
    (
        "the edge refusing job events while a job finishes",
        "origin",
        "unreachable_edge",
    ),
    (
        "S3 notifications redelivered and replayed from the dead-letter queue",
        "origin",
        "claims",
    ),
    (
        "corrupt uploads, duplicated notifications, a source deleted mid-job",
        "origin",
        "pipeline_failures",
    ),
];

/// Schemathesis cases per operation and phase, per role, from a new seed each run.
const CONTRACT_BUDGET: crate::schema::Budget = crate::schema::Budget {
    examples_per_operation: 50,
    seed: None,
};

pub fn run(args: &[String]) -> Result<(), String> {
    let only = args.first().map(String::as_str);
    if let Some(other) = only.filter(|o| !["suites", "stack"].contains(o)) {
        return Err(format!(
            "usage: cargo xtask stress [suites|stack] (got `{other}`)"
        ));
    }
    let wanted = |part: &str| only.is_none_or(|o| o == part);
    setup::ensure(setup::LOCAL_STACK)?;
    let mut report = Report::default();
    for (faults, package, target) in FAULT_SUITES.into_iter().filter(|_| wanted("suites")) {
        report.step(&format!("faults: {faults}"), |report| {
            let (result, output) = tee(cmd("cargo").args([
                "test",
                "--locked",
                "--package",
                package,
                "--test",
                target,
            ]));
            report.count_cargo_tests(&output);
            result
        });
    }
    let suite_tests = (report.tests_passed, report.tests_failed);

    let mut figures = Vec::new();
    if wanted("stack") {
        // Its parts are steps of their own; a stack that cannot start is one too.
        let stack = with_throwaway_stack(stack_settings(), |stack| {
            report.step(
                "the Worker restarted between complete and the job event",
                |_| {
                    figures.push(restart::edge_restarted_before_the_job_event(stack)?);
                    Ok(())
                },
            );
            report.step("load: many uploaders and readers, then an audit", |_| {
                load(stack, &mut figures)
            });
            report.step("contract fuzzing (schemathesis)", |_| {
                let contract = crate::schema::contract_fuzz(stack, CONTRACT_BUDGET);
                let summary = contract.as_ref().map_or_else(Clone::clone, |f| f.summary());
                figures.push(format!("contract fuzzing: {summary}"));
                contract.map(drop)
            });
            Ok(())
        });
        if let Err(e) = stack {
            report.step("the throwaway stack", |_| Err(e));
        }
    }
    report.print_summary();
    println!("\n== stress figures (this machine, this run)");
    if wanted("suites") {
        println!(
            "  fault suites: {} suites, {} tests passed, {} failed",
            FAULT_SUITES.len(),
            suite_tests.0,
            suite_tests.1
        );
    }
    for line in &figures {
        println!("  {line}");
    }
    if report.ok() {
        Ok(())
    } else {
        Err("some steps failed (see the summary above)".into())
    }
}

/// The stack as `cargo xtask dev` runs it, but for many users at once: quotas out of the way
/// (the rate limit stays, spread over several users), and multipart from 4 MiB so that small
/// files exercise it (parts are still 8 MiB, S3's 5 MiB minimum respected).
fn stack_settings() -> Vec<(String, String)> {
    [
        ("QUOTA_VIDEOS", "1000000"),
        ("QUOTA_UPLOADS", "10000"),
        ("QUOTA_BYTES", "1099511627776"),
        ("SINGLE_PUT_MAX_BYTES", "4194304"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// `e2e/load.mjs` against the stack, with the bounds it sets itself (200 uploads, 2,000 reads,
/// 180 s); its figures as summary lines (on failure too).
fn load(stack: &Stack, figures_out: &mut Vec<String>) -> Result<(), String> {
    let (result, output) = tee(cmd("node")
        .arg(root().join("e2e/load.mjs"))
        .env("EDGEVID_BASE_URL", &stack.base_url)
        .env("DEV_ADMIN_EMAIL", &stack.admin_email)
        .env("DEV_ADMIN_PASSWORD", &stack.admin_password)
        .env("EDGEVID_S3_ENDPOINT", &stack.s3.s3_endpoint)
        .env("EDGEVID_AWS_BIN", venv_tool("aws"))
        .envs(aws_env()?));
    let line = output
        .lines()
        .rev()
        .find(|line| line.starts_with('{'))
        .ok_or("e2e/load.mjs printed no figures")?;
    let figures: Value = serde_json::from_str(line).map_err(|e| format!("{e}: {line}"))?;
    let mut lines = vec![format!(
        "load: {} s, {} users ({} uploaders, {} readers): {} uploads acknowledged ({} multipart, \
         {} playable clips, {:.0} MiB), {} deleted, {} abandoned; {} reads; {} requests, {} errors",
        figures["seconds"],
        figures["users"],
        figures["uploaders"],
        figures["readers"],
        figures["uploadsAcknowledged"],
        figures["multipart"],
        figures["clips"],
        figures["uploadedMiB"].as_f64().unwrap_or_default(),
        figures["deleted"],
        figures["abandoned"],
        figures["reads"],
        figures["requests"],
        figures["errors"],
    )];
    for (op, o) in figures["operations"].as_object().into_iter().flatten() {
        lines.push(format!(
            "  {op:<12} {:>5} requests, {} errors, p50 {} ms, p99 {} ms",
            o["n"], o["errors"], o["p50"], o["p99"]
        ));
    }
    lines.push(format!(
        "audit: data lost {}, deleted videos with objects left {}",
        figures["lost"], figures["leftovers"]
    ));
    figures_out.extend(lines);
    result.map_err(|e| format!("{e}; problems: {}", figures["problems"]))
}
