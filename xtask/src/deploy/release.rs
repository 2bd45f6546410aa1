//! The real deploy: the AWS stacks (artifacts bucket, Lambda code, the main stack), then
//! Cloudflare (D1 migrations, the Worker's secrets in one version, the Worker). No secret is
//! ever on a command line (`ps` shows those): secrets are read from stdout and written to
//! stdin, and the stack's parameters hold none (the stack generates its own).
//!
//! Key and secret rotation works through slots (docs/OPERATIONS.md): the CloudFront playback
//! key, the Worker's S3 signing key and the webhook secret each have a blue and a green slot,
//! so a new key is trusted (or a new secret accepted) before anything signs with it, and the
//! old one is removed only after.

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
type Parameters = BTreeMap<String, String>;

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
    let mut deploy = cmd(&wrangler_bin);
    deploy.args(["deploy", "--env", "production"]);
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
fn env_flag(name: &str) -> Result<bool, String> {
    match std::env::var(name).as_deref() {
        Err(_) | Ok("") | Ok("0") => Ok(false),
        Ok("1") => Ok(true),
        Ok(other) => Err(format!("{name} must be 1 or unset, got `{other}`")),
    }
}

/// A key or secret slot of the main stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slot {
    Blue,
    Green,
}

impl Slot {
    fn parse(name: &str) -> Option<Slot> {
        match name {
            "blue" => Some(Slot::Blue),
            "green" => Some(Slot::Green),
            _ => None,
        }
    }

    fn from_env(variable: &str) -> Result<Option<Slot>, String> {
        match std::env::var(variable) {
            Err(_) => Ok(None),
            Ok(value) if value.is_empty() => Ok(None),
            Ok(value) => Slot::parse(&value)
                .map(Some)
                .ok_or_else(|| format!("{variable} must be blue or green, got `{value}`")),
        }
    }

    /// The slot a stack parameter names; blue (the template's default) on a first deploy.
    fn current(previous: &Parameters, parameter: &str) -> Slot {
        previous
            .get(parameter)
            .and_then(|value| Slot::parse(value))
            .unwrap_or(Slot::Blue)
    }

    fn name(self) -> &'static str {
        match self {
            Slot::Blue => "blue",
            Slot::Green => "green",
        }
    }

    /// As it appears in parameter names: `Blue`, `Green`.
    fn title(self) -> &'static str {
        match self {
            Slot::Blue => "Blue",
            Slot::Green => "Green",
        }
    }

    fn other(self) -> Slot {
        match self {
            Slot::Blue => Slot::Green,
            Slot::Green => Slot::Blue,
        }
    }
}

/// What the deploy is asked to do with the Worker's S3 signing keys: EDGE_SIGNER_KEY_SLOT
/// (the slot the Worker signs with; filled with a new key if empty) and EDGE_SIGNER_OTHER_KEY
/// (`active`, `inactive` or `empty` for the other slot).
#[derive(Debug, Default)]
struct SignerRequest {
    slot: Option<Slot>,
    other: Option<&'static str>,
}

impl SignerRequest {
    fn from_env() -> Result<SignerRequest, String> {
        let other = match std::env::var("EDGE_SIGNER_OTHER_KEY").as_deref() {
            Err(_) | Ok("") => None,
            Ok("active") => Some("Active"),
            Ok("inactive") => Some("Inactive"),
            Ok("empty") => Some("Empty"),
            Ok(other) => {
                return Err(format!(
                    "EDGE_SIGNER_OTHER_KEY must be active, inactive or empty, got `{other}`"
                ));
            }
        };
        Ok(SignerRequest {
            slot: Slot::from_env("EDGE_SIGNER_KEY_SLOT")?,
            other,
        })
    }

