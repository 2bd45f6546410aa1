//! Real local services for the workspace's tests and for `cargo xtask dev|test`: finds the
//! tools `cargo xtask` installs, runs SeaweedFS on loopback, and supervises child processes
//! so that none outlives its owner. Nothing here is a mock. std only.

mod fault_proxy;
mod seaweedfs;
mod supervised;

pub use fault_proxy::{Fault, FaultProxy};
pub use seaweedfs::{SeaweedFs, SeaweedOptions};
pub use supervised::Supervised;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

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

/// Where servers in tests listen: below Linux's ephemeral range (32768–60999 by default),
/// so that no outgoing connection is ever given one of these ports by the kernel, not even
/// while a server restarts on its port; and above the usual development ports (8787, 8333).
const LISTEN_PORTS: std::ops::Range<u16> = 20_000..32_000;

/// A TCP port that was free on 127.0.0.1 a moment ago, outside the kernel's ephemeral
/// range. Each process walks the range from its own starting point (by pid), so that runs
/// side by side do not pick the same ports.
pub fn free_port() -> u16 {
    static NEXT: AtomicU32 = AtomicU32::new(u32::MAX);
    let span = u32::from(LISTEN_PORTS.end - LISTEN_PORTS.start);
    let _ = NEXT.compare_exchange(
        u32::MAX,
        std::process::id().wrapping_mul(7919) % span,
        Ordering::Relaxed,
        Ordering::Relaxed,
    );
    for _ in 0..span {
        let offset = NEXT.fetch_add(1, Ordering::Relaxed) % span;
        let port = LISTEN_PORTS.start + u16::try_from(offset).expect("span fits in u16");
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port in {LISTEN_PORTS:?} on 127.0.0.1")
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

/// Removes the temp dirs of processes that are gone (a test that panicked, or one that keeps
/// its files for a post-mortem, leaves them): `edgevid-{label}-{pid}-{n}` whose pid no longer
/// runs. Dirs of live processes (another run beside this one) stay.
pub fn remove_stale_temp_dirs() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|name| name.starts_with("edgevid-"))
            .and_then(|name| name.rsplit('-').nth(1))
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_ports_are_distinct_and_never_ephemeral() {
        let ports: Vec<u16> = (0..50).map(|_| free_port()).collect();
        let distinct: std::collections::BTreeSet<_> = ports.iter().collect();
        assert_eq!(distinct.len(), ports.len());
        let ephemeral = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
            .ok()
            .and_then(|range| {
                let mut bounds = range.split_whitespace().map(str::parse::<u16>);
                Some((bounds.next()?.ok()?, bounds.next()?.ok()?))
            })
            .unwrap_or((32_768, 60_999));
        for port in ports {
            assert!(LISTEN_PORTS.contains(&port), "{port}");
            assert!(!(ephemeral.0..=ephemeral.1).contains(&port), "{port}");
        }
    }

    #[test]
    fn stale_temp_dirs_go_and_live_ones_stay() {
        // Above Linux's largest pid: no such process can run.
        let stale = std::env::temp_dir().join("edgevid-stale-test-4294967294-0");
        std::fs::create_dir_all(stale.join("inside")).unwrap();
        let live = temp_dir("live-test");
        remove_stale_temp_dirs();
        assert!(!stale.exists());
        assert!(live.exists());
        std::fs::remove_dir_all(live).unwrap();
    }
}
