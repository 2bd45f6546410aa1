//! `origin-local` killed in the middle of a conversion (SIGKILL, FFmpeg and all) and started
//! again: the job is redone and finished, with its outputs once and one logical `ready`; the
//! source stays until then.

mod common;

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::fakes::bucket;
use common::{Edge, WEBHOOK_SECRET, put_file, wait_for};
use model::storage::KeyPrefix;
use model::{ObjectKey, VideoContainer};
use origin::local::{Stage, StateDir};
use origin::store::ObjectStore;

fn start_runner(weed: &testkit::SeaweedFs, edge: &Edge, state: &Path, log: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_origin-local"))
        .env("S3_ENDPOINT", &weed.s3_endpoint)
        .env("S3_REGION", testkit::S3_REGION)
        .env("S3_ACCESS_KEY_ID", testkit::S3_ACCESS_KEY)
        .env("S3_SECRET_ACCESS_KEY", testkit::S3_SECRET_KEY)
        .env("INCOMING_BUCKET", "incoming")
        .env("MEDIA_BUCKET", "media")
        .env("EDGE_URL", &edge.url)
        .env("WEBHOOK_SECRET", WEBHOOK_SECRET)
        .env("ORIGIN_STATE_DIR", state)
        .env("POLL_INTERVAL_MS", "200")
        // A slow preset, so that the kill lands while FFmpeg is still at work.
        .env("FFMPEG_PRESET", "slow")
        .env("FFMPEG_BIN", testkit::tool("ffmpeg"))
        .env("FFPROBE_BIN", testkit::tool("ffprobe"))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(log).unwrap())
        .stderr(Stdio::inherit())
        // Its own process group, so one signal reaches the runner and its FFmpeg.
        .process_group(0)
        .spawn()
        .expect("start origin-local")
}

fn kill_group(child: &mut Child, signal: &str) {
    let status = Command::new("kill")
        .args([signal, "--", &format!("-{}", child.id())])
        .status()
        .unwrap();
    assert!(status.success());
    child.wait().unwrap();
}

#[test]
fn a_runner_killed_mid_job_redoes_it_on_restart_without_a_second_output() {
    let weed = testkit::SeaweedFs::shared();
    let edge = Edge::start();
    let dir = testkit::temp_dir("origin-restart");
    let state_dir = dir.join("state");
    let clip = common::clip(
        &dir,
        "in.avi",
        "640x360",
        10,
        &["-c:v", "mpeg4", "-c:a", "pcm_s16le"],
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let store = common::store(&weed.s3_endpoint);
    let id = common::video_id();
    let source = ObjectKey::source(&id, VideoContainer::from_extension("avi").unwrap());
    rt.block_on(put_file(&store, "incoming", &source, &clip));

    let mut first = start_runner(weed, &edge, &state_dir, &dir.join("first.log"));
    let state = StateDir::open(&state_dir).unwrap();
    let token = wait_for("the job to be converting", Duration::from_secs(60), || {
        state
            .jobs()
            .into_iter()
            .find(|r| r.spec.video_id == id && r.stage == Stage::Converting)
            .map(|r| r.spec.token)
    });
    // Let FFmpeg get going, then pull the plug.
    wait_for("some progress", Duration::from_secs(60), || {
        edge.for_video(&id)
            .iter()
            .any(|e| e["progress"].as_u64().is_some_and(|p| p >= 10))
            .then_some(())
    });
    kill_group(&mut first, "-KILL");
    assert_eq!(
        state.load(&token).unwrap().stage,
        Stage::Converting,
        "killed mid-conversion"
    );
    let before = rt
        .block_on(store.list(&bucket("media"), &KeyPrefix::outputs(&id)))
        .unwrap();
    assert!(
        before.is_empty(),
        "nothing was uploaded before the kill: {before:?}"
    );
    assert!(
        rt.block_on(store.head(&bucket("incoming"), &source))
            .unwrap()
            .is_some(),
        "the source stays until an output is verified"
    );

    let mut second = start_runner(weed, &edge, &state_dir, &dir.join("second.log"));
    let ready = edge.wait_final(&id, Duration::from_secs(300));
    kill_group(&mut second, "-INT");
    let log = std::fs::read_to_string(dir.join("second.log")).unwrap();
    assert!(log.contains("resumed after a restart"), "{log}");

    assert_eq!(ready["status"], "ready", "{ready}");
    assert_eq!(ready["hlsKey"], ObjectKey::hls_master(&id).as_str());
    let outputs: Vec<ObjectKey> = rt
        .block_on(store.list(&bucket("media"), &KeyPrefix::outputs(&id)))
        .unwrap()
        .into_iter()
        .map(|o| o.key)
        .collect();
    for key in [
        ObjectKey::mp4(&id),
        ObjectKey::hls_master(&id),
        ObjectKey::poster(&id),
    ] {
        assert!(outputs.contains(&key), "{key} in {outputs:?}");
    }
    assert_eq!(state.load(&token).unwrap().stage, Stage::Done);
    assert_eq!(
        state
            .jobs()
            .iter()
            .filter(|r| r.spec.video_id == id)
            .count(),
        1,
        "one job"
    );
    let ready_ids: std::collections::BTreeSet<String> = edge
        .for_video(&id)
        .iter()
        .filter(|e| e["status"] == "ready")
        .map(|e| e["eventId"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ready_ids.len(), 1, "one logical ready event");
    assert!(
        rt.block_on(store.head(&bucket("incoming"), &source))
            .unwrap()
            .is_none()
    );
    let out = dir.join("out.mp4");
    rt.block_on(store.download(&bucket("media"), &ObjectKey::mp4(&id), &out))
        .unwrap();
    let probe = common::ffprobe(&out);
    assert!(
        (common::duration_s(&probe) - common::duration_s(&common::ffprobe(&clip))).abs() <= 0.1
    );
}
