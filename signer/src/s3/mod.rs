//! S3 requests signed with SigV4 (`aws-sigv4` computes every signature; this module only
//! describes the requests and assembles URLs).
//!
//! URLs come out byte-identical to botocore's `generate_presigned_url` for the same request:
//! object keys are percent-encoded except `A-Z a-z 0-9 - _ . ~ /`; query values except
//! `A-Z a-z 0-9 - _ . ~`; the operation's parameters come first (a sub-resource marker such as
//! `uploads=` or `list-type=2`, then the rest by name), then the authentication parameters in
//! botocore's order. Virtual-hosted addressing falls back to path style where botocore's
//! endpoint rules do: for an IP-literal endpoint, and for a dotted bucket over HTTPS (its name
//! would not match the endpoint's TLS certificate).

pub mod xml;

use std::borrow::Cow;

use std::time::Duration;

use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SignatureLocation,
    SigningSettings, UriPathNormalizationMode,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use base64::Engine as _;
use http::Method;
use md5::Digest as _;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::multipart::MAX_PARTS;
use crate::{Error, Result};
use model::{BucketName, ObjectKey, Secret, Timestamp};

/// The shortest presigned URL lifetime.
pub const MIN_PRESIGN_EXPIRY: Duration = Duration::from_secs(1);
/// The longest lifetime SigV4 allows (7 days).
pub const MAX_PRESIGN_EXPIRY: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// RFC 3986 unreserved characters stay, everything else is percent-encoded (botocore's
/// `quote(value, safe='-_.~')`).
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');
/// Object keys keep their `/` separators.
const KEY_PATH: &AsciiSet = &QUERY_VALUE.remove(b'/');

/// botocore's order of the authentication query parameters (aws-sigv4 returns them in
/// another order; the order does not change the signature, only the URL's bytes).
const AUTH_PARAM_ORDER: [&str; 7] = [
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Security-Token",
    "X-Amz-Signature",
];

/// An access key pair, with a session token for temporary (STS) credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: Secret<String>,
    pub session_token: Option<Secret<String>>,
}

impl Credentials {
    fn identity(&self) -> Result<Identity> {
        if self.access_key_id.is_empty() || self.secret_access_key.expose().is_empty() {
            return Err(Error::InvalidKey("empty S3 access key id or secret".into()));
        }
        Ok(aws_credential_types::Credentials::new(
            self.access_key_id.clone(),
            self.secret_access_key.expose().clone(),
            self.session_token
                .as_ref()
                .map(|token| token.expose().clone()),
            None,
            "signer",
        )
        .into())
    }
}

/// Where the bucket goes in the URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Addressing {
    /// `https://endpoint/bucket/key`: works everywhere (SeaweedFS, MinIO, R2).
    Path,
    /// `https://bucket.endpoint/key`: AWS's preferred style.
    VirtualHosted,
}

/// An S3-compatible service and the credentials to sign for it.
#[derive(Debug, Clone)]
pub struct S3Config {
    /// `scheme://host[:port]`, no path: `https://s3.us-east-1.amazonaws.com`,
    /// `http://127.0.0.1:8333`, `https://<account>.r2.cloudflarestorage.com`.
    pub endpoint: String,
    /// The signing region; `auto` for R2.
    pub region: String,
    pub addressing: Addressing,
    pub credentials: Credentials,
}

/// The S3 operations the platform uses, with the inputs each signature binds.
#[derive(Debug, Clone, Copy)]
pub enum S3Request<'a> {
    /// Binds the body's length and type: S3 refuses a body of another size.
    PutObject {
        bucket: &'a BucketName,
        key: &'a ObjectKey,
        content_length: u64,
        content_type: &'a str,
    },
    CreateMultipartUpload {
        bucket: &'a BucketName,
        key: &'a ObjectKey,
        content_type: Option<&'a str>,
    },
    /// Binds the part's length.
    UploadPart {
        bucket: &'a BucketName,
        key: &'a ObjectKey,
        upload_id: &'a str,
        part_number: u16,
        content_length: u64,
    },
    ListParts {
        bucket: &'a BucketName,
        key: &'a ObjectKey,
        upload_id: &'a str,
        part_number_marker: Option<u32>,
    },
    CompleteMultipartUpload {
        bucket: &'a BucketName,
        key: &'a ObjectKey,
        upload_id: &'a str,
    },
    AbortMultipartUpload {
        bucket: &'a BucketName,
        key: &'a ObjectKey,
        upload_id: &'a str,
    },
    /// `range` (`bytes=0-99`) becomes a signed header the client must send as is.
    GetObject {
        bucket: &'a BucketName,
        key: &'a ObjectKey,
        response_content_disposition: Option<&'a str>,
        range: Option<&'a str>,
    },
    HeadObject {
        bucket: &'a BucketName,
        key: &'a ObjectKey,
    },
    DeleteObject {
        bucket: &'a BucketName,
        key: &'a ObjectKey,
    },
    /// The body comes from [`xml::delete_objects_body`].
    DeleteObjects { bucket: &'a BucketName },
    /// Asks for `encoding-type=url` (as botocore does), so keys survive XML whatever they
    /// contain; [`xml::parse_list_objects_v2`] decodes them.
    ListObjectsV2 {
        bucket: &'a BucketName,
        prefix: Option<&'a str>,
        continuation_token: Option<&'a str>,
        max_keys: Option<u32>,
    },
}

