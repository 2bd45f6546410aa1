//! Fixture S3 events → handler → the CreateJob request exactly as it leaves the SDK,
//! captured by a local HTTP endpoint and compared with the reviewed requests in
//! fixtures/expected/. The probe reads real uploads (generated clips) in a real SeaweedFS.
//!
//! The cases: a copied MP4 (its streaming set in a job of its own), a remux and a transcode
//! (one job: the MP4 and the streaming set), a phone video (portrait renditions), a silent
//! source (no audio anywhere), a source whose picture size the probe cannot read (the MP4
//! alone), the streaming set that follows it, sized from that MP4, and a source larger than
//! the resolution cap (transcoded at the cap, its ladder from there).

mod common;

use std::path::{Path, PathBuf};

use common::fakes::bucket;
use common::{Edge, MediaConvertCapture, WEBHOOK_SECRET, clip, ffmpeg, put_file};
use model::{ObjectKey, VideoId};
use origin::clock::SystemClock;
use origin::edge::HttpEdge;
use origin::mediaconvert::{AwsEnv, JobDefaults, MediaConvert, client};
use origin::s3::S3Store;
use origin::{Buckets, Origin, Outcome, Plan};
use serde_json::Value;

type LambdaOrigin = Origin<
    MediaConvert<S3Store<SystemClock>>,
    S3Store<SystemClock>,
    HttpEdge<SystemClock>,
    SystemClock,
>;

const H264_AAC: &[&str] = &["-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac"];

fn fixture(name: &str, video: Option<&str>) -> Value {
    let id = video.map(|v| VideoId::parse(v).unwrap());
    common::fixture(name, id.as_ref())
}

struct Harness {
    origin: LambdaOrigin,
    capture: MediaConvertCapture,
    store: S3Store<SystemClock>,
    edge: Edge,
    dir: PathBuf,
}

impl Harness {
    fn start() -> Harness {
        let weed = testkit::SeaweedFs::shared();
        let store = common::store(&weed.s3_endpoint);
        let capture =
            MediaConvertCapture::start(fixture("mediaconvert-create-job-response.json", None));
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
            caps: origin::media::Caps::default(),
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
        Harness {
            origin,
            capture,
            store,
            edge,
            dir: testkit::temp_dir("origin-create-job"),
        }
    }

    /// A generated 2 s clip.
    fn clip(&self, name: &str, size: &str, args: &[&str]) -> PathBuf {
        clip(&self.dir, name, size, 2, args)
    }

    /// Uploads `file` where the S3 event `event_file` (with `video` as its video) says, and
    /// hands the handler that event; returns its outcome and the event.
    async fn upload(&self, event_file: &str, video: Option<&str>, file: &Path) -> (Outcome, Value) {
        let mut event = fixture(event_file, video);
        let object = &mut event["Records"][0]["s3"]["object"];
        let key = ObjectKey::parse(object["key"].as_str().unwrap()).unwrap();
        put_file(&self.store, "incoming", &key, file).await;
        // The fixture's ETag (and so the ClientRequestToken) stays; its size must be the real one.
        object["size"] = std::fs::metadata(file).unwrap().len().into();
        let mut outcomes = self
            .origin
            .handle(event.clone(), None)
            .await
            .expect("handled");
        assert_eq!(outcomes.len(), 1);
        (outcomes.remove(0), event)
    }

    /// The last CreateJob, checked for its signature and compared with the reviewed request
    /// (rewritten instead when `ORIGIN_UPDATE_EXPECTED` is set).
    fn last_request_is(&self, expected_file: &str) -> Value {
        let requests = self.capture.requests.lock().unwrap().clone();
        let (method, path, headers, body) = requests.last().expect("a CreateJob").clone();
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
        let authorization = header("authorization");
        assert!(
            authorization.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
                && authorization.contains("/us-east-1/mediaconvert/aws4_request"),
            "{headers:?}"
        );
        assert_eq!(header("x-amz-security-token"), "session-token-from-lambda");
        let expected = testkit::workspace_root()
            .join("origin/fixtures/expected")
            .join(expected_file);
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
            "CreateJob body differs from {}",
            expected.display()
        );
        body
    }

    fn create_jobs(&self) -> usize {
        self.capture.requests.lock().unwrap().len()
    }
}

