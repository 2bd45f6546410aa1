//! AWS's published SigV4 examples for S3 ("Authenticating Requests: Using Query Parameters"
//! and "Using the Authorization Header"), reproduced to the byte.

use std::time::Duration;

use model::{BucketName, ObjectKey, Timestamp};
use signer::s3::{Addressing, Credentials, S3Config, S3Request};

fn example_config() -> S3Config {
    S3Config {
        endpoint: "https://s3.amazonaws.com".into(),
        region: "us-east-1".into(),
        addressing: Addressing::VirtualHosted,
        credentials: Credentials {
            access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
            session_token: None,
        },
    }
}

/// 2013-05-24T00:00:00Z
fn example_time() -> Timestamp {
    Timestamp::from_unix_secs(1_369_353_600)
}

#[test]
fn presigned_get_object_example() {
    let bucket = BucketName::parse("examplebucket").unwrap();
    let key = ObjectKey::parse("test.txt").unwrap();
    let request = S3Request::GetObject {
        bucket: &bucket,
        key: &key,
        response_content_disposition: None,
        range: None,
    };
    let presigned = example_config()
        .signer()
        .unwrap()
        .presign(&request, example_time(), Duration::from_secs(86_400))
        .unwrap();
    assert_eq!(
        presigned.url,
        "https://examplebucket.s3.amazonaws.com/test.txt\
         ?X-Amz-Algorithm=AWS4-HMAC-SHA256\
         &X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request\
         &X-Amz-Date=20130524T000000Z\
         &X-Amz-Expires=86400\
         &X-Amz-SignedHeaders=host\
         &X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
    );
    assert_eq!(presigned.method, http::Method::GET);
    assert!(presigned.headers.is_empty());
    assert_eq!(
        presigned.expires_at,
        example_time() + Duration::from_secs(86_400)
    );
}

#[test]
fn header_signed_get_object_with_range_example() {
    let bucket = BucketName::parse("examplebucket").unwrap();
    let key = ObjectKey::parse("test.txt").unwrap();
    let request = S3Request::GetObject {
        bucket: &bucket,
        key: &key,
        response_content_disposition: None,
        range: Some("bytes=0-9"),
    };
    let signed = example_config()
        .signer()
        .unwrap()
        .sign(&request, Vec::new(), example_time())
        .unwrap();
    assert_eq!(
        signed.uri(),
        "https://examplebucket.s3.amazonaws.com/test.txt"
    );
    let header = |name: &str| signed.headers()[name].to_str().unwrap();
    assert_eq!(
        header("authorization"),
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, \
         SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, \
         Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
    );
    assert_eq!(
        header("x-amz-content-sha256"),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(header("x-amz-date"), "20130524T000000Z");
    assert_eq!(header("range"), "bytes=0-9");
}
