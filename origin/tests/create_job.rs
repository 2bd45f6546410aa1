//! Fixture S3 events → handler → the CreateJob request exactly as it leaves the SDK,
//! captured by a local HTTP endpoint and compared with the reviewed requests in
//! fixtures/expected/. The probe reads the real uploads in a real SeaweedFS.

mod common;

use std::path::PathBuf;

use common::fakes::bucket;
use common::{Edge, MediaConvertCapture, WEBHOOK_SECRET, clip, put_file};
use model::{BucketName, ObjectKey};
use origin::clock::SystemClock;
use origin::edge::HttpEdge;
use origin::mediaconvert::{AwsEnv, JobDefaults, MediaConvert, client};
use origin::transcoder::Source;
use origin::{Buckets, Origin, Outcome, Plan};
use serde_json::Value;

fn fixture(name: &str) -> Value {
    common::fixture(name, None)
}

fn expected_path(name: &str) -> PathBuf {
    testkit::workspace_root()
        .join("origin/fixtures/expected")
        .join(name)
}

#[tokio::test]
async fn fixture_events_make_the_reviewed_create_job_requests() {
    let weed = testkit::SeaweedFs::shared();
    let store = common::store(&weed.s3_endpoint);
    let dir = testkit::temp_dir("origin-create-job");
    // The Put fixture's upload: an MP4, H.264/AAC, index at the end → passthrough (remux).
    let mp4 = clip(
        &dir,
        "a.mp4",
        "320x240",
        2,
        &["-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac"],
    );
    // The multipart fixture's upload: Matroska, which the ranged probe does not read → transcode.
    let mkv = clip(
        &dir,
        "b.mkv",
        "320x240",
        2,
        &["-c:v", "mpeg4", "-c:a", "libvorbis"],
    );

    let capture = MediaConvertCapture::start(fixture("mediaconvert-create-job-response.json"));
    let aws = AwsEnv {
        access_key_id: "AKIDEXAMPLE".into(),
        secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
        session_token: Some("session-token-from-lambda".into()),
        region: "us-east-1".into(),
        endpoint: Some(capture.url.clone()),
    };
    let edge = Edge::start();
    let origin = Origin {
        buckets: Buckets {
            incoming: bucket("incoming"),
            media: bucket("media"),
        },
        transcoder: MediaConvert {
            client: client(&aws),
            defaults: JobDefaults {
                role_arn: "arn:aws:iam::111122223333:role/edgevid-mediaconvert".into(),
                queue_arn: Some(
                    "arn:aws:mediaconvert:us-east-1:111122223333:queues/Default".into(),
                ),
                qvbr_quality: 7,
                max_bitrate: 8_000_000,
            },
            store: store.clone(),
        },
        store: store.clone(),
        edge: HttpEdge::new(
            &edge.url,
            WEBHOOK_SECRET.as_bytes().to_vec().into(),
            reqwest::Client::new(),
            SystemClock,
        ),
        clock: SystemClock,
    };

    let cases = [
        ("s3-put.json", &mp4, "create-job-remux.json", Plan::Remux),
        (
            "s3-complete-multipart-upload.json",
            &mkv,
            "create-job-transcode.json",
            Plan::Transcode,
        ),
    ];
    for (event_file, file, expected_file, plan) in cases {
        let mut event = fixture(event_file);
        let object = &mut event["Records"][0]["s3"]["object"];
        let key = ObjectKey::parse(object["key"].as_str().unwrap()).unwrap();
        put_file(&store, "incoming", &key, file).await;
        // The fixture's ETag (and so the ClientRequestToken) stays; its size must be the real one.
        object["size"] = std::fs::metadata(file).unwrap().len().into();

        let before = capture.requests.lock().unwrap().len();
        let outcomes = origin.handle(event.clone(), None).await.expect("handled");
        assert!(
            matches!(&outcomes[..], [Outcome::Submitted { job_id, plan: p, .. }] if job_id == "1735787165123-abc123" && *p == plan),
            "{outcomes:?}"
        );
        let requests = capture.requests.lock().unwrap().clone();
        assert_eq!(requests.len(), before + 1, "one CreateJob per event");
        let (method, path, headers, body) = requests.last().unwrap().clone();
        assert_eq!(
            (method.as_str(), path.as_str()),
            ("POST", "/2017-08-29/jobs")
        );
        let header = |n: &str| {
            headers
                .iter()
                .find(|(k, _)| k == n)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        assert!(
            header("authorization").starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"),
            "{headers:?}"
        );
        assert!(
            header("authorization").contains("/us-east-1/mediaconvert/aws4_request"),
            "{headers:?}"
        );
        assert_eq!(header("x-amz-security-token"), "session-token-from-lambda");

        let expected = expected_path(expected_file);
        if std::env::var_os("ORIGIN_UPDATE_EXPECTED").is_some() {
            std::fs::write(
                &expected,
                serde_json::to_string_pretty(&body).unwrap() + "\n",
            )
            .unwrap();
        }
        let reviewed: Value = serde_json::from_slice(&std::fs::read(&expected).unwrap()).unwrap();
        assert_eq!(
            body,
            reviewed,
            "CreateJob body for {event_file} differs from {}",
            expected.display()
        );

        // The same event again (S3 delivers at least once): the same request, the same
        // ClientRequestToken, so MediaConvert answers with the first job instead of a second.
        origin.handle(event, None).await.expect("handled again");
        let requests = capture.requests.lock().unwrap().clone();
        assert_eq!(requests.last().unwrap().3, body);
        let source = Source {
            bucket: BucketName::parse("incoming").unwrap(),
            key: key.clone(),
            etag: event_etag(event_file),
            size: 0,
        };
        assert_eq!(body["clientRequestToken"], source.token());
    }
    // Submitting reports nothing to the edge: the edge already shows `processing`.
    assert!(edge.events.lock().unwrap().is_empty());
}

fn event_etag(event_file: &str) -> String {
    fixture(event_file)["Records"][0]["s3"]["object"]["eTag"]
        .as_str()
        .unwrap()
        .trim_matches('"')
        .to_string()
}
