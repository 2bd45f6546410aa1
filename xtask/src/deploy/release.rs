//! The real deploy: the AWS stacks (artifacts bucket, Lambda code, the main stack), then
//! Cloudflare (D1 migrations, the Worker's secrets in one version, the Worker). No secret is
//! ever on a command line (`ps` shows those): secrets are read from stdout and written to
//! stdin, and the stack's parameters hold none (the stack generates its own).
//! Keys and secrets rotate through slots ([`super::rotation`]).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use super::artifacts::Artifacts;
use super::cloudformation::{cloudformation_deploy, describe_stack, secret_value};
use super::rotation::{SignerRequest, WebhookPlan, playback_key_parameters, webhook_secret_arns};
use super::template;
use super::wrangler::{PLACEHOLDER_DATABASE_ID, PLACEHOLDER_DOMAIN, Wrangler};
use crate::headers::{self, WebHeaders};
use crate::run::{capture, cmd, output, pipe, root, status, target_dir};

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
/// Secrets the stack issues (the Worker's S3 signing key, the webhook secret); every other
/// required secret is read from the deploying shell's environment.
const SECRETS_FROM_STACK: [&str; 3] =
    ["S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY", "WEBHOOK_SECRET"];
/// The webhook secret the Worker also accepts while the origin moves to a new one. Set and
/// removed by the deploy during a rotation, so not in `[env.production.secrets] required`
/// (wrangler would refuse to deploy without it).
pub const OPTIONAL_SECRETS: [&str; 1] = [WEBHOOK_SECRET_PREVIOUS];
const WEBHOOK_SECRET_PREVIOUS: &str = "WEBHOOK_SECRET_PREVIOUS";

/// Stack parameters, by name. Those not given keep their previous value (`aws cloudformation
/// deploy` passes UsePreviousValue), or their default on the first create.
pub(super) type Parameters = BTreeMap<String, String>;

/// Optional stack parameters taken from the environment when set: (variable, parameter).
const PARAMETERS_FROM_ENV: [(&str, &str); 5] = [
    ("ALARM_EMAIL", "AlarmEmail"),
    ("PLAYBACK_DOMAIN", "PlaybackDomain"),
    ("PLAYBACK_CERTIFICATE_ARN", "PlaybackCertificateArn"),
    ("ORIGIN_RESERVED_CONCURRENCY", "OriginReservedConcurrency"),
    ("MEDIACONVERT_CONCURRENT_JOBS", "MediaConvertConcurrentJobs"),
];

