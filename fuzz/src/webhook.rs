//! The `X-Signature` header on job events: `t=<unix>,v1=<hex>`. A header verifies only
//! within the tolerance and only carrying the MAC of this body at its time; a header we sign
//! verifies to its time.

use std::time::Duration;

use model::Timestamp;
use signer::webhook::{sign, verify};

use crate::input::{split_line, take_u64, text};

const SECRET: &[u8] = b"whsec_fuzz";
/// The receiver's clock (2026-01-01T00:00:00Z) and tolerance, as the edge has them.
const NOW_SECS: i64 = 1_767_225_600;
const TOLERANCE: Duration = Duration::from_secs(300);

pub fn webhook_signature(data: &[u8]) {
    let (header, body) = split_line(data);
    let header = text(header);
    let now = Timestamp::from_unix_secs(NOW_SECS);
    if let Ok(at) = verify(SECRET, &header, body, now, TOLERANCE) {
        assert!(now.unix_secs().abs_diff(at.unix_secs()) <= TOLERANCE.as_secs());
        let signed = sign(SECRET, at, body);
        let (_, mac) = signed
            .split_once(",v1=")
            .expect("a signed header has a v1 entry");
        assert!(
            header.to_ascii_lowercase().contains(mac),
            "{header:?} verified without the MAC of its body"
        );
    }

    let (sent_at, body) = take_u64(data);
    let at = Timestamp::from_unix_secs(sent_at as i64);
    let signed = sign(SECRET, at, body);
    assert_eq!(
        verify(SECRET, &signed, body, at, Duration::ZERO),
        Ok(at.whole_seconds())
    );
    let other_body = [body, b"!"].concat();
    assert!(verify(SECRET, &signed, &other_body, at, TOLERANCE).is_err());
}
