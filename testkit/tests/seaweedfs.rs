//! The SeaweedFS the suites rely on starts, answers on loopback, and leaves nothing behind.

use testkit::SeaweedFs;

#[test]
fn starts_with_buckets_and_cleans_up() {
    let weed = SeaweedFs::start(&[]);
    assert!(weed.s3_endpoint.starts_with("http://127.0.0.1:"));
    let dir = weed.dir.clone();
    assert!(dir.join("identities.json").is_file());
    drop(weed);
    assert!(!dir.exists(), "the data directory is removed on drop");
}

#[test]
fn two_instances_run_side_by_side() {
    let a = SeaweedFs::start(&[]);
    let b = SeaweedFs::start(&["http://127.0.0.1:8787"]);
    assert_ne!(a.s3_port, b.s3_port);
}
