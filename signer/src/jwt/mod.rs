//! Session tokens: EdDSA (Ed25519) JWTs through `jwt-compact`. The edge holds the secret
//! seed; anything that only checks tokens needs just the public key.
//!
//! Verification accepts `alg: EdDSA` and nothing else, so neither `alg: none` nor an HMAC
//! token keyed with our public key (algorithm confusion) gets through; `iss` and `aud` must
//! be the [`TokenScope`]'s, so a token made for another service or deployment is refused. Time is always a
//! parameter: `jwt-compact`'s `TimeOptions` gets a clock that returns the caller's `now`.

use std::fmt;
use std::time::Duration;

use base64::Engine as _;
use chrono::{DateTime, TimeDelta, Utc};
use jwt_compact::alg::{Ed25519, SigningKey as _, VerifyingKey as _};
use jwt_compact::{
    Algorithm as _, AlgorithmExt as _, Header, TimeOptions, UntrustedToken, ValidationError,
};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};
use model::{Email, Role, Timestamp, UserId};

/// The longest session a token may carry.
pub const MAX_TTL: Duration = Duration::from_secs(30 * 24 * 60 * 60);
/// The most clock skew `verify` may forgive.
pub const MAX_LEEWAY: Duration = Duration::from_secs(5 * 60);
/// The longest `jti` accepted when issuing.
pub const MAX_JTI_LEN: usize = 128;

type Ed25519SigningKey = <Ed25519 as jwt_compact::Algorithm>::SigningKey;
type Ed25519VerifyingKey = <Ed25519 as jwt_compact::Algorithm>::VerifyingKey;
type Ed25519Signature = <Ed25519 as jwt_compact::Algorithm>::Signature;

/// A verified token's claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    /// The user's id (`sub`).
    pub sub: UserId,
    pub email: Email,
    pub role: Role,
    /// `iat`, whole seconds.
    pub issued_at: Timestamp,
    /// `exp`, whole seconds.
    pub expires_at: Timestamp,
    /// The token's own id (for revocation lists).
    pub jti: String,
}

/// Who issues tokens (`iss`) and who they are for (`aud`): both are written into every
/// token and required on every token verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenScope {
    pub issuer: String,
    pub audience: String,
}

/// The claims `jwt-compact` does not model itself; serde validates them on the way in.
#[derive(Serialize, Deserialize)]
struct SessionClaims {
    iss: String,
    aud: String,
    sub: UserId,
    email: Email,
    role: Role,
    jti: String,
}

/// Signs tokens with an Ed25519 secret seed.
pub struct JwtIssuer {
    signing_key: Ed25519SigningKey,
    /// Derived once: deriving the public key is a scalar multiplication.
    verifier: JwtVerifier,
}

impl fmt::Debug for JwtIssuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtIssuer").finish_non_exhaustive()
    }
}

impl JwtIssuer {
    /// From the 32-byte Ed25519 secret seed (RFC 8032's private key).
    pub fn from_seed(seed: &[u8; 32], scope: TokenScope) -> Self {
        let signing_key = Ed25519SigningKey::from_bytes(seed);
        let verifier = JwtVerifier {
            verifying_key: signing_key.to_verifying_key(),
            scope,
        };
        Self {
            signing_key,
            verifier,
        }
    }

    /// From the seed in base64 (standard or URL-safe alphabet, padding optional), as it sits
    /// in a secret store.
    pub fn from_base64_seed(seed: &str, scope: TokenScope) -> Result<Self> {
        decode_key_base64(seed, "Ed25519 seed").map(|seed| Self::from_seed(&seed, scope))
    }

