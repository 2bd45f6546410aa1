//! The handler's branches on in-memory ports: S3 notifications (probe, plan, submit, or the
//! reasons not to), and the MediaConvert `Job State Change` fixtures (COMPLETE, ERROR,
//! CANCELED, PROGRESSING, STATUS_UPDATE). The webhook's HTTP behaviour is tested last, against
//! a signature-checking edge receiver.

mod common;

use common::fakes::{ProbeAnswer, TestOrigin, bucket};
use common::{Edge, WEBHOOK_SECRET, fixture, mp4_source, video_id};
use model::{ObjectKey, VideoId};
use origin::clock::SystemClock;
use origin::retry::Backoff;
use origin::webhook::HttpWebhook;
use origin::{Error, Outcome, Plan};
use serde_json::{Value, json};
use std::time::Duration;

/// A handler whose video has its source uploaded (and its output, when `with_output`).
fn with_source(with_output: bool) -> (TestOrigin, VideoId) {
    let test = TestOrigin::new();
    let id = video_id();
    test.store
        .put(&bucket("incoming"), &mp4_source(&id), b"source bytes");
    if with_output {
        test.store
            .put(&bucket("media"), &ObjectKey::mp4(&id), b"output bytes");
    }
    (test, id)
}

fn source_kept(test: &TestOrigin, id: &VideoId) -> bool {
    test.store
        .get(&bucket("incoming"), &mp4_source(id))
        .is_some()
}

#[tokio::test]
async fn an_upload_is_probed_planned_and_submitted_once_per_object_version() {
    let (test, id) = with_source(false);
    let event = fixture("s3-put.json", Some(&id));
    let outcome = test.handle(event.clone()).await.unwrap();
    assert!(
        matches!(&outcome[..], [Outcome::Submitted { video_id, plan: Plan::Remux, .. }] if *video_id == id),
        "{outcome:?}"
    );
    let spec = &test.submitted()[0];
    assert_eq!(spec.output_key, ObjectKey::mp4(&id));
    assert_eq!(spec.source.key, mp4_source(&id));
    assert_eq!(spec.token, spec.source.token());
    // At-least-once delivery: the same object version gives the same token, so one job.
    let again = test.handle(event).await.unwrap();
    assert_eq!(again, outcome);
    assert_eq!(test.submitted()[1].token, spec.token);
    assert!(test.sent().is_empty(), "submitting tells the edge nothing");
}

#[tokio::test]
async fn what_is_not_an_upload_source_is_ignored() {
    let test = TestOrigin::new();
    for key in [
        "uploads/not-a-video-id/source.mp4",
        "thumbnails/x.jpg",
        "uploads/0192f3a4-5b6c-7d8e-9f01-23456789abcd/notes.txt",
    ] {
        let mut event = fixture("s3-put.json", None);
        event["Records"][0]["s3"]["object"]["key"] = key.into();
        let outcome = test.handle(event).await.unwrap();
        assert!(
            matches!(&outcome[..], [Outcome::Ignored { .. }]),
            "{key}: {outcome:?}"
        );
    }
    let mut elsewhere = fixture("s3-put.json", None);
    elsewhere["Records"][0]["s3"]["bucket"]["name"] = "media".into();
    assert!(matches!(
        &test.handle(elsewhere).await.unwrap()[..],
        [Outcome::Ignored { .. }]
    ));
    assert!(test.submitted().is_empty());
}

#[tokio::test]
async fn an_upload_that_is_not_media_fails_with_the_reason_and_keeps_the_source() {
    let (test, id) = with_source(false);
    let test = test.probing_as(ProbeAnswer::NotMedia("moov atom not found".into()));
    let outcome = test
        .handle(fixture("s3-put.json", Some(&id)))
        .await
        .unwrap();
    assert!(
        matches!(&outcome[..], [Outcome::Failed { code, .. }] if code == "invalid_input"),
        "{outcome:?}"
    );
    let sent = test.sent();
    assert_eq!(sent[0]["status"], "failed");
    assert_eq!(sent[0]["error"]["message"], "moov atom not found");
    assert!(source_kept(&test, &id));
    assert!(test.submitted().is_empty());
}

