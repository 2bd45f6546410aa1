//! Issuing and verifying: round trips, expiry, malformed and foreign tokens, bad arguments.

use super::*;

const NOW: i64 = 1_700_000_000;

/// `NOW + offset` seconds.
fn at(offset: i64) -> Timestamp {
    Timestamp::from_unix_secs(NOW + offset)
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn scope() -> TokenScope {
    TokenScope {
        issuer: "edgevid".into(),
        audience: "edgevid-api".into(),
    }
}

fn issuer() -> JwtIssuer {
    JwtIssuer::from_seed(&[7; 32], scope())
}

fn user() -> (UserId, Email) {
    (
        UserId::new(Timestamp::from_unix_ms(1_700_000_000_000), [1; 10]),
        Email::parse("a@example.com").unwrap(),
    )
}

fn token(now: Timestamp, ttl: u64) -> String {
    let (id, email) = user();
    issuer()
        .issue(&id, &email, Role::Member, "jti-1", now, secs(ttl))
        .unwrap()
        .0
}

/// A token signed by our key with hand-made claims.
fn token_with_claims(claims: serde_json::Value) -> String {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let signing_input = format!(
        "{}.{}",
        b64.encode(r#"{"alg":"EdDSA","typ":"JWT"}"#),
        b64.encode(claims.to_string())
    );
    let signature =
        jwt_compact::Algorithm::sign(&Ed25519, &issuer().signing_key, signing_input.as_bytes());
    format!("{signing_input}.{}", b64.encode(signature.to_bytes()))
}

#[test]
fn round_trip() {
    let (id, email) = user();
    let (token, claims) = issuer()
        .issue(&id, &email, Role::Admin, "j", at(0), secs(3600))
        .unwrap();
    assert_eq!(
        claims,
        Claims {
            sub: id,
            email,
            role: Role::Admin,
            issued_at: at(0),
            expires_at: at(3600),
            jti: "j".into()
        }
    );
    assert_eq!(
        issuer().verifier().verify(&token, at(10), secs(0)).unwrap(),
        claims
    );
}

#[test]
fn expired_and_not_yet_valid_are_distinct_errors() {
    let verifier = issuer().verifier().clone();
    let token = token(at(0), 60);
    assert!(verifier.verify(&token, at(60), secs(0)).is_ok());
    assert_eq!(
        verifier.verify(&token, at(61), secs(0)),
        Err(Error::JwtExpired)
    );
    assert!(verifier.verify(&token, at(61), secs(1)).is_ok());
    assert_eq!(
        verifier.verify(&token, at(-1), secs(0)),
        Err(Error::JwtNotYetValid)
    );
    assert!(verifier.verify(&token, at(-5), secs(5)).is_ok());
}

#[test]
fn nbf_in_the_future_is_not_yet_valid() {
    let (id, _) = user();
    let token = token_with_claims(serde_json::json!({
        "sub": id.to_string(), "email": "a@example.com", "role": "member", "jti": "j",
        "iat": NOW, "exp": NOW + 100, "nbf": NOW + 50, "iss": "edgevid", "aud": "edgevid-api"
    }));
    let verifier = issuer().verifier().clone();
    assert_eq!(
        verifier.verify(&token, at(0), secs(0)),
        Err(Error::JwtNotYetValid)
    );
    assert!(verifier.verify(&token, at(50), secs(0)).is_ok());
}

#[test]
fn missing_or_malformed_claims_are_invalid() {
    let (id, _) = user();
    let full = serde_json::json!({
        "sub": id.to_string(), "email": "a@example.com", "role": "member", "jti": "j",
        "iat": NOW, "exp": NOW + 100, "iss": "edgevid", "aud": "edgevid-api"
    });
    let verifier = issuer().verifier().clone();
    assert!(
        verifier
            .verify(&token_with_claims(full.clone()), at(0), secs(0))
            .is_ok()
    );
    for claim in ["sub", "email", "role", "jti", "iat", "exp", "iss", "aud"] {
        let mut claims = full.clone();
        claims.as_object_mut().unwrap().remove(claim);
        assert!(
            matches!(
                verifier.verify(&token_with_claims(claims), at(0), secs(0)),
                Err(Error::JwtInvalid(_))
            ),
            "without {claim}"
        );
    }
    for (claim, value) in [
        ("sub", serde_json::json!("not-a-uuid")),
        ("email", serde_json::json!("nobody")),
        ("role", serde_json::json!("root")),
        ("jti", serde_json::json!("")),
        ("exp", serde_json::json!("soon")),
        ("iss", serde_json::json!("someone-else")),
        ("aud", serde_json::json!("another-api")),
    ] {
        let mut claims = full.clone();
        claims[claim] = value;
        assert!(
            matches!(
                verifier.verify(&token_with_claims(claims), at(0), secs(0)),
                Err(Error::JwtInvalid(_))
            ),
            "bad {claim}"
        );
    }
}

#[test]
fn tampered_and_foreign_tokens_are_invalid() {
    let token = token(at(0), 60);
    let stranger = JwtIssuer::from_seed(&[8; 32], scope()).verifier().clone();
    assert!(matches!(
        stranger.verify(&token, at(0), secs(0)),
        Err(Error::JwtInvalid(_))
    ));
    // The same key for another deployment (issuer) or service (audience) opens nothing.
    for other in [
        TokenScope {
            issuer: "edgevid-staging".into(),
            ..scope()
        },
        TokenScope {
            audience: "billing".into(),
            ..scope()
        },
    ] {
        let elsewhere = JwtIssuer::from_seed(&[7; 32], other).verifier().clone();
        assert!(matches!(
            elsewhere.verify(&token, at(0), secs(0)),
            Err(Error::JwtInvalid(_))
        ));
    }
    assert!(matches!(
        stranger.verify(&token, at(0), secs(0)),
        Err(Error::JwtInvalid(_))
    ));

    let (head, signature) = token.rsplit_once('.').unwrap();
    let mut flipped = signature.to_string().into_bytes();
    flipped[0] = if flipped[0] == b'A' { b'B' } else { b'A' };
    let forged = format!("{head}.{}", String::from_utf8(flipped).unwrap());
    let verifier = issuer().verifier().clone();
    assert!(matches!(
        verifier.verify(&forged, at(0), secs(0)),
        Err(Error::JwtInvalid(_))
    ));
    for malformed in ["", "a.b", "a.b.c", "not a token", &format!("{token}.x")] {
        assert!(
            matches!(
                verifier.verify(malformed, at(0), secs(0)),
                Err(Error::JwtInvalid(_))
            ),
            "{malformed:?}"
        );
    }
}

#[test]
fn refuses_bad_arguments() {
    let (id, email) = user();
    let issuer = issuer();
    for ttl in [Duration::ZERO, MAX_TTL + secs(1)] {
        assert!(matches!(
            issuer.issue(&id, &email, Role::Member, "j", at(0), ttl),
            Err(Error::ExpiryOutOfRange { .. })
        ));
    }
    for jti in ["", &"j".repeat(129)] {
        assert!(matches!(
            issuer.issue(&id, &email, Role::Member, jti, at(0), secs(60)),
            Err(Error::InvalidArgument(_))
        ));
    }
    assert!(matches!(
        issuer.issue(
            &id,
            &email,
            Role::Member,
            "j",
            Timestamp::from_unix_ms(i64::MAX),
            secs(60)
        ),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        issuer.issue(
            &id,
            &email,
            Role::Member,
            "j",
            Timestamp::from_unix_secs(i64::MAX / 1000 - 30),
            secs(60)
        ),
        Err(Error::InvalidArgument(_))
    ));
    let token = token(at(0), 60);
    assert!(matches!(
        issuer
            .verifier()
            .verify(&token, at(0), MAX_LEEWAY + secs(1)),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        issuer
            .verifier()
            .verify(&token, Timestamp::from_unix_ms(i64::MIN), secs(0)),
        Err(Error::InvalidArgument(_))
    ));
}

#[test]
fn keys_from_base64() {
    let b64 = base64::engine::general_purpose::STANDARD;
    let seed = [7u8; 32];
    let issuer = JwtIssuer::from_base64_seed(&b64.encode(seed), scope()).unwrap();
    let public = issuer.verifier().public_key();
    let url_safe_unpadded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(public);
    let verifier = JwtVerifier::from_base64_public_key(&url_safe_unpadded, scope()).unwrap();
    assert!(verifier.verify(&token(at(0), 60), at(0), secs(0)).is_ok());

    for bad in ["", "!!!", &b64.encode([1u8; 31]), &b64.encode([1u8; 33])] {
        assert!(
            matches!(
                JwtIssuer::from_base64_seed(bad, scope()),
                Err(Error::InvalidKey(_))
            ),
            "{bad:?}"
        );
        assert!(matches!(
            JwtVerifier::from_base64_public_key(bad, scope()),
            Err(Error::InvalidKey(_))
        ));
    }
    // Not every 32-byte string is a curve point.
    let not_a_point = (0..=255u8)
        .map(|b| [b; 32])
        .find(|bytes| JwtVerifier::from_public_key(bytes, scope()).is_err())
        .expect("some byte pattern is not a valid point");
    assert!(matches!(
        JwtVerifier::from_public_key(&not_a_point, scope()),
        Err(Error::InvalidKey(_))
    ));
}

/// What a platform with its own Ed25519 sees: the signed bytes, the signature and the key,
/// and a verdict that decides, before any claim is trusted.
#[test]
fn an_opened_token_is_checked_by_whoever_holds_the_signature() {
    let token = token(at(0), 60);
    let verifier = issuer().verifier().clone();
    let opened = verifier.open(&token, at(0), secs(0)).unwrap();
    let (head, _) = token.rsplit_once('.').unwrap();
    assert_eq!(opened.message(), head.as_bytes());
    assert_eq!(opened.public_key(), verifier.public_key());
    assert!(opened.check_signature());
    assert_eq!(
        opened.claims(true).unwrap(),
        verifier.verify(&token, at(0), secs(0)).unwrap()
    );
    // A platform that says no: nothing is trusted, whatever the claims.
    let opened = verifier.open(&token, at(0), secs(0)).unwrap();
    assert!(matches!(opened.claims(false), Err(Error::JwtInvalid(_))));
    // The signature is judged before the time: a forged expired token is invalid, not expired.
    let opened = verifier.open(&token, at(120), secs(0)).unwrap();
    assert!(matches!(opened.claims(false), Err(Error::JwtInvalid(_))));
    let opened = verifier.open(&token, at(120), secs(0)).unwrap();
    assert!(matches!(opened.claims(true), Err(Error::JwtExpired)));
    // A stranger's verifier opens the token but its key does not match the signature.
    let stranger = JwtIssuer::from_seed(&[8; 32], scope()).verifier().clone();
    let opened = stranger.open(&token, at(0), secs(0)).unwrap();
    assert!(!opened.check_signature());
    // Not EdDSA, or a signature of the wrong length, never gets that far.
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let (_, rest) = token.split_once('.').unwrap();
    let hs256 = format!("{}.{rest}", b64.encode(r#"{"alg":"HS256","typ":"JWT"}"#));
    assert!(matches!(
        verifier.open(&hs256, at(0), secs(0)),
        Err(Error::JwtInvalid(_))
    ));
    let short = format!("{head}.{}", b64.encode([0u8; 63]));
    assert!(matches!(
        verifier.open(&short, at(0), secs(0)),
        Err(Error::JwtInvalid(_))
    ));
}
