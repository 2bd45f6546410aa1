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
        check_url(url)?;
        let expires_unix = epoch_seconds(expires)?;
        let separator = if url.contains('?') { '&' } else { '?' };
        let params = self
            .signature_params(&policy_statement(url, expires_unix), "", Some(expires_unix))
            .into_iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("&");
        Ok(format!("{url}{separator}{params}"))
    }

    /// The `CloudFront-*` cookies that let a browser fetch `resource_url` until
    /// `expires`. An exact URL gets a canned policy (`CloudFront-Expires`); a resource
    /// with `*` wildcards (`https://d.example/videos/<id>/*`, for HLS segments) gets the
    /// equivalent custom policy (`CloudFront-Policy`), since canned policies cannot match
    /// more than one URL.
    pub fn signed_cookies(
        &self,
        resource_url: &str,
        expires: Timestamp,
    ) -> Result<Vec<(String, String)>> {
        check_url(resource_url)?;
        let expires_unix = epoch_seconds(expires)?;
        let policy = policy_statement(resource_url, expires_unix);
        let expires = (!resource_url.contains('*')).then_some(expires_unix);
        Ok(self.signature_params(&policy, "CloudFront-", expires))
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

/// The `edge` playback mode's token: `<expires_unix>.<base64url(HMAC-SHA256)>`, carried as
/// one path segment (no `/`, no `=`). The MAC covers a version tag, the expiry and the object
/// key, so a token opens one object until one instant.
pub mod edge_token {
    use base64::Engine as _;

    use model::{ObjectKey, Timestamp};

    use crate::{Error, Result, hmac_sha256, hmac_sha256_matches};

    const BASE64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    /// Domain separation: a MAC made for anything else with the same secret never verifies.
    const CONTEXT: &[u8] = b"edgevid-edge-token-v1";

    /// A token's parts, before its MAC is checked.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct EdgeToken {
        expires_unix: u64,
        mac: [u8; 32],
    }

    impl EdgeToken {
        /// Reads the token's form only; [`verify`] decides whether it is genuine.
        pub fn parse(token: &str) -> Result<Self> {
            let (expires, mac) = token.split_once('.').ok_or(Error::PlaybackTokenInvalid)?;
            // Digits only: `u64::from_str` would also take a leading `+`, a second spelling.
            if expires.is_empty() || !expires.bytes().all(|b| b.is_ascii_digit()) {
                return Err(Error::PlaybackTokenInvalid);
            }
            let expires_unix = expires.parse().map_err(|_| Error::PlaybackTokenInvalid)?;
            let mac = BASE64
                .decode(mac)
                .ok()
                .and_then(|mac| <[u8; 32]>::try_from(mac).ok())
                .ok_or(Error::PlaybackTokenInvalid)?;
            Ok(Self { expires_unix, mac })
        }

        /// When the token stops working (for `Cache-Control`), once verified.
        pub fn expires_at(&self) -> Timestamp {
            Timestamp::from_unix_secs(i64::try_from(self.expires_unix).unwrap_or(i64::MAX))
        }
    }

    fn mac(secret: &[u8], object_key: &ObjectKey, expires_unix: u64) -> [u8; 32] {
        hmac_sha256(
            secret,
            &[
                CONTEXT,
                b"\n",
                expires_unix.to_string().as_bytes(),
                b"\n",
                object_key.as_str().as_bytes(),
            ],
        )
    }

    /// A token for `object_key` until `expires` (whole seconds; 1970 at the earliest). Use a
    /// secret of at least 32 random bytes.
    pub fn sign(secret: &[u8], object_key: &ObjectKey, expires: Timestamp) -> String {
        let expires_unix = u64::try_from(expires.unix_secs()).unwrap_or(0);
        let mac = mac(secret, object_key, expires_unix);
        format!("{expires_unix}.{}", BASE64.encode(mac))
    }

    /// `Ok` if `token` was made with `secret` for `object_key` and has not expired at `now`
    /// (a token is valid strictly before its expiry).
    pub fn verify(
        secret: &[u8],
        token: &str,
        object_key: &ObjectKey,
        now: Timestamp,
    ) -> Result<()> {
        if secret.is_empty() {
            return Err(Error::InvalidKey("empty edge token secret".into()));
        }
        let token = EdgeToken::parse(token)?;
        let expected = mac(secret, object_key, token.expires_unix);
        if !hmac_sha256_matches(&expected, &token.mac) {
            return Err(Error::PlaybackTokenInvalid);
        }
        if now >= token.expires_at() {
            return Err(Error::PlaybackTokenExpired);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::edge_token::{self, EdgeToken};
    use super::*;
    use model::ObjectKey;

    fn t(secs: i64) -> Timestamp {
        Timestamp::from_unix_secs(secs)
    }

    // A throwaway 2048-bit test key, in both PEM encodings.
    const PKCS8_PEM: &str = include_str!("../tests/fixtures/cloudfront_test_key_pkcs8.pem");
    const PKCS1_PEM: &str = include_str!("../tests/fixtures/cloudfront_test_key_pkcs1.pem");

    #[test]
    fn canned_policy_matches_the_documented_form() {
        assert_eq!(
            policy_statement(
                "https://d111111abcdef8.cloudfront.net/image.jpg",
                1357034400
            ),
            r#"{"Statement":[{"Resource":"https://d111111abcdef8.cloudfront.net/image.jpg","Condition":{"DateLessThan":{"AWS:EpochTime":1357034400}}}]}"#
        );
    }

    #[test]
    fn both_pem_encodings_give_the_same_signatures() {
        let url = "https://d.example/v.mp4?x=1";
        let pkcs1 = CloudFrontSigner::new("K1", PKCS1_PEM, CloudFrontHash::Sha1).unwrap();
        let pkcs8 = CloudFrontSigner::new("K1", PKCS8_PEM, CloudFrontHash::Sha1).unwrap();
        let signed = pkcs1.signed_url(url, t(10)).unwrap();
        assert_eq!(signed, pkcs8.signed_url(url, t(10)).unwrap());
        assert!(signed.starts_with("https://d.example/v.mp4?x=1&Expires=10&Signature="));
        assert!(signed.ends_with("&Key-Pair-Id=K1"));
    }

    #[test]
    fn sha256_announces_itself() {
        let signer = CloudFrontSigner::new("K1", PKCS8_PEM, CloudFrontHash::Sha256).unwrap();
        assert!(
            signer
                .signed_url("https://d.example/v.mp4", t(10))
                .unwrap()
                .ends_with("&Key-Pair-Id=K1&Hash-Algorithm=SHA256")
        );
        let cookies = signer
            .signed_cookies("https://d.example/videos/*", t(10))
            .unwrap();
        let names: Vec<_> = cookies.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(
            names,
            [
                "CloudFront-Policy",
                "CloudFront-Signature",
                "CloudFront-Key-Pair-Id",
                "CloudFront-Hash-Algorithm"
            ]
        );
    }

    #[test]
    fn refuses_bad_keys() {
        for (id, pem) in [
            ("", PKCS8_PEM),
            ("K-1", PKCS8_PEM),
            ("K1", ""),
            (
                "K1",
                "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
            ),
            (
                "K1",
                "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----",
            ),
            (
                "K1",
                "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
            ),
        ] {
            assert!(
                matches!(
                    CloudFrontSigner::new(id, pem, CloudFrontHash::Sha1),
                    Err(Error::InvalidKey(_))
                ),
                "{id:?} {pem:?}"
            );
        }
    }

    #[test]
    fn refuses_bad_urls() {
        let signer = CloudFrontSigner::new("K1", PKCS8_PEM, CloudFrontHash::Sha1).unwrap();
        for url in [
            "d.example/x",
            "ftp://d.example/x",
            "https://d.example/a b",
            "https://d.example/ü",
            "https://d.example/\"",
            "https://d.example/x#frag",
        ] {
            assert!(
                matches!(signer.signed_url(url, t(1)), Err(Error::InvalidUrl(_))),
                "{url:?}"
            );
            assert!(
                matches!(signer.signed_cookies(url, t(1)), Err(Error::InvalidUrl(_))),
                "{url:?}"
            );
        }
    }

    #[test]
    fn edge_token_round_trip() {
        let key = ObjectKey::parse("videos/x/video.mp4").unwrap();
        let token = edge_token::sign(b"secret", &key, t(1000));
        assert!(!token.contains('/') && !token.contains('=') && !token.contains('+'));
        assert_eq!(EdgeToken::parse(&token).unwrap().expires_at(), t(1000));
        assert_eq!(edge_token::verify(b"secret", &token, &key, t(999)), Ok(()));
        assert_eq!(
            edge_token::verify(b"secret", &token, &key, t(1000)),
            Err(Error::PlaybackTokenExpired)
        );
    }

    #[test]
    fn edge_token_binds_key_expiry_and_secret() {
        let key = ObjectKey::parse("videos/x/video.mp4").unwrap();
        let other = ObjectKey::parse("videos/y/video.mp4").unwrap();
        let token = edge_token::sign(b"secret", &key, t(1000));
        let (_, mac) = token.split_once('.').unwrap();
        let invalid = Err(Error::PlaybackTokenInvalid);
        assert_eq!(edge_token::verify(b"secret", &token, &other, t(0)), invalid);
        assert_eq!(edge_token::verify(b"other", &token, &key, t(0)), invalid);
        assert_eq!(
            edge_token::verify(b"secret", &format!("2000.{mac}"), &key, t(0)),
            invalid
        );
        assert_eq!(
            edge_token::verify(b"", &token, &key, t(0)),
            Err(Error::InvalidKey("empty edge token secret".into()))
        );
    }

    #[test]
    fn edge_token_malformed() {
        let key = ObjectKey::parse("k").unwrap();
        let token = edge_token::sign(b"secret", &key, t(1000));
        let (_, mac) = token.split_once('.').unwrap();
        for bad in [
            String::new(),
            "1000".into(),
            format!(".{mac}"),
            format!("+1000.{mac}"),
            format!("-1.{mac}"),
            format!("99999999999999999999999.{mac}"),
            "1000.!!".into(),
            format!("1000.{}", &mac[..10]),
            format!("1000.{mac}AA"),
        ] {
            assert_eq!(
                edge_token::verify(b"secret", &bad, &key, t(0)),
                Err(Error::PlaybackTokenInvalid),
                "{bad:?}"
            );
        }
    }
}
