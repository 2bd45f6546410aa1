//! Signatures of the origin's job webhooks: `X-Signature: t=<unix>,v1=<hex>` where the hex is
//! HMAC-SHA256(secret, "<t>.<body>") (Stripe's scheme). Several `v1` entries may be present
//! while secrets rotate; one match suffices.

use std::time::Duration;

use model::Timestamp;

use crate::{Error, Result, hmac_sha256, hmac_sha256_matches};

/// The header value for `body` sent at `at` (whole seconds).
pub fn sign(secret: &[u8], at: Timestamp, body: &[u8]) -> String {
    let timestamp_unix = at.unix_secs();
    let mac = signature(secret, timestamp_unix, body);
    format!("t={timestamp_unix},v1={}", hex::encode(mac))
}

/// The header's timestamp if one of its `v1` signatures matches `body` under `secret` and
/// the timestamp is within `tolerance` of `now` (either way). The signature is
/// checked first, so a timestamp error only ever describes a genuine (replayed or delayed)
/// message. Unknown entries (`v0=…`) are ignored.
pub fn verify(
    secret: &[u8],
    header: &str,
    body: &[u8],
    now: Timestamp,
    tolerance: Duration,
) -> Result<Timestamp> {
    let (now_unix, tolerance_secs) = (now.unix_secs(), tolerance.as_secs());
    if secret.is_empty() {
        return Err(Error::InvalidKey("empty webhook secret".into()));
    }
    let mut timestamp = None;
    let mut candidates = Vec::new();
    for entry in header.split(',') {
        let (name, value) = entry
            .trim()
            .split_once('=')
            .ok_or(Error::MalformedWebhookHeader)?;
        match name {
            "t" if timestamp.is_none() => timestamp = Some(parse_timestamp(value)?),
            "t" => return Err(Error::MalformedWebhookHeader),
            // A v1 value that is not 32 bytes of hex cannot match; it may be some future
            // format, so it is skipped rather than failing the whole header.
            "v1" => candidates.extend(
                hex::decode(value)
                    .ok()
                    .and_then(|mac| <[u8; 32]>::try_from(mac).ok()),
            ),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(Error::MalformedWebhookHeader)?;
    if candidates.is_empty() {
        return Err(Error::MalformedWebhookHeader);
    }
    let expected = signature(secret, timestamp, body);
    // Every candidate is compared, matched or not, so timing says nothing about which.
    let matched = candidates.iter().fold(false, |matched, candidate| {
        hmac_sha256_matches(&expected, candidate) | matched
    });
    if !matched {
        return Err(Error::WebhookSignatureMismatch);
    }
    if now_unix.abs_diff(timestamp) > tolerance_secs {
        return Err(Error::WebhookTimestampOutOfTolerance {
            timestamp,
            now: now_unix,
            tolerance_secs,
        });
    }
    Ok(Timestamp::from_unix_secs(timestamp))
}

fn signature(secret: &[u8], timestamp_unix: i64, body: &[u8]) -> [u8; 32] {
    hmac_sha256(secret, &[timestamp_unix.to_string().as_bytes(), b".", body])
}

/// Canonical decimal only: the signed text is the number's canonical spelling, so `+5` or
/// `05` would never verify anyway; say so precisely.
fn parse_timestamp(text: &str) -> Result<i64> {
    text.parse::<i64>()
        .ok()
        .filter(|t| t.to_string() == text)
        .ok_or(Error::MalformedWebhookHeader)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"whsec_test";
    const NOW: i64 = 1_700_000_000;

    /// `NOW + offset` seconds.
    fn at(offset: i64) -> Timestamp {
        Timestamp::from_unix_secs(NOW + offset)
    }

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn round_trip() {
        let header = sign(SECRET, at(0), b"{}");
        assert!(header.starts_with(&format!("t={NOW},v1=")));
        assert_eq!(
            verify(SECRET, &header, b"{}", at(300), secs(300)),
            Ok(at(0))
        );
        assert_eq!(
            verify(SECRET, &header, b"{}", at(-300), secs(300)),
            Ok(at(0))
        );
    }

    #[test]
    fn rotation_accepts_any_matching_v1() {
        let old = sign(b"old-secret", at(0), b"x");
        let new = sign(SECRET, at(0), b"x");
        let (_, old_mac) = old.split_once(",v1=").unwrap();
        let header = format!("{new}, v1={old_mac}, v0=legacy");
        assert_eq!(verify(SECRET, &header, b"x", at(0), secs(0)), Ok(at(0)));
        assert_eq!(
            verify(b"old-secret", &header, b"x", at(0), secs(0)),
            Ok(at(0))
        );
    }

    #[test]
    fn old_and_future_timestamps_have_their_own_error() {
        let header = sign(SECRET, at(0), b"x");
        for now in [NOW + 301, NOW - 301] {
            assert_eq!(
                verify(
                    SECRET,
                    &header,
                    b"x",
                    Timestamp::from_unix_secs(now),
                    secs(300)
                ),
                Err(Error::WebhookTimestampOutOfTolerance {
                    timestamp: NOW,
                    now,
                    tolerance_secs: 300
                })
            );
        }
    }

    #[test]
    fn bad_signatures() {
        let header = sign(SECRET, at(0), b"x");
        let mismatch = Err(Error::WebhookSignatureMismatch);
        assert_eq!(verify(SECRET, &header, b"y", at(0), secs(300)), mismatch);
        assert_eq!(verify(b"other", &header, b"x", at(0), secs(300)), mismatch);
        let shifted = header.replace(&format!("t={NOW}"), &format!("t={}", NOW + 1));
        assert_eq!(verify(SECRET, &shifted, b"x", at(0), secs(300)), mismatch);
        // Signature first: a forged old message is a forgery, not "too old".
        assert_eq!(
            verify(b"other", &header, b"x", at(10_000), secs(300)),
            mismatch
        );
    }

    #[test]
    fn malformed_headers() {
        let header = sign(SECRET, at(0), b"x");
        let (_, mac) = header.split_once(",v1=").unwrap();
        for bad in [
            String::new(),
            "garbage".into(),
            format!("v1={mac}"),
            format!("t={NOW}"),
            format!("t={NOW},v1=zz"),
            format!("t={NOW},v1={}", &mac[..62]),
            format!("t=+{NOW},v1={mac}"),
            format!("t=0{NOW},v1={mac}"),
            format!("t=x,v1={mac}"),
            format!("t={NOW},t={NOW},v1={mac}"),
            format!("t={NOW},v1={mac},novalue"),
        ] {
            assert_eq!(
                verify(SECRET, &bad, b"x", at(0), secs(300)),
                Err(Error::MalformedWebhookHeader),
                "{bad:?}"
            );
        }
        assert_eq!(
            verify(b"", &header, b"x", at(0), secs(300)),
            Err(Error::InvalidKey("empty webhook secret".into()))
        );
    }
}
