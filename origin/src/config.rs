//! Typed configuration from the environment (see origin/README.md for every variable).
//! Readers take a lookup function so tests need not touch the process environment.

use std::path::PathBuf;
use std::time::Duration;

use model::{BucketName, Secret};
use signer::s3::{Addressing, Credentials, S3Config};

use crate::error::{Error, Result};
use crate::ffmpeg::Ffmpeg;
use crate::handler::Buckets;
use crate::local::watcher::FilerTail;
use crate::media::Caps;
use crate::mediaconvert::{AwsEnv, JobDefaults};

fn required(get: &impl Fn(&str) -> Option<String>, name: &str) -> Result<String> {
    get(name)
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| Error::Config(format!("{name} is not set")))
}

fn parsed<T: std::str::FromStr>(
    get: &impl Fn(&str) -> Option<String>,
    name: &str,
    default: T,
) -> Result<T> {
    match get(name).filter(|v| !v.trim().is_empty()) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse()
            .map_err(|_| Error::Config(format!("{name}={v:?} is not valid"))),
    }
}

fn bucket(
    get: &impl Fn(&str) -> Option<String>,
    name: &str,
    default: Option<&str>,
) -> Result<BucketName> {
    let value = match default {
        Some(default) => parsed(get, name, default.to_string())?,
        None => required(get, name)?,
    };
    BucketName::parse(value.trim()).map_err(|e| Error::Config(format!("{name}: {e}")))
}

/// The caps ([`Caps`]): `MAX_DURATION_SECS` (default 21600: 6 h, Cloudflare Stream's
/// ceiling), `MAX_RESOLUTION` (`{long}x{short}`, default `4096x2160`: DCI 4K, either way up)
/// and `LADDER_CAP`, the highest rendition's short side (default 1080, as Mux's default
/// tier; lower rungs of the ladder stay, higher ones are never made).
fn caps(get: &impl Fn(&str) -> Option<String>) -> Result<Caps> {
    let defaults = Caps::default();
    let lowest = model::ladder::RUNGS[model::ladder::RUNGS.len() - 1].short_side;
    let max_duration_secs: u64 = parsed(get, "MAX_DURATION_SECS", defaults.max_duration_ms / 1000)?;
    if max_duration_secs == 0 {
        return Err(Error::Config("MAX_DURATION_SECS must be at least 1".into()));
    }
    let default_resolution = format!("{}x{}", defaults.max_long_side, defaults.max_short_side);
    let resolution = parsed(get, "MAX_RESOLUTION", default_resolution)?;
    let (max_long_side, max_short_side) = resolution
        .split_once('x')
        .and_then(|(long, short)| Some((long.parse::<u32>().ok()?, short.parse::<u32>().ok()?)))
        .filter(|&(long, short)| long >= short && short >= lowest)
        .ok_or_else(|| {
            let rule = format!("{{long}}x{{short}}, the short side at least {lowest}");
            Error::Config(format!("MAX_RESOLUTION={resolution:?} must be {rule}"))
        })?;
    let ladder = parsed(get, "LADDER_CAP", defaults.ladder)?;
    if ladder < lowest {
        return Err(Error::Config(format!(
            "LADDER_CAP must be at least {lowest}"
        )));
    }
    Ok(Caps {
        max_duration_ms: max_duration_secs.saturating_mul(1000),
        max_long_side,
        max_short_side,
        ladder,
    })
}

/// `INCOMING_BUCKET` and `MEDIA_BUCKET` (required in AWS, with local defaults).
fn buckets(get: &impl Fn(&str) -> Option<String>, local: bool) -> Result<Buckets> {
    Ok(Buckets {
        incoming: bucket(get, "INCOMING_BUCKET", local.then_some("incoming"))?,
        media: bucket(get, "MEDIA_BUCKET", local.then_some("media"))?,
    })
}

/// The Lambda's settings.
#[derive(Debug, Clone)]
pub struct LambdaConfig {
    pub aws: AwsEnv,
    pub s3: S3Config,
    pub buckets: Buckets,
    pub edge_url: String,
    pub webhook_secret: Secret<Vec<u8>>,
    pub job: JobDefaults,
    pub caps: Caps,
}

