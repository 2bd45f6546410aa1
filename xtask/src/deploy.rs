//! `cargo xtask deploy [--dry-run]`: builds the Worker bundle and the origin Lambda zip,
//! validates the AWS templates and the declared configuration, then (without `--dry-run`)
//! deploys the AWS stacks and the Worker. `checks` runs the same validations in `cargo xtask test`.

use crate::run::{Report, cmd, output, root, status, target_dir, tee};
use crate::setup::{self, Need};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Cloudflare refuses larger Workers on the free plan; the issue holds the bundle to it.
const WORKER_GZIP_LIMIT_BYTES: f64 = 1024.0 * 1024.0;
const TEMPLATES: [&str; 2] = ["infra/artifacts.yaml", "infra/template.yaml"];
const MAIN_TEMPLATE: &str = "infra/template.yaml";
const PRODUCTION: &str = "env.production";
/// Values in wrangler.toml that an operator has to replace before the first deploy.
const PLACEHOLDER_DOMAIN: &str = "example.com";
const PLACEHOLDER_DATABASE_ID: &str = "00000000-0000-4000-8000-000000000000";

/// The Worker's settings that come from the AWS stack's outputs, passed as `wrangler deploy
/// --var`: (stack output, Worker var).
const VARS_FROM_STACK: [(&str, &str); 6] = [
    ("S3Region", "S3_REGION"),
    ("S3Endpoint", "S3_ENDPOINT"),
    ("IncomingBucketName", "INCOMING_BUCKET"),
    ("MediaBucketName", "MEDIA_BUCKET"),
    ("CloudFrontDomain", "CLOUDFRONT_DOMAIN"),
    ("CloudFrontKeyPairId", "CLOUDFRONT_KEY_PAIR_ID"),
];
/// Secrets the stack issues (the Worker's S3 signing key); every other required secret is read
/// from the deploying shell's environment.
const SECRETS_FROM_STACK: [&str; 2] = ["S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"];
/// Set by the Lambda runtime itself, so the template must not declare them.
const LAMBDA_RUNTIME_VARS: [&str; 4] = [
    "AWS_REGION",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
];

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
        missing_credentials().map_or(Ok(()), Err)?;
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
    let deployed = report.step("deploy", |_| deploy(&artifacts));
    report.print_summary();
    if deployed {
        Ok(())
    } else {
        Err("deploy failed (see above)".into())
    }
}

/// What `checks` built, for the summary and the real deploy.
#[derive(Default)]
pub struct Artifacts {
    lambda_zip: Option<(PathBuf, u64)>,
    worker_bundle: Option<WorkerBundle>,
}

struct WorkerBundle {
    dir: PathBuf,
    upload_kib: f64,
    gzip_kib: f64,
}

impl Artifacts {
    fn print(&self) {
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
}

/// The deploy validations as separate steps (also of `cargo xtask test`): tool install,
/// cfn-lint, checkov, the configuration declarations, the origin Lambda zip, and the Worker
/// bundle size.
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
    report.step("cfn-lint infra/*.yaml (0 errors)", |_| cfn_lint());
    report.step("checkov infra/ (0 failed, skips explained)", |_| checkov());
    report.step("settings declared for dev and production", |_| {
        check_declarations()
    });
    report.step("origin Lambda zip (cargo lambda, arm64)", |_| {
        artifacts.lambda_zip = Some(build_lambda_zip()?);
        Ok(())
    });
    report.step("Worker bundle <= 1 MiB gzip (dry-run)", |_| {
        let bundle = build_worker_bundle()?;
        let within = bundle.gzip_kib * 1024.0 <= WORKER_GZIP_LIMIT_BYTES;
        let gzip_kib = bundle.gzip_kib;
        artifacts.worker_bundle = Some(bundle);
        if within {
            println!("Worker bundle: {gzip_kib:.2} KiB gzip");
            Ok(())
        } else {
            Err(format!(
                "the Worker bundle is {gzip_kib:.2} KiB after gzip, over the 1024 KiB limit"
            ))
        }
    });
    artifacts
}

// ------------------------------------------------------------------ template validation

