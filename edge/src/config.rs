//! Typed configuration, parsed once from the Worker's vars and secrets (or any lookup).
//! Every name the code reads is here; `.dev.vars.example` and wrangler.toml declare them.

use crate::error::{Error, Result};
use model::{BucketName, Email, Secret};
use signer::jwt::{JwtIssuer, TokenScope};
use signer::playback::{CloudFrontHash, CloudFrontSigner};
use signer::s3::{Addressing, Credentials, S3Config, S3Signer};
use std::time::Duration;

const MIB: u64 = 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
}

/// Who may sign in before any user exists.
#[derive(Debug)]
pub enum AdminBootstrap {
    /// Development: a plain password from DEV_ADMIN_PASSWORD (default `admin`), hashed on first use.
    DevPassword {
        email: Email,
        password: Secret<String>,
    },
    /// Production: ADMIN_EMAIL + ADMIN_PASSWORD_HASH (a PHC string); never a default.
    Hash { email: Email, phc: String },
}

impl AdminBootstrap {
    pub fn email(&self) -> &Email {
        match self {
            AdminBootstrap::DevPassword { email, .. } | AdminBootstrap::Hash { email, .. } => email,
        }
    }
}

/// Where players fetch a video's files from (PLAYBACK_MODE). In every mode playlists and
/// storyboards come from the Worker (`/media/<token>/<key>`, the token signed with
/// EDGE_TOKEN_SECRET), which signs the URIs inside them for this mode.
#[derive(Debug)]
pub enum PlaybackMode {
    /// SigV4-presigned GETs on the media bucket.
    S3,
    /// CloudFront signed URLs on CLOUDFRONT_DOMAIN (a wildcard policy for a video's files).
    CloudFront {
        domain: String,
        signer: Box<CloudFrontSigner>,
    },
    /// The Worker itself streams every file from S3, honouring Range.
    Edge,
}

/// Per-user limits, checked before any upload URL is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Quota {
    /// Bytes of all the user's videos (their declared sizes).
    pub bytes: u64,
    pub videos: u64,
    /// Videos still uploading.
    pub uploads: u64,
}

#[derive(Debug)]
pub struct Config {
    pub environment: Environment,
    /// Prepared once per isolate: every request signs with it.
    pub s3: S3Signer,
    pub incoming_bucket: BucketName,
    pub media_bucket: BucketName,
    pub jwt: JwtIssuer,
    /// How long an access token lives (JWT_TTL_SECONDS).
    pub jwt_ttl: Duration,
    /// How long an unused refresh token lives (REFRESH_TTL_SECONDS); each use renews it.
    pub refresh_ttl: Duration,
    /// What a user may hold unless an admin set otherwise.
    pub quota: Quota,
    /// Signs device cookies (derived from JWT_SIGNING_KEY).
    pub device_secret: Secret<Vec<u8>>,
    pub admin: Option<AdminBootstrap>,
    pub webhook_secret: Secret<Vec<u8>>,
    /// WEBHOOK_SECRET_PREVIOUS: also accepted while the origin moves to a new secret.
    pub webhook_secret_previous: Option<Secret<Vec<u8>>>,
    /// Origins allowed by CORS; empty means same-origin only.
    pub allowed_origins: Vec<String>,
    pub playback: PlaybackMode,
    /// EDGE_TOKEN_SECRET: signs the `/media/<token>/` path that opens one video's files.
    pub playback_token_secret: Secret<Vec<u8>>,
    pub playback_url_ttl: Duration,
    pub upload_url_ttl: Duration,
    pub single_put_max_bytes: u64,
    pub max_upload_bytes: u64,
    /// DEV_BENCH_ROUTES=1 (development only): `GET /api/internal/bench` answers.
    pub bench_routes: bool,
}

impl Config {
    /// Reads every setting through `lookup` (a var or secret by name; None when unset).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let require = |name: &str| get(name).ok_or_else(|| missing(name));
        // A whole number within what the signer and S3 accept: a bad value fails here, at
        // start, not on every request.
        let number =
            |name: &str, default: u64, range: std::ops::RangeInclusive<u64>| -> Result<u64> {
                let value = get(name).map_or(Ok(default), |v| {
                    v.parse().map_err(|_| {
                        Error::Config(format!("{name} must be a whole number, got `{v}`"))
                    })
                })?;
                if range.contains(&value) {
                    Ok(value)
                } else {
                    Err(Error::Config(format!(
                        "{name} must be {} to {}, got {value}",
                        range.start(),
                        range.end()
                    )))
                }
            };

