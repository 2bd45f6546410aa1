//! Presigning and signing rules, on fixed times and names.

use super::*;

fn config(endpoint: &str, addressing: Addressing) -> S3Config {
    S3Config {
        endpoint: endpoint.into(),
        region: "us-east-1".into(),
        addressing,
        credentials: Credentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "secret".into(),
            session_token: None,
        },
    }
}

fn now() -> Timestamp {
    Timestamp::from_unix_secs(1_700_000_000)
}

fn names() -> (BucketName, ObjectKey) {
    (
        BucketName::parse("my.bucket").unwrap(),
        ObjectKey::parse("a b/c").unwrap(),
    )
}

#[test]
fn expiry_must_be_between_one_second_and_seven_days() {
    let (bucket, key) = names();
    let s3 = config("http://127.0.0.1:8333", Addressing::Path);
    let request = S3Request::HeadObject {
        bucket: &bucket,
        key: &key,
    };
    for secs in [0, 604_801] {
        assert_eq!(
            s3.signer()
                .unwrap()
                .presign(&request, now(), Duration::from_secs(secs)),
            Err(Error::ExpiryOutOfRange {
                requested_secs: secs,
                min_secs: 1,
                max_secs: 604_800
            })
        );
    }
    assert!(
        s3.signer()
            .unwrap()
            .presign(&request, now(), Duration::from_millis(999))
            .is_err()
    );
    let presigned = s3.signer().unwrap().presign(
        &request,
        now() + Duration::from_millis(900),
        MAX_PRESIGN_EXPIRY,
    );
    assert_eq!(presigned.unwrap().expires_at, now() + MAX_PRESIGN_EXPIRY);
}

#[test]
fn refuses_bad_endpoints() {
    for endpoint in [
        "",
        "not a url",
        "ftp://host",
        "127.0.0.1:8333",
        "https://host/base",
        "https://host/?x=1",
        "https://user:pw@host",
    ] {
        // Refused when the configuration is prepared, not on the first request.
        let s3 = config(endpoint, Addressing::Path);
        assert!(
            matches!(s3.signer(), Err(Error::InvalidEndpoint(_))),
            "{endpoint:?}"
        );
    }
    let mut s3 = config("https://host", Addressing::Path);
    s3.region.clear();
    assert!(matches!(
        s3.signer(),
        Err(Error::InvalidEndpoint("empty region"))
    ));
}

#[test]
fn refuses_empty_credentials() {
    let mut s3 = config("https://host", Addressing::Path);
    s3.credentials.secret_access_key = "".into();
    assert!(matches!(s3.signer(), Err(Error::InvalidKey(_))));
}

#[test]
fn refuses_malformed_request_inputs() {
    let (bucket, key) = names();
    let s3 = config("https://host", Addressing::Path);
    let expiry = Duration::from_secs(60);
    let bad = [
        S3Request::UploadPart {
            bucket: &bucket,
            key: &key,
            upload_id: "u",
            part_number: 0,
            content_length: 1,
        },
        S3Request::UploadPart {
            bucket: &bucket,
            key: &key,
            upload_id: "u",
            part_number: 10_001,
            content_length: 1,
        },
        S3Request::CompleteMultipartUpload {
            bucket: &bucket,
            key: &key,
            upload_id: "",
            create_only: false,
        },
        S3Request::PutObject {
            bucket: &bucket,
            key: &key,
            content_length: 1,
            content_type: "video/mp4\r\nx-evil: 1",
            create_only: false,
        },
        S3Request::GetObject {
            bucket: &bucket,
            key: &key,
            response_content_disposition: None,
            range: Some("bytes=0-1\n"),
        },
    ];
    for request in bad {
        assert!(
            matches!(
                s3.signer().unwrap().presign(&request, now(), expiry),
                Err(Error::InvalidS3Request(_))
            ),
            "{request:?}"
        );
    }
}

#[test]
fn sign_refuses_a_body_of_another_length() {
    let (bucket, key) = names();
    let s3 = config("https://host", Addressing::Path);
    let request = S3Request::UploadPart {
        bucket: &bucket,
        key: &key,
        upload_id: "u",
        part_number: 1,
        content_length: 3,
    };
    assert_eq!(
        s3.signer()
            .unwrap()
            .sign(&request, b"four".to_vec(), now())
            .unwrap_err(),
        Error::BodyLengthMismatch {
            declared: 3,
            actual: 4
        }
    );
    assert!(
        s3.signer()
            .unwrap()
            .sign(&request, b"abc".to_vec(), now())
            .is_ok()
    );
}

