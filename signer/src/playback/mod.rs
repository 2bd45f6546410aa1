//! Playback authorization: CloudFront signed URLs and cookies, and the HMAC token of the
//! `edge` playback mode.

use base64::Engine as _;
use rsa::pkcs1::DecodeRsaPrivateKey as _;
use rsa::pkcs8::DecodePrivateKey as _;
use rsa::signature::{SignatureEncoding as _, Signer as _};
use rsa::{PrivateKey, pkcs1v15};

use model::Timestamp;

use crate::{Error, Result};

pub use edge_token::EdgeToken;

/// The digest CloudFront's RSA signature is made over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloudFrontHash {
    /// CloudFront's original (and botocore's only) choice.
    Sha1,
    /// Announced to CloudFront with `Hash-Algorithm=SHA256`.
    Sha256,
}

enum RsaSigner {
    Sha1(pkcs1v15::SigningKey<sha1::Sha1>),
    Sha256(pkcs1v15::SigningKey<sha2::Sha256>),
}

/// Signs CloudFront URLs and cookies with a key of the distribution's trusted key group.
pub struct CloudFrontSigner {
    key_pair_id: String,
    signer: RsaSigner,
}

impl std::fmt::Debug for CloudFrontSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CloudFrontSigner")
            .field("key_pair_id", &self.key_pair_id)
            .finish_non_exhaustive()
    }
}

impl CloudFrontSigner {
    /// `private_key_pem` is an RSA key in PKCS#1 (`BEGIN RSA PRIVATE KEY`) or PKCS#8
    /// (`BEGIN PRIVATE KEY`) PEM.
    pub fn new(key_pair_id: &str, private_key_pem: &str, hash: CloudFrontHash) -> Result<Self> {
        if key_pair_id.is_empty() || !key_pair_id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(Error::InvalidKey(
                "a CloudFront key pair id is letters and digits".into(),
            ));
        }
        let (label, der) = pem_rfc7468::decode_vec(private_key_pem.trim().as_bytes())
            .map_err(|e| Error::InvalidKey(format!("private key PEM: {e}")))?;
        let key = match label {
            "RSA PRIVATE KEY" => PrivateKey::from_pkcs1_der(&der)
                .map_err(|e| Error::InvalidKey(format!("PKCS#1 RSA key: {e}")))?,
            "PRIVATE KEY" => PrivateKey::from_pkcs8_der(&der)
                .map_err(|e| Error::InvalidKey(format!("PKCS#8 RSA key: {e}")))?,
            other => {
                return Err(Error::InvalidKey(format!(
                    "expected an RSA private key PEM, found {other:?}"
                )));
            }
        };
        let signer = match hash {
            CloudFrontHash::Sha1 => RsaSigner::Sha1(pkcs1v15::SigningKey::new(key)),
            CloudFrontHash::Sha256 => RsaSigner::Sha256(pkcs1v15::SigningKey::new(key)),
        };
        Ok(Self {
            key_pair_id: key_pair_id.to_string(),
            signer,
        })
    }

    /// `url` signed with a canned policy valid until `expires` (whole seconds): the URL plus
    /// `Expires`, `Signature`, `Key-Pair-Id` (and `Hash-Algorithm=SHA256`), as botocore's
    /// `CloudFrontSigner.generate_presigned_url` writes them.
    pub fn signed_url(&self, url: &str, expires: Timestamp) -> Result<String> {
        let separator = if url.contains('?') { '&' } else { '?' };
        Ok(format!(
            "{url}{separator}{}",
            self.signed_query(url, expires)?
        ))
    }

    /// The query string (no `?`) that lets a request for `resource_url` through until
    /// `expires`. An exact URL gets a canned policy (`Expires`); a resource with `*`
    /// wildcards (`https://d.example/videos/<id>/*`: every file of one video) gets the
    /// equivalent custom policy (`Policy`), whose query string opens every URL the wildcard
    /// matches: append it to each segment URI of an HLS playlist.
    pub fn signed_query(&self, resource_url: &str, expires: Timestamp) -> Result<String> {
        Ok(self
            .signed_params(resource_url, expires, "")?
            .into_iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("&"))
    }

    /// The `CloudFront-*` cookies that let a browser fetch `resource_url` until `expires`:
    /// the parameters of [`Self::signed_query`], as cookies.
    pub fn signed_cookies(
        &self,
        resource_url: &str,
        expires: Timestamp,
    ) -> Result<Vec<(String, String)>> {
        self.signed_params(resource_url, expires, "CloudFront-")
    }

    fn signed_params(
        &self,
        resource_url: &str,
        expires: Timestamp,
        prefix: &str,
    ) -> Result<Vec<(String, String)>> {
        check_url(resource_url)?;
        let expires_unix = epoch_seconds(expires)?;
        let policy = policy_statement(resource_url, expires_unix);
        let canned = (!resource_url.contains('*')).then_some(expires_unix);
        Ok(self.signature_params(&policy, prefix, canned))
    }

    /// `Expires` (canned) or `Policy` (custom), then `Signature`, `Key-Pair-Id` and, for
    /// SHA-256, `Hash-Algorithm`; names prefixed for cookies.
    fn signature_params(
        &self,
        policy: &str,
        prefix: &str,
        canned_expires: Option<u64>,
    ) -> Vec<(String, String)> {
        let mut params = vec![match canned_expires {
            Some(expires) => (format!("{prefix}Expires"), expires.to_string()),
            None => (
                format!("{prefix}Policy"),
                cloudfront_base64(policy.as_bytes()),
            ),
        }];
        let signature = match &self.signer {
            RsaSigner::Sha1(key) => key.sign(policy.as_bytes()).to_vec(),
            RsaSigner::Sha256(key) => key.sign(policy.as_bytes()).to_vec(),
        };
        params.push((format!("{prefix}Signature"), cloudfront_base64(&signature)));
        params.push((format!("{prefix}Key-Pair-Id"), self.key_pair_id.clone()));
        if matches!(self.signer, RsaSigner::Sha256(_)) {
            params.push((format!("{prefix}Hash-Algorithm"), "SHA256".into()));
        }
        params
    }
}

