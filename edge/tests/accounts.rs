//! Sessions and accounts through the whole router against SQLite: refresh tokens that rotate
//! and revoke their family on reuse, logout, password changes, and what admins do to
//! accounts (disable, demote, reset, delete, quotas), each ending the user's sessions.

mod common;

use common::{ADMIN_EMAIL, ADMIN_PASSWORD, TestApp};
use http::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

/// A browser's view of one sign-in: its access token and its refresh cookie.
struct Browser {
    token: String,
    refresh: Option<String>,
}

/// The value of cookie `name` in the answer's `Set-Cookie` headers, and its attributes.
fn set_cookie(answer: &common::Answer, name: &str) -> Option<(String, String)> {
    answer
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|header| {
            let (pair, attributes) = header.split_once(';').unwrap_or((header, ""));
            let (key, value) = pair.split_once('=')?;
            (key == name).then(|| (value.to_string(), attributes.trim().to_string()))
        })
}

async fn sign_in(app: &TestApp, email: &str, password: &str) -> common::Answer {
    app.request(
        Method::POST,
        "/api/auth",
        &[
            ("content-type", "application/json"),
            ("cf-connecting-ip", "10.9.0.1"),
        ],
        json!({ "email": email, "password": password })
            .to_string()
            .into_bytes(),
    )
    .await
}

async fn browser(app: &TestApp, email: &str, password: &str) -> Browser {
    let answer = sign_in(app, email, password).await.expect(StatusCode::OK);
    Browser {
        token: answer.json()["token"].as_str().unwrap().to_string(),
        refresh: set_cookie(&answer, "edgevid_refresh").map(|(v, _)| v),
    }
}

/// `POST /api/auth/refresh` with the browser's refresh cookie; a success moves it on.
async fn refresh(app: &TestApp, browser: &mut Browser) -> common::Answer {
    let cookie = format!(
        "edgevid_refresh={}",
        browser.refresh.clone().unwrap_or_default()
    );
    let answer = app
        .request(
            Method::POST,
            "/api/auth/refresh",
            &[("cookie", cookie.as_str())],
            Vec::new(),
        )
        .await;
    if answer.status == StatusCode::OK {
        browser.token = answer.json()["token"].as_str().unwrap().to_string();
        browser.refresh = set_cookie(&answer, "edgevid_refresh").map(|(v, _)| v);
    }
    answer
}

async fn create_member(app: &TestApp, admin: &str, email: &str) -> String {
    let answer = app
        .call(
            Method::POST,
            "/api/users",
            Some(admin),
            Some(json!({ "email": email, "password": "member-password" })),
        )
        .await
        .expect(StatusCode::CREATED);
    answer.json()["user"]["id"].as_str().unwrap().to_string()
}

async fn patch_user(app: &TestApp, admin: &str, id: &str, change: Value) -> common::Answer {
    app.call(
        Method::PATCH,
        &format!("/api/users/{id}"),
        Some(admin),
        Some(change),
    )
    .await
}

