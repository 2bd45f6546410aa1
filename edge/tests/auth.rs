//! Sign-in, throttling, bearer tokens and user creation, through the whole router.

mod common;

use common::{ADMIN_EMAIL, ADMIN_PASSWORD, TestApp};
use http::{Method, StatusCode};
use serde_json::json;
use std::time::Duration;

async fn attempt(app: &TestApp, email: &str, password: &str, ip: &str) -> common::Answer {
    let body = json!({ "email": email, "password": password })
        .to_string()
        .into_bytes();
    app.request(
        Method::POST,
        "/api/auth",
        &[
            ("content-type", "application/json"),
            ("cf-connecting-ip", ip),
        ],
        body,
    )
    .await
}

#[tokio::test]
async fn dev_admin_signs_in_and_gets_a_token_for_the_api() {
    let app = TestApp::new();
    let answer = attempt(&app, ADMIN_EMAIL, ADMIN_PASSWORD, "10.0.0.1").await;
    assert_eq!(answer.status, StatusCode::OK);
    let body = answer.json();
    assert_eq!(body["success"], true);
    assert_eq!(body["user"]["email"], ADMIN_EMAIL);
    assert_eq!(body["user"]["role"], "admin");
    assert!(body["expiresAt"].as_str().unwrap().ends_with('Z'));
    let token = body["token"].as_str().unwrap();
    assert_eq!(token.split('.').count(), 3);

    let list = app
        .call(Method::GET, "/api/videos", Some(token), None)
        .await;
    assert_eq!(list.status, StatusCode::OK);
    // The admin exists once, however often it signs in.
    app.admin().await;
    let again = attempt(&app, "ADMIN@localhost ", ADMIN_PASSWORD, "10.0.0.1").await;
    assert_eq!(again.status, StatusCode::OK, "emails are case-insensitive");
    assert_eq!(again.json()["user"]["id"], body["user"]["id"]);
}

#[tokio::test]
async fn wrong_password_and_unknown_email_are_the_same_401() {
    let app = TestApp::new();
    let wrong = attempt(&app, ADMIN_EMAIL, "nope", "10.0.0.2").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.code(), "invalid_credentials");
    let unknown = attempt(&app, "nobody@example.com", "nope", "10.0.0.2").await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.json()["error"], wrong.json()["error"]);
}

#[tokio::test]
async fn malformed_sign_in_bodies_are_400() {
    let app = TestApp::new();
    for body in ["", "{", "[]", r#"{"email":"x"}"#] {
        let answer = app
            .request(
                Method::POST,
                "/api/auth",
                &[("content-type", "application/json")],
                body.into(),
            )
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "body {body:?}");
        assert_eq!(answer.code(), "invalid_request");
    }
}

