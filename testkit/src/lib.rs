//! Test support shared by the workspace's suites: finds the tools `cargo xtask test` installs
//! and starts real services (SeaweedFS) on loopback. Nothing here is a mock.

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

/// The workspace's root directory.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("testkit lives one level below the workspace root")
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

/// A TCP port that was free on 127.0.0.1 a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind an ephemeral port on 127.0.0.1")
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

/// A real SeaweedFS (`weed mini`) on loopback with the buckets in [`BUCKETS`] and the dev
/// identities. It stops, and its data directory is removed, when this value is dropped or
/// when the test process exits (the supervising shell watches our pipe).
#[derive(Debug)]
pub struct SeaweedFs {
    /// `http://127.0.0.1:<port>`: the S3 API.
    pub s3_endpoint: String,
    pub s3_port: u16,
    /// The filer's HTTP port (metadata, `weed filer.meta.tail`).
    pub filer_port: u16,
    pub dir: PathBuf,
    supervisor: Child,
}

impl SeaweedFs {
    /// One instance per test process, started on first use.
    pub fn shared() -> &'static SeaweedFs {
        static SHARED: OnceLock<SeaweedFs> = OnceLock::new();
        SHARED.get_or_init(|| SeaweedFs::start(&[]))
    }

    /// A new instance; `allowed_origins` become its S3 CORS origins (empty: any origin).
    pub fn start(allowed_origins: &[&str]) -> SeaweedFs {
        let weed = tool("weed");
        let dir = temp_dir("weed");
        let config = dir.join("identities.json");
        std::fs::write(&config, identities_json()).expect("write identities.json");
        let data = dir.join("data");
        std::fs::create_dir_all(&data).expect("create data dir");

        let ports: Vec<u16> = (0..10).map(|_| free_port()).collect();
        let [master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc, admin, admin_grpc] =
            ports[..]
        else {
            unreachable!("ten ports were taken")
        };
        let origins = if allowed_origins.is_empty() {
            "*".to_string()
        } else {
            allowed_origins.join(",")
        };
        let args = [
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
        ];
        let log = dir.join("weed.log");
        // The shell keeps weed alive while our end of its stdin is open; when this process
        // exits (even by a panic or a kill), `cat` sees EOF and the shell cleans up.
        let supervisor = Command::new("sh")
            .arg("-c")
            .arg(r#"dir=$1; log=$2; shift 2; "$@" >"$log" 2>&1 & w=$!; cat >/dev/null; kill $w 2>/dev/null; wait $w; rm -rf "$dir""#)
            .arg("sh")
            .arg(&dir)
            .arg(&log)
            .arg(&weed)
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", weed.display()));
        let server = SeaweedFs {
            s3_endpoint: format!("http://127.0.0.1:{s3}"),
            s3_port: s3,
            filer_port: filer,
            dir,
            supervisor,
        };
        server.wait_ready(&log);
        server
    }

    fn wait_ready(&self, log: &Path) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            let s3_up = http_get(self.s3_port, "/", &[]).is_some();
            let buckets = http_get(self.filer_port, "/buckets/", &[("Accept", "application/json")]);
            if s3_up
                && buckets.is_some_and(|body| {
                    BUCKETS.iter().all(|b| body.contains(&format!("\"/buckets/{b}\"")))
                })
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let log = std::fs::read(log).unwrap_or_default();
        let log = String::from_utf8_lossy(&log).replace('\0', "");
        panic!("SeaweedFS did not become ready within 60 s; its log:\n{log}");
    }
}

impl Drop for SeaweedFs {
    fn drop(&mut self) {
        // Closing stdin tells the supervising shell to stop weed and remove the data.
        drop(self.supervisor.stdin.take());
        let _ = self.supervisor.wait();
    }
}

fn identities_json() -> String {
    let identity = |name: &str, access: &str, secret: &str| {
        format!(
            r#"{{"name":"{name}","credentials":[{{"accessKey":"{access}","secretKey":"{secret}"}}],"actions":["Admin","Read","Write","List","Tagging"]}}"#
        )
    };
    format!(
        r#"{{"identities":[{},{}]}}"#,
        identity("dev", S3_ACCESS_KEY, S3_SECRET_KEY),
        identity("other", S3_OTHER_ACCESS_KEY, S3_OTHER_SECRET_KEY)
    )
}

/// A minimal HTTP/1.0 GET on loopback: the body when the server answered at all.
fn http_get(port: u16, path: &str, headers: &[(&str, &str)]) -> Option<String> {
    let mut stream =
        TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(1)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    let mut request = format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).ok()?;
    let text = String::from_utf8_lossy(&response);
    let (head, body) = text.split_once("\r\n\r\n")?;
    head.starts_with("HTTP/").then(|| body.to_string())
}