#[tokio::test]
async fn the_web_app_gets_a_short_token_and_an_http_only_refresh_cookie_that_rotates() {
    let app = TestApp::new();
    let answer = sign_in(&app, ADMIN_EMAIL, ADMIN_PASSWORD)
        .await
        .expect(StatusCode::OK);
    let body = answer.json();
    assert!(body.get("refreshToken").is_none(), "no script sees it");
    let expires = model::Timestamp::parse_rfc3339(body["expiresAt"].as_str().unwrap()).unwrap();
    assert_eq!(
        expires.unix_secs() - app.now_secs(),
        600,
        "minutes, not hours"
    );
    for name in ["edgevid_refresh", "edgevid_device"] {
        let (_, attributes) = set_cookie(&answer, name).unwrap();
        for attribute in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/api/auth"] {
            assert!(attributes.contains(attribute), "{name}: {attributes}");
        }
    }
    let mut browser = Browser {
        token: body["token"].as_str().unwrap().into(),
        refresh: set_cookie(&answer, "edgevid_refresh").map(|(v, _)| v),
    };
    let first_refresh = browser.refresh.clone().unwrap();

    app.advance(Duration::from_secs(590));
    let renewed = refresh(&app, &mut browser).await.expect(StatusCode::OK);
    assert_eq!(renewed.json()["user"]["email"], ADMIN_EMAIL);
    assert_ne!(
        browser.refresh.as_deref(),
        Some(first_refresh.as_str()),
        "rotated"
    );
    app.advance(Duration::from_secs(300));
    app.call(Method::GET, "/api/videos", Some(&browser.token), None)
        .await
        .expect(StatusCode::OK);

    // The used token again: a copy is in someone else's hands, so the sign-in ends.
    let mut thief = Browser {
        token: String::new(),
        refresh: Some(first_refresh),
    };
    let reused = refresh(&app, &mut thief).await;
    assert_eq!(reused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reused.code(), "refresh_token_reused");
    let (cleared, attributes) = set_cookie(&reused, "edgevid_refresh").unwrap();
    assert!(cleared.is_empty() && attributes.contains("Max-Age=0"));
    let after = refresh(&app, &mut browser).await;
    assert_eq!(
        after.code(),
        "invalid_refresh_token",
        "the whole family is revoked"
    );
}

