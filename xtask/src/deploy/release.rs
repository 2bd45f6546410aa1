//! The real deploy: the AWS stacks (artifacts bucket, Lambda code, the main stack), then
//! Cloudflare (D1 migrations, the Worker's secrets, the Worker). Secrets travel on stdin,
//! never on a command line.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use super::artifacts::Artifacts;
use super::template;
use super::wrangler::{PLACEHOLDER_DATABASE_ID, PLACEHOLDER_DOMAIN, Wrangler};
use crate::run::{capture, cmd, output, pipe, root, status};

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
    let production = ProductionConfig::read(&Wrangler::load()?)?;
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
    cloudformation_deploy(&stack, template::MAIN, &parameters)?;
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
        capture(cmd("aws").args([
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
        let on_worker: Vec<String> = serde_json::from_str::<serde_json::Value>(&listed)
            .ok()
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default()
            .iter()
            .filter_map(|secret| secret["name"].as_str().map(str::to_string))
            .collect();
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
    let public_key = pipe(
        Command::new("openssl").args(["pkey", "-pubout"]),
        Some(private_key),
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
    let text = capture(cmd("aws").args([
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
    pipe(
        cmd(wrangler).args(["secret", "put", name, "--env", "production"]),
        Some(value),
    )
    .map(|_| ())
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
}
