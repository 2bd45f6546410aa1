//! The handler's branches on in-memory ports: S3 notifications (claim, probe, plan, then a
//! copy or a job, or the reasons not to), and the MediaConvert `Job State Change` fixtures
//! (COMPLETE, ERROR, CANCELED, PROGRESSING, STATUS_UPDATE). The HTTP edge's behaviour is tested
//! last, against a signature-checking edge receiver. The streaming set's flows (a copy then
//! its ladder job, a job that made the MP4 first) are in `streaming_set.rs`.

mod common;

use common::fakes::{ProbeAnswer, TestOrigin, bucket};
use common::{Edge, WEBHOOK_SECRET, fixture, mp4_source, video_id};
use model::{ObjectKey, VideoId};
use origin::clock::{Clock, SystemClock};
use origin::edge::{Edge as _, HttpEdge};
use origin::retry::Backoff;
use origin::transcoder::{Makes, streams_token};
use origin::{Error, Outcome, Plan};
use serde_json::{Value, json};
use std::time::Duration;

/// The size the `s3-put.json` fixture reports.
const FIXTURE_SIZE: u64 = 1024;

/// A handler whose video has its source uploaded, as the edge expects it (and its output,
/// when `with_output`).
fn with_source(with_output: bool) -> (TestOrigin, VideoId) {
    let test = TestOrigin::new();
    let id = video_id();
    test.store
        .put(&bucket("incoming"), &mp4_source(&id), b"source bytes");
    test.expecting(&id, &mp4_source(&id), FIXTURE_SIZE);
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
    assert_eq!(spec.mp4, Some(ObjectKey::mp4(&id)));
    assert_eq!(
        spec.makes(),
        Makes::Mp4,
        "a remux makes its MP4 alone first: it plays in seconds, the ladder follows"
    );
    assert!(spec.streams.is_none());
    assert_eq!(spec.source.key, mp4_source(&id));
    assert_eq!(spec.token, spec.source.token());
    assert!(
        test.sent().is_empty(),
        "submitting reports nothing: the claim said it all"
    );
    // At-least-once delivery (a retry, a duplicate, a dead-letter replay): the claim the
    // first delivery recorded, with its job, starts nothing more.
    let again = test.handle(event).await.unwrap();
    assert_eq!(
        again,
        [Outcome::AlreadyStarted {
            video_id: id.clone(),
            job_id: "job-1".into()
        }]
    );
    assert_eq!(test.submitted().len(), 1, "one job");
}

#[tokio::test]
async fn an_upload_the_catalog_does_not_expect_is_not_converted() {
    let (test, id) = with_source(false);
    // Another size than the video declared (or deleted, or converted already).
    test.expecting(&id, &mp4_source(&id), FIXTURE_SIZE + 1);
    let outcome = test
        .handle(fixture("s3-put.json", Some(&id)))
        .await
        .unwrap();
    assert!(
        matches!(&outcome[..], [Outcome::NotExpected { video_id, .. }] if *video_id == id),
        "{outcome:?}"
    );
    assert!(test.submitted().is_empty());
    assert!(test.sent().is_empty());
    assert!(source_kept(&test, &id), "not ours to delete");
}

#[tokio::test]
async fn a_fast_start_mp4_is_copied_into_place_and_its_streaming_set_gets_a_job() {
    let (test, id) = with_source(false);
    let test = test.probing_as(ProbeAnswer::Media(fast_start()));
    let outcome = test
        .handle(fixture("s3-put.json", Some(&id)))
        .await
        .unwrap();
    assert_eq!(
        outcome,
        [Outcome::Ready {
            video_id: id.clone(),
            output_key: ObjectKey::mp4(&id)
        }]
    );
    assert_eq!(
        test.store
            .get(&bucket("media"), &ObjectKey::mp4(&id))
            .as_deref(),
        Some(&b"source bytes"[..]),
        "the bytes as uploaded"
    );
    let jobs = test.submitted();
    assert_eq!(
        jobs.len(),
        1,
        "no job for the MP4, one for its streaming set"
    );
    assert_eq!(jobs[0].makes(), Makes::Streams);
    assert_eq!(jobs[0].token, streams_token(&jobs[0].source.token()));
    let sent = test.sent();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0]["status"], "ready");
    assert!(
        sent[0].get("hlsKey").is_none(),
        "the ladder is still to come"
    );
    assert_eq!(
        (&sent[0]["width"], &sent[0]["height"]),
        (&json!(320), &json!(240))
    );
    assert_eq!(
        (&sent[1]["status"], &sent[1]["streams"], &sent[1]["eventId"]),
        (
            &json!("streams"),
            &json!("processing"),
            &json!("job-1:streams:progressing")
        )
    );
    assert!(
        source_kept(&test, &id),
        "kept: the streaming set is made from it"
    );
}