/// The local runner's settings.
#[derive(Debug, Clone)]
pub struct LocalConfig {
    pub s3: S3Config,
    pub region: String,
    pub buckets: Buckets,
    pub edge_url: String,
    pub webhook_secret: Secret<Vec<u8>>,
    pub state_dir: PathBuf,
    pub poll_interval: Duration,
    /// Wakes the poller as uploads land; without it, new uploads wait for the next poll.
    pub filer_tail: Option<FilerTail>,
    pub part_size: u64,
    pub ffmpeg: Ffmpeg,
    pub caps: Caps,
}

impl LambdaConfig {
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<LambdaConfig> {
        let aws = AwsEnv {
            access_key_id: required(&get, "AWS_ACCESS_KEY_ID")?,
            secret_access_key: required(&get, "AWS_SECRET_ACCESS_KEY")?.into(),
            session_token: get("AWS_SESSION_TOKEN")
                .filter(|v| !v.is_empty())
                .map(Into::into),
            region: required(&get, "AWS_REGION")?,
            endpoint: get("MEDIACONVERT_ENDPOINT").filter(|v| !v.is_empty()),
        };
        let (endpoint, addressing) = match get("S3_ENDPOINT").filter(|v| !v.is_empty()) {
            Some(endpoint) => (endpoint, Addressing::Path),
            None => (
                format!("https://s3.{}.amazonaws.com", aws.region),
                Addressing::VirtualHosted,
            ),
        };
        let s3 = S3Config {
            endpoint,
            region: aws.region.clone(),
            addressing,
            credentials: Credentials {
                access_key_id: aws.access_key_id.clone(),
                secret_access_key: aws.secret_access_key.clone(),
                session_token: aws.session_token.clone(),
            },
        };
        let job = JobDefaults {
            role_arn: required(&get, "MEDIACONVERT_ROLE_ARN")?,
            queue_arn: get("MEDIACONVERT_QUEUE_ARN").filter(|v| !v.is_empty()),
            qvbr_quality: parsed(&get, "QVBR_QUALITY", 7)?,
            max_bitrate: parsed(&get, "MAX_BITRATE", 8_000_000)?,
        };
        if !(1..=10).contains(&job.qvbr_quality) {
            return Err(Error::Config("QVBR_QUALITY must be 1..=10".into()));
        }
        Ok(LambdaConfig {
            aws,
            s3,
            buckets: buckets(&get, false)?,
            edge_url: required(&get, "EDGE_URL")?,
            webhook_secret: required(&get, "WEBHOOK_SECRET")?.into_bytes().into(),
            job,
            caps: caps(&get)?,
        })
    }
}

