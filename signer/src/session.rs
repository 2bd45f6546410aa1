//! The secrets of a browser session besides its access token: the rotating refresh token
//! (random, stored only as its SHA-256) and the device cookie that marks a browser that
//! signed in to an account before (an HMAC, so it cannot be forged for another account).
//! Randomness comes in as a parameter.

use base64::Engine as _;
use sha2::{Digest, Sha256};

use crate::{hmac_sha256, hmac_sha256_matches};

const BASE64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;
const DEVICE_CONTEXT: &[u8] = b"edgevid-device-v1";

/// A key for one purpose, derived from a longer-lived secret, so that one secret serves
/// several MACs without one ever verifying for another.
pub fn derive_key(secret: &[u8], purpose: &str) -> [u8; 32] {
    hmac_sha256(secret, &[b"edgevid-derive\n", purpose.as_bytes()])
}

/// A refresh token: 32 random bytes, base64url (43 characters).
pub fn refresh_token(random: &[u8; 32]) -> String {
    BASE64.encode(random)
}

/// What the catalog stores for a refresh token: its SHA-256, hex. Refresh tokens are random
/// and long, so a plain digest is enough (no stretching: nothing to guess).
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The device cookie for `account` (a normalised email) on the device `device`:
/// `<base64url(device)>.<base64url(HMAC)>`.
pub fn device_cookie(secret: &[u8], account: &str, device: &[u8; 16]) -> String {
    let mac = device_mac(secret, account, device);
    format!("{}.{}", BASE64.encode(device), BASE64.encode(mac))
}

/// Whether `cookie` was made with `secret` for `account`.
pub fn device_cookie_matches(secret: &[u8], cookie: &str, account: &str) -> bool {
    let Some((device, mac)) = cookie.split_once('.') else {
        return false;
    };
    let (Ok(device), Ok(mac)) = (BASE64.decode(device), BASE64.decode(mac)) else {
        return false;
    };
    let (Ok(device), Ok(mac)) = (<[u8; 16]>::try_from(device), <[u8; 32]>::try_from(mac)) else {
        return false;
    };
    hmac_sha256_matches(&device_mac(secret, account, &device), &mac)
}

/// The device part of a cookie (an id safe to name a throttling scope), without checking it.
pub fn device_id(cookie: &str) -> Option<&str> {
    cookie.split_once('.').map(|(device, _)| device)
}

fn device_mac(secret: &[u8], account: &str, device: &[u8; 16]) -> [u8; 32] {
    hmac_sha256(
        secret,
        &[DEVICE_CONTEXT, b"\n", account.as_bytes(), b"\n", device],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_tokens_are_stored_as_digests() {
        let token = refresh_token(&[7; 32]);
        assert_eq!(token.len(), 43);
        assert_eq!(token_hash(&token).len(), 64);
        assert_ne!(token_hash(&token), token_hash(&refresh_token(&[8; 32])));
        // SHA-256("abc"), FIPS 180-2.
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn device_cookies_bind_the_account_and_the_secret() {
        let cookie = device_cookie(b"secret", "a@example.com", &[1; 16]);
        assert!(device_cookie_matches(b"secret", &cookie, "a@example.com"));
        assert!(!device_cookie_matches(b"secret", &cookie, "b@example.com"));
        assert!(!device_cookie_matches(b"other", &cookie, "a@example.com"));
        let (device, _) = cookie.split_once('.').unwrap();
        let other_device = device_cookie(b"secret", "a@example.com", &[2; 16]);
        let (_, other_mac) = other_device.split_once('.').unwrap();
        let spliced = format!("{device}.{other_mac}");
        assert!(!device_cookie_matches(b"secret", &spliced, "a@example.com"));
        for bad in [
            "",
            ".",
            "x.y",
            &format!("{device}."),
            &format!("{device}.AAAA"),
        ] {
            assert!(
                !device_cookie_matches(b"secret", bad, "a@example.com"),
                "{bad:?}"
            );
        }
        assert_eq!(device_id(&cookie), Some(device));
        assert_ne!(derive_key(b"s", "device"), derive_key(b"s", "other"));
    }
}
