//! The origin's calls: `POST /api/internal/jobs` (signatures, replays, the status rules) and
//! `POST /api/internal/claims` (one conversion per upload, only of uploads the catalog
//! expects).

mod common;

use common::{TestApp, WEBHOOK_SECRET};
use http::{Method, StatusCode};
use serde_json::{Value, json};

async fn video_of(app: &TestApp, token: &str, id: &str) -> Value {
    app.call(Method::GET, &format!("/api/videos/{id}"), Some(token), None)
        .await
        .json()["video"]
        .clone()
}

#[tokio::test]
async fn unsigned_badly_signed_and_stale_events_are_401() {
    let app = TestApp::new();
    let event = json!({ "eventId": "e1", "videoId": "0193a5b0-0000-7000-8000-000000000001", "status": "processing" });
    let unsigned = app
        .request(
            Method::POST,
            "/api/internal/jobs",
            &[("content-type", "application/json")],
            event.to_string().into(),
        )
        .await;
    assert_eq!(unsigned.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unsigned.code(), "invalid_signature");

    let now = app.now_secs();
    let wrong_key = app.job_event_signed("another-secret", now, &event).await;
    assert_eq!(wrong_key.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong_key.code(), "invalid_signature");

    let stale = app
        .job_event_signed(WEBHOOK_SECRET, now - 301, &event)
        .await;
    assert_eq!(stale.status, StatusCode::UNAUTHORIZED);
    assert_eq!(stale.code(), "signature_expired");
    let future = app
        .job_event_signed(WEBHOOK_SECRET, now + 301, &event)
        .await;
    assert_eq!(future.status, StatusCode::UNAUTHORIZED);

    let edge_of_window = app
        .job_event_signed(WEBHOOK_SECRET, now - 299, &event)
        .await;
    assert_eq!(edge_of_window.status, StatusCode::OK);

    // The signature covers the body: another body under the same header is refused.
    let body = event.to_string().into_bytes();
    let signature = signer::webhook::sign(
        WEBHOOK_SECRET.as_bytes(),
        model::Timestamp::from_unix_secs(now),
        &body,
    );
    let altered = app
        .request(
            Method::POST,
            "/api/internal/jobs",
            &[("x-signature", &signature)],
            event
                .to_string()
                .replace("processing", "ready")
                .into_bytes(),
        )
        .await;
    assert_eq!(altered.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn progress_then_ready_and_replays_are_no_ops() {
    let app = TestApp::new();
    let token = app.admin().await;
    let id = app.uploaded_video(&token, vec![1; 10]).await;

    let progress = |event_id: &str, progress: u8| json!({ "eventId": event_id, "videoId": id, "status": "processing", "progress": progress });
    assert_eq!(
        app.job_event(&progress("p40", 40)).await.status,
        StatusCode::OK
    );
    assert_eq!(video_of(&app, &token, &id).await["progress"], 40);
    // Late, out-of-order progress does not move backwards.
    app.job_event(&progress("p20", 20)).await;
    assert_eq!(video_of(&app, &token, &id).await["progress"], 40);

    let ready = json!({ "eventId": "done", "videoId": id, "status": "ready",
        "outputKey": format!("videos/{id}/video.mp4"), "durationMs": 61_234, "width": 1280, "height": 720 });
    let first = app.job_event(&ready).await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.json()["duplicate"], false);
    let video = video_of(&app, &token, &id).await;
    assert_eq!(video["status"], "ready");
    assert_eq!(video["progress"], 100);
    assert_eq!(video["durationMs"], 61_234);
    assert_eq!(video["width"], 1280);
    assert_eq!(video["height"], 720);
    assert_eq!(video["error"], Value::Null);

    let replay = app.job_event(&ready).await;
    assert_eq!(replay.status, StatusCode::OK);
    assert_eq!(replay.json()["duplicate"], true);

    // Nothing moves a ready video back.
    app.job_event(&progress("p90", 90)).await;
    app.job_event(
        &json!({ "eventId": "late-fail", "videoId": id, "status": "failed",
        "error": { "code": "1010", "message": "late" } }),
    )
    .await;
    let video = video_of(&app, &token, &id).await;
    assert_eq!(video["status"], "ready");
    assert_eq!(video["progress"], 100);
}

#[tokio::test]
async fn a_ladder_after_the_mp4_and_when_the_source_may_go() {
    let app = TestApp::new();
    let token = app.admin().await;
    let id = app.uploaded_video(&token, vec![1; 10]).await;
    let ack = |answer: common::Answer| {
        let body = answer.expect(StatusCode::OK).json();
        (
            body["duplicate"].as_bool().unwrap(),
            body["sourceNeeded"].as_bool().unwrap(),
        )
    };
    let streams = |video: &Value| video["streams"].clone();
    assert_eq!(
        streams(&video_of(&app, &token, &id).await),
        json!({"mp4": false, "hls": false, "ladder": "pending", "ladderProgress": null, "ladderError": null})
    );
    let progress = json!({ "eventId": "p", "videoId": id, "status": "processing", "progress": 5 });
    assert_eq!(ack(app.job_event(&progress).await), (false, true));

    // A copied MP4 plays at once; its ladder is still to come, so the source stays.
    let ready = json!({ "eventId": "copied", "videoId": id, "status": "ready",
        "outputKey": format!("videos/{id}/video.mp4") });
    assert_eq!(ack(app.job_event(&ready).await), (false, true));
    let video = video_of(&app, &token, &id).await;
    assert_eq!(video["status"], "ready");
    assert_eq!(
        streams(&video),
        json!({"mp4": true, "hls": false, "ladder": "processing", "ladderProgress": null, "ladderError": null})
    );
    assert_eq!(video["posterUrl"], Value::Null);

    let ladder = |event_id: &str, state: &str, progress: Option<u8>| json!({ "eventId": event_id, "videoId": id, "status": "streams", "streams": state, "progress": progress });
    assert_eq!(
        ack(app.job_event(&ladder("l60", "processing", Some(60))).await),
        (false, true)
    );
    app.job_event(&ladder("l30", "processing", Some(30))).await;
    assert_eq!(
        streams(&video_of(&app, &token, &id).await)["ladderProgress"],
        60
    );

    let made = json!({ "eventId": "ladder-ready", "videoId": id, "status": "streams", "streams": "ready",
        "hlsKey": format!("videos/{id}/hls/index.m3u8"), "posterKey": format!("videos/{id}/poster.jpg") });
    assert_eq!(
        ack(app.job_event(&made).await),
        (false, false),
        "now the source may go"
    );
    assert_eq!(ack(app.job_event(&made).await), (true, false));
    let video = video_of(&app, &token, &id).await;
    assert_eq!(
        streams(&video),
        json!({"mp4": true, "hls": true, "ladder": "ready", "ladderProgress": 100, "ladderError": null})
    );
    assert!(video["posterUrl"].as_str().unwrap().contains("/poster.jpg"));
    // A late failure or progress of the ladder changes nothing.
    let late_failure = json!({ "eventId": "late", "videoId": id, "status": "streams", "streams": "failed",
        "error": { "code": "mediaconvert_1010", "message": "late" } });
    app.job_event(&late_failure).await.expect(StatusCode::OK);
    app.job_event(&ladder("l90", "processing", Some(90))).await;
    assert_eq!(
        streams(&video_of(&app, &token, &id).await)["ladder"],
        "ready"
    );
}

#[tokio::test]
async fn a_failed_ladder_leaves_the_mp4_playing_and_the_source_free_to_go() {
    let app = TestApp::new();
    let token = app.admin().await;
    let id = app.uploaded_video(&token, vec![1; 10]).await;
    app.finish_conversion(&id, b"mp4").await;
    let failed = json!({ "eventId": "lf", "videoId": id, "status": "streams", "streams": "failed",
        "error": { "code": "mediaconvert_1030", "message": "no frames" } });
    let answer = app.job_event(&failed).await.expect(StatusCode::OK).json();
    assert_eq!(answer["sourceNeeded"], false);
    let video = video_of(&app, &token, &id).await;
    assert_eq!(video["status"], "ready");
    assert_eq!(video["streams"]["ladder"], "failed");
    assert_eq!(
        video["streams"]["ladderError"],
        "mediaconvert_1030: no frames"
    );
    app.call(
        Method::GET,
        &format!("/api/videos/{id}/playback"),
        Some(&token),
        None,
    )
    .await
    .expect(StatusCode::OK);

    // A failed conversion keeps its source (it may be converted again); a deleted video
    // needs none.
    let other = app.uploaded_video(&token, vec![2; 10]).await;
    let failed = json!({ "eventId": "vf", "videoId": other, "status": "failed",
        "error": { "code": "invalid_data", "message": "no" } });
    assert_eq!(app.job_event(&failed).await.json()["sourceNeeded"], true);
    app.call(
        Method::DELETE,
        &format!("/api/videos/{other}"),
        Some(&token),
        None,
    )
    .await
    .expect(StatusCode::OK);
    let again = json!({ "eventId": "vf2", "videoId": other, "status": "processing" });
    assert_eq!(app.job_event(&again).await.json()["sourceNeeded"], false);
}

#[tokio::test]
async fn failed_keeps_the_reason() {
    let app = TestApp::new();
    let token = app.admin().await;
    let id = app.uploaded_video(&token, vec![1; 10]).await;
    let failed = json!({ "eventId": "f", "videoId": id, "status": "failed",
        "error": { "code": "invalid_data", "message": "moov atom not found" } });
    assert_eq!(app.job_event(&failed).await.status, StatusCode::OK);
    let video = video_of(&app, &token, &id).await;
    assert_eq!(video["status"], "failed");
    assert_eq!(video["error"], "invalid_data: moov atom not found");
    assert_eq!(video["progress"], Value::Null);

    let playback = app
        .call(
            Method::GET,
            &format!("/api/videos/{id}/playback"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(playback.code(), "not_ready");
}

#[tokio::test]
async fn events_for_deleted_or_unknown_videos_are_harmless_200s() {
    let app = TestApp::new();
    let token = app.admin().await;
    let id = app.uploaded_video(&token, vec![1; 10]).await;
    app.call(
        Method::DELETE,
        &format!("/api/videos/{id}"),
        Some(&token),
        None,
    )
    .await
    .expect(StatusCode::OK);
    // The conversion finishes after the delete: its output must not stay behind.
    let output = format!("videos/{id}/video.mp4");
    app.put_object("media", &output, b"late output").await;
    let late =
        json!({ "eventId": "after-delete", "videoId": id, "status": "ready", "outputKey": output });
    app.job_event(&late).await.expect(StatusCode::OK);
    assert!(
        !app.object_exists("media", &output).await,
        "the late output is removed"
    );
    app.call(
        Method::GET,
        &format!("/api/videos/{id}"),
        Some(&token),
        None,
    )
    .await
    .expect(StatusCode::NOT_FOUND);

    // Ids no video ever had (another UUID version, or none at all) are no-ops too.
    for unknown in ["6f1c1f3e-8d9b-4a5c-9e2f-0a1b2c3d4e5f", "not-a-uuid"] {
        let event = json!({ "eventId": format!("e-{unknown}"), "videoId": unknown, "status": "processing" });
        app.job_event(&event).await.expect(StatusCode::OK);
    }
}

#[tokio::test]
async fn malformed_events_are_400() {
    let app = TestApp::new();
    let id = "0193a5b0-0000-7000-8000-000000000001";
    for event in [
        json!({ "videoId": id, "status": "ready" }),
        json!({ "eventId": "", "videoId": id, "status": "processing" }),
        json!({ "eventId": "x", "videoId": "", "status": "processing" }),
        json!({ "eventId": "x", "videoId": id, "status": "exploded" }),
        json!({ "eventId": "x", "videoId": id, "status": "processing", "progress": 101 }),
        json!({ "eventId": "x", "videoId": id, "status": "ready" }),
        json!({ "eventId": "x", "videoId": id, "status": "ready", "outputKey": "videos/someone-else/video.mp4" }),
        json!({ "eventId": "x", "videoId": id, "status": "ready", "outputKey": format!("videos/{id}/../x.mp4") }),
        json!({ "eventId": "x", "videoId": id, "status": "ready", "outputKey": format!("videos/{id}/") }),
        json!({ "eventId": "x", "videoId": id, "status": "failed" }),
    ] {
        let answer = app.job_event(&event).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{event}");
        assert_eq!(answer.code(), "invalid_request");
    }
}

/// A claim on the source of the video `created` (a create answer), for `size` bytes.
fn claim_of(created: &Value, size: u64, token: &str) -> Value {
    json!({ "videoId": created["video"]["id"], "key": created["key"], "size": size, "token": token })
}

#[tokio::test]
async fn the_first_claim_of_an_upload_is_granted_and_every_later_one_held() {
    let app = TestApp::new();
    let token = app.admin().await;
    let created = app.create_video(&token, "clip.mp4", 10).await;
    let id = common::id_of(&created);
    let claim = claim_of(&created, 10, "ab01");
    // S3 holds the whole upload: the claim moves the video on, complete or not.
    let granted = app.claim(&claim).await.expect(StatusCode::OK).json();
    assert_eq!(granted["claim"], "granted");
    assert_eq!(video_of(&app, &token, &id).await["status"], "processing");
    // A retry or a duplicate notification, minutes or hours later: held, no job yet.
    app.advance(std::time::Duration::from_secs(600));
    let held = app.claim(&claim).await.expect(StatusCode::OK).json();
    assert_eq!(held["claim"], "held");
    assert!(held.get("jobId").is_none());
    // The origin records its job; from then on every delivery learns of it.
    let mut with_job = claim.clone();
    with_job["jobId"] = "job-1".into();
    assert_eq!(app.claim(&with_job).await.json()["claim"], "held");
    app.advance(std::time::Duration::from_secs(6 * 3600));
    let replayed = app.claim(&claim).await.expect(StatusCode::OK).json();
    assert_eq!(
        (&replayed["claim"], &replayed["jobId"]),
        (&json!("held"), &json!("job-1"))
    );
    // complete after the claim still answers the video, processing.
    let token = app.admin().await;
    let completed = app.complete(&token, &id, None).await;
    assert_eq!(completed.status, StatusCode::OK, "{}", completed.json());
}

#[tokio::test]
async fn uploads_the_catalog_does_not_expect_are_refused_with_the_reason() {
    let app = TestApp::new();
    let token = app.admin().await;
    let created = app.create_video(&token, "clip.mp4", 10).await;
    let id = common::id_of(&created);
    let unknown = json!({ "videoId": "0193a5b0-0000-7000-8000-000000000001",
        "key": "uploads/0193a5b0-0000-7000-8000-000000000001/source.mp4", "size": 10, "token": "ab" });
    let mut other_key = claim_of(&created, 10, "ab");
    other_key["key"] = format!("uploads/{id}/source.mkv").into();
    let cases = [
        (unknown, "no such video"),
        (claim_of(&created, 11, "ab"), "declared 10"),
        (other_key, "source is"),
    ];
    for (claim, reason) in cases {
        let answer = app.claim(&claim).await.expect(StatusCode::OK).json();
        assert_eq!(answer["claim"], "notExpected", "{claim}");
        assert!(
            answer["reason"].as_str().unwrap().contains(reason),
            "{answer}"
        );
    }
    // Another upload of the same key after the first was claimed: a replayed PUT.
    app.claim(&claim_of(&created, 10, "aa"))
        .await
        .expect(StatusCode::OK);
    let second = app.claim(&claim_of(&created, 10, "bb")).await.json();
    assert_eq!(second["claim"], "notExpected");
    assert!(second["reason"].as_str().unwrap().contains("claimed first"));
    // Once converted, nothing more is expected: a replay cannot swap the published video.
    app.finish_conversion(&id, b"mp4").await;
    let late = app.claim(&claim_of(&created, 10, "aa")).await.json();
    assert_eq!(late["claim"], "notExpected");
    assert!(late["reason"].as_str().unwrap().contains("ready"), "{late}");
    assert_eq!(video_of(&app, &token, &id).await["status"], "ready");
}

#[tokio::test]
async fn claims_are_signed_and_validated() {
    let app = TestApp::new();
    let token = app.admin().await;
    let created = app.create_video(&token, "clip.mp4", 10).await;
    let claim = claim_of(&created, 10, "ab");
    app.internal(
        "/api/internal/claims",
        "another-secret",
        app.now_secs(),
        &claim,
    )
    .await
    .expect(StatusCode::UNAUTHORIZED);
    for bad in [
        json!({}),
        claim_of(&created, 10, "not hex"),
        json!({ "videoId": "x", "key": "k", "size": 1, "token": "ab" }),
    ] {
        let answer = app.claim(&bad).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(answer.code(), "invalid_request");
    }
}

#[tokio::test]
async fn the_previous_webhook_secret_is_accepted_during_a_rotation() {
    let app = TestApp::with(|s| {
        s.insert("WEBHOOK_SECRET".into(), "the-new-secret".into());
        s.insert("WEBHOOK_SECRET_PREVIOUS".into(), WEBHOOK_SECRET.into());
    });
    let event = json!({ "eventId": "r1", "videoId": "0193a5b0-0000-7000-8000-000000000001", "status": "processing" });
    let now = app.now_secs();
    for secret in ["the-new-secret", WEBHOOK_SECRET] {
        app.job_event_signed(secret, now, &event)
            .await
            .expect(StatusCode::OK);
    }
    let refused = app.job_event_signed("never-the-secret", now, &event).await;
    assert_eq!(refused.code(), "invalid_signature");
    // An old message under the previous secret is still too old.
    let stale = app
        .job_event_signed(WEBHOOK_SECRET, now - 301, &event)
        .await;
    assert_eq!(stale.code(), "signature_expired");
}