/// One job making what `makes` says (`all`: the MP4 and the streaming set; `mp4`: the MP4
/// alone, the set following); the same event again starts nothing (S3 delivers at least
/// once: the claim remembers the job), and submitting reports nothing to the edge (it shows
/// `processing` already).
async fn one_job(
    h: &Harness,
    video: Option<&str>,
    file: &Path,
    (plan, makes): (Plan, &str),
    expected: &str,
) -> Value {
    let reported = h.edge.events.lock().unwrap().len();
    let (outcome, event) = h.upload("s3-put.json", video, file).await;
    assert!(
        matches!(&outcome, Outcome::Submitted { job_id, plan: p, .. } if job_id == "1735787165123-abc123" && *p == plan),
        "{outcome:?}"
    );
    let body = h.last_request_is(expected);
    assert_eq!(body["userMetadata"]["makes"], makes);
    let before = h.create_jobs();
    let again = h.origin.handle(event, None).await.expect("handled again");
    assert!(
        matches!(&again[..], [Outcome::AlreadyStarted { .. }]),
        "{again:?}"
    );
    assert_eq!(h.create_jobs(), before);
    assert_eq!(h.edge.events.lock().unwrap().len(), reported);
    body
}

#[tokio::test]
async fn fixture_events_make_the_reviewed_create_job_requests() {
    let h = Harness::start();
    // 640x360 H.264/AAC, index at the end (the Put fixture's upload): a remux, the MP4 alone
    // first (it plays in seconds), its 360p/240p ladder in the job that follows.
    let remux = h.clip("remux.mp4", "640x360", H264_AAC);
    one_job(
        &h,
        None,
        &remux,
        (Plan::Remux, "mp4"),
        "create-job-remux.json",
    )
    .await;

    // MPEG-4 Part 2 in an MP4: the probe reads its size, so one job transcodes and streams.
    let mpeg4 = h.clip("mpeg4.mp4", "640x360", &["-c:v", "mpeg4", "-c:a", "aac"]);
    let transcode = Some("0192f3a4-5b6c-7d8e-9f01-000000000002");
    one_job(
        &h,
        transcode,
        &mpeg4,
        (Plan::Transcode, "all"),
        "create-job-transcode.json",
    )
    .await;

    // A phone video: 480x360 coded, a quarter turn shown: portrait renditions, rotated upright.
    let landscape = h.clip(
        "landscape.mp4",
        "480x360",
        &["-c:v", "mpeg4", "-c:a", "aac"],
    );
    let rotated = h.dir.join("rotated.mp4");
    let (from, to) = (landscape.to_str().unwrap(), rotated.to_str().unwrap());
    ffmpeg(&["-i", from, "-c", "copy", "-metadata:s:v:0", "rotate=90", to]);
    let portrait = Some("0192f3a4-5b6c-7d8e-9f01-000000000003");
    one_job(
        &h,
        portrait,
        &rotated,
        (Plan::Transcode, "all"),
        "create-job-portrait.json",
    )
    .await;

    // The same phone video as H.264/AAC: a remux, but MediaConvert drops rotation metadata
    // on passthrough, so its MP4 is encoded upright instead.
    let phone = h.clip("phone.mp4", "480x360", H264_AAC);
    let turned = h.dir.join("turned.mp4");
    let (from, to) = (phone.to_str().unwrap(), turned.to_str().unwrap());
    ffmpeg(&["-i", from, "-c", "copy", "-metadata:s:v:0", "rotate=90", to]);
    let turned_id = Some("0192f3a4-5b6c-7d8e-9f01-000000000005");
    let body = one_job(
        &h,
        turned_id,
        &turned,
        (Plan::Remux, "mp4"),
        "create-job-remux-turned.json",
    )
    .await;
    let mp4 = &body["settings"]["outputGroups"][0]["outputs"][0]["videoDescription"];
    assert_eq!(
        mp4["codecSettings"]["codec"], "H_264",
        "encoded upright, not passed through"
    );

    // No audio track: no audio output in the MP4, no audio group in the ladder.
    let silent = h.dir.join("silent.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x240:rate=25:duration=2",
        "-c:v",
        "mpeg4",
        silent.to_str().unwrap(),
    ]);
    let quiet = Some("0192f3a4-5b6c-7d8e-9f01-000000000004");
    one_job(
        &h,
        quiet,
        &silent,
        (Plan::Transcode, "all"),
        "create-job-silent.json",
    )
    .await;
}

