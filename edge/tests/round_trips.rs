//! Database round trips per request, counted on the native shell (each `Database` call is
//! one round trip to D1): at most one for every route but sign-in (at most two), so a viewer
//! far from the primary waits for one trip, not three. Work the client does not wait for
//! (clearing sign-in attempts) runs after the answer and is not counted.

mod common;

use common::{ADMIN_EMAIL, ADMIN_PASSWORD, TestApp};
use http::{Method, StatusCode};
use serde_json::json;

/// The round trips one request makes.
async fn trips(
    app: &TestApp,
    request: impl std::future::Future<Output = common::Answer>,
) -> (u64, StatusCode) {
    let before = app.app.platform.db.round_trips();
    let answer = request.await;
    (app.app.platform.db.round_trips() - before, answer.status)
}

#[tokio::test]
async fn every_route_makes_at_most_one_round_trip_and_sign_in_two() {
    let app = TestApp::new();
    let admin = app.admin().await;
    let id = app.uploaded_video(&admin, vec![1; 64]).await;
    app.finish_ladder(&id).await;
    let pending = app.create_video(&admin, "big.mp4", 60 * 1024 * 1024).await;
    let pending_id = common::id_of(&pending);
    let member_email = "trips@example.com";
    let created = app
        .call(
            Method::POST,
            "/api/users",
            Some(&admin),
            Some(json!({ "email": member_email, "password": "member-password" })),
        )
        .await
        .json();
    let member_id = created["user"]["id"].as_str().unwrap().to_string();

    let sign_in = json!({ "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD });
    let cases: Vec<(&str, Method, String, Option<serde_json::Value>, u64)> = vec![
        (
            "sign in",
            Method::POST,
            "/api/auth".into(),
            Some(sign_in),
            2,
        ),
        ("list", Method::GET, "/api/videos".into(), None, 1),
        ("get", Method::GET, format!("/api/videos/{id}"), None, 1),
        (
            "playback",
            Method::GET,
            format!("/api/videos/{id}/playback"),
            None,
            1,
        ),
        (
            "create",
            Method::POST,
            "/api/videos".into(),
            Some(json!({ "fileName": "a.mp4", "fileSize": 10, "fileType": "video/mp4" })),
            1,
        ),
        (
            "sign parts",
            Method::POST,
            format!("/api/videos/{pending_id}/parts"),
            Some(json!({ "partNumbers": [1, 2] })),
            1,
        ),
        (
            "list parts",
            Method::GET,
            format!("/api/videos/{pending_id}/parts"),
            None,
            1,
        ),
        ("users", Method::GET, "/api/users".into(), None, 1),
        (
            "change user",
            Method::PATCH,
            format!("/api/users/{member_id}"),
            Some(json!({ "quota": { "videos": 5 } })),
            1,
        ),
        (
            "reset password",
            Method::POST,
            format!("/api/users/{member_id}/password"),
            Some(json!({ "password": "another password" })),
            1,
        ),
        (
            "abort upload",
            Method::DELETE,
            format!("/api/videos/{pending_id}/upload"),
            None,
            1,
        ),
        (
            "delete video",
            Method::DELETE,
            format!("/api/videos/{id}"),
            None,
            1,
        ),
        (
            "delete user",
            Method::DELETE,
            format!("/api/users/{member_id}"),
            None,
            1,
        ),
    ];
    let mut over = Vec::new();
    for (name, method, path, body, most) in cases {
        let (count, status) = trips(&app, app.call(method, &path, Some(&admin), body)).await;
        assert!(status.is_success(), "{name}: {status}");
        // `cargo xtask bench` reads these lines.
        println!("round trips: {name}: {count}");
        if count > most {
            over.push(format!("{name}: {count} round trips, at most {most}"));
        }
    }
    assert!(over.is_empty(), "{}", over.join("\n"));

    // Complete, a job event, a claim, refresh and logout.
    let single = app.create_video(&admin, "c.mp4", 5).await;
    let single_id = common::id_of(&single);
    let upload = &single["upload"];
    app.put(
        upload["uploadUrl"].as_str().unwrap(),
        &common::headers_of(upload),
        vec![1; 5],
    )
    .await;
    let (count, status) = trips(&app, app.complete(&admin, &single_id, None)).await;
    println!("round trips: complete: {count}");
    assert_eq!((count, status), (1, StatusCode::OK), "complete");
    let event =
        json!({ "eventId": "t1", "videoId": single_id, "status": "processing", "progress": 5 });
    let (count, status) = trips(&app, app.job_event(&event)).await;
    println!("round trips: job event: {count}");
    assert_eq!((count, status), (1, StatusCode::OK), "job event");
    let claim = json!({ "videoId": single_id, "key": format!("uploads/{single_id}/source.mp4"),
        "size": 5, "token": "ab" });
    let (count, status) = trips(&app, app.claim(&claim)).await;
    println!("round trips: claim: {count}");
    assert_eq!((count, status), (1, StatusCode::OK), "claim");
    let session = app
        .call(
            Method::POST,
            "/api/auth",
            None,
            Some(json!({ "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "refreshDelivery": "body" })),
        )
        .await
        .json();
    let refresh = json!({ "refreshToken": session["refreshToken"] });
    let (count, status) = trips(
        &app,
        app.call(Method::POST, "/api/auth/refresh", None, Some(refresh)),
    )
    .await;
    println!("round trips: refresh: {count}");
    assert_eq!((count, status), (1, StatusCode::OK), "refresh");
}