#[tokio::test]
async fn a_malformed_email_is_a_wrong_credential_and_counts_against_the_client() {
    let app = TestApp::new();
    for _ in 0..10 {
        let answer = attempt(&app, "not-an-email", "x", "10.5.0.1").await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        assert_eq!(answer.code(), "invalid_credentials");
    }
    let limited = attempt(&app, ADMIN_EMAIL, ADMIN_PASSWORD, "10.5.0.1").await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn ipv6_clients_are_counted_per_64() {
    let app = TestApp::new();
    for n in 0..10 {
        let answer = attempt(
            &app,
            &format!("v6-{n}@example.com"),
            "wrong",
            &format!("2001:db8:1:2::{n:x}"),
        )
        .await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    }
    let same_prefix = attempt(&app, ADMIN_EMAIL, ADMIN_PASSWORD, "2001:db8:1:2:ffff::1").await;
    assert_eq!(same_prefix.status, StatusCode::TOO_MANY_REQUESTS);
    let other_prefix = attempt(&app, ADMIN_EMAIL, ADMIN_PASSWORD, "2001:db8:1:3::1").await;
    assert_eq!(other_prefix.status, StatusCode::OK);
}

#[tokio::test]
async fn ten_failures_per_email_then_429_until_the_window_passes() {
    let app = TestApp::new();
    for n in 0..10 {
        // A different client each time: only the email counter trips.
        let answer = attempt(&app, ADMIN_EMAIL, "wrong", &format!("10.1.0.{n}")).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    }
    let limited = attempt(&app, ADMIN_EMAIL, ADMIN_PASSWORD, "10.1.1.1").await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.code(), "rate_limited");
    let retry: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((899..=900).contains(&retry), "retry-after {retry}");

    app.advance(Duration::from_secs(600));
    let still = attempt(&app, ADMIN_EMAIL, ADMIN_PASSWORD, "10.1.1.1").await;
    assert_eq!(still.status, StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = still.header("retry-after").unwrap().parse().unwrap();
    assert!((299..=300).contains(&retry), "retry-after {retry}");

    app.advance(Duration::from_secs(301));
    assert_eq!(
        attempt(&app, ADMIN_EMAIL, ADMIN_PASSWORD, "10.1.1.1")
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn ten_failures_per_client_address_then_429_for_any_email() {
    let app = TestApp::new();
    for n in 0..10 {
        let answer = attempt(&app, &format!("user{n}@example.com"), "wrong", "10.2.0.1").await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    }
    let limited = attempt(&app, ADMIN_EMAIL, ADMIN_PASSWORD, "10.2.0.1").await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.header("retry-after").is_some());
    // Another client is not affected.
    assert_eq!(
        attempt(&app, ADMIN_EMAIL, ADMIN_PASSWORD, "10.2.0.2")
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_good_sign_in_clears_the_email_counter() {
    let app = TestApp::new();
    for n in 0..9 {
        attempt(&app, ADMIN_EMAIL, "wrong", &format!("10.3.0.{n}")).await;
    }
    assert_eq!(
        attempt(&app, ADMIN_EMAIL, ADMIN_PASSWORD, "10.3.1.1")
            .await
            .status,
        StatusCode::OK
    );
    for n in 0..9 {
        let answer = attempt(&app, ADMIN_EMAIL, "wrong", &format!("10.3.2.{n}")).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn tokens_are_checked_on_every_protected_route() {
    let app = TestApp::new();
    let missing = app.call(Method::GET, "/api/videos", None, None).await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
    assert_eq!(missing.code(), "unauthorized");

    let garbage = app
        .call(Method::GET, "/api/videos", Some("not.a.jwt"), None)
        .await;
    assert_eq!(garbage.status, StatusCode::UNAUTHORIZED);
    assert_eq!(garbage.code(), "invalid_token");

    let token = app.admin().await;
    let other = app.admin().await;
    // This token's header and claims under another token's signature.
    let (signed, _) = token.rsplit_once('.').unwrap();
    let (_, signature) = other.rsplit_once('.').unwrap();
    let tampered = format!("{signed}.{signature}");
    let bad = app
        .call(Method::GET, "/api/videos", Some(&tampered), None)
        .await;
    assert_eq!(bad.code(), "invalid_token");

    // Past the 1 h lifetime (and the 30 s leeway) the token is refused as expired.
    app.advance(Duration::from_secs(3600 + 31));
    let expired = app
        .call(Method::GET, "/api/videos", Some(&token), None)
        .await;
    assert_eq!(expired.status, StatusCode::UNAUTHORIZED);
    assert_eq!(expired.code(), "token_expired");
}

#[tokio::test]
async fn a_token_from_another_key_is_refused() {
    let other = TestApp::with(|s| {
        s.insert(
            "JWT_SIGNING_KEY".into(),
            "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=".into(),
        );
    });
    let foreign = other.admin().await;
    let app = TestApp::new();
    let answer = app
        .call(Method::GET, "/api/videos", Some(&foreign), None)
        .await;
    assert_eq!(answer.code(), "invalid_token");
}

#[tokio::test]
async fn admins_create_users_who_can_then_sign_in() {
    let app = TestApp::new();
    let admin = app.admin().await;
    let created = app
        .call(
            Method::POST,
            "/api/users",
            Some(&admin),
            Some(json!({ "email": "New.Member@Example.com", "password": "a long password", "role": "member" })),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let user = &created.json()["user"];
    assert_eq!(user["email"], "new.member@example.com");
    assert_eq!(user["role"], "member");

    let duplicate = app
        .call(
            Method::POST,
            "/api/users",
            Some(&admin),
            Some(json!({ "email": "new.member@example.com", "password": "another password", "role": "admin" })),
        )
        .await;
    assert_eq!(duplicate.status, StatusCode::CONFLICT);
    assert_eq!(duplicate.code(), "exists");

    let member = app
        .sign_in("new.member@example.com", "a long password")
        .await;
    let forbidden = app
        .call(
            Method::POST,
            "/api/users",
            Some(&member),
            Some(json!({ "email": "x@example.com", "password": "a long password", "role": "member" })),
        )
        .await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
    assert_eq!(forbidden.code(), "forbidden");
}

#[tokio::test]
async fn user_creation_validates_its_input() {
    let app = TestApp::new();
    let admin = app.admin().await;
    for body in [
        json!({ "email": "bad", "password": "a long password", "role": "member" }),
        json!({ "email": "ok@example.com", "password": "short", "role": "member" }),
        json!({ "email": "ok@example.com", "password": "a long password", "role": "owner" }),
        json!({ "password": "a long password" }),
    ] {
        let answer = app
            .call(Method::POST, "/api/users", Some(&admin), Some(body.clone()))
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(answer.code(), "invalid_request");
    }
}

#[tokio::test]
async fn production_admin_comes_from_its_hash_and_has_no_default() {
    let hash = signer::password::hash_password(
        "production secret",
        &[7; 16],
        &signer::password::Argon2Params::default(),
    )
    .unwrap();
    let app = TestApp::with(|s| {
        s.insert("ENVIRONMENT".into(), "production".into());
        s.insert("ADMIN_EMAIL".into(), "ops@example.com".into());
        s.insert("ADMIN_PASSWORD_HASH".into(), hash.clone());
    });
    assert_eq!(
        attempt(&app, ADMIN_EMAIL, ADMIN_PASSWORD, "10.4.0.1")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let token = app.sign_in("ops@example.com", "production secret").await;
    let answer = app
        .call(Method::GET, "/api/videos", Some(&token), None)
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(
        answer.header("strict-transport-security").is_some(),
        "HSTS in production"
    );
}

#[tokio::test]
async fn seeded_bcrypt_users_sign_in() {
    let app = TestApp::new();
    // A hash as the seed stores it (bcrypt $2b$, cost 10) of "seed password".
    let hash = bcrypt_hash_from_python("seed password");
    let catalog = app.app.catalog();
    catalog
        .insert_user(&edge::catalog::UserRow {
            id: model::UserId::parse("0193a5b0-0000-7000-8000-000000000001").unwrap(),
            email: model::Email::parse("seed@example.com").unwrap(),
            password_hash: hash,
            role: model::Role::Member,
            created_at: model::Timestamp::UNIX_EPOCH,
        })
        .await
        .unwrap();
    app.sign_in("seed@example.com", "seed password").await;
    // Upgraded to argon2id on that sign-in.
    let user = catalog
        .user_by_email(&model::Email::parse("seed@example.com").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(
        user.password_hash.starts_with("$argon2id$"),
        "{}",
        user.password_hash
    );
    app.sign_in("seed@example.com", "seed password").await;
}

fn bcrypt_hash_from_python(password: &str) -> String {
    let script = "import bcrypt,sys; print(bcrypt.hashpw(sys.argv[1].encode(), bcrypt.gensalt(10)).decode())";
    testkit::python_output(script, &[password])
        .trim()
        .to_string()
}