fn fast_start() -> origin::MediaInfo {
    let mut info = common::fakes::h264_aac_mp4(0);
    info.fast_start = Some(true);
    info
}

/// Whatever path makes a video ready, its source stays until the edge has acknowledged an
/// event after which nothing needs it: a lost report can be replayed from a source that
/// still exists.
#[tokio::test]
async fn the_source_stays_until_the_edge_says_nothing_needs_it() {
    for event in ["s3-put.json", "mediaconvert-complete.json"] {
        let (test, id) = with_source(true);
        let test = test.probing_as(ProbeAnswer::Media(fast_start()));
        test.store
            .put(&bucket("media"), &ObjectKey::hls_master(&id), b"#EXTM3U\n");
        test.edge.refuse_reports(true);
        let err = test.handle(fixture(event, Some(&id))).await.unwrap_err();
        assert!(err.is_retryable(), "{event}: {err}");
        assert!(source_kept(&test, &id), "{event}: the source stays");
        test.edge.refuse_reports(false);
        let outcome = test.handle(fixture(event, Some(&id))).await.unwrap();
        assert!(
            matches!(&outcome[..], [Outcome::Ready { .. }]),
            "{event}: {outcome:?}"
        );
        let copied = event == "s3-put.json";
        assert_eq!(
            source_kept(&test, &id),
            copied,
            "{event}: a copy's streaming set still needs it; one job made everything"
        );
    }
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

/// A source longer than the cap fails with the reason and keeps its source: at once when the
/// probe tells its duration, on its job's COMPLETE (MediaConvert's `durationInMs` of the MP4)
/// when the probe could not.
#[tokio::test]
async fn a_source_longer_than_the_cap_fails_before_or_after_its_job() {
    let (mut test, id) = with_source(false);
    test.origin.caps.max_duration_ms = 1000;
    let outcome = test
        .handle(fixture("s3-put.json", Some(&id)))
        .await
        .unwrap();
    assert!(
        matches!(&outcome[..], [Outcome::Failed { code, .. }] if code == "too_long"),
        "{outcome:?}"
    );
    let sent = test.sent();
    assert_eq!(
        (&sent[0]["status"], &sent[0]["error"]["message"]),
        (
            &json!("failed"),
            &json!("the video lasts 2 s, longer than the 1 s allowed")
        )
    );
    assert!(test.submitted().is_empty(), "nothing is converted");
    assert!(source_kept(&test, &id));

    // Its duration unknown before the job: the MP4 the job made (3 s) is held to the cap.
    let (mut test, id) = with_source(true);
    test.origin.caps.max_duration_ms = 2000;
    let mut complete = fixture("mediaconvert-complete.json", Some(&id));
    complete["detail"]["userMetadata"]["durationKnown"] = "false".into();
    let outcome = test.handle(complete.clone()).await.unwrap();
    assert!(
        matches!(&outcome[..], [Outcome::Failed { code, .. }] if code == "too_long"),
        "{outcome:?}"
    );
    let sent = test.sent();
    assert_eq!(sent[0]["eventId"], "1735787165123-abc123:failed");
    assert_eq!(
        sent[0]["error"]["message"],
        "the video lasts 3 s, longer than the 2 s allowed"
    );
    assert!(source_kept(&test, &id));
    // A duration checked before the job is not checked again (an encode may add a frame).
    let (mut test, id) = with_source(true);
    test.origin.caps.max_duration_ms = 2000;
    let outcome = test
        .handle(fixture("mediaconvert-complete.json", Some(&id)))
        .await
        .unwrap();
    assert!(
        matches!(&outcome[..], [Outcome::Ready { .. }]),
        "{outcome:?}"
    );
}

/// A picture larger than the cap: transcoded at the cap, never remuxed, its ladder planned
/// from the scaled picture (so no rendition is larger than either cap).
#[tokio::test]
async fn a_picture_larger_than_the_cap_is_transcoded_at_the_cap_with_its_ladder() {
    let (mut test, id) = with_source(false);
    // 320x240 landscape, the long side capped: 288x216.
    test.origin.caps.max_long_side = 288;
    test.origin.caps.max_short_side = 240;
    let outcome = test
        .handle(fixture("s3-put.json", Some(&id)))
        .await
        .unwrap();
    assert!(
        matches!(
            &outcome[..],
            [Outcome::Submitted {
                plan: Plan::Transcode,
                ..
            }]
        ),
        "{outcome:?}"
    );
    let spec = &test.submitted()[0];
    assert_eq!(spec.scaled_to, Some((288, 216)));
    assert_eq!(spec.makes(), Makes::All, "one job: the MP4 and its ladder");
    let top = spec.streams.as_ref().unwrap().variants[0];
    assert_eq!((top.width, top.height), (288, 216));
}

#[tokio::test]
async fn a_source_gone_before_it_was_probed_makes_no_job_and_no_report() {
    let test = TestOrigin::new();
    let id = video_id();
    // The edge still expects it, but the source vanished (the video is being deleted).
    test.expecting(&id, &mp4_source(&id), FIXTURE_SIZE);
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
    assert!(test.submitted().is_empty());
}

#[tokio::test]
async fn complete_verifies_the_outputs_reports_ready_then_deletes_the_source() {
    let (test, id) = with_source(true);
    let media = bucket("media");
    test.store
        .put(&media, &ObjectKey::hls_master(&id), b"#EXTM3U\n");
    let capture = ObjectKey::output(&id, "poster.0000000.jpg").unwrap();
    test.store.put(&media, &capture, b"\xff\xd8 poster");
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
    assert_eq!(ready["hlsKey"], ObjectKey::hls_master(&id).as_str());
    // The frame capture, under the name the layout wants.
    assert_eq!(ready["posterKey"], ObjectKey::poster(&id).as_str());
    assert_eq!(
        test.store.get(&media, &ObjectKey::poster(&id)).as_deref(),
        Some(&b"\xff\xd8 poster"[..])
    );
    assert!(test.store.get(&media, &capture).is_none());
    // No trick-play images named by the master: no storyboard.
    assert!(ready.get("storyboardKey").is_none());
    assert_eq!(ready["occurredAt"], "2025-01-02T03:06:05Z");

    // EventBridge delivers at least once: the replay repeats the same event, harmlessly.
    assert_eq!(test.handle(event).await.unwrap(), outcome);
    let sent = test.sent();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1], sent[0]);
}

