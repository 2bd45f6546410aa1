//! [`ObjectStore`] over HTTP: requests signed by `signer` (SigV4), sent with reqwest.
//! Works against AWS S3 and SeaweedFS alike.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use model::storage::KeyPrefix;
use model::{BucketName, ObjectKey};
use signer::s3::{S3Config, S3Request, S3Signer};
use tokio::io::AsyncWriteExt;

use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::retry::Backoff;
use crate::store::{Listed, ObjectMeta, ObjectStore, UploadJournal};

mod multipart;

use multipart::PartSource;

/// Objects larger than this go up in parts of this size (`S3_PART_SIZE`, default 16 MiB,
/// at least S3's 5 MiB minimum).
pub const DEFAULT_PART_SIZE: u64 = 16 << 20;
/// S3 copies up to 5 GiB in one CopyObject; larger objects are copied in parts.
pub const COPY_OBJECT_MAX_BYTES: u64 = 5 << 30;
/// Parts of a multipart copy (S3 allows up to 5 GiB): 1 GiB, so 5 TiB takes 5 120 parts.
pub const COPY_PART_SIZE: u64 = 1 << 30;

#[derive(Clone)]
pub struct S3Store<C> {
    /// Prepared once: every request signs with it.
    signer: Arc<S3Signer>,
    http: reqwest::Client,
    clock: C,
    pub part_size: u64,
    /// Objects up to this size are copied with one CopyObject; larger ones in parts.
    pub copy_object_max: u64,
    pub copy_part_size: u64,
}

impl<C: Clock + Clone> S3Store<C> {
    /// A store on `config`; an unusable configuration (no region, an unparsable endpoint,
    /// empty keys) is refused here, at start.
    pub fn new(config: &S3Config, http: reqwest::Client, clock: C) -> Result<Self> {
        let signer = config
            .signer()
            .map_err(|e| Error::Config(format!("S3: {e}")))?;
        Ok(S3Store {
            signer: Arc::new(signer),
            http,
            clock,
            part_size: DEFAULT_PART_SIZE,
            copy_object_max: COPY_OBJECT_MAX_BYTES,
            copy_part_size: COPY_PART_SIZE,
        })
    }

    /// The part size in force: the configured one, but never below S3's 5 MiB minimum.
    pub fn part_size(&self) -> u64 {
        self.part_size.max(signer::multipart::S3_MIN_PART_SIZE)
    }

    /// Signs and sends; retries transport failures, 5xx, 408 and 429 with backoff (each
    /// attempt signed afresh). Returns any other response, error statuses included.
    async fn call(&self, request: &S3Request<'_>, body: &[u8]) -> Result<reqwest::Response> {
        let backoff = Backoff::S3;
        let mut attempt = 0;
        loop {
            let signed = self
                .signer
                .sign(request, body.to_vec(), self.clock.now())
                .map_err(|e| Error::Sign(e.to_string()))?;
            let what = format!("{} {}", signed.method(), signed.uri().path());
            let outcome = match reqwest::Request::try_from(signed) {
                Ok(req) => self.http.execute(req).await.map_err(|e| Error::Storage {
                    message: format!("{what}: {e}"),
                    retryable: true,
                }),
                Err(e) => return Err(Error::Sign(format!("{what}: {e}"))),
            };
            let retry = match &outcome {
                Ok(r) => Error::status_is_retryable(r.status().as_u16()),
                Err(e) => e.is_retryable(),
            };
            if !retry || !backoff.allows_retry_after(attempt) {
                return outcome;
            }
            tokio::time::sleep(backoff.delay(attempt)).await;
            attempt += 1;
        }
    }

    async fn expect_ok(
        &self,
        request: &S3Request<'_>,
        body: &[u8],
        bucket: &BucketName,
        key: &str,
    ) -> Result<reqwest::Response> {
        let response = self.call(request, body).await?;
        let status = response.status().as_u16();
        if response.status().is_success() {
            return Ok(response);
        }
        if status == 404 {
            return Err(Error::NotFound {
                bucket: bucket.to_string(),
                key: key.into(),
            });
        }
        let body = response.bytes().await.unwrap_or_default();
        let detail = signer::s3::xml::parse_error(&body)
            .map(|e| format!("{}: {}", e.code, e.message))
            .unwrap_or_else(|| String::from_utf8_lossy(&body).chars().take(200).collect());
        Err(Error::Storage {
            message: format!("s3://{bucket}/{key}: {status} {detail}"),
            retryable: Error::status_is_retryable(status),
        })
    }
}

pub(super) fn storage(e: reqwest::Error) -> Error {
    Error::Storage {
        message: e.to_string(),
        retryable: true,
    }
}