/// The policy statement, byte for byte as CloudFront documents it (and botocore writes it):
/// compact JSON, `Resource` before `Condition`. With an exact URL it is the canned policy;
/// with wildcards, a custom policy that must travel along.
fn policy_statement(resource: &str, expires_unix: u64) -> String {
    format!(
        r#"{{"Statement":[{{"Resource":"{resource}","Condition":{{"DateLessThan":{{"AWS:EpochTime":{expires_unix}}}}}}}]}}"#
    )
}

/// An absolute http(s) URL of printable ASCII with nothing JSON would escape: CloudFront
/// compares the policy's resource with the request URL as sent, so non-ASCII, spaces and
/// quotes must arrive percent-encoded.
fn check_url(url: &str) -> Result<()> {
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(Error::InvalidUrl("must be an absolute http(s) URL"));
    }
    if !url
        .bytes()
        .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\')
    {
        return Err(Error::InvalidUrl(
            "must be percent-encoded printable ASCII without quotes or backslashes",
        ));
    }
    if url.contains('#') {
        return Err(Error::InvalidUrl("must not have a fragment"));
    }
    Ok(())
}

/// CloudFront policies count whole seconds from 1970.
fn epoch_seconds(time: Timestamp) -> Result<u64> {
    u64::try_from(time.unix_secs())
        .map_err(|_| Error::InvalidArgument("a CloudFront expiry before 1970".into()))
}

/// Base64 with CloudFront's URL-safe substitutions (`+`→`-`, `=`→`_`, `/`→`~`).
fn cloudfront_base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD
        .encode(bytes)
        .chars()
        .map(|c| match c {
            '+' => '-',
            '=' => '_',
            '/' => '~',
            c => c,
        })
        .collect()
}

pub mod edge_token;

#[cfg(test)]
mod tests;