/// The local runner's settings from the environment.
pub fn local_from_env(get: impl Fn(&str) -> Option<String>) -> Result<LocalConfig> {
    let region = parsed(&get, "S3_REGION", "us-east-1".to_string())?;
    let s3 = S3Config {
        endpoint: parsed(&get, "S3_ENDPOINT", "http://127.0.0.1:8333".to_string())?,
        region: region.clone(),
        addressing: Addressing::Path,
        credentials: Credentials {
            access_key_id: required(&get, "S3_ACCESS_KEY_ID")?,
            secret_access_key: required(&get, "S3_SECRET_ACCESS_KEY")?.into(),
            session_token: None,
        },
    };
    let mut ffmpeg = Ffmpeg::new(
        get("FFMPEG_BIN").map(PathBuf::from),
        get("FFPROBE_BIN").map(PathBuf::from),
    );
    ffmpeg.preset = parsed(&get, "FFMPEG_PRESET", ffmpeg.preset)?;
    ffmpeg.crf = parsed(&get, "FFMPEG_CRF", ffmpeg.crf)?;
    Ok(LocalConfig {
        s3,
        region,
        buckets: buckets(&get, true)?,
        edge_url: parsed(&get, "EDGE_URL", "http://127.0.0.1:8787".to_string())?,
        webhook_secret: required(&get, "WEBHOOK_SECRET")?.into_bytes().into(),
        state_dir: PathBuf::from(parsed(
            &get,
            "ORIGIN_STATE_DIR",
            ".data/origin".to_string(),
        )?),
        poll_interval: Duration::from_millis(parsed(&get, "POLL_INTERVAL_MS", 1000)?),
        filer_tail: get("FILER_ADDRESS")
            .filter(|v| !v.is_empty())
            .map(|address| FilerTail {
                address,
                weed: get("WEED_BIN").map_or_else(|| PathBuf::from("weed"), PathBuf::from),
            }),
        part_size: parsed(&get, "S3_PART_SIZE", crate::s3::DEFAULT_PART_SIZE)?,
        ffmpeg,
        caps: caps(&get)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn lambda_config_needs_its_role_and_reads_lambda_credentials() {
        let base = [
            ("AWS_ACCESS_KEY_ID", "AKIA"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
            ("AWS_SESSION_TOKEN", "token"),
            ("AWS_REGION", "eu-west-1"),
            ("INCOMING_BUCKET", "incoming-bucket"),
            ("MEDIA_BUCKET", "media-bucket"),
            ("EDGE_URL", "https://edge.example"),
            ("WEBHOOK_SECRET", "s"),
        ];
        assert!(
            matches!(LambdaConfig::from_env(env(&base)), Err(Error::Config(m)) if m.contains("MEDIACONVERT_ROLE_ARN"))
        );
        let mut full = base.to_vec();
        full.push(("MEDIACONVERT_ROLE_ARN", "arn:aws:iam::1:role/mc"));
        let c = LambdaConfig::from_env(env(&full)).unwrap();
        assert_eq!(c.s3.endpoint, "https://s3.eu-west-1.amazonaws.com");
        assert_eq!(
            c.s3.credentials
                .session_token
                .as_ref()
                .map(|t| t.expose().as_str()),
            Some("token")
        );
        assert_eq!(
            (c.job.qvbr_quality, c.job.max_bitrate, c.job.queue_arn),
            (7, 8_000_000, None)
        );
        assert_eq!(c.caps, Caps::default());
        assert_eq!(
            (
                c.caps.max_duration_ms,
                c.caps.max_long_side,
                c.caps.max_short_side,
                c.caps.ladder
            ),
            (21_600_000, 4096, 2160, 1080)
        );
        let with = |pairs: &[(&'static str, &'static str)]| {
            let mut env_pairs = full.clone();
            env_pairs.extend_from_slice(pairs);
            LambdaConfig::from_env(env(&env_pairs)).map(|c| c.caps)
        };
        let capped = with(&[
            ("LADDER_CAP", "720"),
            ("MAX_DURATION_SECS", "3600"),
            ("MAX_RESOLUTION", "1920x1080"),
        ])
        .unwrap();
        assert_eq!(
            (
                capped.ladder,
                capped.max_duration_ms,
                capped.max_long_side,
                capped.max_short_side
            ),
            (720, 3_600_000, 1920, 1080)
        );
        for refused in [
            ("LADDER_CAP", "100"),
            ("MAX_DURATION_SECS", "0"),
            ("MAX_DURATION_SECS", "6h"),
            ("MAX_RESOLUTION", "2160x4096"),
            ("MAX_RESOLUTION", "4096x100"),
            ("MAX_RESOLUTION", "4096"),
        ] {
            assert!(with(&[refused]).is_err(), "{refused:?}");
        }
        full.push(("QVBR_QUALITY", "11"));
        assert!(LambdaConfig::from_env(env(&full)).is_err());
    }

    #[test]
    fn local_config_defaults() {
        let c = local_from_env(env(&[
            ("S3_ACCESS_KEY_ID", "a"),
            ("S3_SECRET_ACCESS_KEY", "b"),
            ("WEBHOOK_SECRET", "w"),
        ]))
        .unwrap();
        assert_eq!(c.s3.endpoint, "http://127.0.0.1:8333");
        assert_eq!(
            (c.buckets.incoming.as_str(), c.buckets.media.as_str()),
            ("incoming", "media")
        );
        assert_eq!(c.edge_url, "http://127.0.0.1:8787");
        assert_eq!(c.poll_interval, Duration::from_secs(1));
        assert_eq!(c.caps, Caps::default());
        assert!(
            local_from_env(env(&[
                ("S3_ACCESS_KEY_ID", "a"),
                ("S3_SECRET_ACCESS_KEY", "b")
            ]))
            .is_err()
        );
    }
}