fn cfn_lint() -> Result<(), String> {
    status(cmd(venv_tool("cfn-lint")).args(TEMPLATES))
}

fn checkov() -> Result<(), String> {
    for template in TEMPLATES {
        let text = read(template)?;
        let unexplained = skips_without_reason(&text);
        if !unexplained.is_empty() {
            return Err(format!(
                "{template}: checkov skips need a `comment:` with the reason: {}",
                unexplained.join(", ")
            ));
        }
    }
    // --skip-download: no calls home for check updates or guidelines (offline CI).
    status(cmd(root().join(".venv/checkov/bin/checkov")).args([
        "--directory",
        "infra",
        "--framework",
        "cloudformation",
        "--skip-download",
        "--compact",
        "--quiet",
    ]))
}

/// The `id:` entries under a `checkov: skip:` list that have no non-empty `comment:`.
fn skips_without_reason(template: &str) -> Vec<String> {
    let mut unexplained = Vec::new();
    let mut lines = template.lines().peekable();
    while let Some(line) = lines.next() {
        let Some(id) = line.trim().strip_prefix("- id:") else {
            continue;
        };
        let id = id.trim().to_string();
        let indent = indent_of(line);
        let mut has_reason = false;
        // The rest of this list item: lines indented deeper than its `- `.
        while let Some(next) = lines.peek() {
            let next_indent = indent_of(next);
            if next.trim().is_empty() || next_indent <= indent {
                break;
            }
            if let Some(comment) = next.trim().strip_prefix("comment:") {
                has_reason = match comment.trim() {
                    // A block scalar carries the text on the following, deeper lines.
                    ">" | ">-" | "|" | "|-" => lines.clone().nth(1).is_some_and(|text| {
                        indent_of(text) > next_indent && !text.trim().is_empty()
                    }),
                    text => !text.is_empty(),
                };
            }
            lines.next();
        }
        if !has_reason {
            unexplained.push(id);
        }
    }
    unexplained
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

// ------------------------------------------------------------------ artifacts

fn build_lambda_zip() -> Result<(PathBuf, u64), String> {
    // zig (from the ziglang wheel in .venv) links for aarch64; cargo-lambda finds it through
    // `python3 -m ziglang` because .venv/bin leads PATH, and never downloads one itself.
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
    Ok((zip, bytes))
}

fn build_worker_bundle() -> Result<WorkerBundle, String> {
    let dir = target_dir().join("worker-bundle");
    let _ = std::fs::remove_dir_all(&dir);
    let (result, stdout) = tee(cmd(root().join("node_modules/.bin/wrangler"))
        .args(["deploy", "--dry-run", "--env", "production", "--outdir"])
        .arg(&dir));
    result?;
    // wrangler reports what Cloudflare will measure: "Total Upload: 812.34 KiB / gzip: 301.2 KiB".
    let line = stdout
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
    Ok(WorkerBundle {
        upload_kib: kib_after("Total Upload:")?,
        gzip_kib: kib_after("gzip:")?,
        dir,
    })
}

// ------------------------------------------------------------------ declarations

/// Every setting the code reads is declared where it is needed:
/// - the edge: for dev (wrangler.toml `[vars]` or `.dev.vars.example`, a commented `# NAME=`
///   counts as documented) and production (`[env.production.vars]` or
///   `[env.production.secrets] required`); `DEV_*` settings are dev-only and never production's;
///   nothing is declared for production that the edge does not read;
/// - the origin: by the template's Lambda environment, the Lambda runtime, the dev files, or
///   origin/README.md; and the template sets nothing the origin does not read.
fn check_declarations() -> Result<(), String> {
    let wrangler = Toml::parse(&read("wrangler.toml")?);
    let dev_vars_example = read(".dev.vars.example")?;
    let template = read(MAIN_TEMPLATE)?;
    let origin_readme =
        std::fs::read_to_string(root().join("origin/README.md")).unwrap_or_default();

    let edge_reads = names_read_in(&root().join("edge/src"))?;
    let origin_reads = names_read_in(&root().join("origin/src"))?;
    if edge_reads.is_empty() {
        return Err("found no configuration reads in edge/src: has the lookup changed?".into());
    }

    let mut dev: BTreeSet<String> = wrangler.keys("vars").into_iter().collect();
    dev.extend(dotenv_names(&dev_vars_example));
    let prod_vars: BTreeSet<String> = wrangler
        .keys(&format!("{PRODUCTION}.vars"))
        .into_iter()
        .collect();
    let prod_secrets: BTreeSet<String> = wrangler
        .strings(&format!("{PRODUCTION}.secrets"), "required")
        .into_iter()
        .collect();
    let lambda_env: BTreeSet<String> = lambda_environment(&template).into_iter().collect();

    let mut problems = Vec::new();
    for name in &edge_reads {
        let in_prod = prod_vars.contains(name) || prod_secrets.contains(name);
        if !dev.contains(name) {
            problems.push(format!(
                "edge reads {name}: not in wrangler.toml [vars] or .dev.vars.example"
            ));
        }
        if name.starts_with("DEV_") {
            if in_prod {
                problems.push(format!(
                    "{name} is development-only but declared for production"
                ));
            }
        } else if !in_prod {
            problems.push(format!(
                "edge reads {name}: not in [{PRODUCTION}.vars] or [{PRODUCTION}.secrets] required"
            ));
        }
    }
    for name in prod_vars.intersection(&prod_secrets) {
        problems.push(format!("{name} is both a production var and a secret"));
    }
    for name in prod_vars.union(&prod_secrets) {
        if !edge_reads.contains(name) {
            problems.push(format!(
                "production declares {name}, which the edge never reads"
            ));
        }
    }
    for name in &origin_reads {
        let declared = lambda_env.contains(name)
            || LAMBDA_RUNTIME_VARS.contains(&name.as_str())
            || dev.contains(name)
            || mentions(&origin_readme, name);
        if !declared {
            problems.push(format!(
                "origin reads {name}: not set by {MAIN_TEMPLATE}, the Lambda runtime, the dev files or origin/README.md"
            ));
        }
    }
    for name in &lambda_env {
        if !origin_reads.contains(name) {
            problems.push(format!(
                "{MAIN_TEMPLATE} sets {name} for the Lambda, which the origin never reads"
            ));
        }
        if LAMBDA_RUNTIME_VARS.contains(&name.as_str()) {
            problems.push(format!(
                "{MAIN_TEMPLATE} sets {name}, which the Lambda runtime owns"
            ));
        }
    }
    println!(
        "edge reads {} settings, origin {}; production: {} vars, {} secrets; Lambda env: {}",
        edge_reads.len(),
        origin_reads.len(),
        prod_vars.len(),
        prod_secrets.len(),
        lambda_env.len()
    );
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n    "))
    }
}

