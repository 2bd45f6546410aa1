//! `GET|HEAD /media/<token>/<key>`: one file of a video, opened by the token the playback
//! answer carried (it covers the whole video, so relative URIs inherit it).
//!
//! - Playlists and storyboards: in edge mode relayed as they are (their relative URIs come
//!   back here); in the s3 and cloudfront modes read and rewritten so that every URI naming
//!   a segment, a sprite or a picture is signed for the same instant as the token, and
//!   every URI naming a playlist stays relative.
//! - Any other file: in edge mode streamed from S3 with `Range`; otherwise a redirect to its
//!   signed URL (what a player whose segment URLs expired asks for).

use super::Grant;
use crate::app::App;
use crate::config::PlaybackMode;
use crate::error::{Error, ErrorCode, Result};
use crate::ports::Platform;
use crate::request::Ctx;
use crate::respond::{self, Body, Reply};
use http::StatusCode;
use http::header::{self, HeaderValue};
use model::hls;
use model::layout::content_type;
use model::{ObjectKey, Timestamp};
use signer::playback::edge_token;
use signer::s3::S3Request;

/// What kind of text a file is, when it names other files.
pub(crate) enum Listing {
    Playlist,
    Storyboard,
}

fn listing(key: &ObjectKey) -> Option<Listing> {
    let name = key.file_name();
    if name.ends_with(".m3u8") {
        Some(Listing::Playlist)
    } else if name.ends_with(".vtt") {
        Some(Listing::Storyboard)
    } else {
        None
    }
}

pub async fn media<P: Platform>(
    app: &App<P>,
    ctx: &Ctx<'_>,
    token: &str,
    key: &ObjectKey,
) -> Result<Reply> {
    let secret = app.config.playback_token_secret.expose();
    let (video, expires) =
        edge_token::verify(secret, token, key, ctx.now).map_err(|e| match e {
            signer::Error::PlaybackTokenExpired => Error::with_status(
                StatusCode::FORBIDDEN,
                ErrorCode::TokenExpired,
                "this playback URL has expired; ask for a new one",
            ),
            _ => Error::forbidden("this playback URL is not valid"),
        })?;
    let grant = Grant::carried(&app.config, video, token, expires, ctx.now);
    let edge_mode = matches!(app.config.playback, PlaybackMode::Edge);
    let mut reply = match listing(key) {
        Some(kind) if !edge_mode => signed_listing(app, ctx, &grant, key, kind).await?,
        _ if edge_mode => stream(app, ctx, key)?,
        _ => {
            let mut reply = respond::bytes(StatusCode::FOUND, "text/plain", Vec::new());
            let target = grant.direct_url(&ctx.public_origin(), key)?;
            let location =
                HeaderValue::from_str(&target).map_err(|e| Error::Config(e.to_string()))?;
            reply.headers_mut().insert(header::LOCATION, location);
            reply
        }
    };
    let headers = reply.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(key)),
    );
    headers.insert(
        header::CACHE_CONTROL,
        cache_control(expires, ctx.now, edge_mode),
    );
    Ok(reply)
}

/// Every answer may be kept until the token expires, never longer. The same token serves
/// every viewer of the video in the same window, so in edge mode shared caches (the CDN)
/// may keep it; rewritten listings and redirects carry signatures for this mode and stay
/// in the browser.
fn cache_control(expires: Timestamp, now: Timestamp, shared: bool) -> HeaderValue {
    let seconds = expires.since(now).as_secs();
    let scope = if shared { "public" } else { "private" };
    HeaderValue::from_str(&format!("{scope}, max-age={seconds}"))
        .unwrap_or(HeaderValue::from_static("no-store"))
}

/// Edge mode: the file from S3, unread, with the player's `Range`.
fn stream<P: Platform>(app: &App<P>, ctx: &Ctx<'_>, key: &ObjectKey) -> Result<Reply> {
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

/// A playlist or storyboard with its URIs signed.
async fn signed_listing<P: Platform>(
    app: &App<P>,
    ctx: &Ctx<'_>,
    grant: &Grant<'_>,
    key: &ObjectKey,
    kind: Listing,
) -> Result<Reply> {
    let bytes = app
        .storage(ctx.now)
        .get_object(&app.config.media_bucket, key)
        .await?
        .ok_or_else(|| Error::not_found("media"))?;
    let text =
        String::from_utf8(bytes).map_err(|_| Error::Storage(format!("{key} is not UTF-8 text")))?;
    Ok(respond::bytes(
        StatusCode::OK,
        content_type(key),
        sign_listing(grant, key, &text, kind)?.into_bytes(),
    ))
}

/// `text`, the file at `key`, with every URI naming a file of the grant's video signed;
/// URIs naming anything else are left as they are (they open nothing).
pub(crate) fn sign_listing(
    grant: &Grant<'_>,
    key: &ObjectKey,
    text: &str,
    kind: Listing,
) -> Result<String> {
    let sign = grant.uri_signer()?;
    let mut failure = None;
    let mut replace = |uri: &str| {
        let target = hls::resolve(key, uri).filter(|target| grant.covers(target))?;
        sign(&target).unwrap_or_else(|e| {
            failure.get_or_insert(e);
            None
        })
    };
    let rewritten = match kind {
        Listing::Playlist => hls::rewrite_playlist(text, &mut replace),
        Listing::Storyboard => hls::rewrite_storyboard(text, &mut replace),
    };
    match failure {
        Some(error) => Err(error),
        None => Ok(rewritten),
    }
}
