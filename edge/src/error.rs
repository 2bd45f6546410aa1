//! The edge's one error type. Client errors carry a stable snake_case [`ErrorCode`] and a
//! message safe to show; everything else becomes a 5xx whose body says nothing about
//! internals.

use http::{Method, StatusCode};

/// Defines [`ErrorCode`] once: variant, wire name, and the status it usually travels with.
macro_rules! error_codes {
    ($($variant:ident => $code:literal, $status:ident;)*) => {
        /// Every `error.code` the API answers with. `edge/openapi.yaml` lists the same set
        /// (the OpenAPI test compares them).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $($variant,)*
        }

        impl ErrorCode {
            pub const ALL: &[ErrorCode] = &[$(ErrorCode::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $code,)*
                }
            }

            /// The status this code is answered with unless the error says otherwise.
            pub fn status(self) -> StatusCode {
                match self {
                    $(ErrorCode::$variant => StatusCode::$status,)*
                }
            }
        }
    };
}

error_codes! {
    InvalidRequest => "invalid_request", BAD_REQUEST;
    UnsupportedType => "unsupported_type", BAD_REQUEST;
    FileTooLarge => "file_too_large", BAD_REQUEST;
    SizeMismatch => "size_mismatch", BAD_REQUEST;
    UploadIncomplete => "upload_incomplete", BAD_REQUEST;
    InvalidParts => "invalid_parts", BAD_REQUEST;
    InvalidCursor => "invalid_cursor", BAD_REQUEST;
    Unauthorized => "unauthorized", UNAUTHORIZED;
    InvalidCredentials => "invalid_credentials", UNAUTHORIZED;
    InvalidToken => "invalid_token", UNAUTHORIZED;
    TokenExpired => "token_expired", UNAUTHORIZED;
    InvalidSignature => "invalid_signature", UNAUTHORIZED;
    SignatureExpired => "signature_expired", UNAUTHORIZED;
    InvalidRefreshToken => "invalid_refresh_token", UNAUTHORIZED;
    RefreshTokenReused => "refresh_token_reused", UNAUTHORIZED;
    Forbidden => "forbidden", FORBIDDEN;
    AccountDisabled => "account_disabled", FORBIDDEN;
    QuotaExceeded => "quota_exceeded", FORBIDDEN;
    NotFound => "not_found", NOT_FOUND;
    MethodNotAllowed => "method_not_allowed", METHOD_NOT_ALLOWED;
    Exists => "exists", CONFLICT;
    InvalidState => "invalid_state", CONFLICT;
    NotMultipart => "not_multipart", CONFLICT;
    UploadNotFound => "upload_not_found", CONFLICT;
    NotReady => "not_ready", CONFLICT;
    LastAdmin => "last_admin", CONFLICT;
    PayloadTooLarge => "payload_too_large", PAYLOAD_TOO_LARGE;
    RangeNotSatisfiable => "range_not_satisfiable", RANGE_NOT_SATISFIABLE;
    RateLimited => "rate_limited", TOO_MANY_REQUESTS;
    InternalError => "internal_error", INTERNAL_SERVER_ERROR;
    StorageUnavailable => "storage_unavailable", BAD_GATEWAY;
    StorageBusy => "storage_busy", SERVICE_UNAVAILABLE;
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The caller's fault (4xx): shown as is.
    #[error("{}: {message}", code.as_str())]
    Client {
        status: StatusCode,
        code: ErrorCode,
        message: String,
    },
    /// Too many attempts (failed sign-ins, new uploads): `what` says of what.
    #[error("rate limited for {retry_after_secs} s")]
    RateLimited {
        what: &'static str,
        retry_after_secs: u64,
    },
    #[error("method not allowed")]
    MethodNotAllowed { allow: Vec<Method> },
    /// The catalog (D1 or SQLite) failed, or holds a row the model refuses.
    #[error("database: {0}")]
    Database(String),
    /// Object storage answered unexpectedly or could not be reached.
    #[error("object storage: {0}")]
    Storage(String),
    /// Object storage is overloaded (503 SlowDown): worth trying again shortly.
    #[error("object storage busy: {0}")]
    StorageBusy(String),
    #[error("signing: {0}")]
    Signer(#[from] signer::Error),
    /// A variable or secret is missing or malformed: an operator's mistake.
    #[error("configuration: {0}")]
    Config(String),
    /// A facility of the runtime itself failed (WebCrypto).
    #[error("runtime: {0}")]
    Runtime(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A client error with its code's usual status.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::with_status(code.status(), code, message)
    }

    pub fn with_status(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        Error::Client {
            status,
            code,
            message: message.into(),
        }
    }

    /// 400 `invalid_request`: a malformed or out-of-range field.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidRequest, message)
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(ErrorCode::NotFound, format!("{what} not found"))
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }

    /// Whether this is a client error with `code`.
    pub fn has_code(&self, code: ErrorCode) -> bool {
        self.code() == code
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Error::Client { status, .. } => *status,
            other => other.code().status(),
        }
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            Error::Client { code, .. } => *code,
            Error::RateLimited { .. } => ErrorCode::RateLimited,
            Error::MethodNotAllowed { .. } => ErrorCode::MethodNotAllowed,
            Error::Storage(_) => ErrorCode::StorageUnavailable,
            Error::StorageBusy(_) => ErrorCode::StorageBusy,
            Error::Database(_) | Error::Signer(_) | Error::Config(_) | Error::Runtime(_) => {
                ErrorCode::InternalError
            }
        }
    }

    /// What the response body says: the message for client errors, a fixed sentence otherwise.
    pub fn public_message(&self) -> String {
        match self {
            Error::Client { message, .. } => message.clone(),
            Error::RateLimited {
                what,
                retry_after_secs,
            } => format!("too many {what}; try again in {retry_after_secs} s"),
            Error::MethodNotAllowed { .. } => "method not allowed on this resource".into(),
            Error::Storage(_) => "object storage is unavailable; try again".into(),
            Error::StorageBusy(_) => "object storage is busy; try again in a moment".into(),
            Error::Database(_) | Error::Signer(_) | Error::Config(_) | Error::Runtime(_) => {
                "internal error; try again later".into()
            }
        }
    }

    /// Server-side failures are logged (never shown); client errors are not worth a log line.
    pub fn is_server_side(&self) -> bool {
        self.status().is_server_error()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            let text = code.as_str();
            assert!(seen.insert(text), "{text} twice");
            assert!(text.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
        }
    }

    #[test]
    fn server_errors_say_nothing_about_internals() {
        let error = Error::Database("SELECT secret FROM users: disk I/O".into());
        assert_eq!(error.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!error.public_message().contains("users"));
        assert_eq!(Error::Storage("x".into()).status(), StatusCode::BAD_GATEWAY);
    }
}
