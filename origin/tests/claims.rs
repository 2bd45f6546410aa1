//! One conversion per upload, whatever is retried, against the real edge (its catalog on
//! SQLite, served over HTTP): the same S3 notification delivered again minutes later, and
//! replayed from the dead-letter queue hours later, starts no second MediaConvert job; once
//! the video is ready, nothing about that upload is converted again; an MP4 that plays as
//! it is becomes ready by a server-side copy, its ladder made by a job of its own, and its
//! source goes only when the edge's acknowledgement says the ladder is done.

mod common;

use std::time::Duration;

use common::fakes::bucket;
use common::real_edge::RealEdge;
use common::{MediaConvertCapture, WEBHOOK_SECRET, clip, fixture, put_file};
use model::{ObjectKey, VideoId};
use origin::clock::SystemClock;
use origin::edge::HttpEdge;
use origin::event::{NewObject, s3_event_json};
use origin::mediaconvert::{AwsEnv, JobDefaults, MediaConvert, client};
use origin::s3::S3Store;
use origin::store::ObjectStore;
use origin::{Buckets, Origin, Outcome};
use serde_json::{Value, json};

const H264_AAC: [&str; 6] = ["-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac"];

type LambdaOrigin = Origin<
    MediaConvert<S3Store<SystemClock>>,
    S3Store<SystemClock>,
    HttpEdge<common::real_edge::SharedClock>,
    common::real_edge::SharedClock,
>;

struct Harness {
    edge: RealEdge,
    origin: LambdaOrigin,
    capture: MediaConvertCapture,
    store: S3Store<SystemClock>,
    http: reqwest::Client,
}

