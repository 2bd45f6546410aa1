//! The local runner reacts to an upload as it lands, not at its next poll: SeaweedFS's filer
//! change feed wakes the poller. Here the poll interval is an hour, so only the feed can
//! start the conversion within the test's time.

mod common;

use std::time::Duration;

use common::{Edge, put_file};
use model::{ObjectKey, VideoContainer};
use origin::media::Caps;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_is_converted_without_waiting_for_a_poll() {
    let weed = testkit::SeaweedFs::shared();
    let edge = Edge::start();
    let dir = testkit::temp_dir("origin-wakeup");
    let mut config = common::local::config(&edge, dir.join("state"), Caps::default());
    config.poll_interval = Duration::from_secs(3600);
    let _running = origin::local::start(config).unwrap();
    let clip = common::clip(
        &dir,
        "in.mp4",
        "320x240",
        1,
        &["-c:v", "libx264", "-c:a", "aac", "-movflags", "+faststart"],
    );
    // After the runner's first poll, so that poll cannot be what finds it.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let store = common::store(&weed.s3_endpoint);
    let id = common::video_id();
    let source = ObjectKey::source(&id, VideoContainer::from_extension("mp4").unwrap());
    put_file(&store, "incoming", &source, &clip).await;

    let ready = tokio::task::spawn_blocking(move || edge.wait_final(&id, Duration::from_secs(60)))
        .await
        .unwrap();
    assert_eq!(ready["status"], "ready", "{ready}");
}
