//! [`S3Signer`]: an [`S3Config`] prepared once (endpoint parsed, identity built), signing
//! requests with `aws-sigv4` and assembling the URLs botocore would.

use std::time::Duration;

use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SignatureLocation,
    SigningSettings, UriPathNormalizationMode,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use base64::Engine as _;
use md5::Digest as _;
use model::Timestamp;
use percent_encoding::utf8_percent_encode;

use super::operation::Operation;
use super::{
    AUTH_PARAM_ORDER, Addressing, KEY_PATH, MAX_PRESIGN_EXPIRY, MIN_PRESIGN_EXPIRY, Presigned,
    QUERY_VALUE, S3Config, S3Request,
};
use crate::{Error, Result};

/// A prepared [`S3Config`] (see [`S3Config::signer`]): what a hot path keeps.
#[derive(Debug, Clone)]
pub struct S3Signer {
    endpoint: Endpoint,
    identity: Identity,
    region: String,
    addressing: Addressing,
}

impl S3Signer {
    pub(super) fn new(config: &S3Config) -> Result<S3Signer> {
        if config.region.is_empty() {
            return Err(Error::InvalidEndpoint("empty region"));
        }
        Ok(S3Signer {
            endpoint: Endpoint::parse(&config.endpoint)?,
            identity: config.credentials.identity()?,
            region: config.region.clone(),
            addressing: config.addressing,
        })
    }

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