/// A presigned request: anyone holding it may send it until `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presigned {
    pub method: Method,
    pub url: String,
    /// Headers the client must send exactly as given: the signed ones other than `host`, by
    /// name (`content-length`, `content-type`, `range`). Browsers set `content-length`
    /// themselves from the body; it is listed so that callers know it is bound.
    pub headers: Vec<(String, String)>,
    /// The URL stops working at this instant (the signing time, in whole seconds, plus the
    /// expiry).
    pub expires_at: Timestamp,
}

/// One request as it goes on the wire, before signing.
struct Operation<'a> {
    method: Method,
    bucket: &'a BucketName,
    /// `None` for bucket-level operations.
    key: Option<&'a ObjectKey>,
    /// In URL order, values unencoded.
    query: Vec<(&'static str, Cow<'a, str>)>,
    /// Signed headers besides `host`, by name.
    headers: Vec<(&'static str, Cow<'a, str>)>,
    /// The body length the request declares, if it declares one.
    content_length: Option<u64>,
    /// Real S3 refuses DeleteObjects without a body checksum.
    needs_content_md5: bool,
}

impl<'a> Operation<'a> {
    fn new(method: Method, bucket: &'a BucketName, key: Option<&'a ObjectKey>) -> Self {
        Self {
            method,
            bucket,
            key,
            query: Vec::new(),
            headers: Vec::new(),
            content_length: None,
            needs_content_md5: false,
        }
    }

    fn query(mut self, name: &'static str, value: impl Into<Cow<'a, str>>) -> Self {
        self.query.push((name, value.into()));
        self
    }

    fn optional_query(self, name: &'static str, value: Option<impl Into<Cow<'a, str>>>) -> Self {
        match value {
            Some(value) => self.query(name, value),
            None => self,
        }
    }

    fn header(mut self, name: &'static str, value: &'a str) -> Result<Self> {
        http::HeaderValue::from_str(value)
            .map_err(|_| Error::InvalidS3Request(format!("{name} is not a valid header value")))?;
        self.headers.push((name, value.into()));
        Ok(self)
    }

    fn content_length(mut self, length: u64) -> Self {
        self.headers
            .push(("content-length", length.to_string().into()));
        self.content_length = Some(length);
        self
    }
}

fn upload_id(upload_id: &str) -> Result<&str> {
    if upload_id.is_empty() {
        return Err(Error::InvalidS3Request("empty upload id".into()));
    }
    Ok(upload_id)
}

