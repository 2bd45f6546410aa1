//! The whole platform on one machine: SeaweedFS (S3), the D1 migrations, the origin's local
//! runner and the Worker in `wrangler dev`. `cargo xtask dev` runs it for people; `cargo
//! xtask test` runs a throwaway one for the end-to-end suites.

use crate::headers::{self, WebHeaders};
use crate::run::{cmd, root, status, target_dir};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;
use testkit::{SeaweedFs, SeaweedOptions, Supervised};

pub struct StackOptions {
    pub edge_port: u16,
    pub s3_port: u16,
    /// Everything the stack stores: S3 data, local D1, the runner's state, logs.
    pub data_dir: PathBuf,
    /// Overrides of `.dev.vars` (DEV_ADMIN_EMAIL, …).
    pub overrides: Vec<(String, String)>,
    /// Serve `web/` itself, with `web/_headers` written for this stack (the dev stack: edits
    /// show at once), rather than a copy of it taken at start with headers of its own (stacks
    /// that may run beside another).
    pub web_in_place: bool,
    /// Serve the Worker [`build_worker_once`] built rather than have wrangler build it (and
    /// rebuild it on edits, which the dev stack wants): throwaway stacks start in seconds.
    pub prebuilt_worker: bool,
}

pub struct Stack {
    pub base_url: String,
    pub edge_port: u16,
    pub admin_email: String,
    pub admin_password: String,
    pub webhook_secret: String,
    // Fields drop in this order: the Worker first, S3 last.
    pub edge: Supervised,
    pub origin: Supervised,
    pub s3: SeaweedFs,
    /// How the Worker was started, to start it again ([`Stack::restart_edge`]).
    edge_command: Command,
}

/// The dev secrets: `.dev.vars`, created from `.dev.vars.example` on first use.
pub fn dev_vars() -> Result<Vec<(String, String)>, String> {
    let path = root().join(".dev.vars");
    if !path.exists() {
        std::fs::copy(root().join(".dev.vars.example"), &path)
            .map_err(|e| format!("create .dev.vars from .dev.vars.example: {e}"))?;
        println!("  ..  created .dev.vars from .dev.vars.example");
    }
    let text = std::fs::read_to_string(&path).map_err(|e| format!("read .dev.vars: {e}"))?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect())
}

fn lookup<'a>(vars: &'a [(String, String)], name: &str) -> Result<&'a str, String> {
    vars.iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .ok_or_else(|| format!("{name} is missing from .dev.vars (see .dev.vars.example)"))
}

/// Builds what the stack runs that wrangler does not build itself: the origin runner.
pub fn build_origin_runner() -> Result<PathBuf, String> {
    status(cmd("cargo").args([
        "build",
        "--locked",
        "--package",
        "origin",
        "--bin",
        "origin-local",
    ]))?;
    Ok(target_dir().join("debug/origin-local"))
}

/// Builds the Worker (`edge/build/`) once for this process, as wrangler's build command would:
/// every throwaway stack of a run (and a restarted Worker) then serves that build.
pub fn build_worker_once() -> Result<(), String> {
    static BUILT: OnceLock<Result<(), String>> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            println!("  ..  the Worker (worker-build, once for this run)");
            status(
                cmd("worker-build")
                    .args(["--profile", "wasm-release"])
                    .current_dir(root().join("edge")),
            )
        })
        .clone()
}

/// Runs `body` against a throwaway stack on free ports (the dev one may be running) with its
/// data in a temp dir; afterwards the stack stops and its data goes, whatever `body` returned.
pub fn with_throwaway_stack<T>(
    overrides: Vec<(String, String)>,
    body: impl FnOnce(&mut Stack) -> Result<T, String>,
) -> Result<T, String> {
    let runner = build_origin_runner()?;
    build_worker_once()?;
    let data_dir = testkit::temp_dir("stack");
    let options = StackOptions {
        edge_port: testkit::free_port(),
        s3_port: testkit::free_port(),
        data_dir: data_dir.clone(),
        overrides,
        web_in_place: false,
        prebuilt_worker: true,
    };
    let result = Stack::start(&options, &runner).and_then(|mut stack| {
        let result = body(&mut stack);
        match (result, stack.failed_part()) {
            (Err(e), Some(part)) => Err(format!("{e}; {part}")),
            (result, _) => result,
        }
    });
    let _ = std::fs::remove_dir_all(&data_dir);
    result
}

