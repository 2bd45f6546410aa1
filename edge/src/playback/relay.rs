//! Edge playback's stream: S3's answer to a signed read passed on to the player unread,
//! with `Range` honoured.

use crate::error::{Error, ErrorCode};
use crate::respond::{self, Body, Served};

/// Response headers worth passing through from S3 to a player. `Content-Type` is ours, by
/// the file's name: S3 stores whatever the encoder wrote.
const UPSTREAM_HEADERS: [http::HeaderName; 5] = [
    http::header::CONTENT_LENGTH,
    http::header::CONTENT_RANGE,
    http::header::ACCEPT_RANGES,
    http::header::ETAG,
    http::header::LAST_MODIFIED,
];

/// A relayed read once S3 has answered (`None`: it could not be reached): a success keeps
/// our headers plus the ones a player needs from S3, and S3's body unread; a failure becomes
/// our JSON error.
pub fn relay<S>(
    mut head: http::response::Parts,
    upstream: Option<http::Response<S>>,
) -> http::Response<Served<S>> {
    let status = upstream.as_ref().map_or(502, |u| u.status().as_u16());
    match upstream {
        Some(upstream) if matches!(status, 200 | 206 | 304) => {
            let (parts, stream) = upstream.into_parts();
            for name in UPSTREAM_HEADERS {
                if let Some(value) = parts.headers.get(&name) {
                    head.headers.insert(name, value.clone());
                }
            }
            head.status = parts.status;
            http::Response::from_parts(head, Served::Stream(stream))
        }
        _ => {
            let (failure, body) = respond::failure(&upstream_failure(status)).into_parts();
            // Our headers (security, CORS) stay; the failure's own replace the media's, and
            // no cache keeps a failure.
            head.headers.extend(failure.headers);
            head.headers.insert(
                http::header::CACHE_CONTROL,
                http::HeaderValue::from_static("no-store"),
            );
            head.status = failure.status;
            let bytes = match body {
                Body::Bytes(bytes) => bytes,
                Body::Upstream(_) => Vec::new(),
            };
            http::Response::from_parts(head, Served::Bytes(bytes))
        }
    }
}

/// What the player gets when S3 answers a streamed read with a failure.
fn upstream_failure(status: u16) -> Error {
    match status {
        404 => Error::not_found("media"),
        416 => Error::new(
            ErrorCode::RangeNotSatisfiable,
            "the requested range is outside the video",
        ),
        503 => Error::StorageBusy(format!("streamed GetObject: HTTP {status}")),
        _ => Error::Storage(format!("streamed GetObject: HTTP {status}")),
    }
}
