//! The crate's one error type. Every variant says whether trying again can help: the Lambda
//! returns retryable errors to the runtime (so AWS redelivers the event) and swallows the rest
//! after logging them; the local runner keeps a retryable event for its next poll.

/// What went wrong, classified.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A required setting is missing or malformed (never retryable).
    #[error("configuration: {0}")]
    Config(String),
    /// The event is not one this function understands (never retryable).
    #[error("unrecognised event: {0}")]
    BadEvent(String),
    /// The object does not exist (any more).
    #[error("no such object: s3://{bucket}/{key}")]
    NotFound { bucket: String, key: String },
    /// An S3 call failed.
    #[error("storage: {message}")]
    Storage { message: String, retryable: bool },
    /// The media cannot be read or converted: corrupt, truncated, no video. Never retryable.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The transcoder (MediaConvert's API, or an FFmpeg run) failed.
    #[error("transcoder: {message}")]
    Transcoder { message: String, retryable: bool },
    /// The edge gave no verdict: unreachable, too slow, or an answer other than 200 (its
    /// `status`). Always worth retrying: only a verdict ends a call to the edge.
    #[error("edge: {message}")]
    Edge {
        message: String,
        status: Option<u16>,
    },
    /// Local disk or process trouble (retryable: it is usually transient).
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// A request could not be signed (bad key, bad input): never retryable.
    #[error("signing: {0}")]
    Sign(String),
}

impl Error {
    /// True when the same call may succeed later (network, 5xx, throttling, local I/O).
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Storage { retryable, .. } | Error::Transcoder { retryable, .. } => *retryable,
            Error::Edge { .. } | Error::Io(_) => true,
            Error::Config(_)
            | Error::BadEvent(_)
            | Error::NotFound { .. }
            | Error::InvalidInput(_)
            | Error::Sign(_) => false,
        }
    }

    /// Whether an HTTP status means "try again": 408, 429 and every 5xx.
    pub fn status_is_retryable(status: u16) -> bool {
        status == 408 || status == 429 || status >= 500
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification() {
        assert!(Error::status_is_retryable(500));
        assert!(Error::status_is_retryable(503));
        assert!(Error::status_is_retryable(429));
        assert!(Error::status_is_retryable(408));
        assert!(!Error::status_is_retryable(400));
        assert!(!Error::status_is_retryable(401));
        assert!(!Error::status_is_retryable(404));
        assert!(Error::Io(std::io::Error::other("disk")).is_retryable());
        assert!(!Error::InvalidInput("moov atom not found".into()).is_retryable());
        // A refusal from the edge is retried too: a rotated secret or a WAF rule must not
        // drop events.
        for status in [None, Some(401), Some(404), Some(503)] {
            assert!(
                Error::Edge {
                    message: "x".into(),
                    status
                }
                .is_retryable()
            );
        }
    }
}
