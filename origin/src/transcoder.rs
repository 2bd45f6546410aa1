//! The transcoder port: MediaConvert in production ([`crate::mediaconvert`]), FFmpeg locally
//! ([`crate::local`]). Both learn what the input holds, then start a job whose progress and
//! end come back as `MediaConvert Job State Change` events, carrying the job's
//! [`JobMetadata`] so the handler knows what the job made.

use std::collections::HashMap;
use std::future::Future;

use model::ladder::Variant;
use model::storyboard::Storyboard;
use model::{BucketName, ObjectKey, VideoId};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::media::{Caps, MediaInfo, Plan};

/// The uploaded object a job converts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    pub bucket: BucketName,
    pub key: ObjectKey,
    /// Without the surrounding quotes.
    pub etag: String,
    pub size: u64,
}

impl Source {
    /// The idempotency token of this uploaded object version: 40 hex digits of
    /// SHA-256(bucket ‖ key ‖ ETag) (MediaConvert allows up to 64 characters). The same
    /// upload always gives the same token, so a repeated S3 event cannot start a second job.
    pub fn token(&self) -> String {
        let mut h = Sha256::new();
        for part in [
            self.bucket.as_str(),
            self.key.as_str(),
            self.etag.trim_matches('"'),
        ] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part.as_bytes());
        }
        hex::encode(&h.finalize()[..20])
    }
}

/// The token of the job that makes a video's streaming set on its own, after the job (or
/// copy) of `token` made its MP4: another job, so another token, and the same one every time.
pub fn streams_token(token: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"streams\0");
    h.update(token.as_bytes());
    hex::encode(&h.finalize()[..20])
}

/// Everything needed to start one conversion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobSpec {
    /// MediaConvert's ClientRequestToken, the local runner's job file: [`Source::token`] for
    /// the first job of an upload, [`streams_token`] for a streaming set made on its own.
    pub token: String,
    pub video_id: VideoId,
    pub source: Source,
    pub info: MediaInfo,
    pub plan: Plan,
    /// The MP4's upright picture when the source's is larger than the caps allow (a
    /// transcode, scaled down); `None`: the source's own.
    #[serde(default)]
    pub scaled_to: Option<(u32, u32)>,
    pub output_bucket: BucketName,
    /// `videos/{id}/video.mp4` when this job makes the MP4 (a remux or a transcode); `None`
    /// when it is in place already (copied, or made by an earlier job).
    pub mp4: Option<ObjectKey>,
    /// The streaming set this job makes; `None` when the picture's size is not known before
    /// the job: the set then follows in a job of its own, planned from this job's MP4.
    pub streams: Option<StreamsPlan>,
}

impl JobSpec {
    pub fn makes(&self) -> Makes {
        match (&self.mp4, &self.streams) {
            (Some(_), Some(_)) => Makes::All,
            (Some(_), None) => Makes::Mp4,
            (None, _) => Makes::Streams,
        }
    }

    pub fn metadata(&self) -> JobMetadata {
        JobMetadata {
            video_id: self.video_id.clone(),
            source_key: self.source.key.clone(),
            token: Some(self.token.clone()),
            makes: self.makes(),
            duration_known: self.info.duration_ms.is_some(),
        }
    }
}

/// The adaptive stream a job makes: HLS renditions, a poster, a storyboard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamsPlan {
    /// Highest first; never empty. The poster is the first one's size.
    pub variants: Vec<Variant>,
    /// One audio rendition, unless the source is known to be silent.
    pub audio: bool,
    /// `None` when the duration is not known.
    pub storyboard: Option<Storyboard>,
}

impl StreamsPlan {
    /// The streaming set of a source, by what is known of it: `None` when its picture size
    /// is not. Renditions by [`model::ladder::variants`] of its picture within the caps
    /// (scaled down when larger), under the ladder's cap; audio unless the source is known
    /// to have none.
    pub fn of(info: &MediaInfo, caps: &Caps) -> Option<StreamsPlan> {
        let (width, height) = caps.picture(info)?;
        Some(StreamsPlan {
            variants: model::ladder::variants(width, height, caps.ladder),
            // Every prober that finds the picture reads every track: no audio found is none.
            audio: info.audio.is_some(),
            storyboard: info
                .duration_ms
                .map(|duration| Storyboard::new(duration, width, height)),
        })
    }

    /// The poster's size: the top rendition's.
    pub fn poster_size(&self) -> (u32, u32) {
        self.variants
            .first()
            .map_or((0, 0), |v| (v.width, v.height))
    }
}

/// What a job makes, as its metadata says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Makes {
    /// The MP4 and the streaming set.
    All,
    /// The MP4 alone; the streaming set follows in a job of its own.
    Mp4,
    /// The streaming set alone: the MP4 is in place.
    Streams,
}

