//! Multipart transfers: an upload from a file, or a copy from another object, in parts,
//! journaled so that a restart can abort what it left open.

use std::path::Path;

use model::{BucketName, ObjectKey};
use signer::s3::S3Request;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::{S3Store, storage};
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::store::{ObjectStore, UploadJournal};

impl<C: Clock + Clone> S3Store<C> {
    /// A multipart upload from `source` in `part_size` parts, completed; the upload id goes
    /// to `journal` first, and a failed upload is aborted.
    pub(super) async fn multipart(
        &self,
        bucket: &BucketName,
        key: &ObjectKey,
        content_type: &str,
        part_size: u64,
        source: PartSource<'_>,
        journal: UploadJournal<'_>,
    ) -> Result<()> {
        let create = S3Request::CreateMultipartUpload {
            bucket,
            key,
            content_type: Some(content_type),
        };
        let body = self
            .expect_ok(&create, &[], bucket, key.as_str())
            .await?
            .bytes()
            .await
            .map_err(storage)?;
        let upload_id = signer::s3::xml::parse_initiate_multipart_upload(&body)
            .map_err(|e| Error::Storage {
                message: format!("CreateMultipartUpload answer: {e}"),
                retryable: false,
            })?
            .upload_id;
        journal(&upload_id);
        let result = self
            .fill_parts(bucket, key, &upload_id, part_size, &source)
            .await;
        if result.is_err() {
            let _ = self.abort_upload(bucket, key, &upload_id).await;
        }
        result
    }

    async fn fill_parts(
        &self,
        bucket: &BucketName,
        key: &ObjectKey,
        upload_id: &str,
        part_size: u64,
        source: &PartSource<'_>,
    ) -> Result<()> {
        let size = source.size();
        // Never more than S3's 10 000 parts, whatever the part size asked for.
        let part_size = part_size.max(size.div_ceil(u64::from(signer::multipart::MAX_PARTS)));
        let mut parts = Vec::new();
        let (mut offset, mut part_number) = (0u64, 1u16);
        while offset < size {
            let len = part_size.min(size - offset);
            let etag = match *source {
                PartSource::File { path, .. } => {
                    let mut file = tokio::fs::File::open(path).await?;
                    let mut chunk = vec![0u8; len as usize];
                    file.seek(std::io::SeekFrom::Start(offset)).await?;
                    file.read_exact(&mut chunk).await?;
                    let part = S3Request::UploadPart {
                        bucket,
                        key,
                        upload_id,
                        part_number,
                        content_length: len,
                    };
                    let response = self.expect_ok(&part, &chunk, bucket, key.as_str()).await?;
                    response
                        .headers()
                        .get("etag")
                        .and_then(|v| v.to_str().ok())
                        .ok_or_else(|| Error::Storage {
                            message: "UploadPart answered without an ETag".into(),
                            retryable: true,
                        })?
                        .to_string()
                }
                PartSource::Object {
                    bucket: source_bucket,
                    key: source_key,
                    ..
                } => {
                    let part = S3Request::UploadPartCopy {
                        bucket,
                        key,
                        upload_id,
                        part_number,
                        source_bucket,
                        source_key,
                        first: offset,
                        last: offset + len - 1,
                    };
                    self.copy_answer(&part, bucket, key).await?
                }
            };
            parts.push(signer::s3::xml::CompletedPart { part_number, etag });
            offset += len;
            part_number += 1;
        }
        let complete = S3Request::CompleteMultipartUpload {
            bucket,
            key,
            upload_id,
            create_only: false,
        };
        let body = signer::s3::xml::complete_multipart_upload_body(&parts);
        let response = self
            .expect_ok(&complete, &body, bucket, key.as_str())
            .await?;
        // S3 may answer 200 with an <Error> document when the completion fails late.
        let answer = response.bytes().await.map_err(storage)?;
        signer::s3::xml::parse_complete_multipart_upload(&answer).map_err(|e| Error::Storage {
            message: format!("CompleteMultipartUpload: {e}"),
            retryable: true,
        })?;
        Ok(())
    }

    /// Sends a copy request; the new ETag. A 200 carrying an `<Error>` is a failed copy that
    /// S3 says may be retried.
    pub(super) async fn copy_answer(
        &self,
        request: &S3Request<'_>,
        bucket: &BucketName,
        key: &ObjectKey,
    ) -> Result<String> {
        let response = self.expect_ok(request, &[], bucket, key.as_str()).await?;
        let body = response.bytes().await.map_err(storage)?;
        signer::s3::xml::parse_copy_etag(&body).map_err(|e| Error::Storage {
            message: format!("copy to s3://{bucket}/{key}: {e}"),
            retryable: true,
        })
    }
}

/// Where the parts of a multipart upload come from, and how many bytes there are.
pub(super) enum PartSource<'a> {
    File {
        path: &'a Path,
        size: u64,
    },
    /// Copied server-side from another object.
    Object {
        bucket: &'a BucketName,
        key: &'a ObjectKey,
        size: u64,
    },
}

impl PartSource<'_> {
    fn size(&self) -> u64 {
        match *self {
            PartSource::File { size, .. } | PartSource::Object { size, .. } => size,
        }
    }
}
