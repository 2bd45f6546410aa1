//! The `edge` playback mode's token: `<expires_unix>.<base64url(HMAC-SHA256)>`, carried as
//! one path segment (no `/`, no `=`). The MAC covers a version tag, the expiry and the object
//! key, so a token opens one object until one instant.

use base64::Engine as _;

use model::{ObjectKey, Timestamp};

use crate::{Error, Result, hmac_sha256, hmac_sha256_matches};

const BASE64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;
/// Domain separation: a MAC made for anything else with the same secret never verifies.
const CONTEXT: &[u8] = b"edgevid-edge-token-v1";

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

fn mac(secret: &[u8], object_key: &ObjectKey, expires_unix: u64) -> [u8; 32] {
    hmac_sha256(
        secret,
        &[
            CONTEXT,
            b"\n",
            expires_unix.to_string().as_bytes(),
            b"\n",
            object_key.as_str().as_bytes(),
        ],
    )
}

/// A token for `object_key` until `expires` (whole seconds; 1970 at the earliest). Use a
/// secret of at least 32 random bytes.
pub fn sign(secret: &[u8], object_key: &ObjectKey, expires: Timestamp) -> String {
    let expires_unix = u64::try_from(expires.unix_secs()).unwrap_or(0);
    let mac = mac(secret, object_key, expires_unix);
    format!("{expires_unix}.{}", BASE64.encode(mac))
}

/// `Ok` if `token` was made with `secret` for `object_key` and has not expired at `now`
/// (a token is valid strictly before its expiry).
pub fn verify(secret: &[u8], token: &str, object_key: &ObjectKey, now: Timestamp) -> Result<()> {
    if secret.is_empty() {
        return Err(Error::InvalidKey("empty edge token secret".into()));
    }
    let token = EdgeToken::parse(token)?;
    let expected = mac(secret, object_key, token.expires_unix);
    if !hmac_sha256_matches(&expected, &token.mac) {
        return Err(Error::PlaybackTokenInvalid);
    }
    if now >= token.expires_at() {
        return Err(Error::PlaybackTokenExpired);
    }
    Ok(())
}
