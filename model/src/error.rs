//! The crate's one error type: what makes an input not a value of the model.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("invalid {kind}: {reason}")]
    InvalidId {
        kind: &'static str,
        reason: &'static str,
    },
    #[error("invalid email address: {0}")]
    InvalidEmail(&'static str),
    #[error("unknown role {0:?} (expected \"admin\" or \"member\")")]
    InvalidRole(String),
    #[error("invalid object key: {0}")]
    InvalidObjectKey(&'static str),
    #[error("invalid bucket name: {0}")]
    InvalidBucketName(&'static str),
    #[error("unsupported video container {0:?}")]
    UnsupportedContainer(String),
    /// User text that is empty, too long or not printable.
    #[error("{field} must be 1 to {max_chars} printable characters")]
    InvalidText {
        field: &'static str,
        max_chars: usize,
    },
    #[error("unsupported file type {0:?} (expected video/* or application/octet-stream)")]
    UnsupportedFileType(String),
    #[error("unknown video status {0:?}")]
    InvalidStatus(String),
    #[error("invalid time: {0}")]
    InvalidTime(String),
    /// A job event that breaks the edge↔origin contract (the message says which rule).
    #[error("{0}")]
    InvalidMessage(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
