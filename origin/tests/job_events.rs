//! The MediaConvert `Job State Change` fixtures (COMPLETE, ERROR, PROGRESSING, STATUS_UPDATE)
//! through the handler, against a real SeaweedFS and a signature-checking edge receiver.

mod common;

use std::time::Duration;

use common::{Edge, WEBHOOK_SECRET, clip, put_file};
use origin::clock::SystemClock;
use origin::mediaconvert::{AwsEnv, JobDefaults, MediaConvert, client};
use origin::s3::S3Store;
use origin::store::ObjectStore;
use origin::webhook::{Backoff, HttpWebhook};
use origin::{Buckets, Error, Origin, Outcome};
use serde_json::Value;

const FIXTURE_VIDEO: &str = "0192f3a4-5b6c-7d8e-9f01-23456789abcd";

type TestOrigin = Origin<
    MediaConvert<S3Store<SystemClock>>,
    S3Store<SystemClock>,
    HttpWebhook<SystemClock>,
    SystemClock,
>;

fn origin(edge_url: &str, secret: &str) -> TestOrigin {
    let store = common::store(&testkit::SeaweedFs::shared().s3_endpoint);
    let aws = AwsEnv {
        access_key_id: "AKIDEXAMPLE".into(),
        secret_access_key: "secret".into(),
        session_token: None,
        region: "us-east-1".into(),
        // Job state changes never call MediaConvert; nothing listens here.
        endpoint: Some(format!("http://127.0.0.1:{}", testkit::free_port())),
    };
    let mut webhook = HttpWebhook::new(
        edge_url,
        secret.as_bytes(),
        reqwest::Client::new(),
        SystemClock,
    );
    webhook.backoff = Backoff {
        attempts: 3,
        base: Duration::from_millis(50),
        max: Duration::from_millis(200),
    };
    Origin {
        buckets: Buckets {
            incoming: "incoming".into(),
            media: "media".into(),
        },
        transcoder: MediaConvert {
            client: client(&aws),
            defaults: JobDefaults {
                role_arn: "arn:aws:iam::111122223333:role/mc".into(),
                queue_arn: None,
                qvbr_quality: 7,
                max_bitrate: 8_000_000,
            },
            store: store.clone(),
        },
        store,
        webhook,
        clock: SystemClock,
    }
}

/// A fixture with its video id replaced by a fresh one (tests share one SeaweedFS).
fn fixture(name: &str, video_id: &str) -> Value {
    let path = testkit::workspace_root().join("origin/fixtures").join(name);
    let text = std::fs::read_to_string(path)
        .unwrap()
        .replace(FIXTURE_VIDEO, video_id);
    serde_json::from_str(&text).unwrap()
}

fn source_key(id: &str) -> String {
    format!("uploads/{id}/source.mp4")
}

async fn put_source_and_output(id: &str, with_output: bool) {
    let store = common::store(&testkit::SeaweedFs::shared().s3_endpoint);
    let dir = testkit::temp_dir("origin-events");
    let file = clip(
        &dir,
        "v.mp4",
        "320x240",
        1,
        &["-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac"],
    );
    put_file(&store, "incoming", &source_key(id), &file).await;
    if with_output {
        put_file(&store, "media", &format!("videos/{id}/video.mp4"), &file).await;
    }
}

#[tokio::test]
async fn complete_verifies_the_output_deletes_the_source_then_reports_ready() {
    let edge = Edge::start();
    let origin = origin(&edge.url, WEBHOOK_SECRET);
    let id = common::video_id();
    put_source_and_output(&id, true).await;

    let event = fixture("mediaconvert-complete.json", &id);
    let outcome = origin.handle(event.clone()).await.unwrap();
    let output_key = format!("videos/{id}/video.mp4");
    assert_eq!(
        outcome,
        [Outcome::Ready {
            video_id: id.clone(),
            output_key: output_key.clone()
        }]
    );
    assert_eq!(
        origin
            .store
            .head("incoming", &source_key(&id))
            .await
            .unwrap(),
        None,
        "source deleted"
    );
    assert!(
        origin
            .store
            .head("media", &output_key)
            .await
            .unwrap()
            .is_some_and(|m| m.size > 0)
    );

    let events = edge.for_video(&id);
    assert_eq!(events.len(), 1);
    let ready = &events[0];
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["eventId"], "1735787165123-abc123:ready");
    assert_eq!(
        (
            ready["durationMs"].as_u64(),
            ready["width"].as_u64(),
            ready["height"].as_u64()
        ),
        (Some(3000), Some(320), Some(240))
    );
    assert_eq!(ready["outputKey"], output_key.as_str());
    assert!(ready["occurredAt"].as_str().unwrap().ends_with('Z'));

    // EventBridge delivers at least once: the replay repeats the same event id, harmlessly.
    let again = origin.handle(event).await.unwrap();
    assert_eq!(again, outcome);
    let events = edge.for_video(&id);
    assert_eq!(events.len(), 2);
    assert_eq!(events[1]["eventId"], events[0]["eventId"]);
}

