//! The crate's one error type. Variants are split finely enough that callers can map each to
//! an HTTP status and an API error code (an expired JWT is not an invalid one, an old webhook is
//! not a forged one).

/// Everything that can go wrong in `signer`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    // ---- S3 signing and XML
    #[error("invalid S3 endpoint: {0}")]
    InvalidEndpoint(&'static str),
    #[error("expiry of {requested_secs} s is outside {min_secs}..={max_secs} s")]
    ExpiryOutOfRange {
        requested_secs: u64,
        min_secs: u64,
        max_secs: u64,
    },
    #[error("invalid S3 request: {0}")]
    InvalidS3Request(String),
    #[error("the body has {actual} bytes but the request declares {declared}")]
    BodyLengthMismatch { declared: u64, actual: u64 },
    #[error("SigV4 signing failed: {0}")]
    Signing(String),
    #[error("malformed S3 XML: {0}")]
    MalformedXml(String),
    /// S3 answered with an `<Error>` document (possibly with status 200, as
    /// CompleteMultipartUpload may).
    #[error("S3 error {code}: {message}")]
    S3 { code: String, message: String },
    #[error("{count} keys in one DeleteObjects request (at most {max})")]
    TooManyKeys { count: usize, max: usize },

    // ---- multipart planning
    #[error("an upload needs at least one byte")]
    EmptyUpload,
    #[error("an upload of {size} bytes exceeds the limit of {max} bytes")]
    UploadTooLarge { size: u64, max: u64 },
    #[error("part {part_number} is outside 1..={part_count}")]
    PartOutOfRange { part_number: u16, part_count: u16 },

    // ---- JWT (401, with distinct codes)
    #[error("token expired")]
    JwtExpired,
    #[error("token not yet valid")]
    JwtNotYetValid,
    #[error("invalid token: {0}")]
    JwtInvalid(String),

    // ---- passwords
    #[error("malformed password hash: {0}")]
    MalformedPasswordHash(String),
    #[error("unsupported password hash scheme")]
    UnsupportedPasswordHash,
    #[error("invalid argon2 parameters: {0}")]
    InvalidArgon2Params(String),

    // ---- configuration: keys, secrets and programmer-supplied arguments (500)
    #[error("invalid key: {0}")]
    InvalidKey(String),
    #[error("invalid argument: {0}")]
    InvalidArgument(String),

    // ---- playback
    #[error("invalid playback URL: {0}")]
    InvalidUrl(&'static str),
    #[error("playback token expired")]
    PlaybackTokenExpired,
    #[error("invalid playback token")]
    PlaybackTokenInvalid,

    // ---- webhooks (401)
    #[error("malformed webhook signature header")]
    MalformedWebhookHeader,
    #[error("webhook timestamp {timestamp} is more than {tolerance_secs} s away from {now}")]
    WebhookTimestampOutOfTolerance {
        timestamp: i64,
        now: i64,
        tolerance_secs: u64,
    },
    #[error("webhook signature mismatch")]
    WebhookSignatureMismatch,
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