    /// The signing key parameters: the Worker's slot holds an Active key; the other slot is
    /// changed only when asked. Refuses to disable the key the Worker signs with right now in
    /// the deploy that moves it to the other slot: the stack would do it minutes before the
    /// Worker has the new key.
    fn parameters(&self, previous: &Parameters) -> Result<Parameters, String> {
        let current = Slot::current(previous, "ActiveEdgeSignerKey");
        let slot = self.slot.unwrap_or(current);
        let mut parameters = Parameters::from([
            ("ActiveEdgeSignerKey".into(), slot.name().into()),
            (
                format!("EdgeSignerKey{}Status", slot.title()),
                "Active".into(),
            ),
        ]);
        if let Some(status) = self.other {
            if slot != current && status != "Active" {
                return Err(format!(
                    "refusing to make the {current} signing key {status} in the deploy that moves the Worker to {slot}: the Worker signs with it until this deploy ends. Deploy with EDGE_SIGNER_KEY_SLOT={slot} first, then with EDGE_SIGNER_OTHER_KEY={}",
                    status.to_ascii_lowercase(),
                    current = current.name(),
                    slot = slot.name(),
                ));
            }
            parameters.insert(
                format!("EdgeSignerKey{}Status", slot.other().title()),
                status.into(),
            );
        }
        Ok(parameters)
    }
}

/// The webhook secret's stack parameters for this deploy. A rotation takes two stack
/// updates around the Worker's: the first fills the free slot (the origin still signs with
/// the old secret), the Worker then accepts both, the second moves the origin to the new
/// secret and empties the old slot.
#[derive(Debug, PartialEq, Eq)]
struct WebhookPlan {
    first: Parameters,
    second: Option<Parameters>,
}

impl WebhookPlan {
    fn new(previous: &Parameters, rotate: bool) -> WebhookPlan {
        if !rotate {
            return WebhookPlan {
                first: Parameters::new(),
                second: None,
            };
        }
        let active = Slot::current(previous, "ActiveWebhookSecret");
        let new = active.other();
        let status = |slot: Slot| format!("WebhookSecret{}Status", slot.title());
        WebhookPlan {
            first: Parameters::from([(status(new), "Filled".into())]),
            second: Some(Parameters::from([
                ("ActiveWebhookSecret".into(), new.name().into()),
                (status(active), "Empty".into()),
            ])),
        }
    }
}

/// (the secret the Worker calls WEBHOOK_SECRET, the one it also accepts as
/// WEBHOOK_SECRET_PREVIOUS): during a rotation the newer one and the one the origin still
/// signs with; otherwise the origin's only.
fn webhook_secret_arns(
    outputs: &BTreeMap<String, String>,
) -> Result<(String, Option<String>), String> {
    let active = outputs
        .get("WebhookSecretArn")
        .cloned()
        .ok_or("the stack has no WebhookSecretArn output")?;
    Ok(match outputs.get("WebhookSecretPendingArn") {
        Some(pending) => (pending.clone(), Some(active)),
        None => (active, None),
    })
}

/// Trusting a new CloudFront key before signing with it: the active slot gets the public half
/// of CLOUDFRONT_PRIVATE_KEY; CLOUDFRONT_KEY_SLOT switches slots and
/// CLOUDFRONT_RETIRE_OTHER_KEY=1 empties the other one (docs/OPERATIONS.md).
fn playback_key_parameters(
    previous: &Parameters,
    secrets: &BTreeMap<String, String>,
) -> Result<Parameters, String> {
    let Some(private_key) = secrets.get("CLOUDFRONT_PRIVATE_KEY") else {
        return Ok(Parameters::new());
    };
    let slot = Slot::from_env("CLOUDFRONT_KEY_SLOT")?
        .unwrap_or_else(|| Slot::current(previous, "ActivePlaybackKey"));
    let public_key = pipe(
        Command::new("openssl").args(["pkey", "-pubout"]),
        Some(private_key),
    )?;
    let mut parameters = Parameters::from([
        ("ActivePlaybackKey".into(), slot.name().into()),
        (
            format!("PlaybackKey{}", slot.title()),
            public_key.trim().into(),
        ),
    ]);
    if env_flag("CLOUDFRONT_RETIRE_OTHER_KEY")? {
        parameters.insert(
            format!("PlaybackKey{}", slot.other().title()),
            String::new(),
        );
    }
    Ok(parameters)
}

/// A stack as `describe-stacks` reports it.
struct Stack {
    status: String,
    parameters: Parameters,
    outputs: BTreeMap<String, String>,
}