    /// A token for `sub` valid from `now` (whole seconds) for `ttl` (1 s ..= 30 days), and
    /// its claims. `jti` is the caller's random token id (1..=128 bytes).
    pub fn issue(
        &self,
        sub: &UserId,
        email: &Email,
        role: Role,
        jti: &str,
        now: Timestamp,
        ttl: Duration,
    ) -> Result<(String, Claims)> {
        let ttl_secs = ttl.as_secs();
        if !(1..=MAX_TTL.as_secs()).contains(&ttl_secs) {
            return Err(Error::ExpiryOutOfRange {
                requested_secs: ttl_secs,
                min_secs: 1,
                max_secs: MAX_TTL.as_secs(),
            });
        }
        let now_unix = now.unix_secs();
        if jti.is_empty() || jti.len() > MAX_JTI_LEN {
            return Err(Error::InvalidArgument(format!(
                "jti must have 1..={MAX_JTI_LEN} bytes"
            )));
        }
        let exp = now_unix
            .checked_add_unsigned(ttl_secs)
            .ok_or_else(|| Error::InvalidArgument("token expiry overflows".into()))?;
        let mut claims = jwt_compact::Claims::new(SessionClaims {
            iss: self.verifier.scope.issuer.clone(),
            aud: self.verifier.scope.audience.clone(),
            sub: sub.clone(),
            email: email.clone(),
            role,
            jti: jti.to_string(),
        });
        claims.issued_at = Some(timestamp(now_unix)?);
        claims.expiration = Some(timestamp(exp)?);
        let header = Header::empty().with_token_type("JWT");
        let token = Ed25519
            .token(&header, &claims, &self.signing_key)
            .map_err(|e| Error::InvalidArgument(e.to_string()))?;
        let SessionClaims {
            sub,
            email,
            role,
            jti,
            ..
        } = claims.custom;
        Ok((
            token,
            Claims {
                sub,
                email,
                role,
                issued_at: Timestamp::from_unix_secs(now_unix),
                expires_at: Timestamp::from_unix_secs(exp),
                jti,
            },
        ))
    }

    /// The verifier for this issuer's tokens.
    pub fn verifier(&self) -> &JwtVerifier {
        &self.verifier
    }
}

/// Checks tokens against an Ed25519 public key and a [`TokenScope`].
#[derive(Debug, Clone)]
pub struct JwtVerifier {
    verifying_key: Ed25519VerifyingKey,
    scope: TokenScope,
}

impl JwtVerifier {
    /// From the 32-byte Ed25519 public key.
    pub fn from_public_key(public_key: &[u8; 32], scope: TokenScope) -> Result<Self> {
        Ed25519VerifyingKey::from_slice(public_key)
            .map(|verifying_key| Self {
                verifying_key,
                scope,
            })
            .map_err(|e| Error::InvalidKey(format!("Ed25519 public key: {e}")))
    }

    /// From the public key in base64 (standard or URL-safe alphabet, padding optional).
    pub fn from_base64_public_key(public_key: &str, scope: TokenScope) -> Result<Self> {
        Self::from_public_key(&decode_key_base64(public_key, "Ed25519 public key")?, scope)
    }

    /// The raw public key, for publishing (a JWK's `x`, a config value).
    pub fn public_key(&self) -> [u8; 32] {
        self.verifying_key.to_bytes()
    }

    /// The claims of a token that is well-formed, EdDSA-signed by our key, has every claim
    /// (`iss` and `aud` this verifier's), and is valid at `now` give or take `leeway`
    /// (≤ 300 s): not expired, and neither `iat` nor `nbf` in the future.
    pub fn verify(&self, token: &str, now: Timestamp, leeway: Duration) -> Result<Claims> {
        let opened = self.open(token, now, leeway)?;
        let valid = opened.check_signature();
        opened.claims(valid)
    }

    /// Takes a token apart and checks its form, leaving the signature to be checked, here
    /// ([`Opened::check_signature`]) or by a platform's own Ed25519 (workerd's
    /// WebCrypto), before [`Opened::claims`] checks the rest as [`JwtVerifier::verify`] does.
    pub fn open<'t>(
        &'t self,
        token: &'t str,
        now: Timestamp,
        leeway: Duration,
    ) -> Result<Opened<'t>> {
        if leeway > MAX_LEEWAY {
            return Err(Error::InvalidArgument(format!(
                "leeway above {} s",
                MAX_LEEWAY.as_secs()
            )));
        }
        let now = timestamp(now.unix_secs())?;
        let leeway = TimeDelta::seconds(i64::try_from(leeway.as_secs()).unwrap_or(i64::MAX));
        let untrusted = UntrustedToken::new(token).map_err(|e| Error::JwtInvalid(e.to_string()))?;
        // What jwt-compact's validator checks before the signature, in its order.
        if untrusted.algorithm() != "EdDSA" {
            return Err(Error::JwtInvalid(format!(
                "algorithm {} is not EdDSA",
                untrusted.algorithm()
            )));
        }
        let signature = <[u8; 64]>::try_from(untrusted.signature_bytes())
            .map_err(|_| Error::JwtInvalid("an EdDSA signature is 64 bytes".into()))?;
        let claims = untrusted
            .deserialize_claims_unchecked::<SessionClaims>()
            .map_err(validation_error)?;
        let (message, _) = token
            .rsplit_once('.')
            .expect("a token jwt-compact parsed has a signature part");
        Ok(Opened {
            message: message.as_bytes(),
            signature,
            verifier: self,
            claims,
            now,
            leeway,
        })
    }
}

