//! Contract fuzzing: schemathesis generates requests for every operation of the served
//! `/api/openapi.yaml` (examples, boundary values, random and invalid data, and the
//! document's links: create → parts → complete → get → delete) and checks each answer
//! against the document: no 5xx, only declared statuses, content types and headers, bodies
//! that match the schemas, auth enforced. It runs once signed in as a member and once as an
//! admin. `cargo xtask test` runs a short pass; `cargo xtask stress` a longer one.
//!
//! The internal webhooks are fuzzed too: they are HMAC-signed over the exact body, so a hook
//! signs each request that carries `X-Signature` with the stack's webhook secret just before
//! it is sent (requests without the header still test the refusal).

use crate::api::{Session, call, expect, sign_in};
use crate::run::{cmd, tee, venv_tool};
use crate::stack::Stack;
use serde_json::{Value, json};
use std::path::Path;

/// What one role's run did.
pub struct RoleFigures {
    pub role: &'static str,
    /// Test cases schemathesis ran (a stateful scenario counts each of its steps).
    pub cases: u64,
    /// Failed checks, as schemathesis counts them (after deduplication).
    pub failures: u64,
    /// Cases that could not be run or checked (network errors, timeouts).
    pub errors: u64,
    /// Of the failures, those of the no-5xx check (distinct 5xx answers).
    pub server_errors: u64,
}

pub struct ContractFigures {
    pub roles: Vec<RoleFigures>,
}