impl Stack {
    fn from_json(text: &str) -> Result<Option<Stack>, String> {
        let json: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("describe-stacks as JSON: {e}"))?;
        let Some(stack) = json["Stacks"].get(0) else {
            return Ok(None);
        };
        let pairs = |list: &str, key: &str, value: &str| -> BTreeMap<String, String> {
            stack[list]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|item| {
                    Some((
                        item[key].as_str()?.to_string(),
                        item[value].as_str()?.to_string(),
                    ))
                })
                .collect()
        };
        let status = stack["StackStatus"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        // A stack in review was never created: `aws cloudformation deploy` creates it anew.
        if status == "REVIEW_IN_PROGRESS" {
            return Ok(None);
        }
        Ok(Some(Stack {
            status,
            parameters: pairs("Parameters", "ParameterKey", "ParameterValue"),
            outputs: pairs("Outputs", "OutputKey", "OutputValue"),
        }))
    }

    /// Refuses the states an update cannot start from, with what to do.
    fn refuse_unless_deployable(&self, name: &str) -> Result<(), String> {
        let status = self.status.as_str();
        if status == "ROLLBACK_COMPLETE" || status == "ROLLBACK_FAILED" {
            Err(format!(
                "stack {name} is {status}: its first create failed and CloudFormation cannot update it. Nothing in it is kept (the media bucket is only retained once created successfully): `aws cloudformation delete-stack --stack-name {name}`, `aws cloudformation wait stack-delete-complete --stack-name {name}`, then deploy again"
            ))
        } else if status.ends_with("_IN_PROGRESS") {
            Err(format!(
                "stack {name} is {status}: wait for that operation to end (`aws cloudformation describe-stacks --stack-name {name}`)"
            ))
        } else if status.ends_with("_FAILED") {
            Err(format!(
                "stack {name} is {status}: see its events (`aws cloudformation describe-stack-events --stack-name {name}`) and recover it first (docs/OPERATIONS.md)"
            ))
        } else {
            Ok(())
        }
    }
}

/// The stack, or None if it does not exist.
fn describe_stack(name: &str) -> Result<Option<Stack>, String> {
    match capture(cmd("aws").args([
        "cloudformation",
        "describe-stacks",
        "--stack-name",
        name,
        "--output",
        "json",
    ])) {
        Ok(text) => Stack::from_json(&text),
        Err(e) if e.contains("does not exist") => Ok(None),
        Err(e) => Err(e),
    }
}