        let environment = match get("ENVIRONMENT").as_deref() {
            Some("development") => Environment::Development,
            // Unset means production: a forgotten variable must never enable dev defaults.
            Some("production") | None => Environment::Production,
            Some(other) => {
                return Err(Error::Config(format!(
                    "ENVIRONMENT must be development or production, got `{other}`"
                )));
            }
        };

        let addressing = match get("S3_ADDRESSING").as_deref() {
            Some("path") | None => Addressing::Path,
            Some("virtual") => Addressing::VirtualHosted,
            Some(other) => {
                return Err(Error::Config(format!(
                    "S3_ADDRESSING must be path or virtual, got `{other}`"
                )));
            }
        };
        let s3 = S3Config {
            endpoint: require("S3_ENDPOINT")?,
            region: get("S3_REGION").unwrap_or_else(|| "us-east-1".into()),
            addressing,
            credentials: Credentials {
                access_key_id: require("S3_ACCESS_KEY_ID")?,
                secret_access_key: require("S3_SECRET_ACCESS_KEY")?.into(),
                session_token: None,
            },
        }
        .signer()
        .map_err(|e| Error::Config(format!("S3_ENDPOINT / S3_REGION / S3 keys: {e}")))?;
        let bucket = |name: &str, default: &str| {
            let value = get(name).unwrap_or_else(|| default.into());
            BucketName::parse(&value).map_err(|e| Error::Config(format!("{name}: {e}")))
        };

        if environment == Environment::Production {
            refuse_weak_secrets(&get)?;
        }
        let scope = TokenScope {
            issuer: get("JWT_ISSUER").unwrap_or_else(|| "edgevid".into()),
            audience: JWT_AUDIENCE.into(),
        };
        let jwt_seed = require("JWT_SIGNING_KEY")?;
        let jwt = JwtIssuer::from_base64_seed(&jwt_seed, scope)
            .map_err(|e| Error::Config(format!("JWT_SIGNING_KEY: {e}")))?;
        let device_secret = signer::session::derive_key(jwt_seed.as_bytes(), "device-cookie");

        let admin = match environment {
            Environment::Development => {
                let email = get("DEV_ADMIN_EMAIL").unwrap_or_else(|| "admin@localhost".into());
                Some(AdminBootstrap::DevPassword {
                    email: parse_email("DEV_ADMIN_EMAIL", &email)?,
                    password: get("DEV_ADMIN_PASSWORD")
                        .unwrap_or_else(|| "admin".into())
                        .into(),
                })
            }
            Environment::Production => match (get("ADMIN_EMAIL"), get("ADMIN_PASSWORD_HASH")) {
                (Some(email), Some(phc)) => Some(AdminBootstrap::Hash {
                    email: parse_email("ADMIN_EMAIL", &email)?,
                    phc,
                }),
                (None, None) => None,
                _ => {
                    return Err(Error::Config(
                        "set both ADMIN_EMAIL and ADMIN_PASSWORD_HASH, or neither".into(),
                    ));
                }
            },
        };

        let playback = match get("PLAYBACK_MODE").as_deref() {
            Some("s3") | None => PlaybackMode::S3,
            Some("cloudfront") => {
                let hash = match get("CLOUDFRONT_HASH_ALGORITHM").as_deref() {
                    Some("SHA1") | None => CloudFrontHash::Sha1,
                    Some("SHA256") => CloudFrontHash::Sha256,
                    Some(other) => {
                        return Err(Error::Config(format!(
                            "CLOUDFRONT_HASH_ALGORITHM must be SHA1 or SHA256, got `{other}`"
                        )));
                    }
                };
                let signer = CloudFrontSigner::new(
                    &require("CLOUDFRONT_KEY_PAIR_ID")?,
                    &require("CLOUDFRONT_PRIVATE_KEY")?,
                    hash,
                )
                .map_err(|e| Error::Config(format!("CLOUDFRONT_PRIVATE_KEY: {e}")))?;
                PlaybackMode::CloudFront {
                    domain: require("CLOUDFRONT_DOMAIN")?,
                    signer: Box::new(signer),
                }
            }
            Some("edge") => PlaybackMode::Edge,
            Some(other) => {
                return Err(Error::Config(format!(
                    "PLAYBACK_MODE must be s3, cloudfront or edge, got `{other}`"
                )));
            }
        };