/// Setting names a crate reads: SCREAMING_CASE string literals passed as call arguments
/// (`env.var("X")`, `std::env::var("X")`, `get("X")`, `required(&get, "X")`, …) in the files
/// that read configuration, i.e. that call `std::env::var`/`env.var`/`env.secret` or take a
/// lookup `Fn(&str) -> Option<String>`. Test modules are left out.
fn names_read_in(dir: &Path) -> Result<BTreeSet<String>, String> {
    let mut names = BTreeSet::new();
    for file in rust_files(dir)? {
        let text =
            std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        let reads_config = [
            "env::var(",
            "env.var(",
            "env.secret(",
            "Fn(&str) -> Option<String>",
        ]
        .iter()
        .any(|marker| code.contains(marker));
        if reads_config {
            names.extend(screaming_call_arguments(code));
        }
    }
    Ok(names)
}

fn rust_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(rust_files(&path)?);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// `"NAME"` literals right after `(` or `,` and before `,` or `)`, except in `Some("…")`,
/// `Ok("…")` and `Err("…")`, which are values being matched or returned, not reads.
fn screaming_call_arguments(code: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = code;
    while let Some(open) = rest.find('"') {
        let before = rest[..open].trim_end();
        let after_open = &rest[open + 1..];
        let Some(close) = after_open.find('"') else {
            break;
        };
        let literal = &after_open[..close];
        let after = after_open[close + 1..].trim_start();
        let first_argument_of = before.strip_suffix('(').map(|callee| {
            let start = callee
                .rfind(|c: char| !(c.is_alphanumeric() || c == '_'))
                .map_or(0, |at| at + 1);
            &callee[start..]
        });
        let is_argument = match first_argument_of {
            Some(callee) => !matches!(callee, "Some" | "Ok" | "Err"),
            None => before.ends_with(','),
        } && (after.starts_with(',') || after.starts_with(')'));
        if is_argument && is_setting_name(literal) {
            names.push(literal.to_string());
        }
        rest = &after_open[close + 1..];
    }
    names
}