impl Stack {
    pub fn start(options: &StackOptions, origin_runner: &Path) -> Result<Stack, String> {
        let mut vars = dev_vars()?;
        vars.extend(options.overrides.iter().cloned());
        let edge_origin = format!("http://127.0.0.1:{}", options.edge_port);
        let s3_endpoint = format!("http://127.0.0.1:{}", options.s3_port);
        let data = &options.data_dir;
        let logs = data.join("logs");
        std::fs::create_dir_all(&logs).map_err(|e| format!("create {}: {e}", logs.display()))?;

        println!("  ..  SeaweedFS (S3) on {s3_endpoint}");
        let s3 = SeaweedFs::launch(SeaweedOptions {
            data_dir: Some(data.join("seaweedfs")),
            s3_port: Some(options.s3_port),
            allowed_origins: vec![
                edge_origin.clone(),
                format!("http://localhost:{}", options.edge_port),
            ],
            credentials: Some((
                lookup(&vars, "S3_ACCESS_KEY_ID")?.to_string(),
                lookup(&vars, "S3_SECRET_ACCESS_KEY")?.to_string(),
            )),
        })?;

        // wrangler reads secrets from an env file: the dev vars plus this run's overrides.
        let wrangler_state = data.join("wrangler");
        let env_file = data.join("dev.vars");
        let env_text: String = vars.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
        std::fs::write(&env_file, env_text)
            .map_err(|e| format!("write {}: {e}", env_file.display()))?;

        println!("  ..  D1 migrations (local)");
        status(
            cmd("wrangler")
                .args(["d1", "migrations", "apply", "DB", "--local", "--persist-to"])
                .arg(&wrangler_state),
        )?;

        // The app's CSP names this stack's S3 origin (uploads and playback go straight there).
        let web_headers = WebHeaders::local(options.s3_port);
        let staged_web = if options.web_in_place {
            headers::write_in_place(&web_headers)?;
            None
        } else {
            Some(headers::stage(&web_headers, &data.join("web"))?)
        };

        println!("  ..  origin runner (FFmpeg)");
        let mut runner = Command::new(origin_runner);
        runner
            .current_dir(root())
            .env("S3_ENDPOINT", &s3_endpoint)
            .env("S3_REGION", "us-east-1")
            .env("S3_ACCESS_KEY_ID", lookup(&vars, "S3_ACCESS_KEY_ID")?)
            .env(
                "S3_SECRET_ACCESS_KEY",
                lookup(&vars, "S3_SECRET_ACCESS_KEY")?,
            )
            .env("INCOMING_BUCKET", "incoming")
            .env("MEDIA_BUCKET", "media")
            .env("EDGE_URL", &edge_origin)
            .env("WEBHOOK_SECRET", lookup(&vars, "WEBHOOK_SECRET")?)
            .env("ORIGIN_STATE_DIR", data.join("origin"))
            .env("FILER_ADDRESS", &s3.filer_address)
            .env("WEED_BIN", &s3.weed);
        let origin = Supervised::spawn("origin runner", &runner, &logs.join("origin.log"), None);

        println!("  ..  the Worker in wrangler dev on {edge_origin}");
        let mut wrangler = cmd("wrangler");
        if options.prebuilt_worker {
            // wrangler.toml's build command does nothing with this set.
            wrangler.env("EDGEVID_WORKER_PREBUILT", "1");
        }
        wrangler
            .args(["dev", "--ip", "127.0.0.1", "--port"])
            .arg(options.edge_port.to_string())
            .arg("--inspector-port")
            .arg(testkit::free_port().to_string())
            .arg("--persist-to")
            .arg(&wrangler_state)
            .arg("--env-file")
            .arg(&env_file)
            .args([
                // GET /__scheduled runs the Cron Trigger's handler (the e2e suite calls it).
                "--test-scheduled",
                "--show-interactive-dev-session=false",
                "--log-level",
                "info",
            ])
            .arg("--var")
            .arg(format!("S3_ENDPOINT:{s3_endpoint}"))
            .arg("--var")
            .arg(format!(
                "ALLOWED_ORIGINS:{edge_origin},http://localhost:{}",
                options.edge_port
            ));
        if let Some(dir) = &staged_web {
            wrangler.arg("--assets").arg(dir);
        }
        let edge = Supervised::spawn("wrangler dev", &wrangler, &logs.join("wrangler.log"), None);
        wait_for_health(&edge, options.edge_port)?;
        if !origin.is_running() {
            return Err(format!(
                "the origin runner stopped; its log:\n{}",
                origin.tail()
            ));
        }
        Ok(Stack {
            base_url: edge_origin,
            edge_port: options.edge_port,
            webhook_secret: lookup(&vars, "WEBHOOK_SECRET")?.to_string(),
            s3,
            admin_email: lookup(&vars, "DEV_ADMIN_EMAIL")?.to_string(),
            admin_password: lookup(&vars, "DEV_ADMIN_PASSWORD")?.to_string(),
            edge,
            origin,
            edge_command: wrangler,
        })
    }

