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

mod operation;
mod signing;
#[cfg(test)]
mod tests;
pub mod xml;

pub use signing::S3Signer;

use std::time::Duration;

use aws_smithy_runtime_api::client::identity::Identity;
use http::Method;
use model::{BucketName, ObjectKey, Secret, Timestamp};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};

use crate::{Error, Result};

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
    /// Binds the body's length and type: S3 refuses a body of another size. `create_only`
    /// binds `If-None-Match: *` too: the write fails (412) when the key holds an object, so
    /// a presigned upload cannot be replayed over what it wrote.
    PutObject {
        bucket: &'a BucketName,
        key: &'a ObjectKey,
        content_length: u64,
        content_type: &'a str,
        create_only: bool,
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
    /// `create_only` as for `PutObject`.
    CompleteMultipartUpload {
        bucket: &'a BucketName,
        key: &'a ObjectKey,
        upload_id: &'a str,
        create_only: bool,
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
    /// A server-side copy of a whole object (S3 allows up to 5 GiB); the answer is parsed by
    /// [`xml::parse_copy_etag`]. With `content_type` the copy gets it, and no other metadata,
    /// instead of the source's.
    CopyObject {
        bucket: &'a BucketName,
        key: &'a ObjectKey,
        source_bucket: &'a BucketName,
        source_key: &'a ObjectKey,
        content_type: Option<&'a str>,
    },
    /// One part of a multipart upload copied from bytes `first..=last` of another object.
    UploadPartCopy {
        bucket: &'a BucketName,
        key: &'a ObjectKey,
        upload_id: &'a str,
        part_number: u16,
        source_bucket: &'a BucketName,
        source_key: &'a ObjectKey,
        first: u64,
        last: u64,
    },
    /// Asks for `encoding-type=url` (as botocore does), so keys survive XML whatever they
    /// contain; [`xml::parse_list_objects_v2`] decodes them.
    ListObjectsV2 {
        bucket: &'a BucketName,
        prefix: Option<&'a str>,
        continuation_token: Option<&'a str>,
        max_keys: Option<u32>,
    },
    /// Every version and delete marker under `prefix` (in an unversioned bucket, each
    /// object once, as version `null`), from the markers of the page before.
    ListObjectVersions {
        bucket: &'a BucketName,
        prefix: Option<&'a str>,
        key_marker: Option<&'a str>,
        version_id_marker: Option<&'a str>,
        max_keys: Option<u32>,
    },
}

impl S3Request<'_> {
    /// Whether sending the request twice does what sending it once does, so that a failure
    /// (an unreachable store, a 500 or 503) may be retried. Not so for starting a multipart
    /// upload (each start opens another) or completing one (a repeat finds it gone).
    pub fn retry_safe(&self) -> bool {
        !matches!(
            self,
            S3Request::CreateMultipartUpload { .. } | S3Request::CompleteMultipartUpload { .. }
        )
    }
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

impl S3Config {
    /// This configuration prepared for signing many requests: the endpoint parsed and the
    /// credentials turned into a signing identity once, not per request.
    pub fn signer(&self) -> Result<S3Signer> {
        S3Signer::new(self)
    }
}
