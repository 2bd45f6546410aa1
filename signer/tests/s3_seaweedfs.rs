//! A real SeaweedFS (testkit's `weed mini`) accepts what signer signs, and refuses it when
//! tampered with, expired, signed with another identity's secret, or sent with a body other
//! than the one signed.
//!
//! Requests go out the way the platform sends them: presigned URLs as a browser would use
//! them (the listed headers, a body whose length the client computes itself), header-signed
//! requests as `sign` returns them.
//!
//! SeaweedFS (4.48) quirks seen here:
//! - Refusals of presigned URLs are 403 `SignatureDoesNotMatch` / `AccessDenied` with an XML
//!   body, as on AWS; HEAD refusals come without a body, so only the status tells.
//! - `response-content-disposition` on a presigned GET is honoured.
//! - It does not compare `x-amz-content-sha256` with the body it receives: a header-signed PUT
//!   whose body is swapped for another of the same length is stored (AWS answers 400
//!   `XAmzContentSHA256Mismatch`). Lengths are enforced, through the signed `content-length`.
//! - With `encoding-type=url` it encodes listed keys (spaces as `%20` or `+`), but returns
//!   `NextContinuationToken` unencoded (AWS tokens are opaque anyway).

use std::time::Duration;

use model::Timestamp;

use model::{BucketName, ObjectKey};
use reqwest::StatusCode;
use signer::multipart::MIB;
use signer::s3::xml::{self, CompletedPart};
use signer::s3::{Addressing, Credentials, Presigned, S3Config, S3Request, S3Signer};
use testkit::SeaweedFs;

struct Reply {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    /// The S3 error code of the body, if it has one.
    fn error_code(&self) -> Option<String> {
        xml::parse_error(&self.body).map(|e| e.code)
    }

    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("no {name} header"))
            .to_str()
            .unwrap()
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

fn config(secret: &str) -> S3Config {
    S3Config {
        endpoint: SeaweedFs::shared().s3_endpoint.clone(),
        region: testkit::S3_REGION.into(),
        addressing: Addressing::Path,
        credentials: Credentials {
            access_key_id: testkit::S3_ACCESS_KEY.into(),
            secret_access_key: secret.into(),
            session_token: None,
        },
    }
}

fn s3() -> S3Signer {
    config(testkit::S3_SECRET_KEY).signer().unwrap()
}

fn incoming() -> BucketName {
    BucketName::parse("incoming").unwrap()
}

/// A key unique to the test, with characters that need encoding.
fn test_key(test: &str, name: &str) -> ObjectKey {
    ObjectKey::parse(&format!("signer-tests/{test}/{name}")).unwrap()
}

/// Test code may read the clock; signer never does.
/// Real time: SeaweedFS checks signatures against its own clock.
fn now() -> Timestamp {
    Timestamp::from_system_time(testkit::now())
}

const HOUR: Duration = Duration::from_secs(3600);

/// Sends a presigned request as a browser would: the listed headers except
/// `content-length`, which the client derives from the body it actually sends.
async fn send_presigned(presigned: &Presigned, body: Vec<u8>) -> Reply {
    send_presigned_to(presigned, &presigned.url, body).await
}

async fn send_presigned_to(presigned: &Presigned, url: &str, body: Vec<u8>) -> Reply {
    let mut request = client().request(presigned.method.clone(), url);
    for (name, value) in &presigned.headers {
        if name != "content-length" {
            request = request.header(name, value);
        }
    }
    finish(request.body(body).send().await.expect("send to SeaweedFS")).await
}

async fn send(request: http::Request<Vec<u8>>) -> Reply {
    let request = reqwest::Request::try_from(request).expect("a valid request");
    finish(client().execute(request).await.expect("send to SeaweedFS")).await
}

async fn finish(response: reqwest::Response) -> Reply {
    Reply {
        status: response.status(),
        headers: response.headers().clone(),
        body: response.bytes().await.expect("read the body").to_vec(),
    }
}

async fn put(key: &ObjectKey, body: &[u8]) {
    let bucket = incoming();
    let request = S3Request::PutObject {
        bucket: &bucket,
        key,
        content_length: body.len() as u64,
        content_type: "application/octet-stream",
        create_only: false,
    };
    let reply = send(s3().sign(&request, body.to_vec(), now()).unwrap()).await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
}

