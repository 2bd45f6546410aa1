//! Every setting the code reads is declared where it is needed:
//! - the edge: for dev (wrangler.toml `[vars]` or `.dev.vars.example`, a commented `# NAME=`
//!   counts as documented) and production (`[env.production.vars]`,
//!   `[env.production.secrets] required`, or a secret the deploy sets only at times, like
//!   `WEBHOOK_SECRET_PREVIOUS` during a rotation); `DEV_*` settings are dev-only and never
//!   production's; nothing is declared for production that the edge does not read;
//! - the origin: by the template's Lambda environment, the Lambda runtime, the dev files, or
//!   origin/README.md; and the template sets nothing the origin does not read.
//!
//! What the code reads is found by scanning its source for setting names passed to lookups.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::release;
use super::template;
use super::wrangler::Wrangler;
use crate::run::{read, root};

/// Set by the Lambda runtime itself, so the template must not declare them.
const LAMBDA_RUNTIME_VARS: [&str; 4] = [
    "AWS_REGION",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
];

pub fn check_declarations() -> Result<(), String> {
    let wrangler = Wrangler::load()?;
    let origin_readme = read("origin/README.md").unwrap_or_default();
    let edge_reads = names_read_in(&root().join("edge/src"))?;
    let origin_reads = names_read_in(&root().join("origin/src"))?;
    if edge_reads.is_empty() {
        return Err("found no configuration reads in edge/src: has the lookup changed?".into());
    }

    let mut dev = wrangler.dev_vars();
    dev.extend(dotenv_names(&read(".dev.vars.example")?));
    let prod_vars = wrangler.production_vars();
    let prod_secrets: BTreeSet<String> = wrangler
        .production_secrets()
        .into_iter()
        .chain(release::OPTIONAL_SECRETS.map(String::from))
        .collect();
    let lambda_env = lambda_environment(&template::load(template::MAIN)?);

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
                "edge reads {name}: not in [env.production.vars] or [env.production.secrets] required"
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
                "origin reads {name}: not set by {}, the Lambda runtime, the dev files or origin/README.md",
                template::MAIN
            ));
        }
    }
    for name in &lambda_env {
        if !origin_reads.contains(name) {
            problems.push(format!(
                "{} sets {name} for the Lambda, which the origin never reads",
                template::MAIN
            ));
        }
        if LAMBDA_RUNTIME_VARS.contains(&name.as_str()) {
            problems.push(format!(
                "{} sets {name}, which the Lambda runtime owns",
                template::MAIN
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

/// The environment of every Lambda function in the template.
fn lambda_environment(template: &serde_json::Value) -> BTreeSet<String> {
    template::resources(template)
        .filter(|(_, r)| r["Type"] == "AWS::Lambda::Function")
        .filter_map(|(_, r)| r["Properties"]["Environment"]["Variables"].as_object())
        .flat_map(|variables| variables.keys().cloned())
        .collect()
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

pub(super) fn rust_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
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

/// Whether `name` appears in `text` as a whole word.
fn mentions(text: &str, name: &str) -> bool {
    text.match_indices(name).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + name.len()..].chars().next();
        let is_word = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        !is_word(before) && !is_word(after)
    })
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
    fn dev_vars_names_include_documented_ones() {
        let text = "# a comment\nJWT_SIGNING_KEY=abc\n# CLOUDFRONT_PRIVATE_KEY=\n";
        assert_eq!(
            dotenv_names(text),
            ["JWT_SIGNING_KEY", "CLOUDFRONT_PRIVATE_KEY"]
        );
    }

    #[test]
    fn whole_words_only() {
        assert!(mentions("set `EDGE_URL` first", "EDGE_URL"));
        assert!(!mentions("EDGE_URLS", "EDGE_URL"));
    }

    #[test]
    fn the_committed_code_and_configuration_agree() {
        check_declarations().unwrap();
    }

    #[test]
    fn the_lambda_environment_comes_from_every_function() {
        let template = serde_json::json!({"Resources": {
            "Fn": {"Type": "AWS::Lambda::Function", "Properties": {"Environment": {"Variables": {"EDGE_URL": {"Ref": "EdgeUrl"}}}}},
            "Bucket": {"Type": "AWS::S3::Bucket"},
        }});
        assert_eq!(
            lambda_environment(&template),
            BTreeSet::from(["EDGE_URL".into()])
        );
    }
}