#[tokio::test]
async fn a_copy_makes_its_streaming_set_in_a_job_of_its_own() {
    let h = Harness::start();
    let mut args = H264_AAC.to_vec();
    args.extend(["-movflags", "+faststart"]);
    let fast_start = h.clip("copy.mp4", "640x360", &args);
    let copy = Some("0192f3a4-5b6c-7d8e-9f01-000000000001");
    let (outcome, _) = h.upload("s3-put.json", copy, &fast_start).await;
    assert!(matches!(outcome, Outcome::Ready { .. }), "{outcome:?}");
    let body = h.last_request_is("create-job-copy-ladder.json");
    assert_eq!(body["userMetadata"]["makes"], "streams");
    assert_eq!(h.create_jobs(), 1);
    let statuses: Vec<Value> = h
        .edge
        .events
        .lock()
        .unwrap()
        .iter()
        .map(|e| e.event["status"].clone())
        .collect();
    assert_eq!(statuses, ["ready", "streams"]);
}

#[tokio::test]
async fn a_source_of_unknown_size_gets_its_mp4_first_then_a_ladder_sized_from_it() {
    let h = Harness::start();
    // The multipart fixture's upload: Matroska, which the ranged probe does not read.
    let mkv = h.clip(
        "unknown.mkv",
        "320x240",
        &["-c:v", "mpeg4", "-c:a", "libvorbis"],
    );
    let (outcome, _) = h
        .upload("s3-complete-multipart-upload.json", None, &mkv)
        .await;
    assert!(
        matches!(
            &outcome,
            Outcome::Submitted {
                plan: Plan::Transcode,
                ..
            }
        ),
        "{outcome:?}"
    );
    let body = h.last_request_is("create-job-unknown-size.json");
    assert_eq!(body["userMetadata"]["makes"], "mp4");

    // The job completes: its MP4 (upright, 320x240, with sound) is in place.
    let id = body["userMetadata"]["videoId"].as_str().unwrap();
    let made = h.clip("made.mp4", "320x240", H264_AAC);
    let video = VideoId::parse(id).unwrap();
    put_file(&h.store, "media", &ObjectKey::mp4(&video), &made).await;
    let mut complete = fixture("mediaconvert-complete.json", Some(id));
    let metadata = &mut complete["detail"]["userMetadata"];
    metadata["makes"] = "mp4".into();
    metadata["token"] = body["clientRequestToken"].clone();
    metadata["sourceKey"] = body["userMetadata"]["sourceKey"].clone();
    let outcome = h.origin.handle(complete, None).await.unwrap();
    assert!(
        matches!(&outcome[..], [Outcome::Ready { .. }]),
        "{outcome:?}"
    );
    let ladder = h.last_request_is("create-job-ladder-after-mp4.json");
    assert_eq!(ladder["userMetadata"]["makes"], "streams");
    assert_ne!(ladder["clientRequestToken"], body["clientRequestToken"]);
}

#[tokio::test]
async fn a_picture_over_the_cap_is_transcoded_at_the_cap() {
    let mut h = Harness::start();
    h.origin.caps.max_long_side = 640;
    h.origin.caps.max_short_side = 240;
    // A portrait H.264/AAC MP4, a remux under the default caps: 320x480 is over 240 on its
    // short side, so the MP4 is encoded at 240x360, and the ladder starts there.
    let tall = h.clip("tall.mp4", "320x480", H264_AAC);
    let scaled = Some("0192f3a4-5b6c-7d8e-9f01-000000000006");
    let body = one_job(
        &h,
        scaled,
        &tall,
        (Plan::Transcode, "all"),
        "create-job-scaled-down.json",
    )
    .await;
    let groups = &body["settings"]["outputGroups"];
    let mp4 = &groups[0]["outputs"][0]["videoDescription"];
    assert_eq!(
        (
            &mp4["width"],
            &mp4["height"],
            &mp4["codecSettings"]["codec"]
        ),
        (&240.into(), &360.into(), &"H_264".into())
    );
    let top = &groups[1]["outputs"][0]["videoDescription"];
    assert_eq!((&top["width"], &top["height"]), (&240.into(), &360.into()));
}