#[tokio::test]
async fn a_late_duplicate_upload_event_after_the_source_is_gone_does_nothing() {
    let test = TestOrigin::new();
    let id = video_id();
    // The source was converted and deleted already: the redelivered notification finds nothing.
    let outcome = test
        .handle(fixture("s3-put.json", Some(&id)))
        .await
        .unwrap();
    assert_eq!(
        outcome,
        [Outcome::SourceGone {
            key: mp4_source(&id)
        }]
    );
    assert!(test.sent().is_empty(), "no event may undo a `ready`");
}

#[tokio::test]
async fn complete_verifies_the_output_deletes_the_source_then_reports_ready() {
    let (test, id) = with_source(true);
    let event = fixture("mediaconvert-complete.json", Some(&id));
    let outcome = test.handle(event.clone()).await.unwrap();
    assert_eq!(
        outcome,
        [Outcome::Ready {
            video_id: id.clone(),
            output_key: ObjectKey::mp4(&id)
        }]
    );
    assert!(!source_kept(&test, &id), "source deleted");
    let sent = test.sent();
    assert_eq!(sent.len(), 1);
    let ready = &sent[0];
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["eventId"], "1735787165123-abc123:ready");
    assert_eq!(
        (&ready["durationMs"], &ready["width"], &ready["height"]),
        (&json!(3000), &json!(320), &json!(240))
    );
    assert_eq!(ready["outputKey"], ObjectKey::mp4(&id).as_str());
    assert_eq!(ready["occurredAt"], "2025-01-02T03:06:05Z");

    // EventBridge delivers at least once: the replay repeats the same event id, harmlessly.
    assert_eq!(test.handle(event).await.unwrap(), outcome);
    let sent = test.sent();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1]["eventId"], sent[0]["eventId"]);
}

/// Job ends that cannot give a video: each fails with its code, and the source stays.
#[tokio::test]
async fn failed_job_ends_report_their_code_and_keep_the_source() {
    type Adjust = fn(&TestOrigin, &VideoId, &mut Value);
    let cases: [(&str, &str, bool, Adjust); 6] = [
        (
            "mediaconvert-complete.json",
            "output_missing",
            false,
            |_, _, _| {},
        ),
        (
            "mediaconvert-complete.json",
            "output_missing",
            true,
            |test, id, _| {
                test.store.put(&bucket("media"), &ObjectKey::mp4(id), b"");
            },
        ),
        (
            "mediaconvert-complete.json",
            "output_missing",
            true,
            |_, _, event| {
                event["detail"]["outputGroupDetails"][0]["outputDetails"][0]["outputFilePaths"] =
                    json!(["s3://media/videos/someone-else/video.mp4"]);
            },
        ),
        (
            "mediaconvert-complete.json",
            "output_missing",
            true,
            |_, _, event| {
                event["detail"]["outputGroupDetails"] = json!([]);
            },
        ),
        (
            "mediaconvert-error.json",
            "mediaconvert_1010",
            false,
            |_, _, _| {},
        ),
        (
            "mediaconvert-error.json",
            "job_canceled",
            false,
            |_, _, event| {
                event["detail"]["status"] = "CANCELED".into();
            },
        ),
    ];
    for (file, code, with_output, adjust) in cases {
        let (test, id) = with_source(with_output);
        let mut event = fixture(file, Some(&id));
        adjust(&test, &id, &mut event);
        let outcome = test.handle(event).await.unwrap();
        assert_eq!(
            outcome,
            [Outcome::Failed {
                video_id: id.clone(),
                code: code.into()
            }],
            "{file} → {code}"
        );
        assert!(source_kept(&test, &id), "{code}: source kept");
        let sent = test.sent();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0]["status"], "failed");
        assert_eq!(sent[0]["error"]["code"], code);
        assert_eq!(sent[0]["eventId"], "1735787165123-abc123:failed");
    }
    let (test, id) = with_source(false);
    test.handle(fixture("mediaconvert-error.json", Some(&id)))
        .await
        .unwrap();
    assert!(
        test.sent()[0]["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Unable to open input file")
    );
}

