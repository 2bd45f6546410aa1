//! Playback: signed, expiring URLs of a ready video's files. `GET /api/videos/{id}/playback`
//! hands out the MP4, the HLS master playlist, the poster and the storyboard; the playlists
//! and the storyboard are served by [`media`] under `/media/<token>/<key>`, where the token
//! opens every file of one video until it expires, so relative URIs inside them inherit it.
//! How the files themselves are reached depends on `PLAYBACK_MODE` (see [`Grant`]).

mod media;
mod relay;

pub use media::media;
pub(crate) use media::{Listing, sign_listing};
pub use relay::relay;

use crate::app::App;
use crate::catalog::VideoRow;
use crate::config::{Config, PlaybackMode};
use crate::error::{Error, ErrorCode, Result};
use crate::ports::Platform;
use crate::request::Ctx;
use crate::respond::{self, Reply};
use http::StatusCode;
use model::storage::KeyPrefix;
use model::{ObjectKey, Timestamp, VideoId, VideoStatus};
use serde::Serialize;
use signer::playback::edge_token;
use signer::s3::S3Request;
use std::time::Duration;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PlaybackView {
    /// What a plain `<video>` plays: the MP4.
    url: String,
    expires_at: Timestamp,
    mime_type: &'static str,
    mp4: String,
    /// The master playlist, once the ladder is made.
    hls: Option<String>,
    poster: Option<String>,
    storyboard: Option<String>,
}

/// One signing of one video's files: every URL made from it expires at the same instant.
///
/// URLs are signed for a window rather than for this instant: the signing time is `now`
/// rounded down to a quarter of the lifetime, so every request in the same quarter gets the
/// same URLs and browsers and CDNs can reuse what they fetched. A URL lives between the
/// configured lifetime and a quarter more.
pub struct Grant<'a> {
    config: &'a Config,
    video: VideoId,
    signed_at: Timestamp,
    pub expires: Timestamp,
    /// The `/media/<token>/` path segment.
    pub token: String,
}

impl<'a> Grant<'a> {
    /// A new grant for `video`, in the window `now` falls in.
    pub fn new(config: &'a Config, video: &VideoId, now: Timestamp) -> Self {
        let ttl = config.playback_url_ttl;
        let window = (ttl / 4).max(Duration::from_secs(1));
        let signed_at = now.floor(window);
        let expires = signed_at + ttl + window;
        let token = edge_token::sign(config.playback_token_secret.expose(), video, expires);
        Grant {
            config,
            video: video.clone(),
            signed_at,
            expires,
            token,
        }
    }

    /// The grant a verified `/media/<token>/` path carries: URLs made from it expire with it.
    fn carried(
        config: &'a Config,
        video: VideoId,
        token: &str,
        expires: Timestamp,
        now: Timestamp,
    ) -> Self {
        let window = (config.playback_url_ttl / 4).max(Duration::from_secs(1));
        Grant {
            config,
            video,
            signed_at: now.floor(window),
            expires,
            token: token.to_string(),
        }
    }

    /// Whether `key` is one of this grant's video's files.
    fn covers(&self, key: &ObjectKey) -> bool {
        KeyPrefix::outputs(&self.video).relative(key).is_some()
    }

    /// `<origin>/media/<token>/<key>`: served by the Worker in every mode.
    pub fn media_url(&self, origin: &str, key: &ObjectKey) -> String {
        format!("{origin}/media/{}/{key}", self.token)
    }

    /// Where a player fetches `key` itself: a presigned S3 URL, a CloudFront signed URL
    /// (canned policy), or in edge mode the Worker.
    pub fn direct_url(&self, origin: &str, key: &ObjectKey) -> Result<String> {
        Ok(match &self.config.playback {
            PlaybackMode::S3 => self.presigned(key)?,
            PlaybackMode::CloudFront { domain, signer } => {
                signer.signed_url(&format!("https://{domain}/{key}"), self.expires)?
            }
            PlaybackMode::Edge => self.media_url(origin, key),
        })
    }

    fn presigned(&self, key: &ObjectKey) -> Result<String> {
        let lifetime = self.expires.since(self.signed_at);
        Ok(self
            .config
            .s3
            .presign(
                &S3Request::GetObject {
                    bucket: &self.config.media_bucket,
                    key,
                    response_content_disposition: None,
                    range: None,
                },
                self.signed_at,
                lifetime,
            )?
            .url)
    }

    /// Signs the URIs of one playlist or storyboard: a function from a key of this video to
    /// the URL that replaces the relative URI naming it. Playlists stay relative (they come
    /// from the Worker with this grant's token); every other file gets its direct URL. One
    /// CloudFront signature (a wildcard policy over the video's folder) serves them all.
    fn uri_signer(&self) -> Result<impl Fn(&ObjectKey) -> Result<Option<String>> + '_> {
        let cloudfront_query = match &self.config.playback {
            PlaybackMode::CloudFront { domain, signer } => {
                let folder = KeyPrefix::outputs(&self.video);
                Some(signer.signed_query(&format!("https://{domain}/{folder}*"), self.expires)?)
            }
            _ => None,
        };
        Ok(move |key: &ObjectKey| -> Result<Option<String>> {
            if key.as_str().ends_with(".m3u8") {
                return Ok(None);
            }
            Ok(Some(match (&self.config.playback, &cloudfront_query) {
                (PlaybackMode::CloudFront { domain, .. }, Some(query)) => {
                    format!("https://{domain}/{key}?{query}")
                }
                _ => self.presigned(key)?,
            }))
        })
    }
}

/// `GET /api/videos/{id}/playback`.
pub fn playback<P: Platform>(app: &App<P>, ctx: &Ctx<'_>, video: &VideoRow) -> Result<Reply> {
    let mp4 = match (&video.status, &video.output_key) {
        (VideoStatus::Ready, Some(key)) => key,
        _ => {
            return Err(Error::new(
                ErrorCode::NotReady,
                format!("the video is {}, not ready", video.status),
            ));
        }
    };
    let grant = Grant::new(&app.config, &video.id, ctx.now);
    let origin = ctx.public_origin();
    let through_worker =
        |key: &Option<ObjectKey>| key.as_ref().map(|k| grant.media_url(&origin, k));
    let mp4 = grant.direct_url(&origin, mp4)?;
    Ok(respond::success(
        StatusCode::OK,
        &PlaybackView {
            url: mp4.clone(),
            expires_at: grant.expires,
            mime_type: "video/mp4",
            mp4,
            hls: through_worker(&video.hls_key),
            poster: through_worker(&video.poster_key),
            storyboard: through_worker(&video.storyboard_key),
        },
    ))
}

/// The poster of a ready video, for its library row: a Worker URL (an HMAC, no signature
/// per poster), which redirects to the file in the s3 and cloudfront modes.
pub fn poster_url(config: &Config, ctx: &Ctx<'_>, video: &VideoRow) -> Option<String> {
    let key = video.poster_key.as_ref()?;
    (video.status == VideoStatus::Ready)
        .then(|| Grant::new(config, &video.id, ctx.now).media_url(&ctx.public_origin(), key))
}
