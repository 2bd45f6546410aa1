//! Server-side copies (CopyObject, UploadPartCopy) leave signer shaped exactly as botocore's
//! own serializer shapes them: method, path, query and the copy headers, keys with every
//! awkward character included.

use model::{BucketName, ObjectKey, Timestamp};
use serde_json::{Value, json};
use signer::s3::{Addressing, Credentials, S3Config, S3Request};

const ORACLE: &str = r#"
import json, sys
import botocore.session, botocore.handlers, botocore.serialize
cases = json.load(sys.stdin)
model = botocore.session.get_session().get_service_model("s3")
serializer = botocore.serialize.create_serializer("rest-xml", include_validation=False)
out = []
for case in cases:
    params = {"Bucket": case["bucket"], "Key": case["key"],
              "CopySource": {"Bucket": case["source_bucket"], "Key": case["source_key"]}}
    if case["op"] == "CopyObject":
        operation = "CopyObject"
        if case.get("content_type"):
            params["ContentType"] = case["content_type"]
            params["MetadataDirective"] = "REPLACE"
    else:
        operation = "UploadPartCopy"
        params["UploadId"] = case["upload_id"]
        params["PartNumber"] = case["part_number"]
        params["CopySourceRange"] = case["range"]
    botocore.handlers.handle_copy_source_param(params)
    request = serializer.serialize_to_request(params, model.operation_model(operation))
    headers = {k.lower(): v for k, v in request["headers"].items()}
    out.append({"method": request["method"], "url_path": request["url_path"],
                "query": request["query_string"], "headers": headers})
print(json.dumps(out))
"#;

fn signer() -> signer::s3::S3Signer {
    S3Config {
        endpoint: "https://s3.us-east-1.amazonaws.com".into(),
        region: "us-east-1".into(),
        addressing: Addressing::Path,
        credentials: Credentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "secret".into(),
            session_token: None,
        },
    }
    .signer()
    .unwrap()
}

#[test]
fn copies_match_botocore() {
    let keys = [
        "uploads/0193a5b0-0000-7000-8000-000000000001/source.mp4",
        "a b+c/ü~%/x.mov",
        "k?=&#!'()*,;:@$",
    ];
    let bucket = BucketName::parse("media").unwrap();
    let source_bucket = BucketName::parse("incoming").unwrap();
    let target = ObjectKey::parse("videos/x/video.mp4").unwrap();
    let mut cases = Vec::new();
    let mut ours = Vec::new();
    let s3 = signer();
    for (i, key) in keys.iter().enumerate() {
        let source_key = ObjectKey::parse(key).unwrap();
        for content_type in [None, Some("video/mp4")] {
            let request = S3Request::CopyObject {
                bucket: &bucket,
                key: &target,
                source_bucket: &source_bucket,
                source_key: &source_key,
                content_type,
            };
            ours.push(
                s3.sign(&request, Vec::new(), Timestamp::UNIX_EPOCH)
                    .unwrap(),
            );
            cases.push(
                json!({"op": "CopyObject", "bucket": "media", "key": target.as_str(),
                "source_bucket": "incoming", "source_key": key, "content_type": content_type}),
            );
        }
        let part = u16::try_from(i + 1).unwrap();
        let request = S3Request::UploadPartCopy {
            bucket: &bucket,
            key: &target,
            upload_id: "2~upload/id+",
            part_number: part,
            source_bucket: &source_bucket,
            source_key: &source_key,
            first: 0,
            last: 5 * 1024 * 1024 * 1024 - 1,
        };
        ours.push(
            s3.sign(&request, Vec::new(), Timestamp::UNIX_EPOCH)
                .unwrap(),
        );
        cases.push(
            json!({"op": "UploadPartCopy", "bucket": "media", "key": target.as_str(),
            "source_bucket": "incoming", "source_key": key, "upload_id": "2~upload/id+",
            "part_number": part, "range": "bytes=0-5368709119"}),
        );
    }
    let oracle: Vec<Value> = serde_json::from_str(&testkit::python_output_with_input(
        ORACLE,
        &[],
        &json!(cases).to_string(),
    ))
    .unwrap();
    assert_eq!(oracle.len(), ours.len());
    for ((theirs, ours), case) in oracle.iter().zip(&ours).zip(&cases) {
        assert_eq!(ours.method().as_str(), theirs["method"], "{case}");
        for (name, value) in theirs["headers"].as_object().unwrap() {
            assert_eq!(
                ours.headers()
                    .get(name.as_str())
                    .map(|v| v.to_str().unwrap()),
                value.as_str(),
                "{name} for {case}"
            );
        }
        let query: Vec<(String, String)> = ours
            .uri()
            .query()
            .unwrap_or_default()
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (k, v) = pair.split_once('=').unwrap();
                let decode = |s: &str| {
                    percent_encoding::percent_decode_str(s)
                        .decode_utf8()
                        .unwrap()
                        .into_owned()
                };
                (decode(k), decode(v))
            })
            .collect();
        for (name, value) in theirs["query"].as_object().unwrap() {
            assert!(
                query.contains(&(
                    name.clone(),
                    value.to_string().trim_matches('"').to_string()
                )),
                "{name}={value} in {query:?} for {case}"
            );
        }
    }
}
