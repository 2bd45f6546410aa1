//! The whole router on the native shell: SQLite from the real migrations, a real SeaweedFS,
//! and a clock the test can move. Requests go through `App::serve`, as a client's would.
#![allow(dead_code)] // each test binary uses a different part of this harness

use edge::app::App;
use edge::config::Config;
use edge::platform::native::{NativeClock, NativePlatform, RateLimits, Sqlite};
use edge::ports::Platform;
use http::{Method, StatusCode};
use model::{BucketName, ObjectKey, Timestamp};
use serde_json::Value;
use signer::s3::{Addressing, Credentials, S3Config, S3Request, S3Signer};
use std::cell::RefCell;
use std::collections::HashMap;
use std::time::Duration;
use testkit::SeaweedFs;

pub const WEBHOOK_SECRET: &str = "test-webhook-secret";
pub const EDGE_TOKEN_SECRET: &str = "test-edge-token-secret";
pub const ADMIN_EMAIL: &str = "admin@localhost";
pub const ADMIN_PASSWORD: &str = "admin";
pub const BASE: &str = "http://127.0.0.1:8787";
/// wrangler.toml's UPLOAD_LIMITER: videos a user may create per minute.
pub const UPLOADS_PER_MINUTE: usize = 60;

/// The settings of a dev stack pointed at the test's SeaweedFS.
pub fn dev_settings(weed: &SeaweedFs) -> HashMap<String, String> {
    [
        ("ENVIRONMENT", "development"),
        ("S3_ENDPOINT", weed.s3_endpoint.as_str()),
        ("S3_REGION", testkit::S3_REGION),
        ("S3_ACCESS_KEY_ID", testkit::S3_ACCESS_KEY),
        ("S3_SECRET_ACCESS_KEY", testkit::S3_SECRET_KEY),
        (
            "JWT_SIGNING_KEY",
            "K7soNXAvUHVRyBiAl/ukGcJWe2dy8AcrKDcbrCEKGuI=",
        ),
        ("WEBHOOK_SECRET", WEBHOOK_SECRET),
        ("EDGE_TOKEN_SECRET", EDGE_TOKEN_SECRET),
        ("ALLOWED_ORIGINS", "http://app.example"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// Turns dev settings into production ones: production refuses published and short secrets,
/// so every secret gets a value of its own (and S3 the second identity SeaweedFS knows).
pub fn make_production(settings: &mut HashMap<String, String>) {
    for (name, value) in [
        ("ENVIRONMENT", "production"),
        (
            "JWT_SIGNING_KEY",
            "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=",
        ),
        ("WEBHOOK_SECRET", "production-webhook-secret-0123456789"),
        (
            "EDGE_TOKEN_SECRET",
            "production-edge-token-secret-0123456789",
        ),
        ("S3_ACCESS_KEY_ID", testkit::S3_OTHER_ACCESS_KEY),
        ("S3_SECRET_ACCESS_KEY", testkit::S3_OTHER_SECRET_KEY),
    ] {
        settings.insert(name.into(), value.into());
    }
}

/// The video id in a create answer.
pub fn id_of(created: &Value) -> String {
    created["video"]["id"]
        .as_str()
        .expect("video id")
        .to_string()
}

/// The headers a client must send with a single-PUT upload.
pub fn headers_of(upload: &Value) -> Vec<(String, String)> {
    upload["headers"]
        .as_object()
        .expect("headers")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
        .collect()
}

/// A video row of `owner`'s whose conversion failed, with no objects: for tests that need
/// many videos and no bytes.
pub fn video_row(owner: &model::UserId, n: u32) -> edge::catalog::VideoRow {
    let now = wall_clock();
    let mut random = [0u8; 10];
    random[..4].copy_from_slice(&n.to_be_bytes());
    let id = model::VideoId::new(now, random);
    let file_name = model::FileName::parse("row.mp4").unwrap();
    edge::catalog::VideoRow {
        source_key: ObjectKey::source(&id, file_name.container()),
        id,
        owner: owner.clone(),
        title: model::Title::from_file_name(&file_name),
        file_name,
        file_size: 1,
        file_type: model::FileType::parse("video/mp4").unwrap(),
        status: model::VideoStatus::Failed,
        progress: None,
        error: Some("test row".into()),
        upload_id: None,
        output_key: None,
        duration_ms: None,
        width: None,
        height: None,
        hls_key: None,
        poster_key: None,
        storyboard_key: None,
        streams_state: None,
        streams_progress: None,
        streams_error: None,
        created_at: now,
        updated_at: now,
    }
}

/// The wall clock: SeaweedFS checks signatures against its own.
pub fn wall_clock() -> Timestamp {
    Timestamp::from_system_time(testkit::now())
}

/// One request through the app and its answer, kept for checks against the OpenAPI document.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Exchange {
    pub method: String,
    pub path: String,
    pub status: u16,
    pub content_type: Option<String>,
    pub body: String,
}

pub struct TestApp {
    pub app: App<NativePlatform>,
    pub clock: NativeClock,
    pub weed: &'static SeaweedFs,
    pub http: reqwest::Client,
    /// Every exchange so far, in order.
    pub exchanges: RefCell<Vec<Exchange>>,
}

/// A response as a client sees it.
pub struct Answer {
    pub status: StatusCode,
    pub headers: http::HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// The error code of a failure envelope.
    pub fn code(&self) -> String {
        let json = self.json();
        assert_eq!(json["success"], false, "expected a failure: {json}");
        json["error"]["code"]
            .as_str()
            .expect("error.code")
            .to_string()
    }

    /// Asserts the status (showing the body when it differs) and hands the answer on.
    pub fn expect(self, status: StatusCode) -> Answer {
        assert_eq!(
            self.status,
            status,
            "{}",
            String::from_utf8_lossy(&self.body)
        );
        self
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl TestApp {
    pub fn new() -> TestApp {
        Self::with(|_| {})
    }

    /// A dev app whose settings `adjust` may change.
    pub fn with(adjust: impl FnOnce(&mut HashMap<String, String>)) -> TestApp {
        let weed = SeaweedFs::shared();
        let mut settings = dev_settings(weed);
        adjust(&mut settings);
        let config = Config::from_lookup(|name| settings.get(name).cloned()).expect("valid config");
        // Real time: SeaweedFS checks signatures against its own clock.
        let clock = NativeClock::fixed(wall_clock());
        let platform = NativePlatform::new(
            Sqlite::in_memory(&testkit::workspace_root().join("migrations"))
                .expect("sqlite with migrations"),
            clock.clone(),
            RateLimits::new(UPLOADS_PER_MINUTE),
        );
        TestApp {
            app: App::new(config, platform),
            clock,
            weed,
            http: reqwest::Client::new(),
            exchanges: RefCell::new(Vec::new()),
        }
    }

    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }

    pub fn now_secs(&self) -> i64 {
        self.app.platform.now().unix_secs()
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Answer {
        let method_name = method.to_string();
        let mut builder = http::Request::builder()
            .method(method)
            .uri(format!("{BASE}{path}"));
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let response = self
            .app
            .serve_buffered(builder.body(body).expect("valid request"))
            .await;
        let (parts, body) = response.into_parts();
        self.exchanges.borrow_mut().push(Exchange {
            method: method_name,
            path: path.to_string(),
            status: parts.status.as_u16(),
            content_type: parts
                .headers
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
            body: String::from_utf8_lossy(&body).into_owned(),
        });
        Answer {
            status: parts.status,
            headers: parts.headers,
            body,
        }
    }

    /// A JSON call with an optional bearer token.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let bearer = token.map(|t| format!("Bearer {t}"));
        let mut headers = vec![
            ("content-type", "application/json"),
            ("cf-connecting-ip", "127.0.0.1"),
        ];
        if let Some(bearer) = &bearer {
            headers.push(("authorization", bearer.as_str()));
        }
        let body = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        self.request(method, path, &headers, body).await
    }

    pub async fn sign_in(&self, email: &str, password: &str) -> String {
        let answer = self
            .call(
                Method::POST,
                "/api/auth",
                None,
                Some(serde_json::json!({ "email": email, "password": password })),
            )
            .await
            .expect(StatusCode::OK);
        answer.json()["token"].as_str().expect("token").to_string()
    }

    pub async fn admin(&self) -> String {
        self.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await
    }

    /// A new member (created by the admin) and their token.
    pub async fn member(&self, email: &str) -> String {
        let admin = self.admin().await;
        self
            .call(
                Method::POST,
                "/api/users",
                Some(&admin),
                Some(serde_json::json!({ "email": email, "password": "member-password", "role": "member" })),
            )
            .await
            .expect(StatusCode::CREATED);
        self.sign_in(email, "member-password").await
    }

    /// Creates a video and returns the create answer's JSON.
    pub async fn create_video(&self, token: &str, file_name: &str, size: u64) -> Value {
        let answer = self
            .call(
                Method::POST,
                "/api/videos",
                Some(token),
                Some(serde_json::json!({ "fileName": file_name, "fileSize": size, "fileType": "video/mp4" })),
            )
            .await
            .expect(StatusCode::CREATED);
        answer.json()
    }

    /// PUTs bytes to a presigned URL with the given headers, as a browser would.
    pub async fn put(
        &self,
        url: &str,
        headers: &[(String, String)],
        body: Vec<u8>,
    ) -> (u16, Option<String>) {
        let mut request = self.http.put(url).body(body);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let response = request.send().await.expect("PUT reaches SeaweedFS");
        let etag = response
            .headers()
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        (response.status().as_u16(), etag)
    }

    /// Uploads a small video through its presigned single PUT and completes it.
    pub async fn uploaded_video(&self, token: &str, bytes: Vec<u8>) -> String {
        let created = self
            .create_video(token, "clip.mp4", bytes.len() as u64)
            .await;
        let upload = &created["upload"];
        let (status, _) = self
            .put(
                upload["uploadUrl"].as_str().expect("url"),
                &headers_of(upload),
                bytes,
            )
            .await;
        assert_eq!(status, 200);
        let id = id_of(&created);
        self.complete(token, &id, None).await.expect(StatusCode::OK);
        id
    }

    /// `POST /api/videos/{id}/complete`, with the parts of a multipart upload if given.
    pub async fn complete(&self, token: &str, id: &str, body: Option<Value>) -> Answer {
        self.call(
            Method::POST,
            &format!("/api/videos/{id}/complete"),
            Some(token),
            body,
        )
        .await
    }

    /// Sends a signed job event as the origin does.
    pub async fn job_event(&self, event: &Value) -> Answer {
        self.job_event_signed(WEBHOOK_SECRET, self.now_secs(), event)
            .await
    }

    /// Sends a job event signed with `secret` at `timestamp`.
    pub async fn job_event_signed(&self, secret: &str, timestamp: i64, event: &Value) -> Answer {
        self.internal("/api/internal/jobs", secret, timestamp, event)
            .await
    }

    /// Asks for a claim on an upload, as the origin does.
    pub async fn claim(&self, claim: &Value) -> Answer {
        self.internal(
            "/api/internal/claims",
            WEBHOOK_SECRET,
            self.now_secs(),
            claim,
        )
        .await
    }

    /// A signed call to one of the origin's endpoints.
    pub async fn internal(&self, path: &str, secret: &str, timestamp: i64, body: &Value) -> Answer {
        let body = body.to_string().into_bytes();
        let signature = signer::webhook::sign(
            secret.as_bytes(),
            Timestamp::from_unix_secs(timestamp),
            &body,
        );
        self.request(
            Method::POST,
            path,
            &[
                ("content-type", "application/json"),
                ("x-signature", &signature),
            ],
            body,
        )
        .await
    }

    /// Our own S3 access, with the dev identity, to look into the buckets directly.
    fn s3(&self) -> S3Signer {
        S3Config {
            endpoint: self.weed.s3_endpoint.clone(),
            region: testkit::S3_REGION.into(),
            addressing: Addressing::Path,
            credentials: Credentials {
                access_key_id: testkit::S3_ACCESS_KEY.into(),
                secret_access_key: testkit::S3_SECRET_KEY.into(),
                session_token: None,
            },
        }
        .signer()
        .expect("the dev identity signs")
    }

    /// Signs `request` with the dev identity, sends it to SeaweedFS, returns the status.
    pub async fn s3_status(&self, request: &S3Request<'_>) -> u16 {
        self.s3_call(request, Vec::new()).await
    }

    /// Like `s3_status`, with a request body.
    pub async fn s3_call(&self, request: &S3Request<'_>, body: Vec<u8>) -> u16 {
        let signed = self.s3().sign(request, body, wall_clock()).expect("sign");
        let signed = reqwest::Request::try_from(signed.map(reqwest::Body::from)).expect("request");
        self.http
            .execute(signed)
            .await
            .expect("S3 answers")
            .status()
            .as_u16()
    }

    pub async fn object_exists(&self, bucket: &str, key: &str) -> bool {
        let bucket = BucketName::parse(bucket).unwrap();
        let key = ObjectKey::parse(key).unwrap();
        self.s3_status(&S3Request::HeadObject {
            bucket: &bucket,
            key: &key,
        })
        .await
            == 200
    }

    /// Writes an object straight into a bucket (what the origin would write).
    pub async fn put_object(&self, bucket: &str, key: &str, body: &[u8]) {
        let bucket = BucketName::parse(bucket).unwrap();
        let key = ObjectKey::parse(key).unwrap();
        let request = S3Request::PutObject {
            bucket: &bucket,
            key: &key,
            content_length: body.len() as u64,
            content_type: "video/mp4",
            create_only: false,
        };
        let signed = self
            .s3()
            .presign(&request, wall_clock(), Duration::from_secs(60))
            .unwrap();
        let (status, _) = self.put(&signed.url, &signed.headers, body.to_vec()).await;
        assert_eq!(status, 200);
    }

    /// The playback URL of a ready video.
    pub async fn playback_url(&self, token: &str, id: &str) -> String {
        let answer = self
            .call(
                Method::GET,
                &format!("/api/videos/{id}/playback"),
                Some(token),
                None,
            )
            .await
            .expect(StatusCode::OK);
        answer.json()["url"].as_str().expect("url").to_string()
    }

    /// What the origin does when a conversion succeeds: the MP4 in media, then `ready`.
    pub async fn finish_conversion(&self, id: &str, mp4: &[u8]) {
        let output = format!("videos/{id}/video.mp4");
        self.put_object("media", &output, mp4).await;
        let event = serde_json::json!({ "eventId": format!("{id}-ready"), "videoId": id,
            "status": "ready", "outputKey": output, "durationMs": 4000, "width": 1280, "height": 720 });
        self.job_event(&event).await.expect(StatusCode::OK);
    }

    /// What the origin does when a ladder is made: a small HLS layout (a master playlist
    /// with an audio group and two renditions, fMP4 init and segments), a poster and a
    /// storyboard in media, then `ready` with its streams. Returns every file written, by
    /// key, so tests can compare what players fetch.
    pub async fn finish_ladder(&self, id: &str) -> HashMap<String, Vec<u8>> {
        let mut files: HashMap<String, Vec<u8>> = HashMap::new();
        let master = "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n\
            #EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"aud\",NAME=\"audio\",DEFAULT=YES,AUTOSELECT=YES,URI=\"audio/index.m3u8\"\n\
            #EXT-X-STREAM-INF:BANDWIDTH=3200000,RESOLUTION=1280x720,CODECS=\"avc1.64001f,mp4a.40.2\",AUDIO=\"aud\"\n\
            720p/index.m3u8\n\
            #EXT-X-STREAM-INF:BANDWIDTH=500000,RESOLUTION=426x240,CODECS=\"avc1.640015,mp4a.40.2\",AUDIO=\"aud\"\n\
            240p/index.m3u8\n";
        files.insert(format!("videos/{id}/hls/index.m3u8"), master.into());
        for rendition in ["720p", "240p", "audio"] {
            let dir = format!("videos/{id}/hls/{rendition}");
            let mut playlist = String::from(
                "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:6\n#EXT-X-PLAYLIST-TYPE:VOD\n\
                 #EXT-X-MAP:URI=\"init.mp4\"\n",
            );
            files.insert(
                format!("{dir}/init.mp4"),
                format!("init {rendition}").into(),
            );
            for n in 0..3 {
                playlist.push_str(&format!("#EXTINF:6.000,\nseg_{n:03}.m4s\n"));
                let bytes: Vec<u8> = format!("{rendition} segment {n} ").repeat(40).into();
                files.insert(format!("{dir}/seg_{n:03}.m4s"), bytes);
            }
            playlist.push_str("#EXT-X-ENDLIST\n");
            files.insert(format!("{dir}/index.m3u8"), playlist.into());
        }
        files.insert(
            format!("videos/{id}/poster.jpg"),
            b"\xff\xd8 poster".to_vec(),
        );
        files.insert(
            format!("videos/{id}/storyboard.jpg"),
            b"\xff\xd8 sprite".to_vec(),
        );
        let storyboard = model::storyboard::Storyboard::new(18_000, 1280, 720);
        files.insert(
            format!("videos/{id}/storyboard.vtt"),
            storyboard.vtt("storyboard.jpg").into(),
        );
        files.insert(format!("videos/{id}/video.mp4"), b"mp4 bytes".to_vec());
        for (key, bytes) in &files {
            self.put_object("media", key, bytes).await;
        }
        let event = serde_json::json!({ "eventId": format!("{id}-ready"), "videoId": id,
            "status": "ready", "outputKey": format!("videos/{id}/video.mp4"),
            "durationMs": 18000, "width": 1280, "height": 720,
            "hlsKey": format!("videos/{id}/hls/index.m3u8"),
            "posterKey": format!("videos/{id}/poster.jpg"),
            "storyboardKey": format!("videos/{id}/storyboard.vtt") });
        self.job_event(&event).await.expect(StatusCode::OK);
        files
    }
}
