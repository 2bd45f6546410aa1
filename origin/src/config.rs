//! Typed configuration from the environment (see origin/README.md for every variable).
//! Readers take a lookup function so tests need not touch the process environment.

use std::path::PathBuf;
use std::time::Duration;

use model::{BucketName, Secret};
use signer::s3::{Addressing, Credentials, S3Config};

use crate::error::{Error, Result};
use crate::ffmpeg::Ffmpeg;
use crate::handler::Buckets;
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

/// `LADDER_CAP`: the highest rendition's short side (default 1080, as Mux's default tier);
/// lower rungs of the ladder stay, higher ones are never made.
fn ladder_cap(get: &impl Fn(&str) -> Option<String>) -> Result<u32> {
    let cap = parsed(get, "LADDER_CAP", model::ladder::DEFAULT_CAP)?;
    let lowest = model::ladder::RUNGS[model::ladder::RUNGS.len() - 1].short_side;
    if cap < lowest {
        return Err(Error::Config(format!(
            "LADDER_CAP must be at least {lowest}"
        )));
    }
    Ok(cap)
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
    pub ladder_cap: u32,
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
    pub part_size: u64,
    pub ffmpeg: Ffmpeg,
    pub ladder_cap: u32,
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
            ladder_cap: ladder_cap(&get)?,
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
        part_size: parsed(&get, "S3_PART_SIZE", crate::s3::DEFAULT_PART_SIZE)?,
        ffmpeg,
        ladder_cap: ladder_cap(&get)?,
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
        assert_eq!(c.ladder_cap, 1080);
        let mut capped = full.clone();
        capped.push(("LADDER_CAP", "720"));
        assert_eq!(
            LambdaConfig::from_env(env(&capped)).unwrap().ladder_cap,
            720
        );
        capped.push(("LADDER_CAP", "100"));
        assert!(LambdaConfig::from_env(env(&capped)).is_err());
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
        assert_eq!(c.ladder_cap, model::ladder::DEFAULT_CAP);
        assert!(
            local_from_env(env(&[
                ("S3_ACCESS_KEY_ID", "a"),
                ("S3_SECRET_ACCESS_KEY", "b")
            ]))
            .is_err()
        );
    }
}
