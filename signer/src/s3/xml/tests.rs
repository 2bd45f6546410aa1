//! Parsing S3's answers leniently and writing request bodies exactly.

use super::*;
use model::ObjectKey;

#[test]
fn an_error_document_becomes_an_s3_error() {
    let body = br#"<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>NoSuchUpload</Code><Message>The specified upload does not exist.</Message><RequestId>1</RequestId></Error>"#;
    let expected = Error::S3 {
        code: "NoSuchUpload".into(),
        message: "The specified upload does not exist.".into(),
    };
    assert_eq!(parse_list_parts(body), Err(expected.clone()));
    assert_eq!(parse_complete_multipart_upload(body), Err(expected));
    assert_eq!(
        parse_error(body),
        Some(S3Error {
            code: "NoSuchUpload".into(),
            message: "The specified upload does not exist.".into()
        })
    );
}

#[test]
fn parse_error_ignores_other_bodies() {
    for body in [
        &b""[..],
        b"<html><body>502</body></html>",
        b"<Error><Message>no code</Message></Error>",
        b"\xff\xfe",
        b"<ListPartsResult/>",
    ] {
        assert_eq!(
            parse_error(body),
            None,
            "{:?}",
            String::from_utf8_lossy(body)
        );
    }
}

#[test]
fn malformed_documents_are_errors() {
    let cases: [&[u8]; 6] = [
        b"",
        b"\xff<x/>",
        b"<ListPartsResult><Part><PartNumber>x</PartNumber><Size>1</Size></Part></ListPartsResult>",
        b"<ListPartsResult><IsTruncated>maybe</IsTruncated></ListPartsResult>",
        b"<ListPartsResult><NextPartNumberMarker>-1</NextPartNumberMarker></ListPartsResult>",
        b"<InitiateMultipartUploadResult><Key>k</Key></InitiateMultipartUploadResult>",
    ];
    for body in cases {
        let result = if body.starts_with(b"<Init") {
            parse_initiate_multipart_upload(body).map(|_| ())
        } else {
            parse_list_parts(body).map(|_| ())
        };
        assert!(
            matches!(result, Err(Error::MalformedXml(_))),
            "{:?}: {result:?}",
            String::from_utf8_lossy(body)
        );
    }
    assert!(matches!(
        parse_initiate_multipart_upload(
            b"<InitiateMultipartUploadResult><Key>k</Key><UploadId></UploadId></InitiateMultipartUploadResult>"
        ),
        Err(Error::MalformedXml(_))
    ));
    assert!(matches!(
        parse_list_objects_v2(b"<ListBucketResult><Contents><Key>a</Key><Size>big</Size></Contents></ListBucketResult>"),
        Err(Error::MalformedXml(_))
    ));
    assert!(matches!(
        parse_list_objects_v2(b"<ListBucketResult><EncodingType>url</EncodingType><Contents><Key>%FF</Key><Size>1</Size></Contents></ListBucketResult>"),
        Err(Error::MalformedXml(_))
    ));
}

#[test]
fn the_wrong_document_is_refused() {
    assert_eq!(
        parse_delete_objects(b"<ListPartsResult/>"),
        Err(Error::MalformedXml(
            "expected <DeleteResult>, found <ListPartsResult>".into()
        ))
    );
}

#[test]
fn namespaces_and_unknown_fields_are_ignored() {
    let body = br#"<s3:ListPartsResult xmlns:s3="urn:x" xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Bucket>b</Bucket><Unknown><Deep/></Unknown>
  <Part><PartNumber>2</PartNumber><ETag>&quot;e2&quot;</ETag><Size>5</Size><LastModified>x</LastModified></Part>
  <IsTruncated>true</IsTruncated><NextPartNumberMarker>2</NextPartNumberMarker>
</s3:ListPartsResult>"#;
    assert_eq!(
        parse_list_parts(body).unwrap(),
        ListParts {
            parts: vec![Part {
                part_number: 2,
                etag: "\"e2\"".into(),
                size: 5
            }],
            is_truncated: true,
            next_part_number_marker: Some(2)
        }
    );
}

#[test]
fn url_encoded_listing_keys_are_decoded() {
    let body = b"<ListBucketResult><EncodingType>url</EncodingType>\
        <Contents><Key>a+b%2Bc%25/%C3%BC</Key><Size>3</Size><ETag>e</ETag></Contents>\
        <IsTruncated>false</IsTruncated><NextContinuationToken></NextContinuationToken></ListBucketResult>";
    let listing = parse_list_objects_v2(body).unwrap();
    assert_eq!(listing.objects[0].key.as_str(), "a b+c%/ü");
    assert_eq!(listing.next_continuation_token, None);
    let raw = b"<ListBucketResult><Contents><Key>a+b%2B</Key><Size>3</Size></Contents></ListBucketResult>";
    assert_eq!(
        parse_list_objects_v2(raw).unwrap().objects[0].key.as_str(),
        "a+b%2B"
    );
}

fn current(key: &str) -> ObjectVersion {
    ObjectVersion {
        key: ObjectKey::parse(key).unwrap(),
        version_id: None,
    }
}

