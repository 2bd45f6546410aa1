//! The edge↔origin contract: the job events the origin POSTs to `/api/internal/jobs` (signed
//! with `X-Signature`), one type for both sides. The origin serializes it; the edge parses it
//! with [`JobEvent::parse`], which enforces every rule of the contract.

use serde::{Deserialize, Serialize};

use crate::ids::VideoId;
use crate::layout::{Located, locate};
use crate::storage::ObjectKey;
use crate::text::is_printable;
use crate::time::Timestamp;
use crate::{Error, Result};

/// Event ids are at most this many characters.
pub const MAX_EVENT_ID_CHARS: usize = 200;
/// A failure's reason is cut to this many characters.
pub const MAX_REASON_CHARS: usize = 1000;

/// One job event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobEvent {
    /// Stable per logical event: a retry of the same event carries the same id.
    pub event_id: String,
    pub video_id: VideoId,
    pub update: JobUpdate,
    /// When the origin saw it happen (absent from older senders).
    pub occurred_at: Option<Timestamp>,
}

/// What happened to the job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobUpdate {
    /// Converting; `progress` in percent when known.
    Processing { progress: Option<u8> },
    /// The output is in the media bucket, under the video's folder.
    Ready {
        output_key: ObjectKey,
        duration_ms: Option<u64>,
        width: Option<u32>,
        height: Option<u32>,
    },
    /// The conversion cannot succeed; the source is kept.
    Failed { error: JobError },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobError {
    /// A snake_case code (`invalid_input`, `mediaconvert_1010`, …); may be empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub code: String,
    pub message: String,
}

impl JobError {
    /// `code: message`, or the message alone, cut to [`MAX_REASON_CHARS`]: what a failed
    /// video shows as its `error`.
    pub fn reason(&self) -> String {
        let reason = if self.code.is_empty() {
            self.message.clone()
        } else {
            format!("{}: {}", self.code, self.message)
        };
        reason.chars().take(MAX_REASON_CHARS).collect()
    }
}

/// The event as it travels: camelCase JSON with a `status` and the fields of that status.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Wire {
    event_id: Option<String>,
    video_id: Option<String>,
    status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    progress: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    duration_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    height: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    output_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<JobError>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    occurred_at: Option<Timestamp>,
}

/// What a body that passed the signature check turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    Event(JobEvent),
    /// Well-formed, but for a `videoId` no video can have (not a UUID v7): nothing to apply.
    NoSuchVideo,
}

impl JobEvent {
    /// Parses and validates a request body. [`Error::InvalidMessage`] says which rule failed.
    pub fn parse(body: &[u8]) -> Result<Parsed> {
        let wire: Wire = serde_json::from_slice(body)
            .map_err(|e| Error::InvalidMessage(format!("invalid JSON body: {e}")))?;
        Self::from_wire(wire)
    }

    fn from_wire(wire: Wire) -> Result<Parsed> {
        let invalid = |message: &str| Error::InvalidMessage(message.to_string());
        let event_id = wire
            .event_id
            .filter(|id| {
                !id.is_empty() && id.chars().count() <= MAX_EVENT_ID_CHARS && is_printable(id)
            })
            .ok_or_else(|| {
                Error::InvalidMessage(format!(
                    "eventId must be 1 to {MAX_EVENT_ID_CHARS} printable characters"
                ))
            })?;
        let video_id = wire
            .video_id
            .filter(|id| !id.is_empty() && is_printable(id))
            .ok_or_else(|| invalid("videoId must be a video id"))?;
        let status = wire.status.unwrap_or_default();
        let Ok(video_id) = VideoId::parse(&video_id) else {
            return Ok(Parsed::NoSuchVideo);
        };
        let update = match status.as_str() {
            "processing" => {
                if wire.progress.is_some_and(|p| p > 100) {
                    return Err(invalid("progress must be 0 to 100"));
                }
                JobUpdate::Processing {
                    progress: wire.progress,
                }
            }
            "ready" => {
                let output_key = wire
                    .output_key
                    .and_then(|key| ObjectKey::parse(&key).ok())
                    .filter(|key| {
                        matches!(locate(key), Some(Located::Output { video, .. }) if video == video_id)
                    })
                    .ok_or_else(|| invalid("outputKey must name an object under videos/{videoId}/"))?;
                JobUpdate::Ready {
                    output_key,
                    duration_ms: wire.duration_ms,
                    width: wire.width,
                    height: wire.height,
                }
            }
            "failed" => JobUpdate::Failed {
                error: wire
                    .error
                    .ok_or_else(|| invalid("a failed event needs error.message"))?,
            },
            other => {
                return Err(Error::InvalidMessage(format!(
                    "status must be processing, ready or failed, got `{other}`"
                )));
            }
        };
        Ok(Parsed::Event(JobEvent {
            event_id,
            video_id,
            update,
            occurred_at: wire.occurred_at,
        }))
    }

