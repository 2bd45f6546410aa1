//! What the core needs from its platform, as small traits ("ports"). The Worker implements
//! them with D1, `fetch`, `Date.now()` and `crypto.getRandomValues`; native code with SQLite,
//! an HTTP client and the OS. The core never names either.
//!
//! The traits use `async fn` without `Send` bounds on purpose: a Worker isolate is single
//! threaded and its futures are not `Send`.
#![allow(async_fn_in_trait)]

use crate::error::Result;
use model::Timestamp;

/// A value bound to a SQL parameter. D1 takes JavaScript numbers, so integers stay within
/// 2^53 (file sizes up to 5 TiB do).
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    Null,
    Integer(i64),
    Text(String),
}

impl From<i64> for SqlValue {
    fn from(v: i64) -> Self {
        SqlValue::Integer(v)
    }
}

impl From<u64> for SqlValue {
    fn from(v: u64) -> Self {
        SqlValue::Integer(i64::try_from(v).unwrap_or(i64::MAX))
    }
}

impl From<u32> for SqlValue {
    fn from(v: u32) -> Self {
        SqlValue::Integer(v.into())
    }
}

impl From<&str> for SqlValue {
    fn from(v: &str) -> Self {
        SqlValue::Text(v.to_string())
    }
}

impl From<String> for SqlValue {
    fn from(v: String) -> Self {
        SqlValue::Text(v)
    }
}

/// The model's text values are stored as their canonical text.
macro_rules! text_values {
    ($($type:ty),*) => {
        $(impl From<&$type> for SqlValue {
            fn from(v: &$type) -> Self {
                SqlValue::Text(v.as_str().to_string())
            }
        })*
    };
}

text_values!(
    model::VideoId,
    model::UserId,
    model::Email,
    model::ObjectKey
);

impl From<model::VideoStatus> for SqlValue {
    fn from(v: model::VideoStatus) -> Self {
        SqlValue::Text(v.as_str().into())
    }
}

impl From<model::Role> for SqlValue {
    fn from(v: model::Role) -> Self {
        SqlValue::Text(v.as_str().into())
    }
}

/// Times are stored as Unix milliseconds.
impl From<Timestamp> for SqlValue {
    fn from(v: Timestamp) -> Self {
        SqlValue::Integer(v.unix_ms())
    }
}

impl<T: Into<SqlValue>> From<Option<T>> for SqlValue {
    fn from(v: Option<T>) -> Self {
        v.map_or(SqlValue::Null, Into::into)
    }
}

/// A result row: column name → JSON value (what D1 returns natively), so one set of serde
/// row types serves both platforms.
pub type Row = serde_json::Map<String, serde_json::Value>;

/// One SQL statement with its parameters.
pub type Statement<'a> = (&'a str, Vec<SqlValue>);

/// Writes the client does not wait for (clearing sign-in attempts): statements run in one
/// batch after the answer is sent (Workers' `waitUntil`).
pub type Deferred = Vec<(String, Vec<SqlValue>)>;

/// What one statement of a batch did: the rows it returned (a `SELECT`, or `RETURNING`)
/// and how many rows it changed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    pub rows: Vec<Row>,
    pub changes: u64,
}

/// SQLite semantics (D1 is SQLite): the catalog's SQL is written once for both. Each call
/// is one round trip to the database.
pub trait Database {
    async fn query(&self, sql: &str, params: &[SqlValue]) -> Result<Vec<Row>>;
    /// Runs one statement; returns how many rows it changed.
    async fn execute(&self, sql: &str, params: &[SqlValue]) -> Result<u64>;
    /// Runs the statements in one transaction, in one round trip; returns each one's outcome.
    async fn batch(&self, statements: Vec<Statement<'_>>) -> Result<Vec<Outcome>>;
}

/// Sends HTTP requests: the edge's own signed S3 calls, and reads it relays to a player.
pub trait HttpClient {
    /// A response body the platform passes on without reading it (a JavaScript stream in
    /// the Worker), so a video never has to fit in memory.
    type Stream;

    /// Sends and reads the whole answer.
    async fn send(&self, request: http::Request<Vec<u8>>) -> Result<http::Response<Vec<u8>>>;

    /// Sends and returns the status and headers, with the body left unread.
    async fn open(&self, request: http::Request<Vec<u8>>) -> Result<http::Response<Self::Stream>>;
}

/// The rate limits the platform keeps (in production the Workers Rate Limiting binding of the
/// same name in wrangler.toml).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Limiter {
    /// Creating videos (each signs an upload), per user.
    Uploads,
}

impl Limiter {
    /// Its binding's name.
    pub fn binding(self) -> &'static str {
        match self {
            Limiter::Uploads => "UPLOAD_LIMITER",
        }
    }

    /// The period the binding counts over, for `Retry-After`.
    pub fn period(self) -> std::time::Duration {
        match self {
            Limiter::Uploads => std::time::Duration::from_secs(60),
        }
    }
}

/// Everything else the core takes from its platform.
pub trait Platform {
    type Db: Database;
    type Http: HttpClient;

    fn db(&self) -> &Self::Db;
    fn http(&self) -> &Self::Http;
    /// The time of day. The core never calls `SystemTime::now()`: it panics in wasm.
    fn now(&self) -> Timestamp;
    /// Cryptographically secure random bytes.
    fn fill_random(&self, buf: &mut [u8]);
    /// One line for the operator's log (server-side failures; never secrets).
    fn log(&self, line: &str);
    /// Counts one call under `key`; false when it is over `limiter`'s limit.
    async fn within_limit(&self, limiter: Limiter, key: &str) -> Result<bool>;
    /// Runs `statements` after the answer is sent; a failure is logged, not answered.
    fn after_response(&self, statements: Deferred);
    /// Whether `signature` is `public_key`'s Ed25519 signature of `message`, checked by the
    /// platform's own crypto (workerd's WebCrypto runs native code); `None` where the
    /// platform has none and `signer` checks it.
    async fn verify_ed25519(
        &self,
        public_key: &[u8; 32],
        message: &[u8],
        signature: &[u8; 64],
    ) -> Result<Option<bool>>;
}
