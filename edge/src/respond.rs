//! Building responses: the JSON envelope, errors, and the headers every response carries.

use crate::error::Error;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Response, StatusCode};
use serde_json::{Map, Value};

/// A response body: bytes the core made, or "stream what this signed upstream request
/// returns" (edge playback), which only the platform shell can do without buffering.
#[derive(Debug)]
pub enum Body {
    Bytes(Vec<u8>),
    Upstream(Box<http::Request<Vec<u8>>>),
}

pub type Reply = Response<Body>;

/// `{"success": true, ...fields}` with the given status.
pub fn success(status: StatusCode, fields: Value) -> Reply {
    let mut object = Map::new();
    object.insert("success".into(), Value::Bool(true));
    if let Value::Object(fields) = fields {
        object.extend(fields);
    }
    json(status, &Value::Object(object))
}

/// `{"success": false, "error": {code, message}}` with the error's status and headers.
pub fn failure(error: &Error) -> Reply {
    let body = serde_json::json!({
        "success": false,
        "error": { "code": error.code(), "message": error.public_message() },
    });
    let mut reply = json(error.status(), &body);
    let headers = reply.headers_mut();
    match error {
        Error::RateLimited { retry_after_secs } => {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
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

pub fn json(status: StatusCode, value: &Value) -> Reply {
    bytes(
        status,
        "application/json; charset=utf-8",
        value.to_string().into_bytes(),
    )
}

pub fn bytes(status: StatusCode, content_type: &'static str, body: Vec<u8>) -> Reply {
    let mut reply = Response::new(Body::Bytes(body));
    *reply.status_mut() = status;
    reply
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    reply
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