#[tokio::test]
async fn complete_without_an_output_fails_and_keeps_the_source() {
    let edge = Edge::start();
    let origin = origin(&edge.url, WEBHOOK_SECRET);
    let id = common::video_id();
    put_source_and_output(&id, false).await;
    let outcome = origin
        .handle(fixture("mediaconvert-complete.json", &id))
        .await
        .unwrap();
    assert_eq!(
        outcome,
        [Outcome::Failed {
            video_id: id.clone(),
            code: "output_missing".into()
        }]
    );
    assert!(
        origin
            .store
            .head("incoming", &source_key(&id))
            .await
            .unwrap()
            .is_some(),
        "source kept"
    );
    let events = edge.for_video(&id);
    assert_eq!(events[0]["status"], "failed");
    assert_eq!(events[0]["error"]["code"], "output_missing");
}

#[tokio::test]
async fn error_keeps_the_source_and_reports_mediaconverts_code_and_message() {
    let edge = Edge::start();
    let origin = origin(&edge.url, WEBHOOK_SECRET);
    let id = common::video_id();
    put_source_and_output(&id, false).await;
    let outcome = origin
        .handle(fixture("mediaconvert-error.json", &id))
        .await
        .unwrap();
    assert_eq!(
        outcome,
        [Outcome::Failed {
            video_id: id.clone(),
            code: "mediaconvert_1010".into()
        }]
    );
    assert!(
        origin
            .store
            .head("incoming", &source_key(&id))
            .await
            .unwrap()
            .is_some(),
        "source kept"
    );
    let failed = &edge.for_video(&id)[0];
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["eventId"], "1735787165123-abc123:failed");
    assert_eq!(failed["error"]["code"], "mediaconvert_1010");
    assert!(
        failed["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Unable to open input file")
    );
}

#[tokio::test]
async fn progressing_and_status_update_report_progress() {
    let edge = Edge::start();
    let origin = origin(&edge.url, WEBHOOK_SECRET);
    let id = common::video_id();
    let p = origin
        .handle(fixture("mediaconvert-progressing.json", &id))
        .await
        .unwrap();
    assert_eq!(
        p,
        [Outcome::Progress {
            video_id: id.clone(),
            progress: None
        }]
    );
    let s = origin
        .handle(fixture("mediaconvert-status-update.json", &id))
        .await
        .unwrap();
    assert_eq!(
        s,
        [Outcome::Progress {
            video_id: id.clone(),
            progress: Some(7)
        }]
    );
    let events = edge.for_video(&id);
    assert_eq!(events.len(), 2);
    assert!(events.iter().all(|e| e["status"] == "processing"));
    assert!(events[0].get("progress").is_none());
    assert_eq!(events[1]["progress"], 7);
    assert_ne!(events[0]["eventId"], events[1]["eventId"]);
}

#[tokio::test]
async fn a_late_duplicate_upload_event_after_the_source_is_gone_does_nothing() {
    let edge = Edge::start();
    let origin = origin(&edge.url, WEBHOOK_SECRET);
    let id = common::video_id();
    // The source was converted and deleted already: the redelivered notification finds nothing.
    let outcome = origin.handle(fixture("s3-put.json", &id)).await.unwrap();
    assert_eq!(
        outcome,
        [Outcome::SourceGone {
            key: source_key(&id)
        }]
    );
    assert!(
        edge.for_video(&id).is_empty(),
        "no event may undo a `ready`"
    );
}

#[tokio::test]
async fn webhook_errors_are_classified() {
    let id = common::video_id();
    // A wrong secret: the edge answers 401, which retrying cannot fix.
    let edge = Edge::start();
    let refused = origin(&edge.url, "not-the-secret");
    let err = refused
        .handle(fixture("mediaconvert-progressing.json", &id))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Webhook {
                retryable: false,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(edge.events.lock().unwrap().len(), 1, "a 4xx is not retried");

    // Nobody listening: retried with backoff, then handed back as retryable (AWS redelivers).
    let unreachable = origin(
        &format!("http://127.0.0.1:{}", testkit::free_port()),
        WEBHOOK_SECRET,
    );
    let err = unreachable
        .handle(fixture("mediaconvert-progressing.json", &id))
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "{err}");

    // Not our event at all.
    let err = refused
        .handle(serde_json::json!({"detail-type": "Something Else", "source": "x", "detail": {}}))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::BadEvent(_)) && !err.is_retryable());
}
