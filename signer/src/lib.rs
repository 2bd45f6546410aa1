//! Pure signing core (see the crate description): S3 SigV4 presigning and request signing,
//! S3 XML, multipart planning, session JWTs, password hashes, playback URLs and webhook
//! signatures.
//!
//! Nothing here does I/O, reads a clock or draws randomness: times ([`model::Timestamp`]),
//! keys and salts are parameters, so every function is deterministic and the crate runs the
//! same natively and on `wasm32-unknown-unknown`. Names (ids, keys, buckets) are `model`'s.

mod error;
pub mod jwt;
pub mod multipart;
pub mod password;
pub mod playback;
pub mod s3;
pub mod session;
pub mod webhook;

pub use error::{Error, Result};

use hmac::{KeyInit as _, Mac as _};
use subtle::ConstantTimeEq as _;

/// HMAC-SHA256 over the concatenation of `parts`.
fn hmac_sha256(secret: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac =
        hmac::Hmac::<sha2::Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// Constant-time equality of two MACs.
fn hmac_sha256_matches(expected: &[u8; 32], candidate: &[u8; 32]) -> bool {
    expected.ct_eq(candidate).into()
}
