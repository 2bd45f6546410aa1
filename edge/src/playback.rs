//! Playback: signed, expiring URLs of a ready video (`PLAYBACK_MODE` s3, cloudfront or
//! edge), and in edge mode the stream itself, relayed from S3 with `Range` honoured.

use crate::app::App;
use crate::catalog::VideoRow;
use crate::config::PlaybackMode;
use crate::error::{Error, ErrorCode, Result};
use crate::ports::Platform;
use crate::request::Ctx;
use crate::respond::{self, Body, Reply, Served};
use http::StatusCode;
use model::{ObjectKey, Timestamp, VideoStatus};
use serde::Serialize;
use signer::playback::edge_token;
use signer::s3::S3Request;

/// Response headers worth passing through from S3 to a player.
const UPSTREAM_HEADERS: [http::HeaderName; 6] = [
    http::header::CONTENT_TYPE,
    http::header::CONTENT_LENGTH,
    http::header::CONTENT_RANGE,
    http::header::ACCEPT_RANGES,
    http::header::ETAG,
    http::header::LAST_MODIFIED,
];

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PlaybackUrl {
    url: String,
    expires_at: Timestamp,
    mime_type: &'static str,
}

pub fn playback<P: Platform>(app: &App<P>, ctx: &Ctx<'_>, video: &VideoRow) -> Result<Reply> {
    let output_key = match (&video.status, &video.output_key) {
        (VideoStatus::Ready, Some(key)) => key,
        _ => {
            return Err(Error::new(
                ErrorCode::NotReady,
                format!("the video is {}, not ready", video.status),
            ));
        }
    };
    let ttl = app.config.playback_url_ttl;
    let expires_at = (ctx.now + ttl).whole_seconds();
    let url = match &app.config.playback {
        PlaybackMode::S3 => {
            app.config
                .s3
                .presign(
                    &S3Request::GetObject {
                        bucket: &app.config.media_bucket,
                        key: output_key,
                        response_content_disposition: None,
                        range: None,
                    },
                    ctx.now,
                    ttl,
                )?
                .url
        }
        PlaybackMode::CloudFront { domain, signer } => {
            signer.signed_url(&format!("https://{domain}/{output_key}"), expires_at)?
        }
        PlaybackMode::Edge { secret } => {
            let token = edge_token::sign(secret.expose(), output_key, expires_at);
            format!("{}/media/{token}/{output_key}", ctx.public_origin())
        }
    };
    Ok(respond::success(
        StatusCode::OK,
        &PlaybackUrl {
            url,
            expires_at,
            mime_type: "video/mp4",
        },
    ))
}

/// `GET|HEAD /media/{token}/{key}`: in edge playback mode, streams the object from S3,
/// passing `Range` through; the token authorizes exactly this key until it expires.
pub fn media<P: Platform>(
    app: &App<P>,
    ctx: &Ctx<'_>,
    token: &str,
    key: &ObjectKey,
) -> Result<Reply> {
    let PlaybackMode::Edge { secret } = &app.config.playback else {
        return Err(Error::not_found("route"));
    };
    edge_token::verify(secret.expose(), token, key, ctx.now).map_err(|e| match e {
        signer::Error::PlaybackTokenExpired => Error::with_status(
            StatusCode::FORBIDDEN,
            ErrorCode::TokenExpired,
            "this playback URL has expired; ask for a new one",
        ),
        _ => Error::forbidden("this playback URL is not valid"),
    })?;
    let bucket = &app.config.media_bucket;
    let request = if ctx.request.method() == http::Method::HEAD {
        S3Request::HeadObject { bucket, key }
    } else {
        S3Request::GetObject {
            bucket,
            key,
            response_content_disposition: None,
            range: ctx.header("range"),
        }
    };
    let signed = app.config.s3.sign(&request, Vec::new(), ctx.now)?;
    Ok(http::Response::new(Body::Upstream(Box::new(signed))))
}

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
            // Our headers (security, CORS) stay; the failure's own replace the media's.
            head.headers.extend(failure.headers);
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
        _ => Error::Storage(format!("streamed GetObject: HTTP {status}")),
    }
}
