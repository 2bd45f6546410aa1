//! The transcoder port: MediaConvert in production ([`crate::mediaconvert`]), FFmpeg locally
//! ([`crate::local`]). Both learn what the input holds, then start a job whose progress and
//! end come back as `MediaConvert Job State Change` events.

use std::future::Future;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::Result;
use crate::media::{MediaInfo, Plan};

/// The uploaded object a job converts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    pub bucket: String,
    pub key: String,
    pub etag: String,
    pub size: u64,
}

/// Everything needed to start one conversion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobSpec {
    /// Derived from bucket, key and ETag: the same upload always gives the same token, so a
    /// repeated S3 event cannot start a second job (MediaConvert's ClientRequestToken).
    pub token: String,
    pub video_id: String,
    pub source: Source,
    pub info: MediaInfo,
    pub plan: Plan,
    pub output_bucket: String,
    /// `videos/{id}/video.mp4`.
    pub output_key: String,
}

pub trait Transcoder: Send + Sync {
    /// What the source holds. [`crate::Error::NotFound`] when it is gone;
    /// [`crate::Error::InvalidInput`] when it is not media at all.
    fn probe(&self, source: &Source) -> impl Future<Output = Result<MediaInfo>> + Send;
    /// Starts (or, for a token seen before, finds) the job; returns its id.
    fn submit(&self, job: &JobSpec) -> impl Future<Output = Result<String>> + Send;
}

/// The idempotency token of one uploaded object version: 40 hex digits of
/// SHA-256(bucket ‖ key ‖ ETag) (MediaConvert allows up to 64 characters).
pub fn request_token(bucket: &str, key: &str, etag: &str) -> String {
    let mut h = Sha256::new();
    for part in [bucket, key, etag.trim_matches('"')] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(&h.finalize()[..20])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_is_stable_and_distinguishes_versions() {
        let a = request_token("incoming", "uploads/x/source.mp4", "abc-2");
        assert_eq!(
            a,
            request_token("incoming", "uploads/x/source.mp4", "\"abc-2\"")
        );
        assert_eq!(a.len(), 40);
        assert_ne!(
            a,
            request_token("incoming", "uploads/x/source.mp4", "abd-2")
        );
        assert_ne!(
            a,
            request_token("incoming", "uploads/x/source.mov", "abc-2")
        );
        assert_ne!(request_token("ab", "c", "d"), request_token("a", "bc", "d"));
    }
}
