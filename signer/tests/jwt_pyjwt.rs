//! Session JWTs interoperate with PyJWT both ways: PyJWT verifies ours with the public key
//! (and agrees on expiry), we verify PyJWT's EdDSA tokens, and we refuse PyJWT-made `alg: none`
//! tokens, HS256 tokens keyed with our public key (algorithm confusion), other keys' tokens,
//! and expired or not-yet-valid ones with the right error.

mod common;

use serde_json::json;
use signer::Error;
use std::time::Duration;

use model::{Email, Role, Timestamp, UserId};
use signer::jwt::{Claims, JwtIssuer, TokenScope};

const SEED: [u8; 32] = [0x42; 32];
const OTHER_SEED: [u8; 32] = [0x24; 32];
const NOW: i64 = 1_750_000_000;
const ISSUER: &str = "edgevid";
const AUDIENCE: &str = "edgevid-api";

/// `NOW + offset` seconds.
fn at(offset: i64) -> Timestamp {
    Timestamp::from_unix_secs(NOW + offset)
}

/// Claims as PyJWT reads them.
fn as_json(claims: &Claims) -> serde_json::Value {
    json!({
        "sub": claims.sub, "email": claims.email, "role": claims.role, "jti": claims.jti,
        "iat": claims.issued_at.unix_secs(), "exp": claims.expires_at.unix_secs(),
        "iss": ISSUER, "aud": AUDIENCE,
    })
}

#[test]
fn interoperates_with_pyjwt() {
    let issuer = JwtIssuer::from_seed(
        &SEED,
        TokenScope {
            issuer: ISSUER.into(),
            audience: AUDIENCE.into(),
        },
    );
    let verifier = issuer.verifier();
    let user = UserId::new(Timestamp::from_unix_ms(1_749_000_000_000), [9; 10]);
    let email = Email::parse("member@example.com").unwrap();
    let (ours, our_claims) = issuer
        .issue(
            &user,
            &email,
            Role::Member,
            "jti-ours",
            at(0),
            Duration::from_secs(3600),
        )
        .unwrap();
    let (admin_token, admin_claims) = issuer
        .issue(
            &user,
            &email,
            Role::Admin,
            "jti-admin",
            at(0),
            Duration::from_secs(60),
        )
        .unwrap();

    let theirs_claims = json!({
        "sub": user.as_str(), "email": "member@example.com", "role": "admin",
        "iat": NOW, "exp": NOW + 600, "jti": "jti-theirs", "iss": ISSUER, "aud": AUDIENCE,
    });
    let oracle = common::run_oracle(
        "jwt_pyjwt.py",
        &json!({
            "seed_hex": hex::encode(SEED),
            "other_seed_hex": hex::encode(OTHER_SEED),
            "claims": theirs_claims,
            "now": NOW,
            "issuer": ISSUER,
            "audience": AUDIENCE,
            "verify": [
                {"token": ours, "now": NOW + 1},
                {"token": admin_token, "now": NOW + 30},
                {"token": ours, "now": NOW + 3601},
            ],
        }),
    );

    // PyJWT accepts ours and reads the same claims and header.
    let verdicts = oracle["verdicts"].as_array().unwrap();
    for (verdict, claims) in verdicts.iter().zip([&our_claims, &admin_claims]) {
        assert_eq!(verdict["claims"], as_json(claims), "{verdict}");
        assert_eq!(verdict["header"], json!({"alg": "EdDSA", "typ": "JWT"}));
    }
    assert_eq!(verdicts[2], json!({"error": "ExpiredSignatureError"}));

    // We accept PyJWT's.
    let token = |name: &str| oracle["tokens"][name].as_str().unwrap().to_string();
    assert_eq!(
        verifier
            .verify(&token("valid"), at(0), Duration::from_secs(0))
            .unwrap(),
        Claims {
            sub: user.clone(),
            email,
            role: Role::Admin,
            issued_at: at(0),
            expires_at: at(600),
            jti: "jti-theirs".into(),
        }
    );

    assert_eq!(
        verifier.verify(&token("expired"), at(0), Duration::from_secs(0)),
        Err(Error::JwtExpired)
    );
    assert_eq!(
        verifier.verify(&token("not_yet_valid"), at(0), Duration::from_secs(60)),
        Err(Error::JwtNotYetValid)
    );
    assert_eq!(
        verifier.verify(&token("issued_in_future"), at(0), Duration::from_secs(60)),
        Err(Error::JwtNotYetValid)
    );
    for refused in [
        "no_exp",
        "other_key",
        "other_issuer",
        "other_audience",
        "no_audience",
        "alg_none",
        "hs256_public_raw",
        "hs256_public_base64",
    ] {
        assert!(
            matches!(
                verifier.verify(&token(refused), at(0), Duration::from_secs(0)),
                Err(Error::JwtInvalid(_))
            ),
            "{refused} was not refused as invalid"
        );
    }
}
