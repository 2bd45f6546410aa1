//! The edge's one error type. Client errors carry a stable snake_case `code` and a message
//! safe to show; everything else becomes a 5xx whose body says nothing about internals.

use http::{Method, StatusCode};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The caller's fault (4xx): shown as is.
    #[error("{code}: {message}")]
    Client {
        status: StatusCode,
        code: &'static str,
        message: String,
    },
    /// Too many failed sign-ins for this email or client.
    #[error("rate limited for {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    #[error("method not allowed")]
    MethodNotAllowed { allow: Vec<Method> },
    /// The catalog (D1 or SQLite) failed.
    #[error("database: {0}")]
    Database(String),
    /// Object storage answered unexpectedly or could not be reached.
    #[error("object storage: {0}")]
    Storage(String),
    #[error("signing: {0}")]
    Signer(#[from] signer::Error),
    /// A variable or secret is missing or malformed: an operator's mistake.
    #[error("configuration: {0}")]
    Config(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn client(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Error::Client {
            status,
            code,
            message: message.into(),
        }
    }

    /// 400 with the given code.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::client(StatusCode::BAD_REQUEST, code, message)
    }

    /// 400 `invalid_request`: a malformed or out-of-range field.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::bad_request("invalid_request", message)
    }

    pub fn not_found(what: &str) -> Self {
        Self::client(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }

    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        Self::client(StatusCode::UNAUTHORIZED, code, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::client(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::client(StatusCode::CONFLICT, code, message)
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Error::Client { status, .. } => *status,
            Error::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Error::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Error::Storage(_) => StatusCode::BAD_GATEWAY,
            Error::Database(_) | Error::Signer(_) | Error::Config(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Error::Client { code, .. } => code,
            Error::RateLimited { .. } => "rate_limited",
            Error::MethodNotAllowed { .. } => "method_not_allowed",
            Error::Storage(_) => "storage_unavailable",
            Error::Database(_) | Error::Signer(_) | Error::Config(_) => "internal_error",
        }
    }

    /// What the response body says: the message for client errors, a fixed sentence otherwise.
    pub fn public_message(&self) -> String {
        match self {
            Error::Client { message, .. } => message.clone(),
            Error::RateLimited { retry_after_secs } => {
                format!("too many failed sign-ins; try again in {retry_after_secs} s")
            }
            Error::MethodNotAllowed { .. } => "method not allowed on this resource".into(),
            Error::Storage(_) => "object storage is unavailable; try again".into(),
            Error::Database(_) | Error::Signer(_) | Error::Config(_) => {
                "internal error; try again later".into()
            }
        }
    }

    /// Server-side failures are logged (never shown); client errors are not worth a log line.
    pub fn is_server_side(&self) -> bool {
        self.status().is_server_error()
    }
}
