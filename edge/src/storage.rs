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
    /// Only an unreachable store is an `Err`. A request that is safe to repeat is sent once
    /// more when the store could not be reached or failed (5xx): S3 asks clients to retry
    /// those, and most pass the second time.
    async fn call(
        &self,
        request: &S3Request<'_>,
        body: Vec<u8>,
    ) -> Result<std::result::Result<http::Response<Vec<u8>>, Refusal>> {
        let attempts = if request.retry_safe() { 2 } else { 1 };
        let mut outcome = Err(Error::Storage("not sent".into()));
        for _ in 0..attempts {
            outcome = self.call_once(request, body.clone()).await;
            let transient = match &outcome {
                Ok(Err(refusal)) => refusal.status >= 500,
                Ok(Ok(_)) => false,
                Err(error) => matches!(error, Error::Storage(_)),
            };
            if !transient {
                break;
            }
        }
        outcome
    }

    async fn call_once(
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
            create_only: true,
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

    /// The whole object (playlists, storyboards: small text files), or None when there is
    /// no such object.
    pub async fn get_object(
        &self,
        bucket: &BucketName,
        key: &ObjectKey,
    ) -> Result<Option<Vec<u8>>> {
        let request = S3Request::GetObject {
            bucket,
            key,
            response_content_disposition: None,
            range: None,
        };
        match self.call(&request, Vec::new()).await? {
            Ok(response) => Ok(Some(response.into_body())),
            Err(refusal) if refusal.status == 404 => Ok(None),
            Err(refusal) => Err(storage_error("GetObject", &refusal)),
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

    /// Deletes every object under `prefix` for good: every version and delete marker in a
    /// versioned bucket (the media bucket keeps noncurrent versions for restores, and a
    /// deleted video must not linger there), each object in an unversioned one.
    /// ListObjectVersions pages, DeleteObjects batches.
    pub async fn delete_prefix(&self, bucket: &BucketName, prefix: &KeyPrefix) -> Result<()> {
        let mut markers: (Option<String>, Option<String>) = (None, None);
        loop {
            let request = S3Request::ListObjectVersions {
                bucket,
                prefix: Some(prefix.as_str()),
                key_marker: markers.0.as_deref(),
                version_id_marker: markers.1.as_deref(),
                max_keys: Some(1000),
            };
            let body = self
                .expect("ListObjectVersions", &request, Vec::new())
                .await?;
            let page = xml::parse_list_object_versions(&body)
                .map_err(|e| Error::Storage(format!("ListObjectVersions answer: {e}")))?;
            if !page.versions.is_empty() {
                let request = S3Request::DeleteObjects { bucket };
                let body = xml::delete_objects_body(&page.versions, true)?;
                let answer = self.expect("DeleteObjects", &request, body).await?;
                let outcome = xml::parse_delete_objects(&answer)
                    .map_err(|e| Error::Storage(format!("DeleteObjects answer: {e}")))?;
                if let Some(failed) = outcome.errors.first() {
                    return Err(Error::Storage(format!(
                        "DeleteObjects refused {} objects, first: {} ({})",
                        outcome.errors.len(),
                        failed.code,
                        failed.message
                    )));
                }
            }
            if !page.is_truncated {
                return Ok(());
            }
            markers = (page.next_key_marker, page.next_version_id_marker);
        }
    }
}

/// A refusal from a call that had to succeed. Only S3's code and status are kept: its
/// message can echo request details. A store that says it is overloaded (503, `SlowDown`)
/// is answered as busy (503, try again shortly); any other failure as unavailable (502).
pub fn storage_error(operation: &str, refusal: &Refusal) -> Error {
    let detail = format!("{operation}: HTTP {} {}", refusal.status, refusal.code);
    if refusal.status == 503 || refusal.code == "SlowDown" {
        Error::StorageBusy(detail)
    } else {
        Error::Storage(detail)
    }
}
