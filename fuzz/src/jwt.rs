//! Session JWTs at the edge. Two ways in per input: the input as a token (what any client
//! can send), and the input's first line and rest as the header and claims of a token our
//! key signs (what reaches claim validation, which a forged signature never does). A token
//! that verifies is EdDSA, has its claims as signed, and is valid at `now`; what we issue
//! verifies to what we issued.

use std::sync::OnceLock;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jwt_compact::AlgorithmSignature as _;
use jwt_compact::alg::Ed25519;
use model::{Email, Role, Timestamp, UserId};
use serde_json::Value;
use signer::jwt::{Claims, JwtIssuer, TokenScope};

use crate::input::{split_line, take_u64, text};

/// The key the corpus tokens are signed with (seed bytes, a test value).
const SEED: [u8; 32] = [0x5e; 32];
/// The verifier's clock: 2026-01-01T00:00:00Z, when the corpus tokens are valid.
const NOW_SECS: i64 = 1_767_225_600;
const LEEWAY_SECS: i64 = 60;
const LEEWAY: Duration = Duration::from_secs(LEEWAY_SECS as u64);

type SigningKey = <Ed25519 as jwt_compact::Algorithm>::SigningKey;

fn issuer() -> &'static JwtIssuer {
    static ISSUER: OnceLock<JwtIssuer> = OnceLock::new();
    ISSUER.get_or_init(|| {
        let scope = TokenScope {
            issuer: "edgevid".into(),
            audience: "edgevid-api".into(),
        };
        JwtIssuer::from_seed(&SEED, scope)
    })
}

pub fn jwt(data: &[u8]) {
    let now = Timestamp::from_unix_secs(NOW_SECS);
    let verifier = issuer().verifier();
    if let Ok(claims) = verifier.verify(&text(data), now, LEEWAY) {
        valid_at_now(&claims);
    }

    let (header, payload) = split_line(data);
    let token = signed_token(header, payload);
    if let Ok(claims) = verifier.verify(&token, now, LEEWAY) {
        valid_at_now(&claims);
        as_signed(&claims, header, payload);
    }

    issued_tokens_verify(data);
}

/// `header.payload.signature` with our key over exactly these header and payload bytes.
fn signed_token(header: &[u8], payload: &[u8]) -> String {
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload)
    );
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    let key = KEY.get_or_init(|| SigningKey::from_bytes(&SEED));
    let signature = jwt_compact::Algorithm::sign(&Ed25519, key, signing_input.as_bytes());
    format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(signature.as_bytes())
    )
}

fn valid_at_now(claims: &Claims) {
    assert!(
        claims.expires_at.unix_secs() >= NOW_SECS - LEEWAY_SECS,
        "expired: {claims:?}"
    );
    assert!(
        claims.issued_at.unix_secs() <= NOW_SECS + LEEWAY_SECS,
        "issued later: {claims:?}"
    );
    assert!(!claims.jti.is_empty());
}

/// The verified claims are the signed ones, and only an EdDSA header verifies.
fn as_signed(claims: &Claims, header: &[u8], payload: &[u8]) {
    let header: Value = serde_json::from_slice(header).expect("a verified header is JSON");
    assert_eq!(
        header["alg"], "EdDSA",
        "verified a token whose header is {header}"
    );
    let payload: Value = serde_json::from_slice(payload).expect("verified claims are JSON");
    let text = |name: &str| payload[name].as_str().unwrap_or_default().to_string();
    assert_eq!(Ok(&claims.sub), UserId::parse(&text("sub")).as_ref());
    assert_eq!(Ok(&claims.email), Email::parse(&text("email")).as_ref());
    assert_eq!(Ok(claims.role), Role::parse(&text("role")));
    assert_eq!(claims.jti, text("jti"));
    assert_eq!(text("iss"), "edgevid");
    assert_eq!(text("aud"), "edgevid-api");
    if let Some(exp) = payload["exp"].as_i64() {
        assert_eq!(claims.expires_at, Timestamp::from_unix_secs(exp));
    }
    if let Some(nbf) = payload["nbf"].as_i64() {
        assert!(nbf <= NOW_SECS + LEEWAY_SECS, "not valid before {nbf}");
    }
}

/// A token issued from the input's numbers and text verifies to the claims it was issued
/// with, anywhere in its lifetime.
fn issued_tokens_verify(data: &[u8]) {
    let (ttl_secs, rest) = take_u64(data);
    let (age_secs, rest) = take_u64(rest);
    let jti = text(rest);
    let sub = UserId::new(Timestamp::from_unix_secs(NOW_SECS), [0x11; 10]);
    let email = Email::parse("fuzz@example.com").expect("a valid address");
    let role = if ttl_secs % 2 == 0 {
        Role::Admin
    } else {
        Role::Member
    };
    let now = Timestamp::from_unix_secs(NOW_SECS);
    let ttl = Duration::from_secs(ttl_secs);
    let Ok((token, claims)) = issuer().issue(&sub, &email, role, &jti, now, ttl) else {
        return;
    };
    assert_eq!((claims.jti.as_str(), claims.expires_at), (&*jti, now + ttl));
    let later = now + Duration::from_secs(age_secs % ttl_secs);
    assert_eq!(
        issuer().verifier().verify(&token, later, Duration::ZERO),
        Ok(claims)
    );
}