#[tokio::test]
async fn api_clients_can_keep_the_refresh_token_in_the_body() {
    let app = TestApp::new();
    let answer = app
        .call(
            Method::POST,
            "/api/auth",
            None,
            Some(json!({ "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "refreshDelivery": "body" })),
        )
        .await
        .expect(StatusCode::OK);
    assert!(set_cookie(&answer, "edgevid_refresh").is_none());
    let token = answer.json()["refreshToken"].as_str().unwrap().to_string();
    let renewed = app
        .call(
            Method::POST,
            "/api/auth/refresh",
            None,
            Some(json!({ "refreshToken": token })),
        )
        .await
        .expect(StatusCode::OK)
        .json();
    let next = renewed["refreshToken"].as_str().unwrap();
    assert_ne!(next, token);
    // Logout with the body's token ends the sign-in.
    app.call(
        Method::POST,
        "/api/auth/logout",
        None,
        Some(json!({ "refreshToken": next })),
    )
    .await
    .expect(StatusCode::OK);
    let ended = app
        .call(
            Method::POST,
            "/api/auth/refresh",
            None,
            Some(json!({ "refreshToken": next })),
        )
        .await;
    assert_eq!(ended.code(), "invalid_refresh_token");
    let missing = app
        .call(Method::POST, "/api/auth/refresh", None, None)
        .await;
    assert_eq!(missing.code(), "invalid_refresh_token");
}

#[tokio::test]
async fn logout_ends_the_sign_in_and_refresh_tokens_expire() {
    let app = TestApp::new();
    let mut browser = browser(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let cookie = format!("edgevid_refresh={}", browser.refresh.clone().unwrap());
    let out = app
        .request(
            Method::POST,
            "/api/auth/logout",
            &[("cookie", cookie.as_str())],
            Vec::new(),
        )
        .await
        .expect(StatusCode::OK);
    assert!(
        set_cookie(&out, "edgevid_refresh")
            .unwrap()
            .1
            .contains("Max-Age=0")
    );
    assert_eq!(
        refresh(&app, &mut browser).await.code(),
        "invalid_refresh_token"
    );

    let mut later = browser_for(&app).await;
    app.advance(Duration::from_secs(30 * 24 * 3600 + 1));
    assert_eq!(
        refresh(&app, &mut later).await.code(),
        "invalid_refresh_token"
    );
}

async fn browser_for(app: &TestApp) -> Browser {
    browser(app, ADMIN_EMAIL, ADMIN_PASSWORD).await
}

#[tokio::test]
async fn tokens_of_another_issuer_are_refused_though_the_key_is_the_same() {
    let staging = TestApp::with(|s| {
        s.insert("JWT_ISSUER".into(), "edgevid-staging".into());
    });
    let foreign = staging.admin().await;
    let app = TestApp::new();
    let answer = app
        .call(Method::GET, "/api/videos", Some(&foreign), None)
        .await;
    assert_eq!(answer.code(), "invalid_token");
}

#[tokio::test]
async fn disabling_or_demoting_ends_sessions_within_one_token_lifetime() {
    let app = TestApp::new();
    let admin = app.admin().await;
    let id = create_member(&app, &admin, "m@example.com").await;
    let mut member = browser(&app, "m@example.com", "member-password").await;

    let disabled = patch_user(&app, &admin, &id, json!({ "disabled": true }))
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(disabled["user"]["disabled"], true);
    assert_eq!(
        refresh(&app, &mut member).await.code(),
        "invalid_refresh_token"
    );
    let refused = sign_in(&app, "m@example.com", "member-password").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.code(), "account_disabled");
    // The access token it holds works until it expires, and not after.
    app.call(Method::GET, "/api/videos", Some(&member.token), None)
        .await
        .expect(StatusCode::OK);
    app.advance(Duration::from_secs(600 + 31));
    assert_eq!(
        app.call(Method::GET, "/api/videos", Some(&member.token), None)
            .await
            .code(),
        "token_expired"
    );
    let admin = app.admin().await;
    patch_user(
        &app,
        &admin,
        &id,
        json!({ "disabled": false, "role": "admin" }),
    )
    .await
    .expect(StatusCode::OK);
    let mut promoted = browser(&app, "m@example.com", "member-password").await;
    patch_user(&app, &admin, &id, json!({ "role": "member" }))
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        refresh(&app, &mut promoted).await.code(),
        "invalid_refresh_token"
    );
    let again = browser(&app, "m@example.com", "member-password").await;
    let answer = app
        .call(Method::GET, "/api/users", Some(&again.token), None)
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "a member again");
}

#[tokio::test]
async fn the_last_enabled_admin_cannot_be_removed() {
    let app = TestApp::new();
    let admin = app.admin().await;
    let users = app
        .call(Method::GET, "/api/users", Some(&admin), None)
        .await
        .expect(StatusCode::OK)
        .json();
    let me = users["users"][0]["id"].as_str().unwrap().to_string();
    for change in [json!({ "role": "member" }), json!({ "disabled": true })] {
        let answer = patch_user(&app, &admin, &me, change.clone()).await;
        assert_eq!(answer.status, StatusCode::CONFLICT, "{change}");
        assert_eq!(answer.code(), "last_admin");
    }
    let deleted = app
        .call(
            Method::DELETE,
            &format!("/api/users/{me}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(deleted.code(), "last_admin");
    // With a second admin, the first may step down.
    let second = create_member(&app, &admin, "second@example.com").await;
    patch_user(&app, &admin, &second, json!({ "role": "admin" }))
        .await
        .expect(StatusCode::OK);
    patch_user(&app, &admin, &me, json!({ "role": "member" }))
        .await
        .expect(StatusCode::OK);
}

#[tokio::test]
async fn passwords_change_and_reset_and_end_every_other_session() {
    let app = TestApp::new();
    let admin = app.admin().await;
    let id = create_member(&app, &admin, "p@example.com").await;
    let mut elsewhere = browser(&app, "p@example.com", "member-password").await;
    let here = browser(&app, "p@example.com", "member-password").await;

    let wrong = app
        .call(
            Method::POST,
            "/api/auth/password",
            Some(&here.token),
            Some(json!({ "currentPassword": "nope", "newPassword": "a new password" })),
        )
        .await;
    assert_eq!(wrong.code(), "invalid_credentials");
    let short = app
        .call(
            Method::POST,
            "/api/auth/password",
            Some(&here.token),
            Some(json!({ "currentPassword": "member-password", "newPassword": "short" })),
        )
        .await;
    assert_eq!(short.code(), "invalid_request");
    let changed = app
        .call(
            Method::POST,
            "/api/auth/password",
            Some(&here.token),
            Some(json!({ "currentPassword": "member-password", "newPassword": "a new password" })),
        )
        .await
        .expect(StatusCode::OK);
    assert!(
        set_cookie(&changed, "edgevid_refresh").is_some(),
        "a new session here"
    );
    assert_eq!(
        refresh(&app, &mut elsewhere).await.code(),
        "invalid_refresh_token"
    );
    assert_eq!(
        sign_in(&app, "p@example.com", "member-password")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let mut current = browser(&app, "p@example.com", "a new password").await;

    app.call(
        Method::POST,
        &format!("/api/users/{id}/password"),
        Some(&admin),
        Some(json!({ "password": "set by an admin" })),
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(
        refresh(&app, &mut current).await.code(),
        "invalid_refresh_token"
    );
    browser(&app, "p@example.com", "set by an admin").await;
}

#[tokio::test]
async fn admins_list_users_with_their_quotas_and_usage() {
    let app = TestApp::with(|s| {
        s.insert("QUOTA_VIDEOS".into(), "5".into());
    });
    let admin = app.admin().await;
    for n in 0..3 {
        create_member(&app, &admin, &format!("u{n}@example.com")).await;
    }
    let member = app.sign_in("u1@example.com", "member-password").await;
    app.uploaded_video(&member, vec![1; 100]).await;
    let page = app
        .call(Method::GET, "/api/users?limit=2", Some(&admin), None)
        .await
        .expect(StatusCode::OK)
        .json();
    let emails: Vec<&str> = page["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails, ["admin@localhost", "u0@example.com"]);
    let cursor = page["nextCursor"].as_str().unwrap();
    let rest = app
        .call(
            Method::GET,
            &format!("/api/users?cursor={cursor}"),
            Some(&admin),
            None,
        )
        .await
        .expect(StatusCode::OK)
        .json();
    let u1 = &rest["users"][0];
    assert_eq!(u1["email"], "u1@example.com");
    assert_eq!(
        u1["usage"],
        json!({"bytes": 100, "videos": 1, "uploads": 0})
    );
    assert_eq!(u1["quota"]["videos"], 5);
    assert_eq!(
        u1["quotaOverrides"],
        json!({"bytes": null, "videos": null, "uploads": null})
    );
    assert_eq!(rest["nextCursor"], Value::Null);
    assert_eq!(
        app.call(Method::GET, "/api/users", Some(&member), None)
            .await
            .code(),
        "forbidden"
    );
}

#[tokio::test]
async fn quotas_refuse_before_any_upload_url_is_signed_and_admins_can_raise_them() {
    let app = TestApp::with(|s| {
        s.insert("QUOTA_VIDEOS".into(), "2".into());
        s.insert("QUOTA_BYTES".into(), "1000".into());
        s.insert("QUOTA_UPLOADS".into(), "1".into());
    });
    let admin = app.admin().await;
    let id = create_member(&app, &admin, "q@example.com").await;
    let member = app.sign_in("q@example.com", "member-password").await;
    let create = |size: u64| {
        app.call(
            Method::POST,
            "/api/videos",
            Some(&member),
            Some(json!({ "fileName": "a.mp4", "fileSize": size, "fileType": "video/mp4" })),
        )
    };
    let over_bytes = create(1001).await;
    assert_eq!(over_bytes.status, StatusCode::FORBIDDEN);
    assert_eq!(over_bytes.code(), "quota_exceeded");
    assert!(
        over_bytes.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("0 of 1000 bytes")
    );
    create(400).await.expect(StatusCode::CREATED);
    let in_flight = create(100).await;
    assert_eq!(
        in_flight.code(),
        "quota_exceeded",
        "one upload in flight at a time"
    );
    assert!(
        in_flight.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("1 of your 1 uploads")
    );

    patch_user(&app, &admin, &id, json!({ "quota": { "uploads": 5 } }))
        .await
        .expect(StatusCode::OK);
    create(100).await.expect(StatusCode::CREATED);
    let third = create(100).await;
    assert!(
        third.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("2 of your 2 videos")
    );
    let raised = patch_user(
        &app,
        &admin,
        &id,
        json!({ "quota": { "videos": 3, "bytes": null } }),
    )
    .await
    .expect(StatusCode::OK)
    .json();
    assert_eq!(raised["user"]["quota"]["videos"], 3);
    assert_eq!(raised["user"]["quotaOverrides"]["bytes"], Value::Null);
    create(100).await.expect(StatusCode::CREATED);
    for bad in [
        json!({ "quota": { "videos": 0 } }),
        json!({ "quota": { "films": 1 } }),
        json!({ "role": "owner" }),
    ] {
        assert_eq!(
            patch_user(&app, &admin, &id, bad.clone()).await.code(),
            "invalid_request",
            "{bad}"
        );
    }
}

#[tokio::test]
async fn creating_videos_is_rate_limited_per_user() {
    let app = TestApp::with(|s| {
        s.insert("QUOTA_UPLOADS".into(), "1000".into());
    });
    let member = app.member("fast@example.com").await;
    for _ in 0..common::UPLOADS_PER_MINUTE {
        app.create_video(&member, "a.mp4", 10).await;
    }
    let limited = app
        .call(
            Method::POST,
            "/api/videos",
            Some(&member),
            Some(json!({ "fileName": "a.mp4", "fileSize": 10, "fileType": "video/mp4" })),
        )
        .await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.header("retry-after"), Some("60"));
    // Another user is not held back; the limit frees up after its period.
    let admin = app.admin().await;
    app.create_video(&admin, "a.mp4", 10).await;
    app.advance(Duration::from_secs(61));
    app.create_video(&member, "a.mp4", 10).await;
}

#[tokio::test]
async fn deleting_a_user_removes_their_videos_objects_and_sessions() {
    let app = TestApp::new();
    let admin = app.admin().await;
    let id = create_member(&app, &admin, "gone@example.com").await;
    let mut member = browser(&app, "gone@example.com", "member-password").await;
    let video = app.uploaded_video(&member.token, vec![3; 50]).await;
    app.finish_ladder(&video).await;
    // More than one call's worth of videos: rows without objects are enough to count.
    let owner = model::UserId::parse(&id).unwrap();
    for n in 0..edge::auth::VIDEOS_PER_DELETE {
        let row = common::video_row(&owner, n);
        assert!(
            app.app
                .catalog()
                .insert_video(&row, app.app.config.quota)
                .await
                .unwrap()
        );
    }
    let first = app
        .call(
            Method::DELETE,
            &format!("/api/users/{id}"),
            Some(&admin),
            None,
        )
        .await
        .expect(StatusCode::ACCEPTED);
    assert_eq!(first.json()["remainingVideos"], 1);
    assert_eq!(
        refresh(&app, &mut member).await.code(),
        "invalid_refresh_token"
    );
    let refused = sign_in(&app, "gone@example.com", "member-password").await;
    assert_eq!(refused.code(), "account_disabled");
    app.call(
        Method::DELETE,
        &format!("/api/users/{id}"),
        Some(&admin),
        None,
    )
    .await
    .expect(StatusCode::OK);
    for bucket in ["incoming", "media"] {
        for key in [
            format!("uploads/{video}/source.mp4"),
            format!("videos/{video}/hls/720p/seg_000.m4s"),
        ] {
            assert!(!app.object_exists(bucket, &key).await, "{bucket}/{key}");
        }
    }
    let users = app
        .call(Method::GET, "/api/users", Some(&admin), None)
        .await
        .json();
    assert_eq!(users["users"].as_array().unwrap().len(), 1);
    app.call(
        Method::DELETE,
        &format!("/api/users/{id}"),
        Some(&admin),
        None,
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(
        sign_in(&app, "gone@example.com", "member-password")
            .await
            .code(),
        "invalid_credentials"
    );
}