async fn head_status(key: &ObjectKey) -> StatusCode {
    let bucket = incoming();
    let presigned = s3()
        .presign(
            &S3Request::HeadObject {
                bucket: &bucket,
                key,
            },
            now(),
            HOUR,
        )
        .unwrap();
    send_presigned(&presigned, Vec::new()).await.status
}

#[tokio::test]
async fn presigned_put_binds_length_and_type() {
    let bucket = incoming();
    let key = test_key("put", "a b+ü%~.mp4");
    let body = b"0123456789".to_vec();
    let request = S3Request::PutObject {
        bucket: &bucket,
        key: &key,
        content_length: body.len() as u64,
        content_type: "video/mp4",
        create_only: false,
    };
    let presigned = s3().presign(&request, now(), HOUR).unwrap();
    assert_eq!(
        presigned.headers,
        [
            ("content-length".to_string(), "10".to_string()),
            ("content-type".into(), "video/mp4".into())
        ]
    );

    // Another length, another type, or no type: refused, nothing stored.
    let longer = send_presigned(&presigned, b"0123456789X".to_vec()).await;
    assert_eq!(longer.status, StatusCode::FORBIDDEN);
    assert_eq!(
        longer.error_code().as_deref(),
        Some("SignatureDoesNotMatch")
    );
    let mut other_type = presigned.clone();
    other_type.headers[1].1 = "video/webm".into();
    assert_eq!(
        send_presigned(&other_type, body.clone()).await.status,
        StatusCode::FORBIDDEN
    );
    let mut no_type = presigned.clone();
    no_type.headers.truncate(1);
    assert_eq!(
        send_presigned(&no_type, body.clone()).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(head_status(&key).await, StatusCode::NOT_FOUND);

    let stored = send_presigned(&presigned, body.clone()).await;
    assert_eq!(
        stored.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&stored.body)
    );

    let head = s3()
        .presign(
            &S3Request::HeadObject {
                bucket: &bucket,
                key: &key,
            },
            now(),
            HOUR,
        )
        .unwrap();
    let head = send_presigned(&head, Vec::new()).await;
    assert_eq!(head.status, StatusCode::OK);
    assert_eq!(head.header("content-length"), "10");
    assert_eq!(head.header("content-type"), "video/mp4");
}

#[tokio::test]
async fn multipart_upload_with_presigned_parts() {
    let bucket = incoming();
    let key = test_key("multipart", "source video.mp4");
    let s3 = s3();

    let create = S3Request::CreateMultipartUpload {
        bucket: &bucket,
        key: &key,
        content_type: Some("video/mp4"),
    };
    let created = send(s3.sign(&create, Vec::new(), now()).unwrap()).await;
    assert_eq!(created.status, StatusCode::OK);
    let upload = xml::parse_initiate_multipart_upload(&created.body).unwrap();
    assert_eq!(
        (upload.bucket.as_str(), upload.key.as_str()),
        ("incoming", key.as_str())
    );

    // S3's minimum part size applies to every part but the last.
    let parts: [Vec<u8>; 2] = [vec![b'a'; (5 * MIB) as usize], b"the last part".to_vec()];
    let mut completed = Vec::new();
    for (index, body) in parts.iter().enumerate() {
        let part_number = index as u16 + 1;
        let request = S3Request::UploadPart {
            bucket: &bucket,
            key: &key,
            upload_id: &upload.upload_id,
            part_number,
            content_length: body.len() as u64,
        };
        let presigned = s3.presign(&request, now(), HOUR).unwrap();
        let mut wrong_length = body.clone();
        wrong_length.push(b'!');
        let refused = send_presigned(&presigned, wrong_length).await;
        assert_eq!(
            refused.status,
            StatusCode::FORBIDDEN,
            "a part of another length"
        );
        let uploaded = send_presigned(&presigned, body.clone()).await;
        assert_eq!(
            uploaded.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&uploaded.body)
        );
        completed.push(CompletedPart {
            part_number,
            etag: uploaded.header("etag").to_string(),
        });
    }

    // ListParts (presigned, as the resume endpoint would use it): what was uploaded.
    let list = S3Request::ListParts {
        bucket: &bucket,
        key: &key,
        upload_id: &upload.upload_id,
        part_number_marker: None,
    };
    let listed = send_presigned(&s3.presign(&list, now(), HOUR).unwrap(), Vec::new()).await;
    assert_eq!(listed.status, StatusCode::OK);
    let listed = xml::parse_list_parts(&listed.body).unwrap();
    assert!(!listed.is_truncated);
    let sizes: Vec<(u16, u64)> = listed
        .parts
        .iter()
        .map(|p| (p.part_number, p.size))
        .collect();
    assert_eq!(sizes, [(1, 5 * MIB), (2, 13)]);
    for (listed, completed) in listed.parts.iter().zip(&completed) {
        assert_eq!(listed.etag, completed.etag);
    }
    // From a marker on, only the later parts.
    let after_first = S3Request::ListParts {
        bucket: &bucket,
        key: &key,
        upload_id: &upload.upload_id,
        part_number_marker: Some(1),
    };
    let page = send(s3.sign(&after_first, Vec::new(), now()).unwrap()).await;
    let page = xml::parse_list_parts(&page.body).unwrap();
    assert_eq!(
        page.parts.iter().map(|p| p.part_number).collect::<Vec<_>>(),
        [2]
    );

    let complete = S3Request::CompleteMultipartUpload {
        bucket: &bucket,
        key: &key,
        upload_id: &upload.upload_id,
        create_only: false,
    };
    let body = xml::complete_multipart_upload_body(&completed);
    let done = send(s3.sign(&complete, body, now()).unwrap()).await;
    assert_eq!(
        done.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&done.body)
    );
    let done = xml::parse_complete_multipart_upload(&done.body).unwrap();
    assert_eq!(done.key, key.as_str());
    assert!(
        done.etag.ends_with("-2\""),
        "a multipart ETag: {}",
        done.etag
    );

    // The assembled object, through a ranged GET across the part boundary.
    let range = format!("bytes={}-{}", 5 * MIB - 2, 5 * MIB + 2);
    let get = S3Request::GetObject {
        bucket: &bucket,
        key: &key,
        response_content_disposition: None,
        range: Some(&range),
    };
    let got = send_presigned(&s3.presign(&get, now(), HOUR).unwrap(), Vec::new()).await;
    assert_eq!(got.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(got.body, b"aathe");
    assert_eq!(
        got.header("content-range"),
        format!("bytes {}-{}/{}", 5 * MIB - 2, 5 * MIB + 2, 5 * MIB + 13)
    );
}

