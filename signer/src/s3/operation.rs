//! From an [`S3Request`] to the request on the wire: method, path, query and the headers a
//! signature binds.

use std::borrow::Cow;

use http::Method;
use model::{BucketName, ObjectKey};

use super::{KEY_PATH, S3Request};
use crate::multipart::MAX_PARTS;
use crate::{Error, Result};
use percent_encoding::utf8_percent_encode;

/// One request as it goes on the wire, before signing.
pub(super) struct Operation<'a> {
    pub method: Method,
    pub bucket: &'a BucketName,
    /// `None` for bucket-level operations.
    pub key: Option<&'a ObjectKey>,
    /// In URL order, values unencoded.
    pub query: Vec<(&'static str, Cow<'a, str>)>,
    /// Signed headers besides `host`, by name.
    pub headers: Vec<(&'static str, Cow<'a, str>)>,
    /// The body length the request declares, if it declares one.
    pub content_length: Option<u64>,
    /// Real S3 refuses DeleteObjects without a body checksum.
    pub needs_content_md5: bool,
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

    fn header(mut self, name: &'static str, value: impl Into<Cow<'a, str>>) -> Result<Self> {
        let value = value.into();
        http::HeaderValue::from_str(&value)
            .map_err(|_| Error::InvalidS3Request(format!("{name} is not a valid header value")))?;
        self.headers.push((name, value));
        Ok(self)
    }

    /// `If-None-Match: *` when the write must not replace an existing object.
    fn create_only(self, create_only: bool) -> Result<Self> {
        if create_only {
            self.header("if-none-match", "*")
        } else {
            Ok(self)
        }
    }

    /// `x-amz-copy-source: bucket/key`, encoded as botocore encodes it.
    fn copy_source(self, bucket: &BucketName, key: &ObjectKey) -> Result<Self> {
        let source = format!("{bucket}/{}", utf8_percent_encode(key.as_str(), KEY_PATH));
        self.header("x-amz-copy-source", source)
    }

    fn content_length(mut self, length: u64) -> Self {
        self.headers
            .push(("content-length", length.to_string().into()));
        self.content_length = Some(length);
        self
    }
}

fn check_part_number(part_number: u16) -> Result<()> {
    if !(1..=MAX_PARTS).contains(&part_number) {
        return Err(Error::InvalidS3Request(format!(
            "part number {part_number} is outside 1..={MAX_PARTS}"
        )));
    }
    Ok(())
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
    pub(super) fn operation(&self) -> Result<Operation<'a>> {
        Ok(match *self {
            S3Request::PutObject {
                bucket,
                key,
                content_length,
                content_type,
                create_only,
            } => Operation::new(Method::PUT, bucket, Some(key))
                .content_length(content_length)
                .header("content-type", content_type)?
                .create_only(create_only)?,
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
                check_part_number(part_number)?;
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
                create_only,
            } => Operation::new(Method::POST, bucket, Some(key))
                .query("uploadId", upload_id(id)?)
                .create_only(create_only)?,
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
            S3Request::CopyObject {
                bucket,
                key,
                source_bucket,
                source_key,
                content_type,
            } => {
                let operation = Operation::new(Method::PUT, bucket, Some(key))
                    .copy_source(source_bucket, source_key)?;
                match content_type {
                    Some(content_type) => operation
                        .header("content-type", content_type)?
                        .header("x-amz-metadata-directive", "REPLACE")?,
                    None => operation,
                }
            }
            S3Request::UploadPartCopy {
                bucket,
                key,
                upload_id: id,
                part_number,
                source_bucket,
                source_key,
                first,
                last,
            } => {
                check_part_number(part_number)?;
                if first > last {
                    return Err(Error::InvalidS3Request(format!(
                        "copy range {first}-{last} is empty"
                    )));
                }
                Operation::new(Method::PUT, bucket, Some(key))
                    .query("partNumber", part_number.to_string())
                    .query("uploadId", upload_id(id)?)
                    .copy_source(source_bucket, source_key)?
                    .header("x-amz-copy-source-range", format!("bytes={first}-{last}"))?
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
            S3Request::ListObjectVersions {
                bucket,
                prefix,
                key_marker,
                version_id_marker,
                max_keys,
            } => Operation::new(Method::GET, bucket, None)
                .query("versions", "")
                .query("encoding-type", "url")
                .optional_query("key-marker", key_marker)
                .optional_query("max-keys", max_keys.map(|m| m.to_string()))
                .optional_query("prefix", prefix)
                .optional_query("version-id-marker", version_id_marker),
        })
    }
}
