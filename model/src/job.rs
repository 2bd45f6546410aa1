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
    /// The MP4 is in the media bucket, under the video's folder: the video plays. `streams`
    /// when the same job made the streaming outputs too.
    Ready {
        output_key: ObjectKey,
        duration_ms: Option<u64>,
        width: Option<u32>,
        height: Option<u32>,
        streams: Option<Streams>,
    },
    /// The conversion cannot succeed; the source is kept.
    Failed { error: JobError },
    /// The streaming outputs of a video whose MP4 was made (or copied) first.
    Streams(StreamsUpdate),
}

/// Where a video's adaptive stream and its pictures are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Streams {
    /// The HLS master playlist.
    pub hls: ObjectKey,
    pub poster: Option<ObjectKey>,
    /// The storyboard's WebVTT file.
    pub storyboard: Option<ObjectKey>,
}

/// The ladder job of a video that already plays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamsUpdate {
    Processing {
        progress: Option<u8>,
    },
    Ready(Streams),
    /// The video keeps playing as MP4.
    Failed {
        error: JobError,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobError {
    /// A snake_case code (`invalid_input`, `mediaconvert_1010`, …); may be empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub code: String,
    pub message: String,
}

impl JobError {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
        }
    }

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

/// The edge's answer to a job event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Acknowledgement {
    /// The event id was applied before: this delivery changed nothing.
    pub duplicate: bool,
    /// The video still needs its source: until it plays and its streaming outputs are done
    /// (made, or given up on), and always while it failed (it may be converted again). A
    /// video that no longer exists needs nothing.
    pub source_needed: bool,
}

/// The event as it travels: camelCase JSON with a `status` and the fields of that status.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Wire {
    event_id: Option<String>,
    video_id: Option<String>,
    status: Option<WireStatus>,
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
    hls_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    poster_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    storyboard_key: Option<String>,
    /// With status `streams`: the ladder's own status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    streams: Option<WireStreamsStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<JobError>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    occurred_at: Option<Timestamp>,
}

/// `status` on the wire. Typed, so that a body with any other value is refused whatever
/// its `videoId` names.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum WireStatus {
    Processing,
    Ready,
    Failed,
    Streams,
}

