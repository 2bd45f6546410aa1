//! Cookies: the device cookie's check (an HMAC the browser carries back) and the edge's
//! reading of `Cookie` headers. A device cookie matches only spelt exactly as we issue it
//! for its device, and a single changed character makes it fail; a cookie read from the
//! headers is a `name=value` pair one of them holds.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use edge::request::Ctx;
use http::Request;
use model::Timestamp;
use signer::session::{device_cookie, device_cookie_matches, device_id};

use crate::input::{split_line, take_array, text};

const SECRET: &[u8] = b"fuzz-device-secret";
const ACCOUNT: &str = "fuzz@example.com";

pub fn cookie(data: &[u8]) {
    let (first, rest) = split_line(data);
    let candidate = text(first);
    if device_cookie_matches(SECRET, &candidate, ACCOUNT) {
        // One spelling per device: only the very cookie we issue matches.
        let device = device_id(&candidate)
            .and_then(|device| URL_SAFE_NO_PAD.decode(device).ok())
            .and_then(|device| <[u8; 16]>::try_from(device).ok())
            .expect("a matching cookie names a 16-byte device");
        assert_eq!(candidate, device_cookie(SECRET, ACCOUNT, &device));
    }
    issued_cookies_match_only_unchanged(data);
    request_cookies(first, rest);
}

/// The cookie issued for the input's device matches; with one character replaced (at a
/// place and by a character the input picks) it no longer does.
fn issued_cookies_match_only_unchanged(data: &[u8]) {
    let (device, rest) = take_array::<16>(data);
    let issued = device_cookie(SECRET, ACCOUNT, &device);
    assert!(device_cookie_matches(SECRET, &issued, ACCOUNT));
    assert!(!device_cookie_matches(b"another-secret", &issued, ACCOUNT));
    let ([at, replacement], _) = take_array::<2>(rest);
    let at = usize::from(at) % issued.len();
    let replacement = char::from(replacement);
    if replacement != char::from(issued.as_bytes()[at]) {
        // The cookie is base64url and a dot: ASCII, so every index is a character's.
        let mut changed = issued.clone();
        changed.replace_range(at..=at, replacement.encode_utf8(&mut [0; 4]));
        assert!(
            !device_cookie_matches(SECRET, &changed, ACCOUNT),
            "{changed:?} matched as {issued:?}"
        );
    }
}

/// The first line names a cookie; each further line is one `Cookie` header.
fn request_cookies(name: &[u8], headers: &[u8]) {
    let name = text(name);
    let mut request = Request::builder();
    for header in headers.split(|&b| b == b'\n') {
        request = request.header(http::header::COOKIE, header);
    }
    // A header value the http crate refuses never reaches a handler.
    let Ok(request) = request.body(Vec::new()) else {
        return;
    };
    let ctx = Ctx {
        request: &request,
        now: Timestamp::UNIX_EPOCH,
    };
    if let Some(value) = ctx.cookie(&name) {
        assert!(!value.contains(';'));
        let pair = format!("{name}={value}");
        let carried = request
            .headers()
            .get_all(http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|header| header.split(';').any(|p| p.trim() == pair));
        assert!(carried, "{pair:?} is in no Cookie header");
    }
}