fn is_setting_name(text: &str) -> bool {
    text.len() >= 2
        && text.starts_with(|c: char| c.is_ascii_uppercase())
        && text
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// Names in a `.dev.vars`-style file: `NAME=value`, and `# NAME=` as documented but unset.
fn dotenv_names(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| {
            let line = line.trim().trim_start_matches('#').trim();
            let (name, _) = line.split_once('=')?;
            is_setting_name(name.trim()).then(|| name.trim().to_string())
        })
        .collect()
}

/// Keys under the template's `Variables:` (the origin function's environment).
fn lambda_environment(template: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut lines = template.lines();
    let Some(header) = lines.by_ref().find(|l| l.trim() == "Variables:") else {
        return names;
    };
    let header_indent = indent_of(header);
    for line in lines {
        if line.trim().is_empty() || indent_of(line) <= header_indent {
            break;
        }
        if let Some((name, _)) = line.trim().split_once(':') {
            names.push(name.to_string());
        }
    }
    names
}

fn mentions(text: &str, name: &str) -> bool {
    text.match_indices(name).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + name.len()..].chars().next();
        let is_word = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        !is_word(before) && !is_word(after)
    })
}

/// The subset of TOML that wrangler.toml uses: `[table]`/`[[table]]` headers, `key = value`
/// with strings, numbers, booleans, inline tables and (multi-line) arrays.
struct Toml {
    /// (table, key, raw value text)
    entries: Vec<(String, String, String)>,
}

impl Toml {
    fn parse(text: &str) -> Toml {
        let mut entries = Vec::new();
        let mut table = String::new();
        let mut pending: Option<(String, String)> = None;
        for raw_line in text.lines() {
            let line = strip_toml_comment(raw_line).trim().to_string();
            if let Some((key, mut value)) = pending.take() {
                value.push(' ');
                value.push_str(&line);
                if brackets_balanced(&value) {
                    entries.push((table.clone(), key, value));
                } else {
                    pending = Some((key, value));
                }
                continue;
            }
            if line.is_empty() {
                continue;
            }
            if line.starts_with('[') {
                table = line
                    .trim_matches(|c| c == '[' || c == ']')
                    .trim()
                    .to_string();
                continue;
            }
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            let (key, value) = (
                key.trim().trim_matches('"').to_string(),
                value.trim().to_string(),
            );
            if brackets_balanced(&value) {
                entries.push((table.clone(), key, value));
            } else {
                pending = Some((key, value));
            }
        }
        Toml { entries }
    }

    fn keys(&self, table: &str) -> Vec<String> {
        self.entries
            .iter()
            .filter(|(t, _, _)| t == table)
            .map(|(_, k, _)| k.clone())
            .collect()
    }

    fn raw(&self, table: &str, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(t, k, _)| t == table && k == key)
            .map(|(_, _, v)| v.as_str())
    }

    fn string(&self, table: &str, key: &str) -> Option<String> {
        self.raw(table, key)
            .and_then(|raw| quoted_strings(raw).into_iter().next())
    }

    fn strings(&self, table: &str, key: &str) -> Vec<String> {
        self.raw(table, key).map(quoted_strings).unwrap_or_default()
    }
}

fn strip_toml_comment(line: &str) -> &str {
    let mut in_string = false;
    for (at, c) in line.char_indices() {
        match c {
            '"' => in_string = !in_string,
            '#' if !in_string => return &line[..at],
            _ => {}
        }
    }
    line
}

fn brackets_balanced(value: &str) -> bool {
    let depth = |open: char, close: char| {
        value.matches(open).count() as i64 - value.matches(close).count() as i64
    };
    depth('[', ']') <= 0 && depth('{', '}') <= 0
}