/// `streams` on the wire, with status `streams`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum WireStreamsStatus {
    Processing,
    Ready,
    Failed,
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
        let status = wire
            .status
            .ok_or_else(|| invalid("status must be processing, ready, failed or streams"))?;
        if wire.progress.is_some_and(|p| p > 100) {
            return Err(invalid("progress must be 0 to 100"));
        }
        let Ok(video_id) = VideoId::parse(&video_id) else {
            return Ok(Parsed::NoSuchVideo);
        };
        // Every key an event names is one of this video's outputs.
        let output = |field: &str, key: Option<String>| -> Result<Option<ObjectKey>> {
            key.map(|key| {
                ObjectKey::parse(&key)
                    .ok()
                    .filter(|key| {
                        matches!(locate(key), Some(Located::Output { video, .. }) if video == video_id)
                    })
                    .ok_or_else(|| {
                        Error::InvalidMessage(format!(
                            "{field} must name an object under videos/{{videoId}}/"
                        ))
                    })
            })
            .transpose()
        };
        let poster = output("posterKey", wire.poster_key)?;
        let storyboard = output("storyboardKey", wire.storyboard_key)?;
        let streams = output("hlsKey", wire.hls_key)?.map(|hls| Streams {
            hls,
            poster,
            storyboard,
        });
        let error = || {
            wire.error
                .clone()
                .ok_or_else(|| invalid("a failed event needs error.message"))
        };
        let update = match status {
            WireStatus::Processing => JobUpdate::Processing {
                progress: wire.progress,
            },
            WireStatus::Ready => JobUpdate::Ready {
                output_key: output("outputKey", wire.output_key)?.ok_or_else(|| {
                    invalid("outputKey must name an object under videos/{videoId}/")
                })?,
                duration_ms: wire.duration_ms,
                width: wire.width,
                height: wire.height,
                streams,
            },
            WireStatus::Failed => JobUpdate::Failed { error: error()? },
            WireStatus::Streams => JobUpdate::Streams(
                match wire
                    .streams
                    .ok_or_else(|| invalid("streams must be processing, ready or failed"))?
                {
                    WireStreamsStatus::Processing => StreamsUpdate::Processing {
                        progress: wire.progress,
                    },
                    WireStreamsStatus::Ready => StreamsUpdate::Ready(
                        streams.ok_or_else(|| invalid("ready streams need an hlsKey"))?,
                    ),
                    WireStreamsStatus::Failed => StreamsUpdate::Failed { error: error()? },
                },
            ),
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
        let name_streams = |wire: &mut Wire, streams: &Streams| {
            wire.hls_key = Some(streams.hls.to_string());
            wire.poster_key = streams.poster.as_ref().map(ToString::to_string);
            wire.storyboard_key = streams.storyboard.as_ref().map(ToString::to_string);
        };
        let status = match &self.update {
            JobUpdate::Processing { progress } => {
                wire.progress = *progress;
                WireStatus::Processing
            }
            JobUpdate::Ready {
                output_key,
                duration_ms,
                width,
                height,
                streams,
            } => {
                wire.output_key = Some(output_key.to_string());
                (wire.duration_ms, wire.width, wire.height) = (*duration_ms, *width, *height);
                if let Some(streams) = streams {
                    name_streams(&mut wire, streams);
                }
                WireStatus::Ready
            }
            JobUpdate::Failed { error } => {
                wire.error = Some(error.clone());
                WireStatus::Failed
            }
            JobUpdate::Streams(update) => {
                wire.streams = Some(match update {
                    StreamsUpdate::Processing { progress } => {
                        wire.progress = *progress;
                        WireStreamsStatus::Processing
                    }
                    StreamsUpdate::Ready(streams) => {
                        name_streams(&mut wire, streams);
                        WireStreamsStatus::Ready
                    }
                    StreamsUpdate::Failed { error } => {
                        wire.error = Some(error.clone());
                        WireStreamsStatus::Failed
                    }
                });
                WireStatus::Streams
            }
        };
        wire.status = Some(status);
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
                streams: None,
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
    fn streaming_outputs_travel_with_ready_or_on_their_own() {
        let video_id = VideoId::parse(ID).unwrap();
        let streams = Streams {
            hls: ObjectKey::hls_master(&video_id),
            poster: Some(ObjectKey::poster(&video_id)),
            storyboard: Some(ObjectKey::storyboard(&video_id)),
        };
        let updates = [
            JobUpdate::Ready {
                output_key: ObjectKey::mp4(&video_id),
                duration_ms: None,
                width: None,
                height: None,
                streams: Some(streams.clone()),
            },
            JobUpdate::Streams(StreamsUpdate::Processing { progress: Some(40) }),
            JobUpdate::Streams(StreamsUpdate::Ready(streams)),
            JobUpdate::Streams(StreamsUpdate::Failed {
                error: JobError {
                    code: "mediaconvert_1010".into(),
                    message: "no".into(),
                },
            }),
        ];
        for update in updates {
            let event = JobEvent {
                event_id: "e".into(),
                video_id: video_id.clone(),
                update,
                occurred_at: None,
            };
            assert_eq!(
                JobEvent::parse(&event.to_json()).unwrap(),
                Parsed::Event(event)
            );
        }
        let foreign = json!({"eventId": "x", "videoId": ID, "status": "streams", "streams": "ready",
            "hlsKey": "videos/someone-else/hls/index.m3u8"});
        assert!(parse(foreign).is_err());
        let no_playlist =
            json!({"eventId": "x", "videoId": ID, "status": "streams", "streams": "ready"});
        assert!(parse(no_playlist).is_err());
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
    fn a_body_out_of_contract_is_refused_whatever_its_video_id() {
        for id in [ID, "not-a-uuid"] {
            for event in [
                json!({ "eventId": "e", "videoId": id, "status": "__not_in_enum__" }),
                json!({ "eventId": "e", "videoId": id, "status": "streams", "streams": "done" }),
                json!({ "eventId": "e", "videoId": id, "status": "processing", "progress": 101 }),
                json!({ "eventId": "e", "videoId": id }),
            ] {
                assert!(parse(event.clone()).is_err(), "{event}");
            }
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
