//! Settings are checked once, when the Worker starts: a bad or missing one is a clear
//! configuration error, never a request-time 500, and production never gets dev defaults.

use edge::config::{AdminBootstrap, Config, Environment, PlaybackMode};
use std::collections::HashMap;

fn base() -> HashMap<String, String> {
    [
        ("S3_ENDPOINT", "https://s3.us-east-1.amazonaws.com"),
        ("S3_ACCESS_KEY_ID", "AKIDEXAMPLE"),
        ("S3_SECRET_ACCESS_KEY", "secret"),
        (
            "JWT_SIGNING_KEY",
            "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=",
        ),
        ("WEBHOOK_SECRET", "webhook-secret-of-at-least-32-bytes"),
        (
            "EDGE_TOKEN_SECRET",
            "edge-token-secret-of-at-least-32-bytes",
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn parse(settings: &HashMap<String, String>) -> Result<Config, String> {
    Config::from_lookup(|name| settings.get(name).cloned()).map_err(|e| e.to_string())
}

fn with(changes: &[(&str, &str)]) -> Result<Config, String> {
    let mut settings = base();
    for (k, v) in changes {
        settings.insert(k.to_string(), v.to_string());
    }
    parse(&settings)
}

#[test]
fn unset_environment_is_production_without_a_default_admin() {
    let config = parse(&base()).unwrap();
    assert_eq!(config.environment, Environment::Production);
    assert!(config.admin.is_none());
    assert!(matches!(config.playback, PlaybackMode::S3));
    assert_eq!(config.single_put_max_bytes, 50 * 1024 * 1024);
}

#[test]
fn development_has_the_dev_admin_and_env_overrides_it() {
    let config = with(&[("ENVIRONMENT", "development")]).unwrap();
    assert!(
        matches!(&config.admin, Some(AdminBootstrap::DevPassword { password, .. }) if password.expose() == "admin")
    );
    let config = with(&[
        ("ENVIRONMENT", "development"),
        ("DEV_ADMIN_EMAIL", "Me@Example.com"),
        ("DEV_ADMIN_PASSWORD", "pw"),
    ])
    .unwrap();
    assert_eq!(config.admin.unwrap().email().as_str(), "me@example.com");
}

#[test]
fn every_required_secret_is_named_when_missing() {
    for name in [
        "S3_ENDPOINT",
        "S3_ACCESS_KEY_ID",
        "S3_SECRET_ACCESS_KEY",
        "JWT_SIGNING_KEY",
        "WEBHOOK_SECRET",
        "EDGE_TOKEN_SECRET",
    ] {
        let mut settings = base();
        settings.remove(name);
        let error = parse(&settings).unwrap_err();
        assert!(error.contains(name), "{name}: {error}");
    }
}

#[test]
fn production_refuses_short_and_published_secrets() {
    for (name, value) in [
        ("WEBHOOK_SECRET", "short"),
        ("EDGE_TOKEN_SECRET", "31-bytes-is-one-too-few-for-it"),
        ("WEBHOOK_SECRET_PREVIOUS", "short"),
        // The values `.dev.vars.example` publishes.
        (
            "JWT_SIGNING_KEY",
            "K7soNXAvUHVRyBiAl/ukGcJWe2dy8AcrKDcbrCEKGuI=",
        ),
        ("S3_SECRET_ACCESS_KEY", "edgevid-dev-secret-key"),
        ("EDGE_TOKEN_SECRET", "edgevid-dev-edge-token-secret"),
    ] {
        let error = with(&[(name, value)])
            .err()
            .unwrap_or_else(|| panic!("production accepted {name}={value}"));
        assert!(error.contains(name), "{name}: {error}");
    }
    // Development keeps its published values.
    let dev = with(&[
        ("ENVIRONMENT", "development"),
        ("WEBHOOK_SECRET", "short"),
        (
            "JWT_SIGNING_KEY",
            "K7soNXAvUHVRyBiAl/ukGcJWe2dy8AcrKDcbrCEKGuI=",
        ),
    ]);
    assert!(dev.is_ok(), "{dev:?}");
}

#[test]
fn sessions_and_quotas_have_defaults() {
    let config = parse(&base()).unwrap();
    assert_eq!(config.jwt_ttl.as_secs(), 600);
    assert_eq!(config.refresh_ttl.as_secs(), 30 * 24 * 3600);
    assert_eq!(config.playback_url_ttl.as_secs(), 600);
    assert_eq!((config.quota.videos, config.quota.uploads), (1000, 20));
    let config = with(&[("QUOTA_BYTES", "1048576"), ("QUOTA_VIDEOS", "3")]).unwrap();
    assert_eq!((config.quota.bytes, config.quota.videos), (1_048_576, 3));
}

#[test]
fn malformed_and_out_of_range_values_are_refused() {
    for (name, value) in [
        ("ENVIRONMENT", "staging"),
        ("S3_ADDRESSING", "sideways"),
        ("PLAYBACK_MODE", "ftp"),
        ("JWT_SIGNING_KEY", "not base64"),
        ("JWT_TTL_SECONDS", "0"),
        ("JWT_TTL_SECONDS", "3601"),
        ("REFRESH_TTL_SECONDS", "60"),
        ("PLAYBACK_URL_TTL_SECONDS", "86401"),
        ("QUOTA_VIDEOS", "0"),
        ("UPLOAD_URL_TTL_SECONDS", "604801"),
        ("PLAYBACK_URL_TTL_SECONDS", "abc"),
        ("MAX_UPLOAD_BYTES", "5497558138881"),
        ("SINGLE_PUT_MAX_BYTES", "5368709121"),
        ("INCOMING_BUCKET", "Not_A_Bucket"),
    ] {
        let error = with(&[(name, value)])
            .err()
            .unwrap_or_else(|| panic!("{name}={value} accepted"));
        assert!(
            error.contains(name) || error.contains("configuration"),
            "{name}: {error}"
        );
    }
}

#[test]
fn production_admin_needs_both_email_and_hash() {
    assert!(with(&[("ADMIN_EMAIL", "ops@example.com")]).is_err());
    assert!(with(&[("ADMIN_PASSWORD_HASH", "$argon2id$...")]).is_err());
    let config = with(&[
        ("ADMIN_EMAIL", "ops@example.com"),
        ("ADMIN_PASSWORD_HASH", "$argon2id$x"),
    ])
    .unwrap();
    assert!(matches!(config.admin, Some(AdminBootstrap::Hash { .. })));
}

#[test]
fn each_playback_mode_needs_its_own_secrets() {
    // Playlists come from the Worker in every mode: the token secret is always needed.
    for mode in ["s3", "edge", "cloudfront"] {
        let mut settings = base();
        settings.remove("EDGE_TOKEN_SECRET");
        settings.insert("PLAYBACK_MODE".into(), mode.into());
        let error = parse(&settings).unwrap_err();
        assert!(
            error.contains("EDGE_TOKEN_SECRET") || error.contains("CLOUDFRONT_"),
            "{error}"
        );
    }
    let error = with(&[("PLAYBACK_MODE", "cloudfront")]).unwrap_err();
    assert!(error.contains("CLOUDFRONT_"), "{error}");
    assert!(matches!(
        with(&[("PLAYBACK_MODE", "edge")]).unwrap().playback,
        PlaybackMode::Edge
    ));
}

#[test]
fn origins_are_trimmed_and_split() {
    let config = with(&[(
        "ALLOWED_ORIGINS",
        " https://a.example/ , https://b.example ,",
    )])
    .unwrap();
    assert_eq!(
        config.allowed_origins,
        ["https://a.example", "https://b.example"]
    );
}