#[test]
fn delete_objects_body_limits() {
    let key = current("k");
    assert!(matches!(
        delete_objects_body(&[], true),
        Err(Error::InvalidS3Request(_))
    ));
    assert_eq!(
        delete_objects_body(&vec![key.clone(); 1001], true),
        Err(Error::TooManyKeys {
            count: 1001,
            max: 1000
        })
    );
    assert!(delete_objects_body(&vec![key; 1000], false).is_ok());
}

#[test]
fn bodies_escape_markup() {
    let key = current("a&<b>\"'");
    assert_eq!(
        String::from_utf8(delete_objects_body(&[key], false).unwrap()).unwrap(),
        "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Object><Key>a&amp;&lt;b&gt;\"'</Key></Object><Quiet>false</Quiet></Delete>"
    );
    let versioned = ObjectVersion {
        version_id: Some("3/L4kqtJl&".into()),
        ..current("k")
    };
    assert_eq!(
        String::from_utf8(delete_objects_body(&[versioned], true).unwrap()).unwrap(),
        "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Object><Key>k</Key><VersionId>3/L4kqtJl&amp;</VersionId></Object><Quiet>true</Quiet></Delete>"
    );
}

/// The documented example answer of ListObjectVersions (versions and delete markers
/// interleaved), with URL-encoded keys.
#[test]
fn object_versions_and_delete_markers_are_listed_in_order() {
    let body = br#"<?xml version="1.0" encoding="UTF-8"?>
<ListVersionsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>bucket</Name><Prefix>videos/</Prefix><KeyMarker></KeyMarker><VersionIdMarker></VersionIdMarker>
  <MaxKeys>3</MaxKeys><EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>
  <NextKeyMarker>videos/b%2Bc</NextKeyMarker><NextVersionIdMarker>v3</NextVersionIdMarker>
  <Version><Key>videos/a</Key><VersionId>v1</VersionId><IsLatest>true</IsLatest>
    <LastModified>2009-10-12T17:50:30.000Z</LastModified><ETag>"x"</ETag><Size>434234</Size>
    <StorageClass>STANDARD</StorageClass></Version>
  <DeleteMarker><Key>videos/b%2Bc</Key><VersionId>v2</VersionId><IsLatest>true</IsLatest>
    <LastModified>2009-11-12T17:50:30.000Z</LastModified></DeleteMarker>
  <Version><Key>videos/b%2Bc</Key><VersionId>v3</VersionId><IsLatest>false</IsLatest>
    <Size>1</Size></Version>
</ListVersionsResult>"#;
    let page = parse_list_object_versions(body).unwrap();
    let listed: Vec<(&str, Option<&str>)> = page
        .versions
        .iter()
        .map(|v| (v.key.as_str(), v.version_id.as_deref()))
        .collect();
    assert_eq!(
        listed,
        [
            ("videos/a", Some("v1")),
            ("videos/b+c", Some("v2")),
            ("videos/b+c", Some("v3"))
        ]
    );
    assert!(page.is_truncated);
    assert_eq!(page.next_key_marker.as_deref(), Some("videos/b+c"));
    assert_eq!(page.next_version_id_marker.as_deref(), Some("v3"));
    let empty = br#"<ListVersionsResult><IsTruncated>false</IsTruncated></ListVersionsResult>"#;
    assert_eq!(parse_list_object_versions(empty).unwrap().versions, []);
}

#[test]
fn completed_parts_read_the_api_json() {
    let parts: Vec<CompletedPart> =
        serde_json::from_str(r#"[{"partNumber":1,"etag":"\"a\""}]"#).unwrap();
    assert_eq!(
        parts,
        vec![CompletedPart {
            part_number: 1,
            etag: "\"a\"".into()
        }]
    );
    assert_eq!(
        serde_json::to_string(&Part {
            part_number: 1,
            etag: "e".into(),
            size: 2
        })
        .unwrap(),
        r#"{"partNumber":1,"etag":"e","size":2}"#
    );
}

#[test]
fn copy_answers_give_their_etag() {
    let object = br#"<?xml version="1.0" encoding="UTF-8"?>
<CopyObjectResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LastModified>2025-01-02T03:04:05.000Z</LastModified><ETag>"9b2cf535f27731c974343645a3985328"</ETag></CopyObjectResult>"#;
    assert_eq!(
        parse_copy_etag(object).unwrap(),
        "\"9b2cf535f27731c974343645a3985328\""
    );
    // SeaweedFS sends it unquoted.
    let part = b"<CopyPartResult><LastModified>2025-01-02T03:04:05Z</LastModified><ETag>aed563</ETag></CopyPartResult>";
    assert_eq!(parse_copy_etag(part).unwrap(), "aed563");
    let late_error = b"<Error><Code>InternalError</Code><Message>try again</Message></Error>";
    assert!(matches!(
        parse_copy_etag(late_error),
        Err(Error::S3 { code, .. }) if code == "InternalError"
    ));
    assert!(parse_copy_etag(b"<CopyObjectResult><ETag></ETag></CopyObjectResult>").is_err());
}
