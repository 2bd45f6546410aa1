//! Shared by the oracle tests: runs one script of `tests/oracles/` in the project venv with a
//! JSON document on stdin and returns the JSON it prints. One process per test, all cases at
//! once: Python starts in ~100 ms, and hundreds of starts would dominate the suite.

use std::io::Write;
use std::process::{Command, Stdio};

pub fn run_oracle(script: &str, input: &serde_json::Value) -> serde_json::Value {
    let path = testkit::workspace_root()
        .join("signer/tests/oracles")
        .join(script);
    let mut child = Command::new(testkit::python())
        .arg(&path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}", path.display()));
    let mut stdin = child.stdin.take().expect("piped stdin");
    stdin
        .write_all(input.to_string().as_bytes())
        .expect("write the oracle's input");
    drop(stdin);
    let output = child.wait_with_output().expect("wait for the oracle");
    assert!(
        output.status.success(),
        "{script} failed ({}); is requirements-dev.txt installed in .venv?\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "{script} printed no JSON ({e}):\n{}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}
