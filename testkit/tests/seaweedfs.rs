//! The SeaweedFS the suites rely on starts, answers on loopback, and leaves nothing behind;
//! supervised processes never outlive their owner.

use std::process::Command;
use std::time::Duration;
use testkit::{SeaweedFs, Supervised};

#[test]
fn starts_with_buckets_and_cleans_up() {
    let weed = SeaweedFs::start(&[]);
    assert!(weed.s3_endpoint.starts_with("http://127.0.0.1:"));
    let dir = weed.dir.clone();
    assert!(dir.join("identities.json").is_file());
    let port = weed.s3_port;
    drop(weed);
    assert!(!dir.exists(), "the data directory is removed on drop");
    assert!(!testkit::port_in_use(port), "the S3 port is free again");
}

#[test]
fn two_instances_run_side_by_side() {
    let a = SeaweedFs::start(&[]);
    let b = SeaweedFs::start(&["http://127.0.0.1:8787"]);
    assert_ne!(a.s3_port, b.s3_port);
}

#[test]
fn supervised_process_groups_stop_with_their_owner() {
    let dir = testkit::temp_dir("supervised");
    // A parent that starts a grandchild: both must stop.
    let mut command = Command::new("sh");
    command.args(["-c", "sleep 300 & echo started; wait"]);
    let process = Supervised::spawn("sleeper", &command, &dir.join("log"), Some(&dir));
    process
        .wait_until(Duration::from_secs(10), "started", || {
            process.log().contains("started")
        })
        .unwrap();
    assert!(process.is_running());
    drop(process);
    let leftover = Command::new("pgrep")
        .args(["-f", "sleep 300"])
        .output()
        .unwrap();
    assert!(
        leftover.stdout.is_empty(),
        "no orphan: {}",
        String::from_utf8_lossy(&leftover.stdout)
    );
    assert!(!dir.exists());
}

#[test]
fn a_process_that_exits_is_reported_with_its_log() {
    let dir = testkit::temp_dir("exits");
    let mut command = Command::new("sh");
    command.args(["-c", "echo boom; exit 3"]);
    let process = Supervised::spawn("crasher", &command, &dir.join("log"), Some(&dir));
    let error = process
        .wait_until(Duration::from_secs(10), "ready", || false)
        .unwrap_err();
    assert!(
        error.contains("crasher exited before ready") && error.contains("boom"),
        "{error}"
    );
}