impl<'a> S3Request<'a> {
    /// Method, path, query and headers. Headers are listed by name, the order SigV4 signs
    /// them in.
    fn operation(&self) -> Result<Operation<'a>> {
        Ok(match *self {
            S3Request::PutObject {
                bucket,
                key,
                content_length,
                content_type,
            } => Operation::new(Method::PUT, bucket, Some(key))
                .content_length(content_length)
                .header("content-type", content_type)?,
            S3Request::CreateMultipartUpload {
                bucket,
                key,
                content_type,
            } => {
                let operation =
                    Operation::new(Method::POST, bucket, Some(key)).query("uploads", "");
                match content_type {
                    Some(content_type) => operation.header("content-type", content_type)?,
                    None => operation,
                }
            }
            S3Request::UploadPart {
                bucket,
                key,
                upload_id: id,
                part_number,
                content_length,
            } => {
                if !(1..=MAX_PARTS).contains(&part_number) {
                    return Err(Error::InvalidS3Request(format!(
                        "part number {part_number} is outside 1..={MAX_PARTS}"
                    )));
                }
                Operation::new(Method::PUT, bucket, Some(key))
                    .query("partNumber", part_number.to_string())
                    .query("uploadId", upload_id(id)?)
                    .content_length(content_length)
            }
            S3Request::ListParts {
                bucket,
                key,
                upload_id: id,
                part_number_marker,
            } => Operation::new(Method::GET, bucket, Some(key))
                .optional_query(
                    "part-number-marker",
                    part_number_marker.map(|m| m.to_string()),
                )
                .query("uploadId", upload_id(id)?),
            S3Request::CompleteMultipartUpload {
                bucket,
                key,
                upload_id: id,
            } => Operation::new(Method::POST, bucket, Some(key)).query("uploadId", upload_id(id)?),
            S3Request::AbortMultipartUpload {
                bucket,
                key,
                upload_id: id,
            } => {
                Operation::new(Method::DELETE, bucket, Some(key)).query("uploadId", upload_id(id)?)
            }
            S3Request::GetObject {
                bucket,
                key,
                response_content_disposition,
                range,
            } => {
                let operation = Operation::new(Method::GET, bucket, Some(key))
                    .optional_query("response-content-disposition", response_content_disposition);
                match range {
                    Some(range) => operation.header("range", range)?,
                    None => operation,
                }
            }
            S3Request::HeadObject { bucket, key } => {
                Operation::new(Method::HEAD, bucket, Some(key))
            }
            S3Request::DeleteObject { bucket, key } => {
                Operation::new(Method::DELETE, bucket, Some(key))
            }
            S3Request::DeleteObjects { bucket } => {
                let mut operation = Operation::new(Method::POST, bucket, None).query("delete", "");
                operation.needs_content_md5 = true;
                operation
            }
            S3Request::ListObjectsV2 {
                bucket,
                prefix,
                continuation_token,
                max_keys,
            } => Operation::new(Method::GET, bucket, None)
                .query("list-type", "2")
                .optional_query("continuation-token", continuation_token)
                .query("encoding-type", "url")
                .optional_query("max-keys", max_keys.map(|m| m.to_string()))
                .optional_query("prefix", prefix),
        })
    }
}

impl S3Config {
    /// This configuration prepared for signing many requests: the endpoint parsed and the
    /// credentials turned into a signing identity once, not per request.
    pub fn signer(&self) -> Result<S3Signer> {
        if self.region.is_empty() {
            return Err(Error::InvalidEndpoint("empty region"));
        }
        Ok(S3Signer {
            endpoint: Endpoint::parse(&self.endpoint)?,
            identity: self.credentials.identity()?,
            region: self.region.clone(),
            addressing: self.addressing,
        })
    }

    /// [`S3Signer::presign`] with this configuration.
    pub fn presign(
        &self,
        request: &S3Request<'_>,
        now: Timestamp,
        expires_in: Duration,
    ) -> Result<Presigned> {
        self.signer()?.presign(request, now, expires_in)
    }

    /// [`S3Signer::sign`] with this configuration.
    pub fn sign(
        &self,
        request: &S3Request<'_>,
        body: Vec<u8>,
        now: Timestamp,
    ) -> Result<http::Request<Vec<u8>>> {
        self.signer()?.sign(request, body, now)
    }
}

/// A prepared [`S3Config`] (see [`S3Config::signer`]): what a hot path keeps.
#[derive(Debug, Clone)]
pub struct S3Signer {
    endpoint: Endpoint,
    identity: Identity,
    region: String,
    addressing: Addressing,
}

impl S3Signer {
    /// A URL that performs `request` without credentials until `now + expires_in` (whole
    /// seconds, 1 s ..= 7 days). The payload is not signed (`UNSIGNED-PAYLOAD`); lengths and
    /// types are bound through signed headers instead.
    pub fn presign(
        &self,
        request: &S3Request<'_>,
        now: Timestamp,
        expires_in: Duration,
    ) -> Result<Presigned> {
        let expires_secs = expires_in.as_secs();
        if !(MIN_PRESIGN_EXPIRY.as_secs()..=MAX_PRESIGN_EXPIRY.as_secs()).contains(&expires_secs) {
            return Err(Error::ExpiryOutOfRange {
                requested_secs: expires_secs,
                min_secs: MIN_PRESIGN_EXPIRY.as_secs(),
                max_secs: MAX_PRESIGN_EXPIRY.as_secs(),
            });
        }
        let signed_at = whole_seconds(now)?;
        let operation = request.operation()?;
        let url = self.url(&operation)?;
        let mut settings = s3_signing_settings();
        settings.signature_location = SignatureLocation::QueryParams;
        settings.expires_in = Some(Duration::from_secs(expires_secs));
        let instructions = self.sign_with(
            &operation,
            &url,
            SignableBody::UnsignedPayload,
            signed_at,
            settings,
        )?;
        let (_, mut auth_params) = instructions.into_parts();
        auth_params.sort_by_key(|(name, _)| AUTH_PARAM_ORDER.iter().position(|n| n == name));
        let mut url = url;
        url.push(if operation.query.is_empty() { '?' } else { '&' });
        append_query(
            &mut url,
            auth_params
                .iter()
                .map(|(name, value)| (*name, value.as_ref())),
        );
        Ok(Presigned {
            method: operation.method,
            url,
            headers: operation
                .headers
                .into_iter()
                .map(|(name, value)| (name.to_string(), value.into_owned()))
                .collect(),
            expires_at: signed_at + Duration::from_secs(expires_secs),
        })
    }

