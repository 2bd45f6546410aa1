//! JSON errors everywhere, body limits, CORS and security headers.

mod common;

use common::TestApp;
use http::{Method, StatusCode};

#[tokio::test]
async fn health_answers_without_a_token() {
    let app = TestApp::new();
    let answer = app.call(Method::GET, "/api/health", None, None).await;
    assert_eq!(answer.status, StatusCode::OK);
    let body = answer.json();
    assert_eq!(body["success"], true);
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
}

#[tokio::test]
async fn head_works_on_get_routes_without_a_body() {
    let app = TestApp::new();
    let answer = app
        .request(Method::HEAD, "/api/health", &[], Vec::new())
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(answer.body.is_empty());
}

#[tokio::test]
async fn unknown_routes_are_json_404_and_wrong_methods_json_405() {
    let app = TestApp::new();
    let missing = app.call(Method::GET, "/api/nothing/here", None, None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.code(), "not_found");
    assert!(
        missing
            .header("content-type")
            .unwrap()
            .starts_with("application/json")
    );

    let wrong = app.call(Method::PUT, "/api/videos", None, None).await;
    assert_eq!(wrong.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong.code(), "method_not_allowed");
    assert_eq!(wrong.header("allow"), Some("GET, POST"));
}

#[tokio::test]
async fn bodies_over_one_mebibyte_are_413() {
    let app = TestApp::new();
    let body = vec![b' '; 1024 * 1024 + 1];
    let answer = app
        .request(
            Method::POST,
            "/api/auth",
            &[("content-type", "application/json")],
            body,
        )
        .await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(answer.code(), "payload_too_large");
}

#[tokio::test]
async fn every_response_carries_the_security_headers_and_no_hsts_in_development() {
    let app = TestApp::new();
    for path in ["/api/health", "/api/nothing"] {
        let answer = app.call(Method::GET, path, None, None).await;
        assert_eq!(answer.header("x-content-type-options"), Some("nosniff"));
        assert!(
            answer
                .header("content-security-policy")
                .unwrap()
                .contains("frame-ancestors 'none'")
        );
        assert_eq!(answer.header("referrer-policy"), Some("no-referrer"));
        assert_eq!(answer.header("cache-control"), Some("no-store"));
        assert!(answer.header("strict-transport-security").is_none());
        assert!(answer.headers.get_all("vary").iter().any(|v| v == "Origin"));
    }
}

#[tokio::test]
async fn cors_preflight_answers_allowed_origins_only() {
    let app = TestApp::new();
    let allowed = app
        .request(
            Method::OPTIONS,
            "/api/videos",
            &[
                ("origin", "http://app.example"),
                ("access-control-request-method", "POST"),
            ],
            Vec::new(),
        )
        .await;
    assert_eq!(allowed.status, StatusCode::NO_CONTENT);
    assert_eq!(
        allowed.header("access-control-allow-origin"),
        Some("http://app.example")
    );
    assert!(
        allowed
            .header("access-control-allow-headers")
            .unwrap()
            .contains("Authorization")
    );
    // The path's own methods, not a list shared by every route.
    assert_eq!(
        allowed.header("access-control-allow-methods"),
        Some("GET, POST, HEAD, OPTIONS")
    );
    let plain = app
        .request(
            Method::OPTIONS,
            "/api/videos/0193a5b0-0000-7000-8000-000000000001",
            &[],
            Vec::new(),
        )
        .await;
    assert_eq!(plain.status, StatusCode::NO_CONTENT);
    assert_eq!(plain.header("allow"), Some("GET, DELETE, HEAD, OPTIONS"));

    let refused = app
        .request(
            Method::OPTIONS,
            "/api/videos",
            &[
                ("origin", "http://evil.example"),
                ("access-control-request-method", "POST"),
            ],
            Vec::new(),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.header("access-control-allow-origin").is_none());

    // Simple requests from an allowed origin can read the answer, others cannot.
    let read = app
        .request(
            Method::GET,
            "/api/health",
            &[("origin", "http://app.example")],
            Vec::new(),
        )
        .await;
    assert_eq!(
        read.header("access-control-allow-origin"),
        Some("http://app.example")
    );
    let other = app
        .request(
            Method::GET,
            "/api/health",
            &[("origin", "http://evil.example")],
            Vec::new(),
        )
        .await;
    assert!(other.header("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn server_failures_say_nothing_about_internals() {
    // Object storage that does not exist: creating a multipart upload fails at S3.
    let app = TestApp::with(|s| {
        s.insert(
            "S3_ENDPOINT".into(),
            format!("http://127.0.0.1:{}", testkit::free_port()),
        );
    });
    let token = app.admin().await;
    let answer = app
        .call(
            Method::POST,
            "/api/videos",
            Some(&token),
            Some(serde_json::json!({ "fileName": "big.mkv", "fileSize": 200u64 << 20, "fileType": "video/x-matroska" })),
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_GATEWAY);
    assert_eq!(answer.code(), "storage_unavailable");
    let text = String::from_utf8_lossy(&answer.body);
    assert!(
        !text.contains("127.0.0.1") && !text.contains("edgevid-dev"),
        "{text}"
    );
    // Nothing was created.
    let list = app
        .call(Method::GET, "/api/videos", Some(&token), None)
        .await;
    assert_eq!(list.json()["videos"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn the_bench_route_exists_only_when_turned_on_in_development() {
    let off = TestApp::new();
    let answer = off
        .call(
            Method::GET,
            "/api/internal/bench?op=presign&n=1",
            None,
            None,
        )
        .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);

    let on = TestApp::with(|s| {
        s.insert("DEV_BENCH_ROUTES".into(), "1".into());
    });
    for op in ["presign", "verify", "none"] {
        let answer = on
            .call(
                Method::GET,
                &format!("/api/internal/bench?op={op}&n=3"),
                None,
                None,
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{op}");
        assert_eq!(answer.json()["n"], 3);
    }
    let bad = on
        .call(
            Method::GET,
            "/api/internal/bench?op=presign&n=1000001",
            None,
            None,
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);

    let settings = |env: &str| {
        let weed = testkit::SeaweedFs::shared();
        let mut s = common::dev_settings(weed);
        s.insert("ENVIRONMENT".into(), env.into());
        s.insert("DEV_BENCH_ROUTES".into(), "1".into());
        edge::config::Config::from_lookup(|name| s.get(name).cloned())
    };
    assert!(settings("production").is_err(), "never in production");
    assert!(settings("development").is_ok());
}