/// A Secrets Manager secret's value, read from the CLI's stdout.
fn secret_value(arn: &str) -> Result<String, String> {
    let value = capture(cmd("aws").args([
        "secretsmanager",
        "get-secret-value",
        "--secret-id",
        arn,
        "--query",
        "SecretString",
        "--output",
        "text",
    ]))?;
    Ok(value.trim_end_matches(['\r', '\n']).to_string())
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

fn cloudformation_deploy(
    stack: &str,
    template: &str,
    parameters: &Parameters,
    template_bucket: Option<&str>,
) -> Result<(), String> {
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
    // Through S3 a template may be up to 1 MB; inline only 51,200 bytes.
    if let Some(bucket) = template_bucket {
        deploy.args(["--s3-bucket", bucket, "--s3-prefix", "templates"]);
    }
    if !parameters.is_empty() {
        deploy.arg("--parameter-overrides").args(
            parameters
                .iter()
                .map(|(name, value)| format!("{name}={value}")),
        );
    }
    let names: Vec<&str> = parameters.keys().map(String::as_str).collect();
    println!(
        "$ aws cloudformation deploy --stack-name {stack} --template-file {template} (parameters: {})",
        names.join(", ")
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

    fn parameters(pairs: &[(&str, &str)]) -> Parameters {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

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

    #[test]
    fn signer_keys_move_slot_first_and_retire_the_old_one_after() {
        let first_deploy = SignerRequest::default()
            .parameters(&Parameters::new())
            .unwrap();
        assert_eq!(
            first_deploy,
            parameters(&[
                ("ActiveEdgeSignerKey", "blue"),
                ("EdgeSignerKeyBlueStatus", "Active")
            ])
        );
        let on_blue = parameters(&[("ActiveEdgeSignerKey", "blue")]);
        let fill_green = SignerRequest {
            slot: Some(Slot::Green),
            other: None,
        };
        assert_eq!(
            fill_green.parameters(&on_blue).unwrap(),
            parameters(&[
                ("ActiveEdgeSignerKey", "green"),
                ("EdgeSignerKeyGreenStatus", "Active")
            ])
        );
        let too_soon = SignerRequest {
            slot: Some(Slot::Green),
            other: Some("Empty"),
        };
        assert!(
            too_soon
                .parameters(&on_blue)
                .unwrap_err()
                .contains("EDGE_SIGNER_KEY_SLOT=green first")
        );
        let on_green = parameters(&[("ActiveEdgeSignerKey", "green")]);
        let retire_blue = SignerRequest {
            slot: None,
            other: Some("Empty"),
        };
        assert_eq!(
            retire_blue.parameters(&on_green).unwrap(),
            parameters(&[
                ("ActiveEdgeSignerKey", "green"),
                ("EdgeSignerKeyBlueStatus", "Empty"),
                ("EdgeSignerKeyGreenStatus", "Active"),
            ])
        );
        // Refilling the emptied blue slot later is the same move back.
        let refill_blue = SignerRequest {
            slot: Some(Slot::Blue),
            other: None,
        };
        assert_eq!(
            refill_blue.parameters(&on_green).unwrap(),
            parameters(&[
                ("ActiveEdgeSignerKey", "blue"),
                ("EdgeSignerKeyBlueStatus", "Active")
            ])
        );
    }

    #[test]
    fn a_webhook_rotation_fills_the_free_slot_then_moves_the_origin() {
        assert_eq!(
            WebhookPlan::new(&Parameters::new(), false),
            WebhookPlan {
                first: Parameters::new(),
                second: None
            }
        );
        assert_eq!(
            WebhookPlan::new(&Parameters::new(), true),
            WebhookPlan {
                first: parameters(&[("WebhookSecretGreenStatus", "Filled")]),
                second: Some(parameters(&[
                    ("ActiveWebhookSecret", "green"),
                    ("WebhookSecretBlueStatus", "Empty"),
                ])),
            }
        );
        let on_green = parameters(&[("ActiveWebhookSecret", "green")]);
        assert_eq!(
            WebhookPlan::new(&on_green, true).second,
            Some(parameters(&[
                ("ActiveWebhookSecret", "blue"),
                ("WebhookSecretGreenStatus", "Empty"),
            ]))
        );
    }

    #[test]
    fn during_a_rotation_the_worker_gets_the_new_secret_and_keeps_the_old() {
        let settled = BTreeMap::from([("WebhookSecretArn".to_string(), "arn:blue".to_string())]);
        assert_eq!(
            webhook_secret_arns(&settled).unwrap(),
            ("arn:blue".to_string(), None)
        );
        let mut rotating = settled.clone();
        rotating.insert("WebhookSecretPendingArn".into(), "arn:green".into());
        assert_eq!(
            webhook_secret_arns(&rotating).unwrap(),
            ("arn:green".to_string(), Some("arn:blue".to_string()))
        );
    }

    #[test]
    fn reads_describe_stacks_and_refuses_what_cannot_be_updated() {
        let text = r#"{"Stacks": [{"StackStatus": "ROLLBACK_COMPLETE",
            "Parameters": [{"ParameterKey": "ActiveWebhookSecret", "ParameterValue": "green"}],
            "Outputs": [{"OutputKey": "WebhookSecretArn", "OutputValue": "arn:x"}]}]}"#;
        let stack = Stack::from_json(text).unwrap().unwrap();
        assert_eq!(stack.parameters["ActiveWebhookSecret"], "green");
        assert_eq!(stack.outputs["WebhookSecretArn"], "arn:x");
        let refusal = stack.refuse_unless_deployable("edgevid").unwrap_err();
        assert!(refusal.contains("aws cloudformation delete-stack --stack-name edgevid"));
        for (status, ok) in [
            ("CREATE_COMPLETE", true),
            ("UPDATE_ROLLBACK_COMPLETE", true),
            ("UPDATE_IN_PROGRESS", false),
            ("UPDATE_ROLLBACK_FAILED", false),
        ] {
            let stack = Stack {
                status: status.into(),
                parameters: Parameters::new(),
                outputs: BTreeMap::new(),
            };
            assert_eq!(stack.refuse_unless_deployable("s").is_ok(), ok, "{status}");
        }
        let review = r#"{"Stacks": [{"StackStatus": "REVIEW_IN_PROGRESS"}]}"#;
        assert!(Stack::from_json(review).unwrap().is_none());
    }
}