fn quoted_strings(raw: &str) -> Vec<String> {
    raw.split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

// ------------------------------------------------------------------ the real deploy

/// The one-line refusal when the deploy could not authenticate, if it could not.
fn missing_credentials() -> Option<String> {
    let set = |name: &str| std::env::var(name).is_ok_and(|v| !v.trim().is_empty());
    let aws = set("AWS_ACCESS_KEY_ID") || set("AWS_PROFILE");
    let cloudflare = set("CLOUDFLARE_API_TOKEN");
    match (aws, cloudflare) {
        (true, true) => None,
        (false, true) => Some("refusing to deploy: no AWS credentials (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE); `--dry-run` needs none".into()),
        (true, false) => Some("refusing to deploy: no Cloudflare credentials (set CLOUDFLARE_API_TOKEN); `--dry-run` needs none".into()),
        (false, false) => Some("refusing to deploy: no AWS credentials (AWS_ACCESS_KEY_ID/AWS_PROFILE) and no CLOUDFLARE_API_TOKEN; `--dry-run` needs none".into()),
    }
}

fn deploy(artifacts: &Artifacts) -> Result<(), String> {
    let (zip, _) = artifacts
        .lambda_zip
        .as_ref()
        .ok_or("the origin Lambda zip was not built")?;
    let wrangler = Toml::parse(&read("wrangler.toml")?);
    let production = ProductionConfig::read(&wrangler)?;
    let stack = std::env::var("EDGEVID_STACK").unwrap_or_else(|_| "edgevid".into());
    // The stack name is part of the bucket names, which S3 wants lowercase.
    if !stack
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err(format!(
            "EDGEVID_STACK `{stack}` must be lowercase letters, digits and dashes"
        ));
    }
    let secrets_from_env = production.secrets_from_env()?;

    // AWS: the artifacts bucket, the zip, then the main stack.
    let artifacts_stack = format!("{stack}-artifacts");
    cloudformation_deploy(&artifacts_stack, "infra/artifacts.yaml", &[])?;
    let bucket = stack_outputs(&artifacts_stack)?
        .remove("ArtifactsBucketName")
        .ok_or("the artifacts stack has no ArtifactsBucketName output")?;
    let key = format!("origin/{}.zip", sha256_of(zip)?);
    status(
        cmd("aws")
            .args(["s3", "cp"])
            .arg(zip)
            .arg(format!("s3://{bucket}/{key}"))
            .arg("--only-show-errors"),
    )?;

    let mut parameters = vec![
        format!("AppOrigins={}", production.allowed_origins),
        format!("EdgeUrl={}", production.edge_url),
        format!("OriginCodeBucket={bucket}"),
        format!("OriginCodeKey={key}"),
    ];
    if let Some(secret) = secrets_from_env.get("WEBHOOK_SECRET") {
        parameters.push(format!("WebhookSecret={secret}"));
    }
    if let Ok(email) = std::env::var("ALARM_EMAIL") {
        parameters.push(format!("AlarmEmail={email}"));
    }
    parameters.extend(playback_key_parameters(&stack, &secrets_from_env)?);
    cloudformation_deploy(&stack, MAIN_TEMPLATE, &parameters)?;
    let outputs = stack_outputs(&stack)?;
    let output = |key: &str| {
        outputs
            .get(key)
            .cloned()
            .ok_or_else(|| format!("stack {stack} has no output {key}"))
    };

    let mut secrets = secrets_from_env;
    secrets.insert("S3_ACCESS_KEY_ID".into(), output("EdgeSignerAccessKeyId")?);
    secrets.insert(
        "S3_SECRET_ACCESS_KEY".into(),
        captured(cmd("aws").args([
            "secretsmanager",
            "get-secret-value",
            "--secret-id",
            &output("EdgeSignerSecretArn")?,
            "--query",
            "SecretString",
            "--output",
            "text",
        ]))?
        .trim()
        .to_string(),
    );

    // Cloudflare: the database schema, the secrets, then the code.
    let wrangler_bin = root().join("node_modules/.bin/wrangler");
    status(cmd(&wrangler_bin).args([
        "d1",
        "migrations",
        "apply",
        "DB",
        "--remote",
        "--env",
        "production",
    ]))?;
    for (name, value) in &secrets {
        secret_put(&wrangler_bin, name, value)?;
    }
    let mut deploy = cmd(&wrangler_bin);
    deploy.args(["deploy", "--env", "production"]);
    for (output_key, var) in VARS_FROM_STACK {
        deploy
            .arg("--var")
            .arg(format!("{var}:{}", output(output_key)?));
    }
    status(&mut deploy)?;
    println!(
        "deployed: Worker on https://{}, stack {stack} (alarms: {})",
        production.domain,
        output("AlarmTopicArn")?
    );
    Ok(())
}

