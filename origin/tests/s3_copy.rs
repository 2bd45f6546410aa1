//! Server-side copies against a real SeaweedFS: one CopyObject for an object up to the
//! threshold, a multipart copy (UploadPartCopy) above it; the bytes arrive unchanged with the
//! content type asked for.

mod common;

use common::fakes::bucket;
use common::{mp4_source, put_file, video_id};
use model::ObjectKey;
use origin::store::ObjectStore;

#[tokio::test]
async fn copies_small_and_in_parts() {
    let weed = testkit::SeaweedFs::shared();
    let mut store = common::store(&weed.s3_endpoint);
    let dir = testkit::temp_dir("origin-copy");
    let bytes: Vec<u8> = (0..12 * 1024 * 1024 + 123)
        .map(|i| (i * 7 % 251) as u8)
        .collect();
    let file = dir.join("source.bin");
    std::fs::write(&file, &bytes).unwrap();
    for (threshold, parts) in [(u64::MAX, None), (5 << 20, Some(3))] {
        store.copy_object_max = threshold;
        store.copy_part_size = 5 << 20;
        let id = video_id();
        let (source, target) = (mp4_source(&id), ObjectKey::mp4(&id));
        put_file(&store, "incoming", &source, &file).await;
        store
            .copy(
                (&bucket("incoming"), &source),
                (&bucket("media"), &target),
                bytes.len() as u64,
                "video/mp4",
            )
            .await
            .unwrap();
        let meta = store
            .head(&bucket("media"), &target)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(meta.size, bytes.len() as u64);
        let part_count = meta
            .etag
            .rsplit_once('-')
            .map(|(_, n)| n.parse::<u32>().unwrap());
        assert_eq!(part_count, parts, "threshold {threshold}: {}", meta.etag);
        let copied = dir.join(format!("{id}.bin"));
        store
            .download(&bucket("media"), &target, &copied)
            .await
            .unwrap();
        assert!(std::fs::read(&copied).unwrap() == bytes, "the same bytes");
        // The copy is served as video/mp4, whatever the upload was declared as.
        assert_eq!(content_type(&weed.s3_endpoint, &target).await, "video/mp4");
    }
    // A missing source is NotFound: the caller treats it as "nothing to do".
    let id = video_id();
    let err = store
        .copy(
            (&bucket("incoming"), &mp4_source(&id)),
            (&bucket("media"), &ObjectKey::mp4(&id)),
            10,
            "video/mp4",
        )
        .await
        .unwrap_err();
    assert!(matches!(err, origin::Error::NotFound { .. }), "{err}");
}

/// The Content-Type S3 serves an object of the media bucket with.
async fn content_type(endpoint: &str, key: &ObjectKey) -> String {
    let media = bucket("media");
    let request = signer::s3::S3Request::HeadObject {
        bucket: &media,
        key,
    };
    let signed = common::s3_config(endpoint)
        .signer()
        .unwrap()
        .sign(
            &request,
            Vec::new(),
            model::Timestamp::from_system_time(testkit::now()),
        )
        .unwrap();
    let response = reqwest::Client::new()
        .execute(reqwest::Request::try_from(signed.map(reqwest::Body::from)).unwrap())
        .await
        .unwrap();
    response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string()
}
