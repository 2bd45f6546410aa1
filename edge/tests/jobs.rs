//! `POST /api/internal/jobs`: signatures, replays, and the status rules.

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