impl Harness {
    async fn start() -> Harness {
        let weed = testkit::SeaweedFs::shared();
        let edge = RealEdge::start(weed);
        let store = common::store(&weed.s3_endpoint);
        let capture =
            MediaConvertCapture::start(fixture("mediaconvert-create-job-response.json", None));
        let aws = AwsEnv {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "secret".into(),
            session_token: None,
            region: "us-east-1".into(),
            endpoint: Some(capture.url.clone()),
        };
        let origin = Origin {
            buckets: Buckets {
                incoming: bucket("incoming"),
                media: bucket("media"),
            },
            caps: origin::media::Caps::default(),
            transcoder: MediaConvert {
                client: client(&aws),
                defaults: JobDefaults {
                    role_arn: "arn:aws:iam::111122223333:role/mc".into(),
                    queue_arn: None,
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
                edge.clock.clone(),
            ),
            clock: edge.clock.clone(),
        };
        Harness {
            edge,
            origin,
            capture,
            store,
            http: reqwest::Client::new(),
        }
    }

    /// A fresh access token of the dev admin (the tests move the clock past any token's life).
    async fn token(&self) -> String {
        let signed_in = call(
            self.http.post(format!("{}/api/auth", self.edge.url)),
            Some(json!({"email": "admin@localhost", "password": "admin"})),
        )
        .await;
        signed_in["token"].as_str().expect("signed in").to_string()
    }

    /// Creates a video, uploads `file` to its presigned URL as a browser would, and returns
    /// the video id, its source key, and the S3 notification AWS would send.
    async fn upload(&self, file: &std::path::Path, file_type: &str) -> (VideoId, ObjectKey, Value) {
        let size = std::fs::metadata(file).unwrap().len();
        let name = file.file_name().unwrap().to_str().unwrap();
        let created = call(
            self.http
                .post(format!("{}/api/videos", self.edge.url))
                .bearer_auth(self.token().await),
            Some(json!({"fileName": name, "fileSize": size, "fileType": file_type})),
        )
        .await;
        let upload = &created["upload"];
        let mut put = self
            .http
            .put(upload["uploadUrl"].as_str().expect("a single PUT"))
            .body(std::fs::read(file).unwrap());
        for (name, value) in upload["headers"].as_object().unwrap() {
            put = put.header(name, value.as_str().unwrap());
        }
        assert!(put.send().await.unwrap().status().is_success());
        let id = VideoId::parse(created["video"]["id"].as_str().unwrap()).unwrap();
        let key = ObjectKey::parse(created["key"].as_str().unwrap()).unwrap();
        let meta = self
            .store
            .head(&bucket("incoming"), &key)
            .await
            .unwrap()
            .unwrap();
        let object = NewObject {
            region: "us-east-1",
            bucket: &bucket("incoming"),
            key: &key,
            size: meta.size,
            etag: &meta.etag,
        };
        let event = s3_event_json(&object, model::Timestamp::from_system_time(testkit::now()));
        (id, key, event)
    }

    async fn video(&self, id: &VideoId) -> Value {
        let answer = call(
            self.http
                .get(format!("{}/api/videos/{id}", self.edge.url))
                .bearer_auth(self.token().await),
            None,
        )
        .await;
        answer["video"].clone()
    }

    fn create_jobs(&self) -> usize {
        self.capture.requests.lock().unwrap().len()
    }

    async fn source_exists(&self, key: &ObjectKey) -> bool {
        self.store
            .head(&bucket("incoming"), key)
            .await
            .unwrap()
            .is_some()
    }

    /// What a finished ladder job leaves: the master playlist and the poster's frame capture.
    async fn ladder_written(&self, id: &VideoId) {
        let media = bucket("media");
        let master = ObjectKey::hls_master(id);
        let capture = ObjectKey::output(id, "poster.0000000.jpg").unwrap();
        for (key, bytes) in [(master, &b"#EXTM3U\n"[..]), (capture, &b"\xff\xd8"[..])] {
            self.store
                .put_bytes(&media, &key, bytes.to_vec(), "application/octet-stream")
                .await
                .unwrap();
        }
    }
}

/// A JSON call to the edge; its answer.
async fn call(request: reqwest::RequestBuilder, body: Option<Value>) -> Value {
    let request = match body {
        Some(body) => request
            .header("content-type", "application/json")
            .body(body.to_string()),
        None => request,
    };
    let bytes = request.send().await.unwrap().bytes().await.unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_job_per_upload_whatever_is_retried_or_replayed() {
    let h = Harness::start().await;
    let dir = testkit::temp_dir("origin-claims");
    // H.264/AAC with the index at the end: one job remuxes it and makes its ladder.
    let file = clip(&dir, "clip.mp4", "320x240", 2, &H264_AAC);
    let (id, key, event) = h.upload(&file, "video/mp4").await;

    let first = h.origin.handle(event.clone(), None).await.unwrap();
    assert!(
        matches!(&first[..], [Outcome::Submitted { job_id, .. }] if job_id == "1735787165123-abc123"),
        "{first:?}"
    );
    assert_eq!(h.create_jobs(), 1);
    assert_eq!(h.video(&id).await["status"], "processing");

    // S3 delivers again ten minutes later (well past MediaConvert's one-minute token window),
    // then the event is replayed from the dead-letter queue six hours later.
    for later in [Duration::from_secs(600), Duration::from_secs(6 * 3600)] {
        h.edge.clock.advance(later);
        let again = h.origin.handle(event.clone(), None).await.unwrap();
        assert_eq!(
            again,
            [Outcome::AlreadyStarted {
                video_id: id.clone(),
                job_id: "1735787165123-abc123".into()
            }],
            "after {later:?}"
        );
        assert_eq!(h.create_jobs(), 1, "no second job after {later:?}");
    }

    // The job completes: its outputs are in place, EventBridge reports COMPLETE.
    put_file(&h.store, "media", &ObjectKey::mp4(&id), &file).await;
    h.ladder_written(&id).await;
    let mut complete = fixture("mediaconvert-complete.json", Some(&id));
    complete["detail"]["userMetadata"]["sourceKey"] = key.as_str().into();
    let outcome = h.origin.handle(complete, None).await.unwrap();
    assert!(
        matches!(&outcome[..], [Outcome::Ready { .. }]),
        "{outcome:?}"
    );
    assert_eq!(h.video(&id).await["status"], "ready");
    assert!(
        !h.source_exists(&key).await,
        "the source went once ready (with its ladder) was acknowledged"
    );

    // Replayed once more after that: the catalog expects nothing of this upload any more.
    let late = h.origin.handle(event, None).await.unwrap();
    assert!(
        matches!(&late[..], [Outcome::NotExpected { reason, .. }] if reason.contains("ready")),
        "{late:?}"
    );
    assert_eq!(h.create_jobs(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copied_mp4_keeps_its_source_until_its_ladder_is_done() {
    let h = Harness::start().await;
    let dir = testkit::temp_dir("origin-claims-ladder");
    let mut args = H264_AAC.to_vec();
    args.extend(["-movflags", "+faststart"]);
    let file = clip(&dir, "clip.mp4", "320x240", 2, &args);
    let (id, key, event) = h.upload(&file, "video/mp4").await;
    let outcome = h.origin.handle(event, None).await.unwrap();
    assert!(
        matches!(&outcome[..], [Outcome::Ready { .. }]),
        "{outcome:?}"
    );
    assert_eq!(h.create_jobs(), 1, "the ladder's job");
    let video = h.video(&id).await;
    assert_eq!(video["status"], "ready", "it plays at once");
    assert_eq!(video["streams"]["ladder"], "processing");
    assert!(h.source_exists(&key).await, "the ladder is made from it");

    // The ladder's job completes.
    h.ladder_written(&id).await;
    let mut complete = fixture("mediaconvert-complete.json", Some(&id));
    let detail = &mut complete["detail"];
    detail["userMetadata"]["sourceKey"] = key.as_str().into();
    detail["userMetadata"]["makes"] = "streams".into();
    detail["outputGroupDetails"]
        .as_array_mut()
        .unwrap()
        .retain(|g| !g.to_string().contains("video.mp4"));
    let outcome = h.origin.handle(complete.clone(), None).await.unwrap();
    assert!(
        matches!(&outcome[..], [Outcome::StreamsReady { .. }]),
        "{outcome:?}"
    );
    assert_eq!(h.video(&id).await["streams"]["ladder"], "ready");
    assert!(
        !h.source_exists(&key).await,
        "gone once the ladder was acknowledged"
    );
    // Redelivered: a replay the edge recognises, nothing changes.
    h.origin.handle(complete, None).await.unwrap();
    assert_eq!(h.video(&id).await["streams"]["ladder"], "ready");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fast_start_mp4_is_ready_by_copy_and_a_replayed_put_cannot_swap_it() {
    let h = Harness::start().await;
    let dir = testkit::temp_dir("origin-claims-copy");
    let mut args = H264_AAC.to_vec();
    args.extend(["-movflags", "+faststart"]);
    let file = clip(&dir, "clip.mp4", "320x240", 2, &args);
    let (id, key, event) = h.upload(&file, "video/mp4").await;

    let outcome = h.origin.handle(event.clone(), None).await.unwrap();
    assert!(
        matches!(&outcome[..], [Outcome::Ready { .. }]),
        "{outcome:?}"
    );
    assert_eq!(h.create_jobs(), 1, "no job for the MP4; one for its ladder");
    let video = h.video(&id).await;
    assert_eq!(video["status"], "ready");
    assert_eq!(
        (&video["width"], &video["height"]),
        (&json!(320), &json!(240))
    );
    let copied = dir.join("copied.mp4");
    h.store
        .download(&bucket("media"), &ObjectKey::mp4(&id), &copied)
        .await
        .unwrap();
    assert!(std::fs::read(&copied).unwrap() == std::fs::read(&file).unwrap());

    // Someone replays the presigned PUT with other bytes: S3 announces a new object version.
    let other = dir.join("other.mp4");
    std::fs::write(&other, b"not the published video").unwrap();
    put_file(&h.store, "incoming", &key, &other).await;
    let meta = h
        .store
        .head(&bucket("incoming"), &key)
        .await
        .unwrap()
        .unwrap();
    let replay = s3_event_json(
        &NewObject {
            region: "us-east-1",
            bucket: &bucket("incoming"),
            key: &key,
            size: meta.size,
            etag: &meta.etag,
        },
        model::Timestamp::from_system_time(testkit::now()),
    );
    let outcome = h.origin.handle(replay, None).await.unwrap();
    assert!(
        matches!(&outcome[..], [Outcome::NotExpected { .. }]),
        "{outcome:?}"
    );
    h.store
        .download(&bucket("media"), &ObjectKey::mp4(&id), &copied)
        .await
        .unwrap();
    assert!(
        std::fs::read(&copied).unwrap() == std::fs::read(&file).unwrap(),
        "the published video is unchanged"
    );
    let _ = event;
}