    /// A header-signed request ready to send: `x-amz-date`, `x-amz-content-sha256` (the
    /// body's SHA-256: the signature binds the body), `authorization`, the session token
    /// when there is one, and `content-md5` for DeleteObjects.
    pub fn sign(
        &self,
        request: &S3Request<'_>,
        body: Vec<u8>,
        now: Timestamp,
    ) -> Result<http::Request<Vec<u8>>> {
        let mut operation = request.operation()?;
        let body_len = body.len() as u64;
        if let Some(declared) = operation.content_length.filter(|&d| d != body_len) {
            return Err(Error::BodyLengthMismatch {
                declared,
                actual: body_len,
            });
        }
        if operation.needs_content_md5 {
            let md5 = base64::engine::general_purpose::STANDARD.encode(md5::Md5::digest(&body));
            operation.headers.push(("content-md5", md5.into()));
        }
        let url = self.url(&operation)?;
        let mut settings = s3_signing_settings();
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        let instructions =
            self.sign_with(&operation, &url, SignableBody::Bytes(&body), now, settings)?;
        let mut builder = http::Request::builder()
            .method(operation.method.clone())
            .uri(url);
        for (name, value) in &operation.headers {
            builder = builder.header(*name, value.as_ref());
        }
        for (name, value) in instructions.headers() {
            builder = builder.header(name, value);
        }
        builder
            .body(body)
            .map_err(|e| Error::Signing(e.to_string()))
    }

    fn sign_with(
        &self,
        operation: &Operation<'_>,
        url: &str,
        body: SignableBody<'_>,
        time: Timestamp,
        settings: SigningSettings,
    ) -> Result<aws_sigv4::http_request::SigningInstructions> {
        let params = v4::SigningParams::builder()
            .identity(&self.identity)
            .region(&self.region)
            .name("s3")
            .time(time.to_system_time())
            .settings(settings)
            .build()
            .map_err(|e| Error::Signing(e.to_string()))?
            .into();
        let signable = SignableRequest::new(
            operation.method.as_str(),
            url,
            operation
                .headers
                .iter()
                .map(|(name, value)| (*name, value.as_ref())),
            body,
        )
        .map_err(|e| Error::Signing(e.to_string()))?;
        let (instructions, _signature) = aws_sigv4::http_request::sign(signable, &params)
            .map_err(|e| Error::Signing(e.to_string()))?
            .into_parts();
        Ok(instructions)
    }

    /// The request's URL with its operation parameters, without authentication.
    fn url(&self, operation: &Operation<'_>) -> Result<String> {
        let endpoint = &self.endpoint;
        let bucket = operation.bucket.as_str();
        let virtual_hosted = self.addressing == Addressing::VirtualHosted
            && !endpoint.host_is_ip
            && !(endpoint.scheme == "https" && bucket.contains('.'));
        let mut url = if virtual_hosted {
            format!("{}://{bucket}.{}/", endpoint.scheme, endpoint.authority)
        } else {
            let separator = if operation.key.is_some() { "/" } else { "" };
            format!(
                "{}://{}/{bucket}{separator}",
                endpoint.scheme, endpoint.authority
            )
        };
        if let Some(key) = operation.key {
            url.extend(utf8_percent_encode(key.as_str(), KEY_PATH));
        }
        if !operation.query.is_empty() {
            url.push('?');
            append_query(
                &mut url,
                operation
                    .query
                    .iter()
                    .map(|(name, value)| (*name, value.as_ref())),
            );
        }
        Ok(url)
    }
}

