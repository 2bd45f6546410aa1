//! The edge cannot take job events while a job finishes (it answers 503, as mid-deploy): the
//! job completes, its events wait in the outbox, and the edge receives them, in order, once
//! it takes them again. Without an acknowledgement the origin cannot know that the source is
//! no longer needed, so it keeps it until the edge acknowledges the final event; then it goes.

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use common::fakes::bucket;
use common::{Edge, put_file, wait_for};
use model::{ObjectKey, VideoContainer};
use origin::local::Stage;
use origin::media::Caps;
use origin::store::ObjectStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edge_that_cannot_take_events_gets_them_later() {
    let weed = testkit::SeaweedFs::shared();
    let edge = Edge::start();
    // Claims pass (the upload is converted); job events are refused until the end.
    edge.refusing_events.store(true, Ordering::Relaxed);
    let dir = testkit::temp_dir("origin-unreachable");
    let config = common::local::config(&edge, dir.join("state"), Caps::default());
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
            .is_some(),
        "no acknowledgement, so the source stays"
    );
    let outbox = running.origin.edge.clone();
    let waiting = outbox.pending().unwrap().len();
    assert!(
        waiting >= 2,
        "progress and ready wait in the outbox ({waiting} events)"
    );

    assert!(edge.for_video(&id).is_empty(), "nothing was taken");

    // The edge takes events again.
    edge.refusing_events.store(false, Ordering::Relaxed);
    let (edge2, id2) = (edge.clone(), id.clone());
    let ready =
        tokio::task::spawn_blocking(move || edge2.wait_final(&id2, Duration::from_secs(60)))
            .await
            .unwrap();
    assert_eq!(ready["status"], "ready");
    assert!(ready.get("hlsKey").is_some(), "{ready}");
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
    tokio::task::spawn_blocking(move || {
        wait_for("an empty outbox", Duration::from_secs(10), || {
            outbox.pending().unwrap().is_empty().then_some(())
        })
    })
    .await
    .unwrap();
    assert!(running.origin.edge.refused().unwrap().is_empty());
    // The final event's acknowledgement, delivered late, still frees the source.
    let (sources, incoming) = (store.clone(), bucket("incoming"));
    tokio::task::spawn_blocking(move || {
        wait_for(
            "the source to go once acknowledged",
            Duration::from_secs(10),
            || {
                let rt = tokio::runtime::Handle::current();
                rt.block_on(sources.head(&incoming, &source))
                    .unwrap()
                    .is_none()
                    .then_some(())
            },
        )
    })
    .await
    .unwrap();
}