#[tokio::test]
async fn progressing_and_status_update_report_progress() {
    let test = TestOrigin::new();
    let id = video_id();
    for (file, progress) in [
        ("mediaconvert-progressing.json", None),
        ("mediaconvert-status-update.json", Some(7)),
    ] {
        let outcome = test.handle(fixture(file, Some(&id))).await.unwrap();
        assert_eq!(
            outcome,
            [Outcome::Progress {
                video_id: id.clone(),
                progress
            }]
        );
    }
    let sent = test.sent();
    assert_eq!(sent.len(), 2);
    assert!(sent.iter().all(|e| e["status"] == "processing"));
    assert!(sent[0].get("progress").is_none());
    assert_eq!(sent[1]["progress"], 7);
    assert_ne!(sent[0]["eventId"], sent[1]["eventId"]);
}

#[tokio::test]
async fn events_that_are_not_ours_are_ignored_or_refused() {
    let test = TestOrigin::new();
    let mut foreign = fixture("mediaconvert-complete.json", None);
    foreign["detail"]["userMetadata"] = json!({});
    assert!(matches!(
        &test.handle(foreign).await.unwrap()[..],
        [Outcome::Ignored { .. }]
    ));
    let err = test
        .handle(json!({"detail-type": "Something Else", "source": "x", "detail": {}}))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::BadEvent(_)) && !err.is_retryable());
    let mut bad_id = fixture("mediaconvert-progressing.json", None);
    bad_id["detail"]["userMetadata"]["videoId"] = "not-a-video".into();
    assert!(matches!(
        test.handle(bad_id).await.unwrap_err(),
        Error::BadEvent(_)
    ));
}

#[tokio::test]
async fn an_edge_that_cannot_take_the_event_hands_the_error_back() {
    let (test, id) = with_source(true);
    test.webhook
        .failures
        .lock()
        .unwrap()
        .push_back(Error::Webhook {
            message: "503".into(),
            retryable: true,
        });
    let err = test
        .handle(fixture("mediaconvert-complete.json", Some(&id)))
        .await
        .unwrap_err();
    assert!(err.is_retryable());
    // Redelivered, it finishes: every step before the report was idempotent.
    let outcome = test
        .handle(fixture("mediaconvert-complete.json", Some(&id)))
        .await
        .unwrap();
    assert!(matches!(&outcome[..], [Outcome::Ready { .. }]));
}

#[tokio::test]
async fn webhook_errors_are_classified() {
    let id = video_id();
    let event = model::job::JobEvent {
        event_id: "e1".into(),
        video_id: id.clone(),
        update: model::job::JobUpdate::Processing { progress: None },
        occurred_at: None,
    };
    let webhook = |url: &str, secret: &str| {
        let mut hook = HttpWebhook::new(
            url,
            secret.as_bytes().to_vec().into(),
            reqwest::Client::new(),
            SystemClock,
        );
        hook.backoff = Backoff {
            attempts: Some(3),
            base: Duration::from_millis(50),
            max: Duration::from_millis(200),
        };
        hook
    };
    use origin::webhook::WebhookSender;
    // A wrong secret: the edge answers 401, which retrying cannot fix.
    let edge = Edge::start();
    let err = webhook(&edge.url, "not-the-secret")
        .send(&event)
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
    // The right secret: delivered and verified.
    webhook(&edge.url, WEBHOOK_SECRET)
        .send(&event)
        .await
        .unwrap();
    let received = edge.events.lock().unwrap().clone();
    assert!(received.len() == 2 && received[1].signature_ok && !received[0].signature_ok);

    // Nobody listening: retried with backoff, then handed back as retryable (AWS redelivers).
    let unreachable = format!("http://127.0.0.1:{}", testkit::free_port());
    let err = webhook(&unreachable, WEBHOOK_SECRET)
        .send(&event)
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "{err}");
}
