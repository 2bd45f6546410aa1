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

async fn attempt_from_device(
    app: &TestApp,
    email: &str,
    password: &str,
    ip: &str,
    device: &str,
) -> common::Answer {
    let cookie = format!("edgevid_device={device}");
    app.request(
        Method::POST,
        "/api/auth",
        &[
            ("content-type", "application/json"),
            ("cf-connecting-ip", ip),
            ("cookie", cookie.as_str()),
        ],
        json!({ "email": email, "password": password })
            .to_string()
            .into_bytes(),
    )
    .await
}

fn retry_after(answer: &common::Answer) -> u64 {
    assert_eq!(answer.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(answer.code(), "rate_limited");
    answer.header("retry-after").unwrap().parse().unwrap()
}

#[tokio::test]
async fn one_client_waits_longer_after_each_failure_and_nobody_else_is_locked_out() {
    let app = TestApp::new();
    for _ in 0..5 {
        let answer = attempt(&app, ADMIN_EMAIL, "wrong", "10.1.0.1").await;
        assert_eq!(answer.code(), "invalid_credentials");
    }
    // From here each try waits twice as long as the one before.
    for wait in [1, 2, 4, 8] {
        let held = attempt(&app, ADMIN_EMAIL, ADMIN_PASSWORD, "10.1.0.1").await;
        assert_eq!(retry_after(&held), wait);
        // The owner, from their own client, is not held back.
        assert_eq!(
            attempt(&app, ADMIN_EMAIL, ADMIN_PASSWORD, "10.1.9.9")
                .await
                .status,
            StatusCode::OK
        );
        app.advance(Duration::from_secs(wait));
        let tried = attempt(&app, ADMIN_EMAIL, "wrong", "10.1.0.1").await;
        assert_eq!(tried.code(), "invalid_credentials");
    }
    app.advance(Duration::from_secs(16));
    assert_eq!(
        attempt(&app, ADMIN_EMAIL, ADMIN_PASSWORD, "10.1.0.1")
            .await
            .status,
        StatusCode::OK,
        "the right password after the wait"
    );
    // A good sign-in starts this client afresh.
    for _ in 0..5 {
        let answer = attempt(&app, ADMIN_EMAIL, "wrong", "10.1.0.1").await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        retry_after(&attempt(&app, ADMIN_EMAIL, "wrong", "10.1.0.1").await),
        1
    );
}

#[tokio::test]
async fn the_email_ceiling_stops_many_clients_but_not_a_browser_that_signed_in_before() {
    let app = TestApp::new();
    let signed_in = attempt(&app, ADMIN_EMAIL, ADMIN_PASSWORD, "10.2.0.1")
        .await
        .expect(StatusCode::OK);
    let device = signed_in
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("edgevid_device="))
        .and_then(|c| c.split(';').next())
        .unwrap()
        .to_string();
    for n in 0..100u32 {
        let ip = format!("10.3.{}.{}", n / 200, n % 200);
        let answer = attempt(&app, ADMIN_EMAIL, "wrong", &ip).await;
        assert_eq!(answer.code(), "invalid_credentials", "attempt {n}");
    }
    let held = attempt(&app, ADMIN_EMAIL, ADMIN_PASSWORD, "10.4.0.1").await;
    assert!((3599..=3600).contains(&retry_after(&held)));
    // The browser that signed in before counts only for itself.
    let known = attempt_from_device(&app, ADMIN_EMAIL, ADMIN_PASSWORD, "10.4.0.1", &device).await;
    assert_eq!(known.status, StatusCode::OK);
    // Its cookie is for that account only.
    let other = attempt_from_device(&app, "nobody@example.com", "x", "10.4.0.2", &device).await;
    assert_eq!(other.code(), "invalid_credentials");
    let forged =
        attempt_from_device(&app, ADMIN_EMAIL, ADMIN_PASSWORD, "10.4.0.1", "AAAA.BBBB").await;
    assert_eq!(forged.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn one_client_trying_many_emails_hits_its_ceiling_counted_per_ipv6_64() {
    let app = TestApp::new();
    for n in 0..100u32 {
        let answer = attempt(
            &app,
            &format!("v6-{n}@example.com"),
            "wrong",
            &format!("2001:db8:1:2::{n:x}"),
        )
        .await;
        assert_eq!(answer.code(), "invalid_credentials");
    }
    let same_prefix = attempt(&app, ADMIN_EMAIL, ADMIN_PASSWORD, "2001:db8:1:2:ffff::1").await;
    assert!((899..=900).contains(&retry_after(&same_prefix)));
    let other_prefix = attempt(&app, ADMIN_EMAIL, ADMIN_PASSWORD, "2001:db8:1:3::1").await;
    assert_eq!(other_prefix.status, StatusCode::OK);
}

#[tokio::test]
async fn malformed_emails_and_clients_without_an_address_are_counted_too() {
    let app = TestApp::new();
    for _ in 0..5 {
        let answer = attempt(&app, "not-an-email", "x", "10.5.0.1").await;
        assert_eq!(answer.code(), "invalid_credentials");
    }
    assert_eq!(
        retry_after(&attempt(&app, "not-an-email", "x", "10.5.0.1").await),
        1
    );
    // Outside Cloudflare (no CF-Connecting-IP) every client shares one scope.
    let bare = |password: &'static str| {
        app.request(
            Method::POST,
            "/api/auth",
            &[("content-type", "application/json")],
            json!({ "email": ADMIN_EMAIL, "password": password })
                .to_string()
                .into_bytes(),
        )
    };
    for _ in 0..5 {
        assert_eq!(bare("wrong").await.status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(retry_after(&bare(ADMIN_PASSWORD).await), 1);
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

    // Past the 10 minute lifetime (and the 30 s leeway) the token is refused as expired.
    app.advance(Duration::from_secs(600 + 31));
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
async fn production_admin_is_created_once_from_its_hash_and_has_no_default() {
    let hash = signer::password::hash_password(
        "production secret",
        &[7; 16],
        &signer::password::Argon2Params::default(),
    )
    .unwrap();
    let app = TestApp::with(|s| {
        common::make_production(s);
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
    // Created once: the configured hash is not needed after, and never overwrites the
    // admin's own password.
    app.call(
        Method::POST,
        "/api/auth/password",
        Some(&token),
        Some(json!({ "currentPassword": "production secret", "newPassword": "the admin's own" })),
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(
        attempt(&app, "ops@example.com", "production secret", "10.4.0.2")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    app.sign_in("ops@example.com", "the admin's own").await;
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
            disabled_at: None,
            quota: Default::default(),
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