    fn to_wire(&self) -> Wire {
        let mut wire = Wire {
            event_id: Some(self.event_id.clone()),
            video_id: Some(self.video_id.to_string()),
            occurred_at: self.occurred_at,
            ..Wire::default()
        };
        let status = match &self.update {
            JobUpdate::Processing { progress } => {
                wire.progress = *progress;
                "processing"
            }
            JobUpdate::Ready {
                output_key,
                duration_ms,
                width,
                height,
            } => {
                wire.output_key = Some(output_key.to_string());
                (wire.duration_ms, wire.width, wire.height) = (*duration_ms, *width, *height);
                "ready"
            }
            JobUpdate::Failed { error } => {
                wire.error = Some(error.clone());
                "failed"
            }
        };
        wire.status = Some(status.into());
        wire
    }

    /// The request body the origin sends.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(&self.to_wire()).expect("a job event serializes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ID: &str = "0193a5b0-0000-7000-8000-000000000001";

    fn parse(value: serde_json::Value) -> Result<Parsed> {
        JobEvent::parse(value.to_string().as_bytes())
    }

    #[test]
    fn events_round_trip_in_the_contract_shape() {
        let video_id = VideoId::parse(ID).unwrap();
        let ready = JobEvent {
            event_id: "mc:1-abc:ready".into(),
            video_id: video_id.clone(),
            update: JobUpdate::Ready {
                output_key: ObjectKey::mp4(&video_id),
                duration_ms: Some(3000),
                width: Some(320),
                height: Some(240),
            },
            occurred_at: Some(Timestamp::from_unix_secs(1_735_787_045)),
        };
        let body: serde_json::Value = serde_json::from_slice(&ready.to_json()).unwrap();
        assert_eq!(
            body,
            json!({
                "eventId": "mc:1-abc:ready", "videoId": ID, "status": "ready",
                "durationMs": 3000, "width": 320, "height": 240,
                "outputKey": format!("videos/{ID}/video.mp4"),
                "occurredAt": "2025-01-02T03:04:05Z"
            })
        );
        assert_eq!(
            JobEvent::parse(&ready.to_json()).unwrap(),
            Parsed::Event(ready)
        );
        let failed = JobEvent {
            event_id: "x:failed".into(),
            video_id,
            update: JobUpdate::Failed {
                error: JobError {
                    code: "invalid_input".into(),
                    message: "moov atom not found".into(),
                },
            },
            occurred_at: None,
        };
        let body: serde_json::Value = serde_json::from_slice(&failed.to_json()).unwrap();
        assert_eq!(body["error"]["code"], "invalid_input");
        assert!(body.get("outputKey").is_none());
        assert_eq!(
            JobEvent::parse(&failed.to_json()).unwrap(),
            Parsed::Event(failed)
        );
    }

    #[test]
    fn ids_no_video_can_have_are_no_ops() {
        for id in ["6f1c1f3e-8d9b-4a5c-9e2f-0a1b2c3d4e5f", "not-a-uuid"] {
            assert_eq!(
                parse(json!({"eventId": "e", "videoId": id, "status": "processing"})).unwrap(),
                Parsed::NoSuchVideo
            );
        }
    }

    #[test]
    fn contract_violations_are_refused() {
        for event in [
            json!({ "videoId": ID, "status": "ready" }),
            json!({ "eventId": "", "videoId": ID, "status": "processing" }),
            json!({ "eventId": "a\nb", "videoId": ID, "status": "processing" }),
            json!({ "eventId": "x".repeat(201), "videoId": ID, "status": "processing" }),
            json!({ "eventId": "x", "videoId": "", "status": "processing" }),
            json!({ "eventId": "x", "videoId": ID, "status": "exploded" }),
            json!({ "eventId": "x", "videoId": ID }),
            json!({ "eventId": "x", "videoId": ID, "status": "processing", "progress": 101 }),
            json!({ "eventId": "x", "videoId": ID, "status": "ready" }),
            json!({ "eventId": "x", "videoId": ID, "status": "ready", "outputKey": "videos/someone-else/video.mp4" }),
            json!({ "eventId": "x", "videoId": ID, "status": "ready", "outputKey": format!("videos/{ID}/../x.mp4") }),
            json!({ "eventId": "x", "videoId": ID, "status": "ready", "outputKey": format!("videos/{ID}/") }),
            json!({ "eventId": "x", "videoId": ID, "status": "failed" }),
            json!({ "eventId": "x", "videoId": ID, "status": "failed", "error": {} }),
            json!([]),
        ] {
            assert!(
                matches!(parse(event.clone()), Err(Error::InvalidMessage(_))),
                "{event}"
            );
        }
    }

    #[test]
    fn reasons_carry_the_code_and_are_bounded() {
        let error = JobError {
            code: "mediaconvert_1010".into(),
            message: "x".repeat(2000),
        };
        assert!(error.reason().starts_with("mediaconvert_1010: x"));
        assert_eq!(error.reason().chars().count(), MAX_REASON_CHARS);
        let bare = JobError {
            code: String::new(),
            message: "gone".into(),
        };
        assert_eq!(bare.reason(), "gone");
    }
}