    /// Stops the Worker and starts it again on the same port and local D1, as a crash and a
    /// restart (or a deploy) would; returns once it answers again.
    pub fn restart_edge(&mut self) -> Result<(), String> {
        self.edge.restart(&self.edge_command);
        wait_for_health(&self.edge, self.edge_port)
    }

    /// The project venv's AWS CLI on this stack's S3 with the dev keys, nothing from ~/.aws:
    /// how the tools here look at the buckets as any S3 client would (botocore signs).
    pub fn aws_cli(&self) -> Result<Command, String> {
        let mut aws = cmd(crate::run::venv_tool("aws"));
        aws.args(["--endpoint-url", &self.s3.s3_endpoint])
            .envs(aws_env()?)
            .env_remove("AWS_PROFILE");
        Ok(aws)
    }

    /// The first part that stopped, with its log, if any did.
    pub fn failed_part(&self) -> Option<String> {
        if !self.s3.is_running() {
            return Some("SeaweedFS stopped".into());
        }
        [&self.edge, &self.origin]
            .into_iter()
            .find(|p| !p.is_running())
            .map(|p| format!("{} stopped; its log:\n{}", p.name(), p.tail()))
    }
}

/// Until the Worker answers 200, or answers with our own JSON error (a setting it refuses:
/// waiting longer changes nothing). The time allows wrangler's own first build (the dev stack).
fn wait_for_health(edge: &Supervised, port: u16) -> Result<(), String> {
    let mut refusal = None;
    edge.wait_until(
        Duration::from_secs(1200),
        "answering /api/health",
        || match testkit::http_get(port, "/api/health", &[]) {
            Some((200, _)) => true,
            Some((_, body)) if body.contains("\"success\":false") => {
                refusal = Some(body);
                true
            }
            _ => false,
        },
    )?;
    match refusal {
        Some(body) => Err(format!(
            "the Worker refuses to start: {body}; its log:\n{}",
            edge.tail()
        )),
        None => Ok(()),
    }
}

/// The environment that points the AWS CLI (or any AWS SDK) at the dev S3 identity.
pub fn aws_env() -> Result<Vec<(String, String)>, String> {
    let vars = dev_vars()?;
    Ok(vec![
        (
            "AWS_ACCESS_KEY_ID".into(),
            lookup(&vars, "S3_ACCESS_KEY_ID")?.into(),
        ),
        (
            "AWS_SECRET_ACCESS_KEY".into(),
            lookup(&vars, "S3_SECRET_ACCESS_KEY")?.into(),
        ),
        ("AWS_DEFAULT_REGION".into(), "us-east-1".into()),
        ("AWS_CONFIG_FILE".into(), "/dev/null".into()),
        ("AWS_SHARED_CREDENTIALS_FILE".into(), "/dev/null".into()),
    ])
}
