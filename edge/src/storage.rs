//! The edge's own S3 calls: signed by `signer`, sent through the platform's HTTP client.

use crate::error::{Error, Result};
use crate::ports::HttpClient;
use model::storage::KeyPrefix;
use model::{BucketName, ObjectKey, Timestamp};
use signer::s3::xml::{self, CompletedPart, Part};
use signer::s3::{S3Request, S3Signer};

/// What S3 said when it refused a request: its status and error code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub code: String,
    pub message: String,
}

pub struct Storage<'a, H> {
    pub s3: &'a S3Signer,
    pub http: &'a H,
    pub now: Timestamp,
}

impl<H: HttpClient> Storage<'_, H> {
    /// Signs and sends; a 2xx comes back as its body, anything else as a `Refusal`.
    /// Only an unreachable store is an `Err`.
    async fn call(
        &self,
        request: &S3Request<'_>,
        body: Vec<u8>,
    ) -> Result<std::result::Result<http::Response<Vec<u8>>, Refusal>> {
        let signed = self.s3.sign(request, body, self.now)?;
        let response = self.http.send(signed).await?;
        let status = response.status().as_u16();
        // CompleteMultipartUpload may answer 200 with an <Error> body.
        let error = if response.status().is_success() {
            (!response.body().is_empty())
                .then(|| xml::parse_error(response.body()))
                .flatten()
        } else {
            Some(
                xml::parse_error(response.body()).unwrap_or_else(|| xml::S3Error {
                    code: format!("Http{status}"),
                    message: String::new(),
                }),
            )
        };
        Ok(match error {
            None => Ok(response),
            Some(e) => Err(Refusal {
                status,
                code: e.code,
                message: e.message,
            }),
        })
    }

    /// Calls that must succeed: a refusal is the store's failure, reported as 502.
    async fn expect(
        &self,
        operation: &str,
        request: &S3Request<'_>,
        body: Vec<u8>,
    ) -> Result<Vec<u8>> {
        match self.call(request, body).await? {
            Ok(response) => Ok(response.into_body()),
            Err(refusal) => Err(storage_error(operation, &refusal)),
        }
    }

    pub async fn create_multipart_upload(
        &self,
        bucket: &BucketName,
        key: &ObjectKey,
        content_type: &model::FileType,
    ) -> Result<String> {
        let request = S3Request::CreateMultipartUpload {
            bucket,
            key,
            content_type: Some(content_type.as_str()),
        };
        let body = self
            .expect("CreateMultipartUpload", &request, Vec::new())
            .await?;
        let upload = xml::parse_initiate_multipart_upload(&body)
            .map_err(|e| Error::Storage(format!("CreateMultipartUpload answer: {e}")))?;
        Ok(upload.upload_id)
    }

    /// Every part S3 holds for the upload (all ListParts pages); a refusal (such as
    /// NoSuchUpload) is returned for the caller to judge.
    pub async fn list_parts(
        &self,
        bucket: &BucketName,
        key: &ObjectKey,
        upload_id: &str,
    ) -> Result<std::result::Result<Vec<Part>, Refusal>> {
        let mut parts = Vec::new();
        let mut marker = None;
        loop {
            let request = S3Request::ListParts {
                bucket,
                key,
                upload_id,
                part_number_marker: marker,
            };
            let page = match self.call(&request, Vec::new()).await? {
                Ok(response) => xml::parse_list_parts(response.body())
                    .map_err(|e| Error::Storage(format!("ListParts answer: {e}")))?,
                Err(refusal) => return Ok(Err(refusal)),
            };
            parts.extend(page.parts);
            match (page.is_truncated, page.next_part_number_marker) {
                (true, Some(next)) if Some(next) != marker => marker = Some(next),
                _ => return Ok(Ok(parts)),
            }
        }
    }

    pub async fn complete_multipart_upload(
        &self,
        bucket: &BucketName,
        key: &ObjectKey,
        upload_id: &str,
        parts: &[CompletedPart],
    ) -> Result<std::result::Result<(), Refusal>> {
        let request = S3Request::CompleteMultipartUpload {
            bucket,
            key,
            upload_id,
        };
        let body = xml::complete_multipart_upload_body(parts);
        Ok(self.call(&request, body).await?.map(|_| ()))
    }

    /// Aborting an upload that is already gone is fine.
    pub async fn abort_multipart_upload(
        &self,
        bucket: &BucketName,
        key: &ObjectKey,
        upload_id: &str,
    ) -> Result<()> {
        let request = S3Request::AbortMultipartUpload {
            bucket,
            key,
            upload_id,
        };
        match self.call(&request, Vec::new()).await? {
            Ok(_) => Ok(()),
            Err(refusal) if refusal.status == 404 || refusal.code == "NoSuchUpload" => Ok(()),
            Err(refusal) => Err(storage_error("AbortMultipartUpload", &refusal)),
        }
    }

    /// The object's size, or None when there is no such object.
    pub async fn object_size(&self, bucket: &BucketName, key: &ObjectKey) -> Result<Option<u64>> {
        let request = S3Request::HeadObject { bucket, key };
        match self.call(&request, Vec::new()).await? {
            Ok(response) => response
                .headers()
                .get(http::header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok())
                .map(Some)
                .ok_or_else(|| Error::Storage("HeadObject answer has no Content-Length".into())),
            Err(refusal) if refusal.status == 404 => Ok(None),
            Err(refusal) => Err(storage_error("HeadObject", &refusal)),
        }
    }

    pub async fn delete_object(&self, bucket: &BucketName, key: &ObjectKey) -> Result<()> {
        let request = S3Request::DeleteObject { bucket, key };
        match self.call(&request, Vec::new()).await? {
            Ok(_) => Ok(()),
            Err(refusal) if refusal.status == 404 => Ok(()),
            Err(refusal) => Err(storage_error("DeleteObject", &refusal)),
        }
    }

    /// Deletes every object under `prefix` (ListObjectsV2 pages, DeleteObjects batches).
    pub async fn delete_prefix(&self, bucket: &BucketName, prefix: &KeyPrefix) -> Result<()> {
        let mut token: Option<String> = None;
        loop {
            let request = S3Request::ListObjectsV2 {
                bucket,
                prefix: Some(prefix.as_str()),
                continuation_token: token.as_deref(),
                max_keys: Some(1000),
            };
            let body = self.expect("ListObjectsV2", &request, Vec::new()).await?;
            let page = xml::parse_list_objects_v2(&body)
                .map_err(|e| Error::Storage(format!("ListObjectsV2 answer: {e}")))?;
            let keys: Vec<ObjectKey> = page.objects.into_iter().map(|o| o.key).collect();
            if !keys.is_empty() {
                let request = S3Request::DeleteObjects { bucket };
                let body = xml::delete_objects_body(&keys, true)?;
                let answer = self.expect("DeleteObjects", &request, body).await?;
                let outcome = xml::parse_delete_objects(&answer)
                    .map_err(|e| Error::Storage(format!("DeleteObjects answer: {e}")))?;
                if let Some(failed) = outcome.errors.first() {
                    return Err(Error::Storage(format!(
                        "DeleteObjects refused {} keys, first: {} ({})",
                        outcome.errors.len(),
                        failed.code,
                        failed.message
                    )));
                }
            }
            match (page.is_truncated, page.next_continuation_token) {
                (true, Some(next)) => token = Some(next),
                _ => return Ok(()),
            }
        }
    }
}

/// A refusal from a call that had to succeed. Only S3's code and status are kept: its
/// message can echo request details.
pub fn storage_error(operation: &str, refusal: &Refusal) -> Error {
    Error::Storage(format!(
        "{operation}: HTTP {} {}",
        refusal.status, refusal.code
    ))
}