/// A token whose form was checked and whose signature is still to be: see
/// [`JwtVerifier::open`].
pub struct Opened<'t> {
    message: &'t [u8],
    signature: [u8; 64],
    verifier: &'t JwtVerifier,
    claims: jwt_compact::Claims<SessionClaims>,
    now: DateTime<Utc>,
    leeway: TimeDelta,
}

impl Opened<'_> {
    /// The bytes the signature covers: the token up to its last `.`.
    pub fn message(&self) -> &[u8] {
        self.message
    }

    pub fn signature(&self) -> &[u8; 64] {
        &self.signature
    }

    /// The key the signature must be made with: the verifier's.
    pub fn public_key(&self) -> [u8; 32] {
        self.verifier.public_key()
    }

    /// Whether the signature is the verifier's key's, checked here (jwt-compact's own check,
    /// as its validator makes it).
    pub fn check_signature(&self) -> bool {
        Ed25519.verify_signature(
            &Ed25519Signature::from_bytes(&self.signature),
            &self.verifier.verifying_key,
            self.message,
        )
    }

    /// The claims, when `signature_valid` (the signature was checked and is the key's) and
    /// every claim holds.
    pub fn claims(self, signature_valid: bool) -> Result<Claims> {
        if !signature_valid {
            return Err(Error::JwtInvalid("signature does not match".into()));
        }
        let (now, leeway, claims) = (self.now, self.leeway, self.claims);
        let options = TimeOptions::new(leeway, move || now);
        claims
            .validate_expiration(&options)
            .map_err(validation_error)?;
        if claims.not_before.is_some() {
            claims
                .validate_maturity(&options)
                .map_err(validation_error)?;
        }
        let issued_at = claims
            .issued_at
            .ok_or_else(|| Error::JwtInvalid("no iat claim".into()))?;
        // Checked: `now` may be the last representable instant.
        if issued_at
            > now
                .checked_add_signed(leeway)
                .unwrap_or(DateTime::<Utc>::MAX_UTC)
        {
            return Err(Error::JwtNotYetValid);
        }
        let expiration = claims.expiration.expect("validate_expiration checked exp");
        let custom = claims.custom;
        if custom.jti.is_empty() {
            return Err(Error::JwtInvalid("empty jti".into()));
        }
        let scope = &self.verifier.scope;
        if custom.iss != scope.issuer || custom.aud != scope.audience {
            return Err(Error::JwtInvalid("issued by or for someone else".into()));
        }
        Ok(Claims {
            sub: custom.sub,
            email: custom.email,
            role: custom.role,
            issued_at: Timestamp::from_unix_secs(issued_at.timestamp()),
            expires_at: Timestamp::from_unix_secs(expiration.timestamp()),
            jti: custom.jti,
        })
    }
}

fn validation_error(error: ValidationError) -> Error {
    match error {
        ValidationError::Expired => Error::JwtExpired,
        ValidationError::NotMature => Error::JwtNotYetValid,
        other => Error::JwtInvalid(other.to_string()),
    }
}

fn timestamp(unix: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp(unix, 0)
        .ok_or_else(|| Error::InvalidArgument(format!("time {unix} is out of range")))
}

fn decode_key_base64(text: &str, what: &str) -> Result<[u8; 32]> {
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    let config =
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    let text = text.trim();
    let bytes = GeneralPurpose::new(&base64::alphabet::STANDARD, config)
        .decode(text)
        .or_else(|_| GeneralPurpose::new(&base64::alphabet::URL_SAFE, config).decode(text))
        .map_err(|_| Error::InvalidKey(format!("{what} is not base64")))?;
    <[u8; 32]>::try_from(bytes.as_slice())
        .map_err(|_| Error::InvalidKey(format!("{what} must be 32 bytes, not {}", bytes.len())))
}

#[cfg(test)]
mod tests;