/// What the production deploy takes from wrangler.toml `[env.production]`.
struct ProductionConfig {
    domain: String,
    edge_url: String,
    allowed_origins: String,
    required_secrets: Vec<String>,
}

impl ProductionConfig {
    fn read(wrangler: &Toml) -> Result<ProductionConfig, String> {
        let routes = wrangler
            .raw(PRODUCTION, "routes")
            .ok_or("wrangler.toml [env.production] has no routes")?;
        let domain = routes
            .split("pattern")
            .nth(1)
            .and_then(|rest| quoted_strings(rest).into_iter().next())
            .ok_or("wrangler.toml [env.production] routes has no pattern")?;
        let allowed_origins = wrangler
            .string(&format!("{PRODUCTION}.vars"), "ALLOWED_ORIGINS")
            .ok_or("wrangler.toml [env.production.vars] has no ALLOWED_ORIGINS")?;
        if domain.contains(PLACEHOLDER_DOMAIN) || allowed_origins.contains(PLACEHOLDER_DOMAIN) {
            return Err(format!(
                "wrangler.toml [env.production] still uses {PLACEHOLDER_DOMAIN}: set the route pattern and ALLOWED_ORIGINS to your domain"
            ));
        }
        let databases = format!("{PRODUCTION}.d1_databases");
        let database_name = wrangler
            .string(&databases, "database_name")
            .ok_or("wrangler.toml has no [[env.production.d1_databases]] database_name")?;
        // `wrangler d1 migrations apply --remote` needs the id in the config, so it is committed.
        let database_id = wrangler
            .string(&databases, "database_id")
            .unwrap_or_default();
        if database_id.is_empty() || database_id == PLACEHOLDER_DATABASE_ID {
            return Err(format!(
                "wrangler.toml [env.production] has no real database_id: run `npx wrangler d1 create {database_name}` once and put the id it prints there"
            ));
        }
        Ok(ProductionConfig {
            edge_url: format!("https://{domain}"),
            domain,
            allowed_origins,
            required_secrets: wrangler.strings(&format!("{PRODUCTION}.secrets"), "required"),
        })
    }

    /// The required secrets the stack does not issue, from the environment; refuses when one
    /// is missing from the environment and from the deployed Worker.
    fn secrets_from_env(&self) -> Result<BTreeMap<String, String>, String> {
        let mut found = BTreeMap::new();
        let mut missing = Vec::new();
        for name in &self.required_secrets {
            if SECRETS_FROM_STACK.contains(&name.as_str()) {
                continue;
            }
            match std::env::var(name) {
                Ok(value) if !value.trim().is_empty() => {
                    found.insert(name.clone(), value);
                }
                _ => missing.push(name.clone()),
            }
        }
        if missing.is_empty() {
            return Ok(found);
        }
        // A secret already on the Worker may stay as it is (only rotated ones are passed).
        let listed = output(cmd(root().join("node_modules/.bin/wrangler")).args([
            "secret",
            "list",
            "--env",
            "production",
            "--format",
            "json",
        ]))
        .unwrap_or_default();
        let on_worker = quoted_strings(&listed);
        missing.retain(|name| !on_worker.contains(name));
        if missing.is_empty() {
            Ok(found)
        } else {
            Err(format!(
                "refusing to deploy: set these secrets in the environment (docs/OPERATIONS.md): {}",
                missing.join(", ")
            ))
        }
    }
}