/// The one-line refusal when the deploy could not authenticate, if it could not.
pub fn missing_credentials() -> Option<String> {
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

pub fn deploy(artifacts: &Artifacts) -> Result<(), String> {
    let (zip, _) = artifacts
        .lambda_zip
        .as_ref()
        .ok_or("the origin Lambda zip was not built")?;
    let wrangler_toml = Wrangler::load()?;
    let production = ProductionConfig::read(&wrangler_toml)?;
    let playback_mode = wrangler_toml
        .production_var("PLAYBACK_MODE")
        .unwrap_or("cloudfront")
        .to_string();
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
    let wrangler_bin = root().join("node_modules/.bin/wrangler");
    let on_worker = worker_secret_names(&wrangler_bin);
    let secrets_from_env = production.secrets_from_env(&on_worker)?;
    let signer = SignerRequest::from_env()?;
    let rotate_webhook = env_flag("WEBHOOK_SECRET_ROTATE")?;

    // Both stacks must be able to take an update before anything changes.
    let artifacts_stack = format!("{stack}-artifacts");
    if let Some(current) = describe_stack(&artifacts_stack)? {
        current.refuse_unless_deployable(&artifacts_stack)?;
    }
    let previous = match describe_stack(&stack)? {
        Some(current) => {
            current.refuse_unless_deployable(&stack)?;
            current.parameters
        }
        None => Parameters::new(),
    };

    // AWS: the artifacts bucket, the zip, then the main stack.
    cloudformation_deploy(
        &artifacts_stack,
        "infra/artifacts.yaml",
        &Parameters::new(),
        None,
    )?;
    let bucket = describe_stack(&artifacts_stack)?
        .and_then(|mut s| s.outputs.remove("ArtifactsBucketName"))
        .ok_or("the artifacts stack has no ArtifactsBucketName output")?;
    let key = format!("origin/{}.zip", sha256_of(zip)?);
    status(
        cmd("aws")
            .args(["s3", "cp"])
            .arg(zip)
            .arg(format!("s3://{bucket}/{key}"))
            .arg("--only-show-errors"),
    )?;

    let mut parameters = Parameters::from([
        ("AppOrigins".into(), production.allowed_origins.clone()),
        ("EdgeUrl".into(), production.edge_url.clone()),
        ("OriginCodeBucket".into(), bucket.clone()),
        ("OriginCodeKey".into(), key),
    ]);
    for (variable, parameter) in PARAMETERS_FROM_ENV {
        if let Ok(value) = std::env::var(variable) {
            parameters.insert(parameter.into(), value.trim().to_string());
        }
    }
    parameters.extend(playback_key_parameters(&previous, &secrets_from_env)?);
    parameters.extend(signer.parameters(&previous)?);
    let webhook = WebhookPlan::new(&previous, rotate_webhook);
    parameters.extend(webhook.first.clone());
    cloudformation_deploy(&stack, template::MAIN, &parameters, Some(&bucket))?;
    let outputs = describe_stack(&stack)?
        .map(|s| s.outputs)
        .ok_or_else(|| format!("stack {stack} is gone after its deploy"))?;
    let output = |key: &str| {
        outputs
            .get(key)
            .cloned()
            .ok_or_else(|| format!("stack {stack} has no output {key}"))
    };

    // Cloudflare: the database schema, every secret in one version, then the code.
    let mut secrets = secrets_from_env;
    secrets.insert("S3_ACCESS_KEY_ID".into(), output("EdgeSignerAccessKeyId")?);
    secrets.insert(
        "S3_SECRET_ACCESS_KEY".into(),
        secret_value(&output("EdgeSignerSecretArn")?)?,
    );
    let (webhook_arn, previous_webhook_arn) = webhook_secret_arns(&outputs)?;
    secrets.insert("WEBHOOK_SECRET".into(), secret_value(&webhook_arn)?);
    if let Some(arn) = &previous_webhook_arn {
        secrets.insert(WEBHOOK_SECRET_PREVIOUS.into(), secret_value(arn)?);
    }
    status(cmd(&wrangler_bin).args([
        "d1",
        "migrations",
        "apply",
        "DB",
        "--remote",
        "--env",
        "production",
    ]))?;
    secret_bulk(&wrangler_bin, &secrets)?;
    // The app as served: a copy of web/ whose headers name exactly this stack's storage
    // origins (no loopback) and turn on HSTS.
    let web_headers = WebHeaders::production(
        &output("S3Endpoint")?,
        &output("IncomingBucketName")?,
        &output("MediaBucketName")?,
        &output("CloudFrontDomain")?,
        &playback_mode,
    )?;
    let web = headers::stage(&web_headers, &target_dir().join("web-production"))?;
    let mut deploy = cmd(&wrangler_bin);
    deploy
        .args(["deploy", "--env", "production", "--assets"])
        .arg(&web);
    for (output_key, var) in VARS_FROM_STACK {
        deploy
            .arg("--var")
            .arg(format!("{var}:{}", output(output_key)?));
    }
    status(&mut deploy)?;

    // The Worker accepts the new webhook secret: now the origin may sign with it.
    if let Some(second) = &webhook.second {
        parameters.extend(second.clone());
        cloudformation_deploy(&stack, template::MAIN, &parameters, Some(&bucket))?;
    }
    let origin_signs_with_newest = webhook.second.is_some() || previous_webhook_arn.is_none();
    let previous_on_worker =
        previous_webhook_arn.is_some() || on_worker.iter().any(|n| n == WEBHOOK_SECRET_PREVIOUS);
    if origin_signs_with_newest && previous_on_worker {
        status(cmd(&wrangler_bin).args([
            "secret",
            "delete",
            WEBHOOK_SECRET_PREVIOUS,
            "--env",
            "production",
        ]))?;
    }
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
    fn read(wrangler: &Wrangler) -> Result<ProductionConfig, String> {
        let domain = wrangler
            .production_domain()
            .ok_or("wrangler.toml [env.production] routes has no pattern")?
            .to_string();
        let allowed_origins = wrangler
            .production_var("ALLOWED_ORIGINS")
            .ok_or("wrangler.toml [env.production.vars] has no ALLOWED_ORIGINS")?
            .to_string();
        if domain.contains(PLACEHOLDER_DOMAIN) || allowed_origins.contains(PLACEHOLDER_DOMAIN) {
            return Err(format!(
                "wrangler.toml [env.production] still uses {PLACEHOLDER_DOMAIN}: set the route pattern and ALLOWED_ORIGINS to your domain"
            ));
        }
        // `wrangler d1 migrations apply --remote` needs the id in the config, so it is committed.
        let (database_name, database_id) = wrangler
            .production_database()
            .ok_or("wrangler.toml has no [[env.production.d1_databases]] database_name")?;
        if database_id.is_empty() || database_id == PLACEHOLDER_DATABASE_ID {
            return Err(format!(
                "wrangler.toml [env.production] has no real database_id: run `npx wrangler d1 create {database_name}` once and put the id it prints there"
            ));
        }
        Ok(ProductionConfig {
            edge_url: format!("https://{domain}"),
            domain,
            allowed_origins,
            required_secrets: wrangler.production_secrets(),
        })
    }

    /// The required secrets the stack does not issue, from the environment; refuses when one
    /// is missing from the environment and from the deployed Worker (`on_worker`).
    fn secrets_from_env(&self, on_worker: &[String]) -> Result<BTreeMap<String, String>, String> {
        let mut found = BTreeMap::new();
        let mut missing = Vec::new();
        for name in &self.required_secrets {
            if SECRETS_FROM_STACK.contains(&name.as_str()) {
                if std::env::var(name).is_ok() {
                    println!("note: ignoring {name} from the environment: the AWS stack issues it");
                }
                continue;
            }
            match std::env::var(name) {
                Ok(value) if !value.trim().is_empty() => {
                    found.insert(name.clone(), value);
                }
                // A secret already on the Worker may stay as it is (only rotated ones are passed).
                _ if on_worker.contains(name) => {}
                _ => missing.push(name.clone()),
            }
        }
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

/// The names of the production Worker's secrets (none when it does not exist yet).
fn worker_secret_names(wrangler: &Path) -> Vec<String> {
    let listed =
        output(cmd(wrangler).args(["secret", "list", "--env", "production", "--format", "json"]))
            .unwrap_or_default();
    serde_json::from_str::<serde_json::Value>(&listed)
        .ok()
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|secret| secret["name"].as_str().map(str::to_string))
        .collect()
}

/// `true` for `1`, `false` when unset, empty or `0`.
pub(super) fn env_flag(name: &str) -> Result<bool, String> {
    match std::env::var(name).as_deref() {
        Err(_) | Ok("") | Ok("0") => Ok(false),
        Ok("1") => Ok(true),
        Ok(other) => Err(format!("{name} must be 1 or unset, got `{other}`")),
    }
}

/// Every secret of the Worker in one new version: `wrangler secret bulk` with the JSON on
/// stdin (wrangler joins stdin's lines, so the JSON is one line).
fn secret_bulk(wrangler: &Path, secrets: &BTreeMap<String, String>) -> Result<(), String> {
    let names: Vec<&str> = secrets.keys().map(String::as_str).collect();
    println!(
        "$ wrangler secret bulk --env production  (stdin: {})",
        names.join(", ")
    );
    let json = secrets_json(secrets)?;
    let out = pipe(
        cmd(wrangler).args(["secret", "bulk", "--env", "production"]),
        Some(&json),
    )?;
    print!("{out}");
    Ok(())
}

fn secrets_json(secrets: &BTreeMap<String, String>) -> Result<String, String> {
    serde_json::to_string(secrets).map_err(|e| format!("secrets as JSON: {e}"))
}

fn sha256_of(path: &Path) -> Result<String, String> {
    let text = capture(Command::new("sha256sum").arg(path))?;
    text.split_whitespace()
        .next()
        .map(str::to_string)
        .ok_or_else(|| format!("sha256sum printed nothing for {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_production_config_is_refused_until_filled_in() {
        let committed = crate::run::read("wrangler.toml").unwrap();
        let refusal = ProductionConfig::read(&Wrangler::parse(&committed).unwrap())
            .err()
            .unwrap();
        assert!(refusal.contains(PLACEHOLDER_DOMAIN), "{refusal}");
        let with_domain = committed.replace("video.example.com", "video.example.org");
        let refusal = ProductionConfig::read(&Wrangler::parse(&with_domain).unwrap())
            .err()
            .unwrap();
        assert!(refusal.contains("database_id"), "{refusal}");
        let filled = with_domain.replace(
            PLACEHOLDER_DATABASE_ID,
            "4f1c1a55-8d0e-4a53-9d7e-2a3c1d9b7e10",
        );
        let production = ProductionConfig::read(&Wrangler::parse(&filled).unwrap()).unwrap();
        assert_eq!(production.edge_url, "https://video.example.org");
    }

    #[test]
    fn no_stack_parameter_takes_a_secret() {
        // A secret parameter would travel on the `aws cloudformation deploy` command line.
        let template = template::load(template::MAIN).unwrap();
        for (name, parameter) in template["Parameters"].as_object().unwrap() {
            assert!(parameter["NoEcho"].is_null(), "{name} is NoEcho: a secret");
        }
        for (variable, parameter) in PARAMETERS_FROM_ENV {
            assert!(
                !template["Parameters"][parameter].is_null(),
                "{variable}: the template has no parameter {parameter}"
            );
        }
    }

    #[test]
    fn secrets_go_to_wrangler_as_one_line_of_json() {
        let secrets = BTreeMap::from([
            (
                "CLOUDFRONT_PRIVATE_KEY".to_string(),
                "-----BEGIN\nabc\n-----END\n".to_string(),
            ),
            ("WEBHOOK_SECRET".to_string(), "s\"x".to_string()),
        ]);
        let json = secrets_json(&secrets).unwrap();
        assert!(!json.contains('\n'), "{json}");
        let back: BTreeMap<String, String> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, secrets);
    }
}
