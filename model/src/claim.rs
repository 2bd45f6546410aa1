//! The origin asks the edge before it converts an upload: the catalog says whether it
//! expects exactly this object (this video's source key, with the size the uploader
//! declared, while the video is uploading or processing), and records the claim, so that any
//! later delivery of the same upload (a retry, a duplicate notification, a dead-letter replay
//! hours later) starts no second conversion. `POST /api/internal/claims`, signed like job
//! events.

use serde::{Deserialize, Serialize};

use crate::ids::VideoId;
use crate::storage::ObjectKey;
use crate::{Error, Result};

/// At most this many characters in a job id the origin records.
pub const MAX_JOB_ID_CHARS: usize = 200;

/// One claim on one uploaded object version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", try_from = "WireClaim")]
pub struct Claim {
    pub video_id: VideoId,
    pub key: ObjectKey,
    pub size: u64,
    /// Names the object version (from bucket, key and ETag): claims with the same token are
    /// the same upload; another token is another upload of the same key.
    pub token: String,
    /// The conversion started for it, once there is one: recorded so that a later delivery
    /// knows a job exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireClaim {
    video_id: VideoId,
    key: ObjectKey,
    size: u64,
    token: String,
    #[serde(default)]
    job_id: Option<String>,
}

impl TryFrom<WireClaim> for Claim {
    type Error = Error;

    fn try_from(wire: WireClaim) -> Result<Claim> {
        let hex = |text: &str| {
            !text.is_empty() && text.len() <= 64 && text.bytes().all(|b| b.is_ascii_hexdigit())
        };
        if !hex(&wire.token) {
            return Err(Error::InvalidMessage(
                "token must be 1 to 64 hex digits".into(),
            ));
        }
        if let Some(job) = &wire.job_id
            && (job.is_empty()
                || job.chars().count() > MAX_JOB_ID_CHARS
                || !crate::text::is_printable(job))
        {
            return Err(Error::InvalidMessage(format!(
                "jobId must be 1 to {MAX_JOB_ID_CHARS} printable characters"
            )));
        }
        Ok(Claim {
            video_id: wire.video_id,
            key: wire.key,
            size: wire.size,
            token: wire.token,
            job_id: wire.job_id,
        })
    }
}

/// What the edge answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "claim", rename_all = "camelCase")]
pub enum ClaimAnswer {
    /// This request made the claim: convert it.
    Granted,
    /// The same upload was claimed before; `job_id` when its conversion was recorded.
    #[serde(rename_all = "camelCase")]
    Held {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        job_id: Option<String>,
    },
    /// The catalog does not expect this object (no such video, deleted, already converted or
    /// failed, another size, another upload claimed it): convert nothing.
    #[serde(rename_all = "camelCase")]
    NotExpected { reason: String },
}

impl ClaimAnswer {
    /// Whether a conversion must (still) be started for the claim.
    pub fn starts_a_conversion(&self) -> bool {
        matches!(
            self,
            ClaimAnswer::Granted | ClaimAnswer::Held { job_id: None }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ID: &str = "0193a5b0-0000-7000-8000-000000000001";

    #[test]
    fn claims_travel_as_camel_case_json_and_are_validated() {
        let claim: Claim = serde_json::from_value(json!({
            "videoId": ID, "key": format!("uploads/{ID}/source.mp4"), "size": 10, "token": "ab12"
        }))
        .unwrap();
        assert_eq!(claim.job_id, None);
        let back = serde_json::to_value(&claim).unwrap();
        assert_eq!(back["videoId"], ID);
        assert!(back.get("jobId").is_none());
        for bad in [
            json!({"videoId": ID, "key": "k", "size": 1, "token": "not hex"}),
            json!({"videoId": ID, "key": "k", "size": 1, "token": ""}),
            json!({"videoId": "x", "key": "k", "size": 1, "token": "ab"}),
            json!({"videoId": ID, "key": "k", "size": -1, "token": "ab"}),
            json!({"videoId": ID, "key": "k", "size": 1, "token": "ab", "jobId": ""}),
        ] {
            assert!(
                serde_json::from_value::<Claim>(bad.clone()).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn answers_say_whether_to_convert() {
        let granted: ClaimAnswer = serde_json::from_value(json!({"claim": "granted"})).unwrap();
        assert!(granted.starts_a_conversion());
        let held: ClaimAnswer =
            serde_json::from_value(json!({"claim": "held", "jobId": "j-1"})).unwrap();
        assert_eq!(
            held,
            ClaimAnswer::Held {
                job_id: Some("j-1".into())
            }
        );
        assert!(!held.starts_a_conversion());
        assert!(ClaimAnswer::Held { job_id: None }.starts_a_conversion());
        assert_eq!(
            serde_json::to_value(ClaimAnswer::NotExpected { reason: "r".into() }).unwrap(),
            json!({"claim": "notExpected", "reason": "r"})
        );
    }
}
