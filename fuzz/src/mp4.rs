//! The origin's MP4/MOV reader, which runs on untrusted uploads: the box walk over ranged
//! reads ([`probe_object`], fed by an in-memory object that answers ranges as S3 does) and
//! the pure parsers under it.

use std::future::Future;
use std::path::Path;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use model::storage::KeyPrefix;
use model::{BucketName, ObjectKey};
use origin::mp4::{BoxHeader, file_is_fast_start, parse_moov, probe_object};
use origin::store::{Listed, ObjectMeta, ObjectStore, UploadJournal};
use origin::transcoder::Source;
use origin::{Error, MediaInfo, Result};

pub fn mp4(data: &[u8]) {
    if let Some(header) = BoxHeader::parse(data, 0) {
        assert!(matches!(header.header_len, 8 | 16), "{header:?}");
        assert!(header.size.is_none_or(|size| size >= header.header_len));
    }
    // The input as a `moov` payload too: the track parsers get the whole input to chew on.
    let movie = parse_moov(data);
    if let Some(video) = &movie.video {
        assert!(matches!(video.rotation, 0 | 90 | 180 | 270), "{video:?}");
    }
    let fast_start = file_is_fast_start(data);
    let object = Upload(data);
    let source = Source {
        bucket: BucketName::parse("incoming").expect("a valid bucket name"),
        key: ObjectKey::parse("uploads/fuzz/source.mp4").expect("a valid key"),
        etag: "fuzz".into(),
        size: data.len() as u64,
    };
    match run_to_completion(probe_object(&object, &source)) {
        Ok(info) => check_probe(&info, data, fast_start),
        Err(Error::InvalidInput(_)) => assert!(data.len() < 8),
        // A box that claims to reach past the end makes the probe read a range S3 refuses.
        Err(Error::Storage { .. }) => {}
        Err(other) => panic!("unexpected probe error: {other}"),
    }
}

fn check_probe(info: &MediaInfo, data: &[u8], fast_start: Option<bool>) {
    assert_eq!(info.size, data.len() as u64);
    if let Some(video) = &info.video {
        assert!(matches!(video.rotation, 0 | 90 | 180 | 270), "{video:?}");
    }
    // The ranged walk and the whole-file walk agree wherever both find moov and mdat.
    if let (Some(probed), Some(whole)) = (info.fast_start, fast_start) {
        assert_eq!(probed, whole, "fast start: ranged walk vs whole-file walk");
    }
}

/// Polls a future that never waits (the in-memory object answers at once) to its end.
fn run_to_completion<T>(future: impl Future<Output = T>) -> T {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the probe waited on an object that answers at once"),
    }
}

/// An uploaded object held in memory, answering ranged GETs the way S3 does: a range that
/// starts past the end is refused (416), one that runs past the end is cut short.
struct Upload<'a>(&'a [u8]);

impl Upload<'_> {
    fn refuse<T>(what: &str) -> Result<T> {
        Err(Error::Storage {
            message: format!("the probe has no business calling {what}"),
            retryable: false,
        })
    }
}

impl ObjectStore for Upload<'_> {
    async fn head(&self, _: &BucketName, _: &ObjectKey) -> Result<Option<ObjectMeta>> {
        Ok(Some(ObjectMeta {
            size: self.0.len() as u64,
            etag: "fuzz".into(),
        }))
    }

    async fn get_range(
        &self,
        _: &BucketName,
        _: &ObjectKey,
        start: u64,
        len: u64,
    ) -> Result<Vec<u8>> {
        // The real store writes `bytes=start-(start+len-1)`: it must not overflow.
        let end = start
            .checked_add(len)
            .unwrap_or_else(|| panic!("range {start}+{len} overflows"));
        if len == 0 {
            return Ok(Vec::new());
        }
        let size = self.0.len() as u64;
        if start >= size {
            return Err(Error::Storage {
                message: format!("416: range starts at {start}, the object has {size} bytes"),
                retryable: false,
            });
        }
        Ok(self.0[start as usize..end.min(size) as usize].to_vec())
    }

    async fn download(&self, _: &BucketName, _: &ObjectKey, _: &Path) -> Result<u64> {
        Self::refuse("download")
    }

    async fn upload(
        &self,
        _: &BucketName,
        _: &ObjectKey,
        _: &Path,
        _: &str,
        _: UploadJournal<'_>,
    ) -> Result<()> {
        Self::refuse("upload")
    }

    async fn put_bytes(&self, _: &BucketName, _: &ObjectKey, _: Vec<u8>, _: &str) -> Result<()> {
        Self::refuse("put_bytes")
    }

    async fn copy(
        &self,
        _: (&BucketName, &ObjectKey),
        _: (&BucketName, &ObjectKey),
        _: u64,
        _: &str,
    ) -> Result<()> {
        Self::refuse("copy")
    }

    async fn abort_upload(&self, _: &BucketName, _: &ObjectKey, _: &str) -> Result<()> {
        Self::refuse("abort_upload")
    }

    async fn delete(&self, _: &BucketName, _: &ObjectKey) -> Result<()> {
        Self::refuse("delete")
    }

    async fn list(&self, _: &BucketName, _: &KeyPrefix) -> Result<Vec<Listed>> {
        Self::refuse("list")
    }
}