/// Trusting a new CloudFront key before signing with it: the active slot gets the public half
/// of CLOUDFRONT_PRIVATE_KEY; CLOUDFRONT_KEY_SLOT switches slots and
/// CLOUDFRONT_RETIRE_OTHER_KEY=1 empties the other one (docs/OPERATIONS.md).
fn playback_key_parameters(
    stack: &str,
    secrets: &BTreeMap<String, String>,
) -> Result<Vec<String>, String> {
    let Some(private_key) = secrets.get("CLOUDFRONT_PRIVATE_KEY") else {
        return Ok(Vec::new());
    };
    let previous_slot = output(cmd("aws").args([
        "cloudformation",
        "describe-stacks",
        "--stack-name",
        stack,
        "--query",
        "Stacks[0].Parameters[?ParameterKey=='ActivePlaybackKey'].ParameterValue",
        "--output",
        "text",
    ]))
    .map(|s| s.trim().to_string())
    .filter(|s| s == "blue" || s == "green");
    let slot = match std::env::var("CLOUDFRONT_KEY_SLOT") {
        Ok(slot) if slot == "blue" || slot == "green" => slot,
        Ok(other) => {
            return Err(format!(
                "CLOUDFRONT_KEY_SLOT must be blue or green, got `{other}`"
            ));
        }
        Err(_) => previous_slot.unwrap_or_else(|| "blue".into()),
    };
    let other = if slot == "blue" { "green" } else { "blue" };
    let public_key = piped(
        Command::new("openssl").args(["pkey", "-pubout"]),
        private_key,
    )?;
    let title = |slot: &str| format!("PlaybackKey{}{}", slot[..1].to_uppercase(), &slot[1..]);
    let mut parameters = vec![
        format!("ActivePlaybackKey={slot}"),
        format!("{}={}", title(&slot), public_key.trim()),
    ];
    if std::env::var("CLOUDFRONT_RETIRE_OTHER_KEY").is_ok_and(|v| v == "1") {
        parameters.push(format!("{}=", title(other)));
    }
    Ok(parameters)
}

fn cloudformation_deploy(stack: &str, template: &str, parameters: &[String]) -> Result<(), String> {
    let mut deploy = cmd("aws");
    deploy.args([
        "cloudformation",
        "deploy",
        "--stack-name",
        stack,
        "--template-file",
        template,
        "--capabilities",
        "CAPABILITY_IAM",
        "--no-fail-on-empty-changeset",
    ]);
    if !parameters.is_empty() {
        deploy.arg("--parameter-overrides").args(parameters);
    }
    // Parameters carry secrets: say what runs without echoing them.
    println!(
        "$ aws cloudformation deploy --stack-name {stack} --template-file {template} ({} parameters)",
        parameters.len()
    );
    let exit = deploy
        .status()
        .map_err(|e| format!("cannot start aws: {e}"))?;
    if exit.success() {
        Ok(())
    } else {
        Err(format!("deploying stack {stack} failed ({exit})"))
    }
}