#[test]
fn sign_refuses_times_before_1970_when_presigning() {
    let (bucket, key) = names();
    let s3 = config("https://host", Addressing::Path);
    let request = S3Request::HeadObject {
        bucket: &bucket,
        key: &key,
    };
    assert!(matches!(
        s3.signer().unwrap().presign(
            &request,
            Timestamp::from_unix_ms(-1000),
            Duration::from_secs(1)
        ),
        Err(Error::InvalidArgument(_))
    ));
}

#[test]
fn addressing_falls_back_to_path_style_like_botocore() {
    let (dotted, key) = names();
    let plain = BucketName::parse("media").unwrap();
    let url = |endpoint: &str, bucket: &BucketName| {
        let s3 = config(endpoint, Addressing::VirtualHosted);
        let request = S3Request::HeadObject { bucket, key: &key };
        let url = s3
            .signer()
            .unwrap()
            .presign(&request, now(), Duration::from_secs(60))
            .unwrap()
            .url;
        url.split_once('?').unwrap().0.to_string()
    };
    assert_eq!(
        url("https://s3.example.com", &plain),
        "https://media.s3.example.com/a%20b/c"
    );
    assert_eq!(
        url("https://s3.example.com", &dotted),
        "https://s3.example.com/my.bucket/a%20b/c"
    );
    assert_eq!(
        url("http://s3.local:8333", &dotted),
        "http://my.bucket.s3.local:8333/a%20b/c"
    );
    assert_eq!(
        url("http://127.0.0.1:8333", &plain),
        "http://127.0.0.1:8333/media/a%20b/c"
    );
    assert_eq!(
        url("http://[::1]:8333", &plain),
        "http://[::1]:8333/media/a%20b/c"
    );
}

#[test]
fn credentials_debug_hides_secrets() {
    let credentials = Credentials {
        access_key_id: "AKID".into(),
        secret_access_key: "very-secret".into(),
        session_token: Some("token-secret".into()),
    };
    let debug = format!("{credentials:?}");
    assert!(
        debug.contains("AKID") && !debug.contains("secret\"") && !debug.contains("token-secret")
    );
    assert!(!debug.contains("very-secret"));
}

#[test]
fn copies_name_their_source_and_range() {
    let (bucket, key) = names();
    let source_bucket = BucketName::parse("incoming").unwrap();
    let source_key = ObjectKey::parse("uploads/a b+c/source.mp4").unwrap();
    let s3 = config("https://host", Addressing::Path).signer().unwrap();
    let copy = S3Request::CopyObject {
        bucket: &bucket,
        key: &key,
        source_bucket: &source_bucket,
        source_key: &source_key,
        content_type: Some("video/mp4"),
    };
    let signed = s3.sign(&copy, Vec::new(), now()).unwrap();
    let header = |name: &str| signed.headers()[name].to_str().unwrap().to_string();
    assert_eq!(
        header("x-amz-copy-source"),
        "incoming/uploads/a%20b%2Bc/source.mp4"
    );
    assert_eq!(header("x-amz-metadata-directive"), "REPLACE");
    assert_eq!(header("content-type"), "video/mp4");
    assert_eq!(signed.method(), http::Method::PUT);
    let part = |first, last| S3Request::UploadPartCopy {
        bucket: &bucket,
        key: &key,
        upload_id: "u",
        part_number: 2,
        source_bucket: &source_bucket,
        source_key: &source_key,
        first,
        last,
    };
    let signed = s3.sign(&part(5, 9), Vec::new(), now()).unwrap();
    assert_eq!(signed.headers()["x-amz-copy-source-range"], "bytes=5-9");
    assert!(
        signed
            .uri()
            .query()
            .unwrap()
            .starts_with("partNumber=2&uploadId=u")
    );
    assert!(matches!(
        s3.sign(&part(9, 5), Vec::new(), now()),
        Err(Error::InvalidS3Request(_))
    ));
}
