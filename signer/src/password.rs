//! Password hashing: argon2id (RustCrypto `argon2`) for new hashes; bcrypt (`$2a$`, `$2b$`,
//! `$2y$`) still verifies, so users imported from older systems can sign in and be rehashed.
//! Both libraries compare digests in constant time.

use argon2::password_hash::{self, PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, PasswordHash, Version};

use crate::{Error, Result};

/// argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Params {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for Argon2Params {
    /// OWASP's minimum for argon2id: 19 MiB, 2 passes, 1 lane.
    fn default() -> Self {
        Self {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
        }
    }
}

impl Argon2Params {
    fn hasher(&self) -> Result<Argon2<'static>> {
        let params = argon2::Params::new(self.memory_kib, self.iterations, self.parallelism, None)
            .map_err(|e| Error::InvalidArgon2Params(e.to_string()))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }
}

/// The hash formats we verify.
enum Scheme {
    Argon2id,
    Bcrypt,
}

impl Scheme {
    fn of(hash: &str) -> Result<Self> {
        if hash.starts_with("$argon2id$") {
            Ok(Self::Argon2id)
        } else if ["$2a$", "$2b$", "$2y$"].iter().any(|p| hash.starts_with(p)) {
            Ok(Self::Bcrypt)
        } else if hash.starts_with('$') {
            Err(Error::UnsupportedPasswordHash)
        } else {
            Err(Error::MalformedPasswordHash(
                "not a PHC or bcrypt string".into(),
            ))
        }
    }
}

/// The argon2id PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`) of `password` with the
/// caller's random 16-byte salt.
pub fn hash_password(password: &str, salt: &[u8; 16], params: &Argon2Params) -> Result<String> {
    params
        .hasher()?
        .hash_password_with_salt(password.as_bytes(), salt)
        .map(|hash| hash.to_string())
        .map_err(|e| Error::InvalidArgon2Params(e.to_string()))
}

/// Whether `password` matches `hash` (argon2id PHC or bcrypt). `Ok(false)` on a mismatch;
/// an error when the hash itself is malformed or of another scheme. bcrypt only ever reads a
/// password's first 72 bytes, here as in the systems that made those hashes.
pub fn verify_password(password: &str, hash: &str) -> Result<bool> {
    match Scheme::of(hash)? {
        Scheme::Bcrypt => {
            bcrypt::verify(password, hash).map_err(|e| Error::MalformedPasswordHash(e.to_string()))
        }
        Scheme::Argon2id => {
            let parsed = parse_argon2id(hash)?;
            match Argon2::default().verify_password(password.as_bytes(), &parsed) {
                Ok(()) => Ok(true),
                Err(password_hash::Error::PasswordInvalid) => Ok(false),
                Err(e) => Err(Error::MalformedPasswordHash(e.to_string())),
            }
        }
    }
}

/// Whether a stored hash should be replaced (after a successful sign-in) by one made with
/// `params`: bcrypt, argon2id weaker than `params` in any dimension or of an older version,
/// and anything unreadable.
pub fn needs_rehash(hash: &str, params: &Argon2Params) -> bool {
    let Ok(Scheme::Argon2id) = Scheme::of(hash) else {
        return true;
    };
    let Ok(parsed) = parse_argon2id(hash) else {
        return true;
    };
    let Ok(current) = argon2::Params::try_from(&parsed) else {
        return true;
    };
    parsed.version != Some(Version::V0x13.into())
        || current.m_cost() < params.memory_kib
        || current.t_cost() < params.iterations
        || current.p_cost() < params.parallelism
}

/// A PHC string with both salt and digest (the format allows either to be missing; a hash
/// without them would otherwise read as a mere mismatch).
fn parse_argon2id(hash: &str) -> Result<PasswordHash> {
    let parsed =
        PasswordHash::new(hash).map_err(|e| Error::MalformedPasswordHash(e.to_string()))?;
    if parsed.salt.is_none() || parsed.hash.is_none() {
        return Err(Error::MalformedPasswordHash(
            "argon2id hash without salt or digest".into(),
        ));
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cheap parameters: these tests are about formats, not cost.
    const FAST: Argon2Params = Argon2Params {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };
    const SALT: [u8; 16] = *b"0123456789abcdef";

    #[test]
    fn argon2id_round_trip() {
        let hash = hash_password("correct horse", &SALT, &FAST).unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{hash}");
        assert!(verify_password("correct horse", &hash).unwrap());
        assert!(!verify_password("wrong horse", &hash).unwrap());
    }

    #[test]
    fn default_params_are_owasp_minimum() {
        let hash = hash_password("pw", &SALT, &Argon2Params::default()).unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(!needs_rehash(&hash, &Argon2Params::default()));
    }

    #[test]
    fn bcrypt_verifies() {
        // Made by the bcrypt crate itself; tests/password_python.rs covers another library's.
        let hash = bcrypt::hash_with_salt("hunter2", 4, SALT)
            .unwrap()
            .format_for_version(bcrypt::Version::TwoB);
        assert!(verify_password("hunter2", &hash).unwrap());
        assert!(!verify_password("hunter3", &hash).unwrap());
        assert!(needs_rehash(&hash, &FAST));
    }

    #[test]
    fn invalid_params_are_refused() {
        for params in [
            Argon2Params {
                memory_kib: 1,
                ..FAST
            },
            Argon2Params {
                iterations: 0,
                ..FAST
            },
            Argon2Params {
                parallelism: 0,
                ..FAST
            },
        ] {
            assert!(matches!(
                hash_password("pw", &SALT, &params),
                Err(Error::InvalidArgon2Params(_))
            ));
        }
    }

    #[test]
    fn malformed_and_foreign_hashes_are_errors() {
        let good = hash_password("pw", &SALT, &FAST).unwrap();
        let without_digest = good.rsplit_once('$').unwrap().0.to_string();
        for malformed in [
            "",
            "plaintext",
            "$argon2id$",
            "$argon2id$v=19$m=64,t=1,p=1$!!!$!!!",
            "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$",
            without_digest.as_str(),
            "$2b$04$short",
            "$2b$99$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234",
        ] {
            assert!(
                matches!(
                    verify_password("pw", malformed),
                    Err(Error::MalformedPasswordHash(_))
                ),
                "{malformed:?}"
            );
            assert!(needs_rehash(malformed, &FAST));
        }
        for foreign in [
            "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
            "$2x$04$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234",
            "$pbkdf2-sha256$29000$abc$def",
        ] {
            assert_eq!(
                verify_password("pw", foreign),
                Err(Error::UnsupportedPasswordHash)
            );
            assert!(needs_rehash(foreign, &FAST));
        }
    }

    #[test]
    fn weaker_argon2_params_need_a_rehash() {
        let hash = hash_password("pw", &SALT, &FAST).unwrap();
        assert!(!needs_rehash(&hash, &FAST));
        assert!(needs_rehash(
            &hash,
            &Argon2Params {
                memory_kib: 128,
                ..FAST
            }
        ));
        assert!(needs_rehash(
            &hash,
            &Argon2Params {
                iterations: 2,
                ..FAST
            }
        ));
        assert!(needs_rehash(
            &hash,
            &Argon2Params {
                parallelism: 2,
                ..FAST
            }
        ));
        let old_version = hash.replace("v=19", "v=16");
        assert!(needs_rehash(&old_version, &FAST));
    }
}
