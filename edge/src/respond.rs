//! Building responses: the JSON envelope, errors, and the headers every response carries.

use crate::error::Error;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Response, StatusCode};
use serde::Serialize;

/// A response body: bytes the core made, or "stream what this signed upstream request
/// returns" (edge playback), which only the platform shell can do without buffering.
#[derive(Debug)]
pub enum Body {
    Bytes(Vec<u8>),
    Upstream(Box<http::Request<Vec<u8>>>),
}

pub type Reply = Response<Body>;

/// What a platform shell sends: bytes the core made, or an upstream body passed on unread.
#[derive(Debug)]
pub enum Served<S> {
    Bytes(Vec<u8>),
    Stream(S),
}

/// The envelope every JSON answer has: `success`, then the body's own fields.
#[derive(Serialize)]
struct Envelope<'a, T> {
    success: bool,
    #[serde(flatten)]
    body: &'a T,
}

#[derive(Serialize)]
struct Failure<'a> {
    error: ErrorBody<'a>,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    code: &'a str,
    message: String,
}

/// `{"success": true, ...fields of body}` with the given status.
pub fn success<T: Serialize>(status: StatusCode, body: &T) -> Reply {
    json(status, true, body)
}

/// `{"success": false, "error": {code, message}}` with the error's status and headers.
pub fn failure(error: &Error) -> Reply {
    let body = Failure {
        error: ErrorBody {
            code: error.code().as_str(),
            message: error.public_message(),
        },
    };
    let mut reply = json(error.status(), false, &body);
    let headers = reply.headers_mut();
    match error {
        Error::RateLimited {
            retry_after_secs, ..
        } => {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
        }
        Error::StorageBusy(_) => {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        Error::MethodNotAllowed { allow } => {
            let allow = allow
                .iter()
                .map(|m| m.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            if let Ok(value) = HeaderValue::from_str(&allow) {
                headers.insert(header::ALLOW, value);
            }
        }
        _ => {}
    }
    reply
}

fn json<T: Serialize>(status: StatusCode, success: bool, body: &T) -> Reply {
    let envelope = Envelope { success, body };
    let text = serde_json::to_vec(&envelope).expect("response bodies serialize");
    bytes(status, "application/json; charset=utf-8", text)
}

pub fn bytes(status: StatusCode, content_type: &'static str, body: Vec<u8>) -> Reply {
    let mut reply = Response::new(Body::Bytes(body));
    *reply.status_mut() = status;
    reply
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    reply
}

/// A cookie only our API reads: never visible to scripts (`HttpOnly`), only over HTTPS
/// (`Secure`; browsers also allow it on loopback), never sent from another site
/// (`SameSite=Strict`), and only to `/api/auth`. `max_age` 0 deletes it.
pub fn set_cookie(reply: &mut Reply, name: &str, value: &str, max_age: std::time::Duration) {
    let cookie = format!(
        "{name}={value}; Max-Age={}; Path=/api/auth; HttpOnly; Secure; SameSite=Strict",
        max_age.as_secs()
    );
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        reply.headers_mut().append(header::SET_COOKIE, value);
    }
}

/// Headers on every response: no sniffing, no framing, no referrer leaks, no caching of
/// API answers unless the handler chose otherwise (they carry signed URLs), and HSTS where
/// TLS is guaranteed.
pub fn add_security_headers(headers: &mut HeaderMap, production: bool, cacheable: bool) {
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if !cacheable && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if production {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=63072000; includeSubDomains"),
        );
    }
}
