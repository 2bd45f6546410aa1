//! The object-store port: the handful of S3 calls the pipeline makes. [`crate::s3::S3Store`]
//! implements it with signer-signed requests against AWS S3 or SeaweedFS.

use std::future::Future;
use std::path::Path;

use model::storage::KeyPrefix;
use model::{BucketName, ObjectKey};

use crate::error::Result;

/// What a HEAD tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectMeta {
    pub size: u64,
    /// Without the surrounding quotes; multipart objects end in `-<parts>`.
    pub etag: String,
}

/// One entry of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub key: ObjectKey,
    pub meta: ObjectMeta,
}

/// Told when a multipart upload begins, so a crashed run can abort it on restart.
pub type UploadJournal<'a> = &'a (dyn Fn(&str) + Send + Sync);

pub trait ObjectStore: Send + Sync {
    /// `None` when the object does not exist.
    fn head(
        &self,
        bucket: &BucketName,
        key: &ObjectKey,
    ) -> impl Future<Output = Result<Option<ObjectMeta>>> + Send;
    /// `len` bytes from `start`; [`crate::Error::NotFound`] when the object does not exist.
    fn get_range(
        &self,
        bucket: &BucketName,
        key: &ObjectKey,
        start: u64,
        len: u64,
    ) -> impl Future<Output = Result<Vec<u8>>> + Send;
    /// Streams the object into a local file; returns the bytes written.
    fn download(
        &self,
        bucket: &BucketName,
        key: &ObjectKey,
        to: &Path,
    ) -> impl Future<Output = Result<u64>> + Send;
    /// Uploads a local file: one PUT when small, multipart (each upload id reported to
    /// `journal` first) when larger than the store's threshold.
    fn upload(
        &self,
        bucket: &BucketName,
        key: &ObjectKey,
        from: &Path,
        content_type: &str,
        journal: UploadJournal<'_>,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Stores `bytes` in one PUT: small objects the pipeline writes itself (a storyboard).
    fn put_bytes(
        &self,
        bucket: &BucketName,
        key: &ObjectKey,
        bytes: Vec<u8>,
        content_type: &str,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Copies an object server-side (one CopyObject up to 5 GiB, a multipart copy above),
    /// stored with `content_type`; `size` is the source's.
    fn copy(
        &self,
        from: (&BucketName, &ObjectKey),
        to: (&BucketName, &ObjectKey),
        size: u64,
        content_type: &str,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Aborts a multipart upload left behind by a crashed run (missing upload: fine).
    fn abort_upload(
        &self,
        bucket: &BucketName,
        key: &ObjectKey,
        upload_id: &str,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Deletes an object (a missing object is no error: S3 answers 204 either way).
    fn delete(
        &self,
        bucket: &BucketName,
        key: &ObjectKey,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Every object under `prefix` (all pages).
    fn list(
        &self,
        bucket: &BucketName,
        prefix: &KeyPrefix,
    ) -> impl Future<Output = Result<Vec<Listed>>> + Send;
}