impl Makes {
    fn as_str(self) -> &'static str {
        match self {
            Makes::All => "all",
            Makes::Mp4 => "mp4",
            Makes::Streams => "streams",
        }
    }
}

/// A job's user metadata (MediaConvert's UserMetadata, the local runner's events): which
/// video and upload it converts, its token, and what it makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobMetadata {
    pub video_id: VideoId,
    pub source_key: ObjectKey,
    /// `None` for jobs submitted before the token was recorded.
    pub token: Option<String>,
    pub makes: Makes,
    /// Whether the source's duration was known (and so checked against the cap) before the
    /// job; when not, the job's MP4 is checked instead. Jobs submitted before the cap count
    /// as known: they were not to be checked.
    pub duration_known: bool,
}

impl JobMetadata {
    pub fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = vec![
            ("videoId", self.video_id.to_string()),
            ("sourceKey", self.source_key.to_string()),
            ("makes", self.makes.as_str().to_string()),
        ];
        if let Some(token) = &self.token {
            pairs.push(("token", token.clone()));
        }
        if !self.duration_known {
            pairs.push(("durationKnown", "false".to_string()));
        }
        pairs
    }

    /// `Ok(None)`: not a job of ours. A job without `makes` was submitted before streaming
    /// sets existed, and made the MP4 alone.
    pub fn from_map(map: &HashMap<String, String>) -> Result<Option<JobMetadata>> {
        let (Some(video_id), Some(source_key)) = (map.get("videoId"), map.get("sourceKey")) else {
            return Ok(None);
        };
        let bad = |what: &str, value: &str| Error::BadEvent(format!("{what} {value:?}"));
        let makes = match map.get("makes").map(String::as_str) {
            None | Some("mp4") => Makes::Mp4,
            Some("all") => Makes::All,
            Some("streams") => Makes::Streams,
            Some(other) => return Err(bad("makes", other)),
        };
        Ok(Some(JobMetadata {
            video_id: VideoId::parse(video_id).map_err(|e| bad("video id", &e.to_string()))?,
            source_key: ObjectKey::parse(source_key)
                .map_err(|e| bad("source key", &e.to_string()))?,
            token: map.get("token").cloned(),
            makes,
            duration_known: map
                .get("durationKnown")
                .is_none_or(|known| known != "false"),
        }))
    }
}

pub trait Transcoder: Send + Sync {
    /// What the source holds. [`crate::Error::NotFound`] when it is gone;
    /// [`crate::Error::InvalidInput`] when it is not media at all.
    fn probe(&self, source: &Source) -> impl Future<Output = Result<MediaInfo>> + Send;
    /// Starts (or, for a token seen before, finds) the job; returns its id.
    fn submit(&self, job: &JobSpec) -> impl Future<Output = Result<String>> + Send;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(bucket: &str, key: &str, etag: &str) -> Source {
        Source {
            bucket: BucketName::parse(bucket).unwrap(),
            key: ObjectKey::parse(key).unwrap(),
            etag: etag.into(),
            size: 1,
        }
    }

    #[test]
    fn metadata_round_trips_and_old_jobs_made_the_mp4() {
        let metadata = JobMetadata {
            video_id: VideoId::parse("0192f3a4-5b6c-7d8e-9f01-23456789abcd").unwrap(),
            source_key: ObjectKey::parse("uploads/x/source.mp4").unwrap(),
            token: Some("t".into()),
            makes: Makes::Streams,
            duration_known: false,
        };
        let map: HashMap<String, String> = metadata
            .to_pairs()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        assert_eq!(JobMetadata::from_map(&map).unwrap(), Some(metadata.clone()));
        let mut old = map.clone();
        old.remove("makes");
        old.remove("token");
        old.remove("durationKnown");
        let old = JobMetadata::from_map(&old).unwrap().unwrap();
        assert_eq!(
            (old.makes, old.token, old.duration_known),
            (Makes::Mp4, None, true)
        );
        assert_eq!(JobMetadata::from_map(&HashMap::new()).unwrap(), None);
        let mut odd = map;
        odd.insert("makes".into(), "everything".into());
        assert!(JobMetadata::from_map(&odd).is_err());
        assert_ne!(streams_token("a"), streams_token("b"));
        assert_eq!(streams_token("a").len(), 40);
    }

    #[test]
    fn token_is_stable_and_distinguishes_versions() {
        let a = source("incoming", "uploads/x/source.mp4", "abc-2").token();
        assert_eq!(
            a,
            source("incoming", "uploads/x/source.mp4", "\"abc-2\"").token()
        );
        assert_eq!(a.len(), 40);
        assert_ne!(
            a,
            source("incoming", "uploads/x/source.mp4", "abd-2").token()
        );
        assert_ne!(
            a,
            source("incoming", "uploads/x/source.mov", "abc-2").token()
        );
        assert_ne!(
            source("abc", "d", "e").token(),
            source("abc", "de", "").token()
        );
    }
}
