//! The two kinds of event the Lambda receives, told apart by their shape, and the JSON the
//! local runner builds to feed the same handler (the same shapes AWS sends).

use std::collections::HashMap;

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use aws_lambda_events::event::s3::S3Event;
use model::{BucketName, ObjectKey, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::{Error, Result};

pub const MEDIACONVERT_DETAIL_TYPE: &str = "MediaConvert Job State Change";

/// An incoming event.
#[derive(Debug, Clone)]
pub enum OriginEvent {
    /// S3 event notification (`ObjectCreated:*` from the incoming bucket).
    S3(S3Event),
    /// EventBridge `MediaConvert Job State Change`.
    JobStateChange(Box<EventBridgeEvent<JobStateChange>>),
}

impl OriginEvent {
    /// Dispatches on shape: `Records` → S3; `detail-type` → EventBridge.
    pub fn from_value(value: Value) -> Result<OriginEvent> {
        if value.get("Records").is_some() {
            let event: S3Event = serde_json::from_value(value)
                .map_err(|e| Error::BadEvent(format!("S3 event: {e}")))?;
            return Ok(OriginEvent::S3(event));
        }
        match value.get("detail-type").and_then(Value::as_str) {
            Some(MEDIACONVERT_DETAIL_TYPE) => {
                let event: EventBridgeEvent<JobStateChange> = serde_json::from_value(value)
                    .map_err(|e| Error::BadEvent(format!("MediaConvert event: {e}")))?;
                Ok(OriginEvent::JobStateChange(Box::new(event)))
            }
            Some(other) => Err(Error::BadEvent(format!(
                "EventBridge detail-type {other:?}"
            ))),
            None => Err(Error::BadEvent(
                "neither an S3 notification nor an EventBridge event".into(),
            )),
        }
    }
}

/// An S3 notification key as it arrives: URL-encoded, with `+` for spaces.
pub fn decode_s3_key(raw: &str) -> Result<String> {
    let plus_decoded = raw.replace('+', " ");
    percent_encoding::percent_decode_str(&plus_decoded)
        .decode_utf8()
        .map(|k| k.into_owned())
        .map_err(|e| Error::BadEvent(format!("key {raw:?} is not UTF-8 once decoded: {e}")))
}

/// The inverse of [`decode_s3_key`], as S3 encodes keys in notifications.
pub fn encode_s3_key(key: &str) -> String {
    const KEEP: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~')
        .remove(b'/')
        .remove(b' ');
    percent_encoding::utf8_percent_encode(key, KEEP)
        .to_string()
        .replace(' ', "+")
}

/// The `detail` of a `MediaConvert Job State Change` event, as AWS documents it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobStateChange {
    #[serde(default)]
    pub timestamp: Option<i64>,
    #[serde(default)]
    pub account_id: Option<String>,
    #[serde(default)]
    pub queue: Option<String>,
    pub job_id: String,
    /// SUBMITTED, PROGRESSING, STATUS_UPDATE, INPUT_INFORMATION, COMPLETE, ERROR, CANCELED, NEW_WARNING, QUEUE_HOP.
    pub status: String,
    #[serde(default)]
    pub user_metadata: HashMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_progress: Option<JobProgress>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub output_group_details: Vec<OutputGroupDetail>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobProgress {
    #[serde(default)]
    pub job_percent_complete: Option<u8>,
    #[serde(default)]
    pub current_phase: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutputGroupDetail {
    #[serde(default)]
    pub output_details: Vec<OutputDetail>,
    /// HLS and CMAF groups: the master playlist(s).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub playlist_file_paths: Vec<String>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutputDetail {
    #[serde(default)]
    pub output_file_paths: Vec<String>,
    #[serde(default)]
    pub duration_in_ms: Option<u64>,
    #[serde(default)]
    pub video_details: Option<VideoDetails>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VideoDetails {
    #[serde(default)]
    pub width_in_px: Option<u32>,
    #[serde(default)]
    pub height_in_px: Option<u32>,
}

/// Splits `s3://bucket/key` into its parts.
pub fn split_s3_url(url: &str) -> Option<(&str, &str)> {
    url.strip_prefix("s3://")?.split_once('/')
}

/// What the local runner knows about a new object, to build an S3 notification from.
#[derive(Debug, Clone)]
pub struct NewObject<'a> {
    pub region: &'a str,
    pub bucket: &'a BucketName,
    pub key: &'a ObjectKey,
    pub size: u64,
    pub etag: &'a str,
}

/// An `ObjectCreated` notification exactly as S3 sends it (one record).
pub fn s3_event_json(object: &NewObject<'_>, at: Timestamp) -> Value {
    let multipart = object.etag.contains('-');
    let name = if multipart {
        "ObjectCreated:CompleteMultipartUpload"
    } else {
        "ObjectCreated:Put"
    };
    let sequencer = format!("{:016X}", at.unix_ms().max(0));
    json!({
        "Records": [{
            "eventVersion": "2.1",
            "eventSource": "aws:s3",
            "awsRegion": object.region,
            "eventTime": at.rfc3339(),
            "eventName": name,
            "userIdentity": {"principalId": "origin-local"},
            "requestParameters": {"sourceIPAddress": "127.0.0.1"},
            "responseElements": {"x-amz-request-id": sequencer, "x-amz-id-2": "origin-local"},
            "s3": {
                "s3SchemaVersion": "1.0",
                "configurationId": "origin-local",
                "bucket": {
                    "name": object.bucket,
                    "ownerIdentity": {"principalId": "origin-local"},
                    "arn": format!("arn:aws:s3:::{}", object.bucket)
                },
                "object": {
                    "key": encode_s3_key(object.key.as_str()),
                    "size": object.size,
                    "eTag": object.etag,
                    "sequencer": sequencer
                }
            }
        }]
    })
}

/// A `MediaConvert Job State Change` event as EventBridge delivers it.
pub fn job_state_change_json(region: &str, detail: &JobStateChange, at: Timestamp) -> Value {
    let account = detail
        .account_id
        .clone()
        .unwrap_or_else(|| "000000000000".into());
    json!({
        "version": "0",
        "id": format!("{}-{}", detail.job_id, detail.status.to_ascii_lowercase()),
        "detail-type": MEDIACONVERT_DETAIL_TYPE,
        "source": "aws.mediaconvert",
        "account": account,
        "time": at.rfc3339(),
        "region": region,
        "resources": [format!("arn:aws:mediaconvert:{region}:{account}:jobs/{}", detail.job_id)],
        "detail": detail,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_decoded_with_plus_as_space() {
        assert_eq!(
            decode_s3_key("uploads/a+b/source.mp4").unwrap(),
            "uploads/a b/source.mp4"
        );
        assert_eq!(
            decode_s3_key("uploads/a%2Bb%20c/x.mp4").unwrap(),
            "uploads/a+b c/x.mp4"
        );
        assert_eq!(decode_s3_key("caf%C3%A9.mov").unwrap(), "café.mov");
        assert!(decode_s3_key("bad%FF").is_err());
        for key in [
            "uploads/a b+c/source.mp4",
            "uploads/ü/é x.mkv",
            "plain/key.mp4",
        ] {
            assert_eq!(decode_s3_key(&encode_s3_key(key)).unwrap(), key);
        }
        assert_eq!(encode_s3_key("a b+c"), "a+b%2Bc");
    }

    #[test]
    fn unknown_shapes_are_refused() {
        assert!(OriginEvent::from_value(json!({"hello": 1})).is_err());
        assert!(
            OriginEvent::from_value(json!({"detail-type": "EC2 Instance State-change Notification", "source": "aws.ec2", "detail": {}}))
                .is_err()
        );
    }

    #[test]
    fn s3_urls() {
        assert_eq!(
            split_s3_url("s3://media/videos/x/video.mp4"),
            Some(("media", "videos/x/video.mp4"))
        );
        assert_eq!(split_s3_url("https://x"), None);
    }
}
