//! The transcoder port: MediaConvert in production ([`crate::mediaconvert`]), FFmpeg locally
//! ([`crate::local`]). Both learn what the input holds, then start a job whose progress and
//! end come back as `MediaConvert Job State Change` events.

use std::future::Future;

use model::{BucketName, ObjectKey, VideoId};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::Result;
use crate::media::{MediaInfo, Plan};

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

/// Everything needed to start one conversion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobSpec {
    /// [`Source::token`]: MediaConvert's ClientRequestToken, the local runner's job file.
    pub token: String,
    pub video_id: VideoId,
    pub source: Source,
    pub info: MediaInfo,
    pub plan: Plan,
    pub output_bucket: BucketName,
    /// `videos/{id}/video.mp4`.
    pub output_key: ObjectKey,
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