        // S3's limits: 5 TiB an object, 5 GiB a single PUT.
        let max_upload_bytes = number(
            "MAX_UPLOAD_BYTES",
            signer::multipart::DEFAULT_MAX_UPLOAD_BYTES,
            1..=signer::multipart::DEFAULT_MAX_UPLOAD_BYTES,
        )?;
        let single_put_max_bytes = number("SINGLE_PUT_MAX_BYTES", 50 * MIB, 1..=5 * 1024 * MIB)?;
        // Presigned URLs live 1 s to 7 days; tokens up to 30 days.
        let url_ttl = |name: &str| number(name, 3600, 1..=7 * 24 * 3600).map(Duration::from_secs);

        let bench_routes = matches!(get("DEV_BENCH_ROUTES").as_deref(), Some("1" | "true"));
        if bench_routes && environment == Environment::Production {
            return Err(Error::Config(
                "DEV_BENCH_ROUTES is for development only".into(),
            ));
        }

        Ok(Config {
            environment,
            s3,
            incoming_bucket: bucket("INCOMING_BUCKET", "incoming")?,
            media_bucket: bucket("MEDIA_BUCKET", "media")?,
            jwt,
            // Access tokens are checked with no database call, so they live minutes; the
            // refresh token, checked on every renewal, carries the session.
            jwt_ttl: Duration::from_secs(number("JWT_TTL_SECONDS", 600, 60..=3600)?),
            refresh_ttl: Duration::from_secs(number(
                "REFRESH_TTL_SECONDS",
                30 * 24 * 3600,
                3600..=90 * 24 * 3600,
            )?),
            device_secret: device_secret.to_vec().into(),
            quota: Quota {
                bytes: number("QUOTA_BYTES", 100 * 1024 * MIB, 1..=u64::MAX >> 11)?,
                videos: number("QUOTA_VIDEOS", 1000, 1..=1_000_000)?,
                uploads: number("QUOTA_UPLOADS", 20, 1..=10_000)?,
            },
            admin,
            webhook_secret: require("WEBHOOK_SECRET")?.into_bytes().into(),
            webhook_secret_previous: get("WEBHOOK_SECRET_PREVIOUS").map(|v| v.into_bytes().into()),
            allowed_origins: get("ALLOWED_ORIGINS")
                .map(|v| {
                    v.split(',')
                        .map(|o| o.trim().trim_end_matches('/').to_string())
                        .filter(|o| !o.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            playback,
            playback_token_secret: require("EDGE_TOKEN_SECRET")?.into_bytes().into(),
            // Minutes: players ask for fresh URLs before these expire. At most a day, so a
            // URL's signing window (up to a quarter more) stays within S3's 7 days.
            playback_url_ttl: Duration::from_secs(number(
                "PLAYBACK_URL_TTL_SECONDS",
                600,
                1..=24 * 3600,
            )?),
            upload_url_ttl: url_ttl("UPLOAD_URL_TTL_SECONDS")?,
            single_put_max_bytes,
            max_upload_bytes,
            bench_routes,
        })
    }
}

/// The audience (`aud`) of every access token: this API.
pub const JWT_AUDIENCE: &str = "edgevid-api";

/// Secrets shorter than this are refused in production.
pub const MIN_SECRET_BYTES: usize = 32;

/// The secrets we choose (the others come from AWS) and the public development values of
/// every secret, from `.dev.vars.example`.
const CHOSEN_SECRETS: [&str; 3] = [
    "WEBHOOK_SECRET",
    "WEBHOOK_SECRET_PREVIOUS",
    "EDGE_TOKEN_SECRET",
];
const DEV_VARS: &str = include_str!("../../.dev.vars.example");

/// Production refuses a secret that is a published development value, and a secret of ours
/// under [`MIN_SECRET_BYTES`].
fn refuse_weak_secrets(get: &impl Fn(&str) -> Option<String>) -> Result<()> {
    for line in DEV_VARS
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
    {
        let Some((name, dev_value)) = line.split_once('=') else {
            continue;
        };
        if !dev_value.trim().is_empty() && get(name.trim()).as_deref() == Some(dev_value.trim()) {
            return Err(Error::Config(format!(
                "{} is the public development value; production needs its own",
                name.trim()
            )));
        }
    }
    for name in CHOSEN_SECRETS {
        if get(name).is_some_and(|value| value.len() < MIN_SECRET_BYTES) {
            return Err(Error::Config(format!(
                "{name} must be at least {MIN_SECRET_BYTES} bytes (e.g. `openssl rand -hex 32`)"
            )));
        }
    }
    Ok(())
}

fn missing(name: &str) -> Error {
    Error::Config(format!("{name} is not set"))
}

fn parse_email(name: &str, value: &str) -> Result<Email> {
    Email::parse(value).map_err(|e| Error::Config(format!("{name}: {e}")))
}