#[tokio::test]
async fn aborted_uploads_are_gone() {
    let bucket = incoming();
    let key = test_key("abort", "source.mkv");
    let s3 = s3();
    let create = S3Request::CreateMultipartUpload {
        bucket: &bucket,
        key: &key,
        content_type: None,
    };
    let created = send(s3.sign(&create, Vec::new(), now()).unwrap()).await;
    let upload = xml::parse_initiate_multipart_upload(&created.body).unwrap();

    let abort = S3Request::AbortMultipartUpload {
        bucket: &bucket,
        key: &key,
        upload_id: &upload.upload_id,
    };
    let aborted = send_presigned(&s3.presign(&abort, now(), HOUR).unwrap(), Vec::new()).await;
    assert_eq!(aborted.status, StatusCode::NO_CONTENT);

    let list = S3Request::ListParts {
        bucket: &bucket,
        key: &key,
        upload_id: &upload.upload_id,
        part_number_marker: None,
    };
    let listed = send(s3.sign(&list, Vec::new(), now()).unwrap()).await;
    assert_eq!(listed.status, StatusCode::NOT_FOUND);
    assert!(matches!(
        xml::parse_list_parts(&listed.body),
        Err(signer::Error::S3 { code, .. }) if code == "NoSuchUpload"
    ));
}