impl<C: Clock + Clone> ObjectStore for S3Store<C> {
    async fn head(&self, bucket: &BucketName, key: &ObjectKey) -> Result<Option<ObjectMeta>> {
        let request = S3Request::HeadObject { bucket, key };
        match self.expect_ok(&request, &[], bucket, key.as_str()).await {
            Ok(response) => {
                let header =
                    |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok());
                Ok(Some(ObjectMeta {
                    size: header("content-length")
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(0),
                    etag: header("etag")
                        .unwrap_or_default()
                        .trim_matches('"')
                        .to_string(),
                }))
            }
            Err(Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn get_range(
        &self,
        bucket: &BucketName,
        key: &ObjectKey,
        start: u64,
        len: u64,
    ) -> Result<Vec<u8>> {
        if len == 0 {
            return Ok(Vec::new());
        }
        let range = format!("bytes={start}-{}", start + len - 1);
        let request = S3Request::GetObject {
            bucket,
            key,
            response_content_disposition: None,
            range: Some(&range),
        };
        let response = self.expect_ok(&request, &[], bucket, key.as_str()).await?;
        Ok(response.bytes().await.map_err(storage)?.to_vec())
    }

    async fn download(&self, bucket: &BucketName, key: &ObjectKey, to: &Path) -> Result<u64> {
        let request = S3Request::GetObject {
            bucket,
            key,
            response_content_disposition: None,
            range: None,
        };
        let mut response = self.expect_ok(&request, &[], bucket, key.as_str()).await?;
        // A download of its own: two at once to the same place (a duplicate notification
        // probed beside the first) each write whole, and the last rename wins.
        static DOWNLOADS: AtomicU64 = AtomicU64::new(0);
        let tmp = to.with_extension(format!("part{}", DOWNLOADS.fetch_add(1, Ordering::Relaxed)));
        let mut file = tokio::fs::File::create(&tmp).await?;
        let mut written = 0u64;
        while let Some(chunk) = response.chunk().await.map_err(storage)? {
            file.write_all(&chunk).await?;
            written += chunk.len() as u64;
        }
        file.flush().await?;
        drop(file);
        tokio::fs::rename(&tmp, to).await?;
        Ok(written)
    }

    async fn upload(
        &self,
        bucket: &BucketName,
        key: &ObjectKey,
        from: &Path,
        content_type: &str,
        journal: UploadJournal<'_>,
    ) -> Result<()> {
        let size = tokio::fs::metadata(from).await?.len();
        if size > self.part_size() {
            let source = PartSource::File { path: from, size };
            return self
                .multipart(bucket, key, content_type, self.part_size(), source, journal)
                .await;
        }
        let body = tokio::fs::read(from).await?;
        self.put_bytes(bucket, key, body, content_type).await
    }

    async fn put_bytes(
        &self,
        bucket: &BucketName,
        key: &ObjectKey,
        bytes: Vec<u8>,
        content_type: &str,
    ) -> Result<()> {
        let request = S3Request::PutObject {
            bucket,
            key,
            content_length: bytes.len() as u64,
            content_type,
            create_only: false,
        };
        self.expect_ok(&request, &bytes, bucket, key.as_str())
            .await?;
        Ok(())
    }

    async fn copy(
        &self,
        (source_bucket, source_key): (&BucketName, &ObjectKey),
        (bucket, key): (&BucketName, &ObjectKey),
        size: u64,
        content_type: &str,
    ) -> Result<()> {
        if size > self.copy_object_max {
            let source = PartSource::Object {
                bucket: source_bucket,
                key: source_key,
                size,
            };
            return self
                .multipart(
                    bucket,
                    key,
                    content_type,
                    self.copy_part_size,
                    source,
                    &|_| {},
                )
                .await;
        }
        let request = S3Request::CopyObject {
            bucket,
            key,
            source_bucket,
            source_key,
            content_type: Some(content_type),
        };
        self.copy_answer(&request, bucket, key).await.map(|_| ())
    }

    async fn abort_upload(
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
        match self.expect_ok(&request, &[], bucket, key.as_str()).await {
            Ok(_) | Err(Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn delete(&self, bucket: &BucketName, key: &ObjectKey) -> Result<()> {
        let request = S3Request::DeleteObject { bucket, key };
        match self.expect_ok(&request, &[], bucket, key.as_str()).await {
            Ok(_) | Err(Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn list(&self, bucket: &BucketName, prefix: &KeyPrefix) -> Result<Vec<Listed>> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let request = S3Request::ListObjectsV2 {
                bucket,
                prefix: Some(prefix.as_str()),
                continuation_token: token.as_deref(),
                max_keys: Some(1000),
            };
            let body = self
                .expect_ok(&request, &[], bucket, prefix.as_str())
                .await?
                .bytes()
                .await
                .map_err(storage)?;
            let page =
                signer::s3::xml::parse_list_objects_v2(&body).map_err(|e| Error::Storage {
                    message: format!("ListObjectsV2 answer: {e}"),
                    retryable: false,
                })?;
            out.extend(page.objects.into_iter().map(|o| Listed {
                key: o.key,
                meta: ObjectMeta {
                    size: o.size,
                    etag: o.etag.trim_matches('"').to_string(),
                },
            }));
            match page.next_continuation_token {
                Some(next) if page.is_truncated => token = Some(next),
                _ => return Ok(out),
            }
        }
    }
}