/// The signing configuration S3 needs: keys are signed as they appear in the URL (no double
/// encoding, no `.`/`..` normalization: both are legal key characters).
fn s3_signing_settings() -> SigningSettings {
    let mut settings = SigningSettings::default();
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    settings
}

/// `now` without its sub-second part: SigV4 dates have whole seconds, so the expiry counts
/// from there.
fn whole_seconds(now: Timestamp) -> Result<Timestamp> {
    if now < Timestamp::UNIX_EPOCH {
        return Err(Error::InvalidArgument("signing time before 1970".into()));
    }
    Ok(now.whole_seconds())
}

fn append_query<'v>(url: &mut String, params: impl Iterator<Item = (&'v str, &'v str)>) {
    for (i, (name, value)) in params.enumerate() {
        if i > 0 {
            url.push('&');
        }
        url.extend(utf8_percent_encode(name, QUERY_VALUE));
        url.push('=');
        url.extend(utf8_percent_encode(value, QUERY_VALUE));
    }
}

/// The parts of [`S3Config::endpoint`] URLs are built from.
#[derive(Debug, Clone)]
struct Endpoint {
    scheme: &'static str,
    authority: String,
    host_is_ip: bool,
}

impl Endpoint {
    fn parse(endpoint: &str) -> Result<Self> {
        let uri: http::Uri = endpoint
            .parse()
            .map_err(|_| Error::InvalidEndpoint("not a URL"))?;
        let scheme = match uri.scheme_str() {
            Some("https") => "https",
            Some("http") => "http",
            _ => return Err(Error::InvalidEndpoint("the scheme must be http or https")),
        };
        let authority = uri.authority().ok_or(Error::InvalidEndpoint("no host"))?;
        if authority.as_str().contains('@') {
            return Err(Error::InvalidEndpoint(
                "credentials do not belong in the URL",
            ));
        }
        if !matches!(uri.path(), "" | "/") || uri.query().is_some() {
            return Err(Error::InvalidEndpoint("an endpoint has no path or query"));
        }
        let host = authority.host();
        Ok(Self {
            scheme,
            authority: authority.as_str().to_string(),
            host_is_ip: host.starts_with('[') || host.parse::<std::net::Ipv4Addr>().is_ok(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(endpoint: &str, addressing: Addressing) -> S3Config {
        S3Config {
            endpoint: endpoint.into(),
            region: "us-east-1".into(),
            addressing,
            credentials: Credentials {
                access_key_id: "AKIDEXAMPLE".into(),
                secret_access_key: "secret".into(),
                session_token: None,
            },
        }
    }

    fn now() -> Timestamp {
        Timestamp::from_unix_secs(1_700_000_000)
    }

    fn names() -> (BucketName, ObjectKey) {
        (
            BucketName::parse("my.bucket").unwrap(),
            ObjectKey::parse("a b/c").unwrap(),
        )
    }

    #[test]
    fn expiry_must_be_between_one_second_and_seven_days() {
        let (bucket, key) = names();
        let s3 = config("http://127.0.0.1:8333", Addressing::Path);
        let request = S3Request::HeadObject {
            bucket: &bucket,
            key: &key,
        };
        for secs in [0, 604_801] {
            assert_eq!(
                s3.presign(&request, now(), Duration::from_secs(secs)),
                Err(Error::ExpiryOutOfRange {
                    requested_secs: secs,
                    min_secs: 1,
                    max_secs: 604_800
                })
            );
        }
        assert!(
            s3.presign(&request, now(), Duration::from_millis(999))
                .is_err()
        );
        let presigned = s3.presign(
            &request,
            now() + Duration::from_millis(900),
            MAX_PRESIGN_EXPIRY,
        );
        assert_eq!(presigned.unwrap().expires_at, now() + MAX_PRESIGN_EXPIRY);
    }

    #[test]
    fn refuses_bad_endpoints() {
        let (bucket, key) = names();
        let request = S3Request::HeadObject {
            bucket: &bucket,
            key: &key,
        };
        for endpoint in [
            "",
            "not a url",
            "ftp://host",
            "127.0.0.1:8333",
            "https://host/base",
            "https://host/?x=1",
            "https://user:pw@host",
        ] {
            let s3 = config(endpoint, Addressing::Path);
            assert!(
                matches!(
                    s3.presign(&request, now(), Duration::from_secs(60)),
                    Err(Error::InvalidEndpoint(_))
                ),
                "{endpoint:?}"
            );
        }
        let mut s3 = config("https://host", Addressing::Path);
        s3.region.clear();
        assert_eq!(
            s3.presign(&request, now(), Duration::from_secs(60)),
            Err(Error::InvalidEndpoint("empty region"))
        );
    }

    #[test]
    fn refuses_empty_credentials() {
        let (bucket, key) = names();
        let mut s3 = config("https://host", Addressing::Path);
        s3.credentials.secret_access_key = "".into();
        let request = S3Request::HeadObject {
            bucket: &bucket,
            key: &key,
        };
        assert!(matches!(
            s3.sign(&request, Vec::new(), now()),
            Err(Error::InvalidKey(_))
        ));
    }

    #[test]
    fn refuses_malformed_request_inputs() {
        let (bucket, key) = names();
        let s3 = config("https://host", Addressing::Path);
        let expiry = Duration::from_secs(60);
        let bad = [
            S3Request::UploadPart {
                bucket: &bucket,
                key: &key,
                upload_id: "u",
                part_number: 0,
                content_length: 1,
            },
            S3Request::UploadPart {
                bucket: &bucket,
                key: &key,
                upload_id: "u",
                part_number: 10_001,
                content_length: 1,
            },
            S3Request::CompleteMultipartUpload {
                bucket: &bucket,
                key: &key,
                upload_id: "",
            },
            S3Request::PutObject {
                bucket: &bucket,
                key: &key,
                content_length: 1,
                content_type: "video/mp4\r\nx-evil: 1",
            },
            S3Request::GetObject {
                bucket: &bucket,
                key: &key,
                response_content_disposition: None,
                range: Some("bytes=0-1\n"),
            },
        ];
        for request in bad {
            assert!(
                matches!(
                    s3.presign(&request, now(), expiry),
                    Err(Error::InvalidS3Request(_))
                ),
                "{request:?}"
            );
        }
    }

    #[test]
    fn sign_refuses_a_body_of_another_length() {
        let (bucket, key) = names();
        let s3 = config("https://host", Addressing::Path);
        let request = S3Request::UploadPart {
            bucket: &bucket,
            key: &key,
            upload_id: "u",
            part_number: 1,
            content_length: 3,
        };
        assert_eq!(
            s3.sign(&request, b"four".to_vec(), now()).unwrap_err(),
            Error::BodyLengthMismatch {
                declared: 3,
                actual: 4
            }
        );
        assert!(s3.sign(&request, b"abc".to_vec(), now()).is_ok());
    }

    #[test]
    fn sign_refuses_times_before_1970_when_presigning() {
        let (bucket, key) = names();
        let s3 = config("https://host", Addressing::Path);
        let request = S3Request::HeadObject {
            bucket: &bucket,
            key: &key,
        };
        assert!(matches!(
            s3.presign(
                &request,
                Timestamp::from_unix_ms(-1000),
                Duration::from_secs(1)
            ),
            Err(Error::InvalidArgument(_))
        ));
    }

    #[test]
    fn addressing_falls_back_to_path_style_like_botocore() {
        let (dotted, key) = names();
        let plain = BucketName::parse("media").unwrap();
        let url = |endpoint: &str, bucket: &BucketName| {
            let s3 = config(endpoint, Addressing::VirtualHosted);
            let request = S3Request::HeadObject { bucket, key: &key };
            let url = s3
                .presign(&request, now(), Duration::from_secs(60))
                .unwrap()
                .url;
            url.split_once('?').unwrap().0.to_string()
        };
        assert_eq!(
            url("https://s3.example.com", &plain),
            "https://media.s3.example.com/a%20b/c"
        );
        assert_eq!(
            url("https://s3.example.com", &dotted),
            "https://s3.example.com/my.bucket/a%20b/c"
        );
        assert_eq!(
            url("http://s3.local:8333", &dotted),
            "http://my.bucket.s3.local:8333/a%20b/c"
        );
        assert_eq!(
            url("http://127.0.0.1:8333", &plain),
            "http://127.0.0.1:8333/media/a%20b/c"
        );
        assert_eq!(
            url("http://[::1]:8333", &plain),
            "http://[::1]:8333/media/a%20b/c"
        );
    }

    #[test]
    fn credentials_debug_hides_secrets() {
        let credentials = Credentials {
            access_key_id: "AKID".into(),
            secret_access_key: "very-secret".into(),
            session_token: Some("token-secret".into()),
        };
        let debug = format!("{credentials:?}");
        assert!(
            debug.contains("AKID")
                && !debug.contains("secret\"")
                && !debug.contains("token-secret")
        );
        assert!(!debug.contains("very-secret"));
    }
}