#[tokio::test]
async fn get_with_range_and_disposition_head_and_delete() {
    let bucket = incoming();
    let key = test_key("get", "video.mp4");
    put(&key, b"0123456789").await;
    let s3 = s3();

    let get = S3Request::GetObject {
        bucket: &bucket,
        key: &key,
        response_content_disposition: Some("attachment; filename=\"my video.mp4\""),
        range: Some("bytes=2-5"),
    };
    let presigned = s3.presign(&get, now(), HOUR).unwrap();
    assert_eq!(
        presigned.headers,
        [("range".to_string(), "bytes=2-5".to_string())]
    );
    let got = send_presigned(&presigned, Vec::new()).await;
    assert_eq!(got.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(got.body, b"2345");
    assert_eq!(
        got.header("content-disposition"),
        "attachment; filename=\"my video.mp4\""
    );

    // The range is signed: another one is refused.
    let mut other_range = presigned.clone();
    other_range.headers[0].1 = "bytes=0-9".into();
    assert_eq!(
        send_presigned(&other_range, Vec::new()).await.status,
        StatusCode::FORBIDDEN
    );

    let whole = S3Request::GetObject {
        bucket: &bucket,
        key: &key,
        response_content_disposition: None,
        range: None,
    };
    let whole = send(s3.sign(&whole, Vec::new(), now()).unwrap()).await;
    assert_eq!(
        (whole.status, whole.body.as_slice()),
        (StatusCode::OK, &b"0123456789"[..])
    );

    assert_eq!(head_status(&key).await, StatusCode::OK);
    let delete = S3Request::DeleteObject {
        bucket: &bucket,
        key: &key,
    };
    let deleted = send_presigned(&s3.presign(&delete, now(), HOUR).unwrap(), Vec::new()).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(head_status(&key).await, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn list_pages_and_delete_objects() {
    let bucket = incoming();
    let names = [
        "a b.txt",
        "a+b.txt",
        "ü.txt",
        "50%.txt",
        "tilde~.txt",
        "sub/dir.txt",
    ];
    let keys: Vec<ObjectKey> = names.iter().map(|name| test_key("list", name)).collect();
    for key in &keys {
        put(key, name_bytes(key)).await;
    }
    let s3 = s3();
    let prefix = "signer-tests/list/";

    // Two keys a page, alternating presigned and header-signed requests.
    let mut listed = Vec::new();
    let mut token: Option<String> = None;
    for page in 0.. {
        let request = S3Request::ListObjectsV2 {
            bucket: &bucket,
            prefix: Some(prefix),
            continuation_token: token.as_deref(),
            max_keys: Some(2),
        };
        let reply = if page % 2 == 0 {
            send_presigned(&s3.presign(&request, now(), HOUR).unwrap(), Vec::new()).await
        } else {
            send(s3.sign(&request, Vec::new(), now()).unwrap()).await
        };
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&reply.body)
        );
        let page = xml::parse_list_objects_v2(&reply.body).unwrap();
        assert!(page.objects.len() <= 2);
        listed.extend(
            page.objects
                .into_iter()
                .map(|o| (o.key.to_string(), o.size)),
        );
        token = page.next_continuation_token;
        if !page.is_truncated {
            break;
        }
        assert!(token.is_some(), "a truncated page names the next");
    }
    let mut expected: Vec<(String, u64)> = keys
        .iter()
        .map(|k| (k.to_string(), name_bytes(k).len() as u64))
        .collect();
    expected.sort();
    listed.sort();
    assert_eq!(listed, expected);

    // DeleteObjects: signed with Content-MD5 over the body.
    let request = S3Request::DeleteObjects { bucket: &bucket };
    let objects: Vec<xml::ObjectVersion> = keys
        .iter()
        .map(|key| xml::ObjectVersion {
            key: key.clone(),
            version_id: None,
        })
        .collect();
    let body = xml::delete_objects_body(&objects, false).unwrap();
    let signed = s3.sign(&request, body, now()).unwrap();
    assert!(signed.headers().contains_key("content-md5"));
    let reply = send(signed).await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let mut deleted = xml::parse_delete_objects(&reply.body).unwrap().deleted;
    deleted.sort();
    let mut all: Vec<String> = keys.iter().map(ToString::to_string).collect();
    all.sort();
    assert_eq!(deleted, all);

    let request = S3Request::ListObjectsV2 {
        bucket: &bucket,
        prefix: Some(prefix),
        continuation_token: None,
        max_keys: None,
    };
    let reply = send(s3.sign(&request, Vec::new(), now()).unwrap()).await;
    assert!(
        xml::parse_list_objects_v2(&reply.body)
            .unwrap()
            .objects
            .is_empty()
    );
}

fn name_bytes(key: &ObjectKey) -> &[u8] {
    key.as_str().rsplit('/').next().unwrap().as_bytes()
}

#[tokio::test]
async fn tampered_expired_and_foreign_signatures_are_refused() {
    let bucket = incoming();
    let key = test_key("tamper", "video.mp4");
    let other_key = test_key("tamper", "other.mp4");
    put(&key, b"secret video").await;
    put(&other_key, b"other video").await;
    let get = |key| S3Request::GetObject {
        bucket: &bucket,
        key,
        response_content_disposition: None,
        range: None,
    };
    let presigned = s3().presign(&get(&key), now(), HOUR).unwrap();
    assert_eq!(
        send_presigned(&presigned, Vec::new()).await.status,
        StatusCode::OK
    );

    let refused = |reply: Reply, what: &str| {
        assert_eq!(
            reply.status,
            StatusCode::FORBIDDEN,
            "{what}: {}",
            String::from_utf8_lossy(&reply.body)
        );
        reply.error_code()
    };

    // A changed signature.
    let last = presigned.url.chars().last().unwrap();
    let flipped = format!(
        "{}{}",
        &presigned.url[..presigned.url.len() - 1],
        if last == '0' { '1' } else { '0' }
    );
    let code = refused(
        send_presigned_to(&presigned, &flipped, Vec::new()).await,
        "changed signature",
    );
    assert_eq!(code.as_deref(), Some("SignatureDoesNotMatch"));

    // Another key under the same signature.
    let other_url = presigned.url.replace("video.mp4", "other.mp4");
    refused(
        send_presigned_to(&presigned, &other_url, Vec::new()).await,
        "changed key",
    );

    // A changed query: a longer lifetime, or an added parameter.
    let longer = presigned
        .url
        .replace("X-Amz-Expires=3600", "X-Amz-Expires=7200");
    assert_ne!(longer, presigned.url);
    refused(
        send_presigned_to(&presigned, &longer, Vec::new()).await,
        "changed expiry",
    );
    let added = presigned
        .url
        .replacen('?', "?response-content-type=text%2Fhtml&", 1);
    refused(
        send_presigned_to(&presigned, &added, Vec::new()).await,
        "added parameter",
    );

    // Expired: signed two hours ago for one minute.
    let expired = s3()
        .presign(&get(&key), now() - 2 * HOUR, Duration::from_secs(60))
        .unwrap();
    let code = refused(send_presigned(&expired, Vec::new()).await, "expired");
    assert_eq!(code.as_deref(), Some("AccessDenied"));

    // Our access key id with the other identity's (valid) secret.
    let foreign = config(testkit::S3_OTHER_SECRET_KEY).signer().unwrap();
    let forged = foreign.presign(&get(&key), now(), HOUR).unwrap();
    refused(
        send_presigned(&forged, Vec::new()).await,
        "presigned with another secret",
    );
    let forged = foreign.sign(&get(&key), Vec::new(), now()).unwrap();
    refused(send(forged).await, "header-signed with another secret");
    // ... while that identity, whole, is accepted: the mismatch is what is refused.
    let mut other_identity = config(testkit::S3_OTHER_SECRET_KEY);
    other_identity.credentials.access_key_id = testkit::S3_OTHER_ACCESS_KEY.into();
    let allowed = other_identity
        .signer()
        .unwrap()
        .presign(&get(&key), now(), HOUR)
        .unwrap();
    assert_eq!(
        send_presigned(&allowed, Vec::new()).await.status,
        StatusCode::OK
    );

    // A header-signed PUT sent with a longer body (and the matching Content-Length, as a
    // client would send it): the signed length no longer holds.
    let request = S3Request::PutObject {
        bucket: &bucket,
        key: &key,
        content_length: 12,
        content_type: "video/mp4",
        create_only: false,
    };
    let mut signed = s3()
        .sign(&request, b"honest bytes".to_vec(), now())
        .unwrap();
    *signed.body_mut() = b"forged bytes, more".to_vec();
    signed
        .headers_mut()
        .insert("content-length", "18".parse().unwrap());
    refused(send(signed).await, "header-signed PUT with another length");
    let got = send_presigned(&presigned, Vec::new()).await;
    assert_eq!(got.body, b"secret video", "the object is unchanged");
}

#[tokio::test]
async fn create_only_writes_refuse_to_replace_an_object() {
    let bucket = incoming();
    let key = test_key("create-only", "source.mp4");
    let body = b"first".to_vec();
    let request = S3Request::PutObject {
        bucket: &bucket,
        key: &key,
        content_length: body.len() as u64,
        content_type: "video/mp4",
        create_only: true,
    };
    let presigned = s3().presign(&request, now(), HOUR).unwrap();
    assert!(
        presigned
            .headers
            .contains(&("if-none-match".into(), "*".into()))
    );
    assert_eq!(
        send_presigned(&presigned, body.clone()).await.status,
        StatusCode::OK
    );
    // The same URL replayed: refused, the object stays as it was.
    let replay = send_presigned(&presigned, b"other".to_vec()).await;
    assert_eq!(replay.status, StatusCode::PRECONDITION_FAILED);
    // Dropping the signed header breaks the signature.
    let mut unconditional = presigned.clone();
    unconditional
        .headers
        .retain(|(name, _)| name != "if-none-match");
    assert_eq!(
        send_presigned(&unconditional, b"other".to_vec())
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let get = s3()
        .presign(
            &S3Request::GetObject {
                bucket: &bucket,
                key: &key,
                response_content_disposition: None,
                range: None,
            },
            now(),
            HOUR,
        )
        .unwrap();
    assert_eq!(send_presigned(&get, Vec::new()).await.body, body);

    // A multipart upload completed onto an existing key is refused the same way.
    let created = send(
        s3().sign(
            &S3Request::CreateMultipartUpload {
                bucket: &bucket,
                key: &key,
                content_type: None,
            },
            Vec::new(),
            now(),
        )
        .unwrap(),
    )
    .await;
    let upload_id = xml::parse_initiate_multipart_upload(&created.body)
        .unwrap()
        .upload_id;
    let part = send(
        s3().sign(
            &S3Request::UploadPart {
                bucket: &bucket,
                key: &key,
                upload_id: &upload_id,
                part_number: 1,
                content_length: 5,
            },
            b"parts".to_vec(),
            now(),
        )
        .unwrap(),
    )
    .await;
    let etag = part.header("etag").to_string();
    let complete = S3Request::CompleteMultipartUpload {
        bucket: &bucket,
        key: &key,
        upload_id: &upload_id,
        create_only: true,
    };
    let body = xml::complete_multipart_upload_body(&[xml::CompletedPart {
        part_number: 1,
        etag,
    }]);
    let refused = send(s3().sign(&complete, body, now()).unwrap()).await;
    assert_eq!(refused.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(send_presigned(&get, Vec::new()).await.body, b"first");
}

#[tokio::test]
async fn every_version_of_a_versioned_object_can_be_listed_and_removed() {
    // A bucket of its own with versioning on (as the media bucket is in production).
    let name = format!("versioned-{}", std::process::id());
    testkit::python_output(
        "import botocore.session,sys\n\
         s3 = botocore.session.get_session().create_client('s3', endpoint_url=sys.argv[1],\n\
             region_name='us-east-1', aws_access_key_id=sys.argv[2],\n\
             aws_secret_access_key=sys.argv[3])\n\
         s3.create_bucket(Bucket=sys.argv[4])\n\
         s3.put_bucket_versioning(Bucket=sys.argv[4], VersioningConfiguration={'Status': 'Enabled'})",
        &[
            &SeaweedFs::shared().s3_endpoint,
            testkit::S3_ACCESS_KEY,
            testkit::S3_SECRET_KEY,
            &name,
        ],
    );
    let bucket = BucketName::parse(&name).unwrap();
    let key = test_key("versions", "video.mp4");
    for body in [b"one".as_slice(), b"two"] {
        let request = S3Request::PutObject {
            bucket: &bucket,
            key: &key,
            content_length: body.len() as u64,
            content_type: "video/mp4",
            create_only: false,
        };
        let reply = send(s3().sign(&request, body.to_vec(), now()).unwrap()).await;
        assert_eq!(reply.status, StatusCode::OK);
    }
    let delete = S3Request::DeleteObject {
        bucket: &bucket,
        key: &key,
    };
    send(s3().sign(&delete, Vec::new(), now()).unwrap()).await;
    let list = |bucket: &BucketName| {
        s3().sign(
            &S3Request::ListObjectVersions {
                bucket,
                prefix: Some("signer-tests/versions/"),
                key_marker: None,
                version_id_marker: None,
                max_keys: Some(1000),
            },
            Vec::new(),
            now(),
        )
        .unwrap()
    };
    let page = xml::parse_list_object_versions(&send(list(&bucket)).await.body).unwrap();
    // Two versions and the delete marker a plain delete leaves.
    assert_eq!(page.versions.len(), 3, "{page:?}");
    assert!(page.versions.iter().all(|v| v.version_id.is_some()));
    let body = xml::delete_objects_body(&page.versions, true).unwrap();
    let reply = send(
        s3().sign(&S3Request::DeleteObjects { bucket: &bucket }, body, now())
            .unwrap(),
    )
    .await;
    assert!(
        xml::parse_delete_objects(&reply.body)
            .unwrap()
            .errors
            .is_empty()
    );
    let after = xml::parse_list_object_versions(&send(list(&bucket)).await.body).unwrap();
    assert_eq!(after.versions, []);
}
