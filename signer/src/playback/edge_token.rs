//! The playback token carried in a URL's path (`/media/<token>/<key>`):
//! `<expires_unix>.<base64url(HMAC-SHA256)>`, one path segment (no `/`, no `=`). The MAC
//! covers a version tag, the expiry and a video's output folder (`videos/<id>/`), so a token
//! opens every output of one video until one instant: an HLS playlist's relative URIs, which
//! a player resolves against the playlist's URL, inherit it.

use base64::Engine as _;

use model::layout::{Located, locate};
use model::storage::KeyPrefix;
use model::{ObjectKey, Timestamp, VideoId};

use crate::{Error, Result, hmac_sha256, hmac_sha256_matches};

const BASE64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;
/// Domain separation: a MAC made for anything else with the same secret never verifies.
const CONTEXT: &[u8] = b"edgevid-edge-token-v2";

/// A token's parts, before its MAC is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EdgeToken {
    expires_unix: u64,
    mac: [u8; 32],
}

impl EdgeToken {
    /// Reads the token's form only; [`verify`] decides whether it is genuine.
    pub fn parse(token: &str) -> Result<Self> {
        let (expires, mac) = token.split_once('.').ok_or(Error::PlaybackTokenInvalid)?;
        // Digits only: `u64::from_str` would also take a leading `+`, a second spelling.
        if expires.is_empty() || !expires.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::PlaybackTokenInvalid);
        }
        let expires_unix = expires.parse().map_err(|_| Error::PlaybackTokenInvalid)?;
        let mac = BASE64
            .decode(mac)
            .ok()
            .and_then(|mac| <[u8; 32]>::try_from(mac).ok())
            .ok_or(Error::PlaybackTokenInvalid)?;
        Ok(Self { expires_unix, mac })
    }

    /// When the token stops working (for `Cache-Control`), once verified.
    pub fn expires_at(&self) -> Timestamp {
        Timestamp::from_unix_secs(i64::try_from(self.expires_unix).unwrap_or(i64::MAX))
    }
}

fn mac(secret: &[u8], prefix: &KeyPrefix, expires_unix: u64) -> [u8; 32] {
    hmac_sha256(
        secret,
        &[
            CONTEXT,
            b"\n",
            expires_unix.to_string().as_bytes(),
            b"\n",
            prefix.as_str().as_bytes(),
        ],
    )
}

/// A token for every output of `video` until `expires` (whole seconds; 1970 at the
/// earliest). Use a secret of at least 32 random bytes.
pub fn sign(secret: &[u8], video: &VideoId, expires: Timestamp) -> String {
    let expires_unix = u64::try_from(expires.unix_secs()).unwrap_or(0);
    let mac = mac(secret, &KeyPrefix::outputs(video), expires_unix);
    format!("{expires_unix}.{}", BASE64.encode(mac))
}

/// The video and the token's expiry if `token` was made with `secret` for the video whose
/// output `object_key` is, and has not expired at `now` (a token is valid strictly before
/// its expiry). A key that is no video's output is never opened.
pub fn verify(
    secret: &[u8],
    token: &str,
    object_key: &ObjectKey,
    now: Timestamp,
) -> Result<(VideoId, Timestamp)> {
    if secret.is_empty() {
        return Err(Error::InvalidKey("empty edge token secret".into()));
    }
    let token = EdgeToken::parse(token)?;
    let Some(Located::Output { video, .. }) = locate(object_key) else {
        return Err(Error::PlaybackTokenInvalid);
    };
    let expected = mac(secret, &KeyPrefix::outputs(&video), token.expires_unix);
    if !hmac_sha256_matches(&expected, &token.mac) {
        return Err(Error::PlaybackTokenInvalid);
    }
    if now >= token.expires_at() {
        return Err(Error::PlaybackTokenExpired);
    }
    Ok((video, token.expires_at()))
}
