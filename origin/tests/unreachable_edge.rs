//! The edge is down while a job finishes: the job completes, its events wait in the outbox,
//! and the edge receives them, in order, once it is back.

mod common;

use std::time::Duration;

use common::fakes::bucket;
use common::{Edge, WEBHOOK_SECRET, put_file, wait_for};
use model::{ObjectKey, VideoContainer};
use origin::Buckets;
use origin::config::LocalConfig;
use origin::ffmpeg::Ffmpeg;
use origin::local::Stage;
use origin::store::ObjectStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_edge_gets_the_events_later() {
    let weed = testkit::SeaweedFs::shared();
    let port = testkit::free_port();
    let dir = testkit::temp_dir("origin-unreachable");
    let config = LocalConfig {
        s3: common::s3_config(&weed.s3_endpoint),
        region: testkit::S3_REGION.into(),
        buckets: Buckets {
            incoming: bucket("incoming"),
            media: bucket("media"),
        },
        edge_url: format!("http://127.0.0.1:{port}"),
        webhook_secret: WEBHOOK_SECRET.as_bytes().to_vec().into(),
        state_dir: dir.join("state"),
        poll_interval: Duration::from_millis(200),
        part_size: 5 << 20,
        ffmpeg: Ffmpeg::new(
            Some(testkit::tool("ffmpeg")),
            Some(testkit::tool("ffprobe")),
        ),
    };
    let running = origin::local::start(config).unwrap();
    let clip = common::clip(
        &dir,
        "in.webm",
        "320x240",
        2,
        &[
            "-c:v",
            "libvpx-vp9",
            "-deadline",
            "realtime",
            "-cpu-used",
            "8",
            "-c:a",
            "libopus",
        ],
    );
    let store = common::store(&weed.s3_endpoint);
    let id = common::video_id();
    let source = ObjectKey::source(&id, VideoContainer::from_extension("webm").unwrap());
    put_file(&store, "incoming", &source, &clip).await;

    let state = running.state.clone();
    let id2 = id.clone();
    tokio::task::spawn_blocking(move || {
        wait_for("the job to finish", Duration::from_secs(120), || {
            state
                .jobs()
                .into_iter()
                .find(|r| r.spec.video_id == id2 && r.stage == Stage::Done)
                .map(|_| ())
        })
    })
    .await
    .unwrap();
    assert!(
        store
            .head(&bucket("media"), &ObjectKey::mp4(&id))
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        store
            .head(&bucket("incoming"), &source)
            .await
            .unwrap()
            .is_none()
    );
    let outbox = std::fs::read_dir(running.state.outbox()).unwrap().count();
    assert!(
        outbox >= 2,
        "progress and ready wait in the outbox ({outbox} files)"
    );

    // The edge comes back on the same address.
    let edge = Edge::start_on(port);
    let (edge2, id2) = (edge.clone(), id.clone());
    let ready =
        tokio::task::spawn_blocking(move || edge2.wait_final(&id2, Duration::from_secs(60)))
            .await
            .unwrap();
    assert_eq!(ready["status"], "ready");
    let events = edge.for_video(&id);
    assert_eq!(
        events.last().unwrap()["status"],
        "ready",
        "delivered in order: {events:?}"
    );
    assert!(
        events[..events.len() - 1]
            .iter()
            .all(|e| e["status"] == "processing")
    );
    let running_state = running.state.clone();
    tokio::task::spawn_blocking(move || {
        wait_for("an empty outbox", Duration::from_secs(10), || {
            (std::fs::read_dir(running_state.outbox()).unwrap().count() == 0).then_some(())
        })
    })
    .await
    .unwrap();
}