fn stack_outputs(stack: &str) -> Result<BTreeMap<String, String>, String> {
    let text = captured(cmd("aws").args([
        "cloudformation",
        "describe-stacks",
        "--stack-name",
        stack,
        "--query",
        "Stacks[0].Outputs[].[OutputKey,OutputValue]",
        "--output",
        "text",
    ]))?;
    Ok(text
        .lines()
        .filter_map(|line| line.split_once('\t'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect())
}

fn secret_put(wrangler: &Path, name: &str, value: &str) -> Result<(), String> {
    println!("$ wrangler secret put {name} --env production");
    piped(
        cmd(wrangler).args(["secret", "put", name, "--env", "production"]),
        value,
    )
    .map(|_| ())
}

/// Runs with `input` on stdin; returns stdout. Err carries stderr, never the input.
fn piped(command: &mut Command, input: &str) -> Result<String, String> {
    let program = command.get_program().to_string_lossy().into_owned();
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {program}: {e}"))?;
    child
        .stdin
        .take()
        .ok_or("no stdin")?
        .write_all(input.as_bytes())
        .map_err(|e| format!("{program}: {e}"))?;
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

/// Stdout of a command that must succeed; Err carries its stderr.
fn captured(command: &mut Command) -> Result<String, String> {
    let program = command.get_program().to_string_lossy().into_owned();
    let out = command
        .output()
        .map_err(|e| format!("cannot start {program}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "{program} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

fn sha256_of(path: &Path) -> Result<String, String> {
    let text = captured(Command::new("sha256sum").arg(path))?;
    text.split_whitespace()
        .next()
        .map(str::to_string)
        .ok_or_else(|| format!("sha256sum printed nothing for {}", path.display()))
}

fn venv_tool(name: &str) -> PathBuf {
    root().join(".venv/bin").join(name)
}

fn read(relative: &str) -> Result<String, String> {
    std::fs::read_to_string(root().join(relative)).map_err(|e| format!("{relative}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_names_passed_to_lookups() {
        let code = r#"
            let a = require("JWT_SIGNING_KEY")?;
            let b = required(&get, "EDGE_URL")?;
            let c = number("MAX_UPLOAD_BYTES", 5)?;
            let d = std::env::var("RUST_LOG");
            match status { "COMPLETE" => {}, _ => {} }
            match mode.as_deref() { Some("SHA1") | None => {}, _ => {} }
            let e = HeaderValue::from_static("text/plain");
        "#;
        assert_eq!(
            screaming_call_arguments(code),
            [
                "JWT_SIGNING_KEY",
                "EDGE_URL",
                "MAX_UPLOAD_BYTES",
                "RUST_LOG"
            ]
        );
    }

    #[test]
    fn reads_the_wrangler_toml_subset() {
        let toml = Toml::parse(
            r#"
name = "edgevid"
[vars]
ENVIRONMENT = "development" # a comment
[env.production]
routes = [
  { pattern = "video.example.org", custom_domain = true },
]
[[env.production.d1_databases]]
binding = "DB"
database_name = "edgevid-production"
database_id = "4f1c1a55-8d0e-4a53-9d7e-2a3c1d9b7e10"
[env.production.vars]
ALLOWED_ORIGINS = "https://video.example.org"
[env.production.secrets]
required = [
  "JWT_SIGNING_KEY", # Ed25519 seed
  "WEBHOOK_SECRET",
]
"#,
        );
        assert_eq!(toml.keys("vars"), ["ENVIRONMENT"]);
        assert_eq!(
            toml.strings("env.production.secrets", "required"),
            ["JWT_SIGNING_KEY", "WEBHOOK_SECRET"]
        );
        let production = ProductionConfig::read(&toml).unwrap();
        assert_eq!(production.edge_url, "https://video.example.org");
        assert_eq!(production.domain, "video.example.org");
    }

    #[test]
    fn the_committed_production_config_is_refused_until_filled_in() {
        let toml = Toml::parse(&read("wrangler.toml").unwrap());
        let refusal = ProductionConfig::read(&toml).err().unwrap();
        assert!(refusal.contains(PLACEHOLDER_DOMAIN), "{refusal}");
        let with_domain = read("wrangler.toml")
            .unwrap()
            .replace("video.example.com", "video.example.org");
        let refusal = ProductionConfig::read(&Toml::parse(&with_domain))
            .err()
            .unwrap();
        assert!(refusal.contains("database_id"), "{refusal}");
    }

    #[test]
    fn a_checkov_skip_needs_a_reason() {
        let template = "
    Metadata:
      checkov:
        skip:
          - id: CKV_AWS_18
            comment: This is the log bucket.
          - id: CKV_AWS_21
            comment: >-
              Folded reason.
          - id: CKV_AWS_117
    Properties:
";
        assert_eq!(skips_without_reason(template), ["CKV_AWS_117"]);
    }

    #[test]
    fn dev_vars_names_include_documented_ones() {
        let text = "# a comment\nJWT_SIGNING_KEY=abc\n# CLOUDFRONT_PRIVATE_KEY=\n";
        assert_eq!(
            dotenv_names(text),
            ["JWT_SIGNING_KEY", "CLOUDFRONT_PRIVATE_KEY"]
        );
    }
}