impl ContractFigures {
    pub fn summary(&self) -> String {
        self.roles
            .iter()
            .map(|r| {
                format!(
                    "{}: {} cases, {} failures, {} errors, {} 5xx",
                    r.role, r.cases, r.failures, r.errors, r.server_errors
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Loaded by schemathesis (`hooks` in its config): keeps the run's own accounts alive and
/// signs internal webhooks the way the origin does.
const HOOKS: &str = r#"
import hashlib, hmac, json, os, time
import schemathesis

SECRET = os.environ["EDGEVID_WEBHOOK_SECRET"].encode()
# Deleting, disabling or demoting the accounts the run is signed in with would turn the
# rest of the run into 401s and 403s; the last-admin refusal has tests of its own.
PROTECTED = set(os.environ["EDGEVID_PROTECTED_USERS"].split(","))

@schemathesis.hook
def filter_path_parameters(context, path_parameters):
    operation = context.operation
    if operation is None or not operation.path.startswith("/api/users/"):
        return True
    return str(path_parameters.get("id", "")).lower() not in PROTECTED

@schemathesis.hook
def before_call(context, case, kwargs):
    if not case.operation.path.startswith("/api/internal/"):
        return
    if not case.headers or "X-Signature" not in case.headers:
        return
    try:
        body = json.dumps(case.body).encode()
    except TypeError:
        return
    timestamp = str(int(time.time()))
    mac = hmac.new(SECRET, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    case.headers["X-Signature"] = f"t={timestamp},v1={mac}"
    # The signature covers these exact bytes.
    kwargs["data"] = body
"#;

/// The rest of schemathesis' settings; the token comes from the environment so that it
/// shows in no command line.
const CONFIG: &str = r#"
hooks = "edgevid_contract_hooks"
# One worker: hypothesis on Python 3.11 crashes now and then generating in parallel
# threads ("AST constructor recursion depth mismatch").
workers = 1
request-timeout = 30

# Where a well-formed request may still be a documented 400, for reasons no schema states:
# a cursor the API did not issue (`invalid_cursor`), part numbers past the upload's part
# count, parts storage does not hold (`upload_incomplete`, `invalid_parts`,
# `size_mismatch`), an output key outside the event's own video's folder.
[[operations]]
include-operation-id = ["listVideos", "listUsers", "signParts", "completeUpload", "jobEvent"]
checks.positive_data_acceptance.expected-statuses = ["2xx", 400, 401, 403, 404, 409]

[auth.openapi.bearer]
bearer = "${EDGEVID_CONTRACT_TOKEN}"
"#;

/// How much to fuzz, and from which seed.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// Generated cases per operation and phase, per role.
    pub examples_per_operation: u32,
    /// A fixed seed makes the same cases each run (a test that fails only when the code
    /// changed); none draws a new one each run (schemathesis prints it to replay a failure).
    pub seed: Option<u64>,
}

/// Fuzzes every operation of the stack's API as a member and as an admin, within `budget`. Creates the member
/// through the API (so run it on a stack whose admin may create users). Err when anything
/// failed, with the figures; Ok with them otherwise.
///
/// Access tokens live `JWT_TTL_SECONDS` (600 s by default) and each role signs in once,
/// before any fuzzing (sign-in is throttled, and the fuzzer's wrong passwords count): a
/// budget that runs a role past that lifetime needs a stack with a longer `JWT_TTL_SECONDS`.
pub fn contract_fuzz(stack: &Stack, budget: Budget) -> Result<ContractFigures, String> {
    let port = stack.edge_port;
    let admin = sign_in(port, &stack.admin_email, &stack.admin_password)?;
    let (member_email, member_password) = new_member_credentials();
    let member = json!({"email": member_email, "password": member_password, "role": "member"});
    expect(
        201,
        call(
            port,
            "POST",
            "/api/users",
            Some(&admin.token),
            Some(&member),
        ),
    )
    .map_err(|e| format!("create the member: {e}"))?;
    let member = sign_in(port, &member_email, &member_password)?;

    let work_dir = testkit::temp_dir("contract");
    let result = write_support_files(&work_dir).and_then(|()| {
        let protected = format!("{},{}", admin.user_id, member.user_id).to_lowercase();
        // The member first: the admin's run may create and delete users and videos.
        let mut roles = Vec::new();
        for (role, session) in [("member", &member), ("admin", &admin)] {
            roles.push(run_role(
                stack, &work_dir, role, session, &protected, budget,
            )?);
        }
        Ok(ContractFigures { roles })
    });
    let _ = std::fs::remove_dir_all(&work_dir);
    let figures = result?;
    println!("contract fuzzing: {}", figures.summary());
    if figures
        .roles
        .iter()
        .any(|r| r.failures + r.errors + r.server_errors > 0)
    {
        Err(format!("contract fuzzing failed: {}", figures.summary()))
    } else {
        Ok(figures)
    }
}

/// A fresh member per run: a stack that outlives one run (stress) gets another `exists`.
fn new_member_credentials() -> (String, String) {
    let nanos = testkit::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let pid = std::process::id();
    (
        format!("contract-member-{nanos:x}-{pid}@example.com"),
        format!("contract-password-{nanos:x}{pid:x}"),
    )
}

fn write_support_files(dir: &Path) -> Result<(), String> {
    for (name, text) in [
        ("edgevid_contract_hooks.py", HOOKS),
        ("schemathesis.toml", CONFIG),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|e| format!("write {}: {e}", path.display()))?;
    }
    Ok(())
}

fn run_role(
    stack: &Stack,
    work_dir: &Path,
    role: &'static str,
    session: &Session,
    protected: &str,
    budget: Budget,
) -> Result<RoleFigures, String> {
    println!("\n--- contract fuzzing as the {role}");
    let report = work_dir.join(format!("{role}.json"));
    let mut schemathesis = cmd(venv_tool("schemathesis"));
    schemathesis
        .arg("--config-file")
        .arg(work_dir.join("schemathesis.toml"))
        .args(["--no-color", "run"])
        .arg(format!("{}/api/openapi.yaml", stack.base_url))
        .args(["--url", &stack.base_url, "--checks", "all"])
        // Aborting an upload (DELETE /api/videos/{id}/upload) removes the video; this check
        // counts a DELETE as removing only what lies below its own path, so it takes the
        // video's documented 404s after an abort for lost resources.
        .args(["--exclude-checks", "ensure_resource_availability"])
        .arg("--max-examples")
        .arg(budget.examples_per_operation.to_string())
        .args(["--report", "json", "--report-json-path"])
        .arg(&report);
    if let Some(seed) = budget.seed {
        schemathesis.args(["--seed", &seed.to_string()]);
    }
    let (result, _) = tee(schemathesis
        .env("PYTHONPATH", work_dir)
        // Its caches (crashes, hypothesis examples) go with the run, not into the clone.
        .current_dir(work_dir)
        .env("EDGEVID_CONTRACT_TOKEN", &session.token)
        .env("EDGEVID_WEBHOOK_SECRET", &stack.webhook_secret)
        .env("EDGEVID_PROTECTED_USERS", protected));
    let figures = read_figures(role, &report)?;
    match result {
        // schemathesis exits non-zero on failures; the figures say how many.
        Err(e) if figures.failures + figures.errors == 0 => {
            Err(format!("schemathesis as the {role}: {e}"))
        }
        _ => Ok(figures),
    }
}

/// The figures from schemathesis' JSON report.
fn read_figures(role: &'static str, report: &Path) -> Result<RoleFigures, String> {
    let text = std::fs::read_to_string(report)
        .map_err(|e| format!("schemathesis as the {role} left no report: {e}"))?;
    let report: Value = serde_json::from_str(&text)
        .map_err(|e| format!("schemathesis' report {}: {e}", report.display()))?;
    let sum_counts = |groups: &Value, kind: Option<&str>| -> u64 {
        groups.as_array().map_or(0, |groups| {
            groups
                .iter()
                .filter(|g| kind.is_none_or(|kind| g["type"] == kind))
                .map(|g| g["count"].as_u64().unwrap_or(0))
                .sum()
        })
    };
    Ok(RoleFigures {
        role,
        cases: report["test_cases"]["generated"].as_u64().unwrap_or(0),
        failures: sum_counts(&report["failures"], None),
        errors: sum_counts(&report["errors"], None),
        server_errors: sum_counts(&report["failures"], Some("not_a_server_error")),
    })
}