#[tokio::test]
async fn a_complete_job_without_its_ladder_plays_as_mp4_and_says_why() {
    let (test, id) = with_source(true);
    let outcome = test
        .handle(fixture("mediaconvert-complete.json", Some(&id)))
        .await
        .unwrap();
    assert!(
        matches!(&outcome[..], [Outcome::Ready { .. }]),
        "{outcome:?}"
    );
    let sent = test.sent();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0]["status"], "ready");
    assert!(sent[0].get("hlsKey").is_none());
    assert_eq!(
        (
            &sent[1]["status"],
            &sent[1]["streams"],
            &sent[1]["error"]["code"]
        ),
        (
            &json!("streams"),
            &json!("failed"),
            &json!("output_missing")
        )
    );
    assert_eq!(sent[1]["eventId"], "1735787165123-abc123:streams:failed");
    assert!(
        !source_kept(&test, &id),
        "nothing more will be made from it"
    );
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
    test.edge.failures.lock().unwrap().push_back(Error::Edge {
        message: "503".into(),
        status: Some(503),
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
async fn every_refusal_from_the_edge_is_retried_and_none_ends_an_event() {
    let id = video_id();
    let event = model::job::JobEvent {
        event_id: "e1".into(),
        video_id: id.clone(),
        update: model::job::JobUpdate::Processing { progress: None },
        occurred_at: None,
    };
    let http_edge = |url: &str, secret: &str| {
        let mut edge = HttpEdge::new(
            url,
            secret.as_bytes().to_vec().into(),
            reqwest::Client::new(),
            SystemClock,
        );
        edge.backoff = Backoff {
            attempts: Some(3),
            base: Duration::from_millis(50),
            max: Duration::from_millis(200),
        };
        edge
    };
    // A wrong secret (a rotation gone wrong): 401, retried, and handed back as retryable, so
    // AWS keeps the event (retries, then the dead-letter queue and its alarm).
    let edge = Edge::start();
    let err = http_edge(&edge.url, "not-the-secret")
        .report(&event, None)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Edge {
                status: Some(401),
                ..
            }
        ) && err.is_retryable(),
        "{err}"
    );
    assert_eq!(
        edge.events.lock().unwrap().len(),
        3,
        "every attempt was made"
    );
    // The right secret: delivered, verified and acknowledged; the same event again is a
    // replay the edge recognises.
    let right = http_edge(&edge.url, WEBHOOK_SECRET);
    let acknowledged = right.report(&event, None).await.unwrap();
    assert!(edge.events.lock().unwrap().last().unwrap().signature_ok);
    assert_eq!(
        (acknowledged.duplicate, acknowledged.source_needed),
        (false, true)
    );
    assert!(right.report(&event, None).await.unwrap().duplicate);

    // Nobody listening: retried with backoff, then handed back as retryable.
    let unreachable = format!("http://127.0.0.1:{}", testkit::free_port());
    let err = http_edge(&unreachable, WEBHOOK_SECRET)
        .report(&event, None)
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "{err}");

    // An invocation with 300 ms left makes no attempt it cannot finish.
    let deadline = Some(SystemClock.now() + Duration::from_millis(300));
    let started = std::time::Instant::now();
    let err = http_edge(&unreachable, WEBHOOK_SECRET)
        .report(&event, deadline)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no time left"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(1));
}
