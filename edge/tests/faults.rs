//! Object storage failing under the edge: a fault proxy in front of the real SeaweedFS
//! answers chosen requests with 500 or 503, drops them or delays them. What is safe to
//! repeat is repeated once; what still fails is a clear 502 (`storage_unavailable`) or 503
//! (`storage_busy`, with `Retry-After`), and nothing is left half-written: no video row
//! without its upload, no upload stuck half-completed, no objects without a row.

mod common;

use common::{TestApp, headers_of, id_of};
use http::{Method, StatusCode};
use std::sync::OnceLock;
use std::time::Duration;
use testkit::{Fault, FaultProxy, SeaweedFs};

const MIB: u64 = 1024 * 1024;

fn proxy() -> &'static FaultProxy {
    static PROXY: OnceLock<FaultProxy> = OnceLock::new();
    PROXY.get_or_init(|| FaultProxy::start(SeaweedFs::shared().s3_port))
}

/// An app whose S3 calls (and presigned URLs) go through a fault proxy of its own.
fn app_behind(proxy: &FaultProxy) -> TestApp {
    let endpoint = proxy.endpoint();
    TestApp::with(|s| {
        s.insert("S3_ENDPOINT".into(), endpoint);
    })
}

/// How many of the proxy's requests so far match `what` (`METHOD` and a part of the path).
fn count(seen: &[String], method: &str, query: &str) -> usize {
    seen.iter()
        .filter(|r| r.starts_with(method) && r.contains(query))
        .count()
}

async fn listed(app: &TestApp, token: &str) -> usize {
    app.call(Method::GET, "/api/videos", Some(token), None)
        .await
        .json()["videos"]
        .as_array()
        .unwrap()
        .len()
}

// One proxy per test binary run, shared by tests run in sequence: every test plans and
// inspects its own requests, so they take turns.
static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test]
async fn one_failure_is_retried_and_the_client_never_sees_it() {
    let _turn = TURN.lock().await;
    let proxy = proxy();
    let app = app_behind(proxy);
    let token = app.admin().await;
    let created = app.create_video(&token, "big.mp4", 60 * MIB).await;
    let parts = format!("/api/videos/{}/parts", id_of(&created));
    for fault in [
        Fault::Status(500, "InternalError"),
        Fault::Status(503, "SlowDown"),
        Fault::Drop,
    ] {
        proxy.take_seen();
        proxy.plan([fault.clone()]);
        let answer = app.call(Method::GET, &parts, Some(&token), None).await;
        assert_eq!(answer.status, StatusCode::OK, "{fault:?}");
        assert_eq!(
            count(&proxy.take_seen(), "GET", "uploadId="),
            2,
            "{fault:?}"
        );
    }
    // A slow store is only slow.
    proxy.plan([Fault::Delay(Duration::from_millis(800))]);
    app.call(Method::GET, &parts, Some(&token), None)
        .await
        .expect(StatusCode::OK);
    assert_eq!(count(&proxy.take_seen(), "GET", "uploadId="), 1);
    proxy.clear();
}

#[tokio::test]
async fn a_store_that_stays_down_is_a_clear_5xx_and_nothing_is_half_written() {
    let _turn = TURN.lock().await;
    let proxy = proxy();
    let app = app_behind(proxy);
    let token = app.admin().await;

    // Starting a multipart upload is not repeated (each start opens another): one failure
    // is the client's 502, and no video is left without its upload.
    proxy.plan([Fault::Status(500, "InternalError")]);
    let refused = app
        .call(
            Method::POST,
            "/api/videos",
            Some(&token),
            Some(serde_json::json!({ "fileName": "a.mp4", "fileSize": 60 * MIB, "fileType": "video/mp4" })),
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_GATEWAY);
    assert_eq!(refused.code(), "storage_unavailable");
    assert_eq!(listed(&app, &token).await, 0);

    // Completing while the store is down: the video stays uploading, and completes later.
    let created = app.create_video(&token, "clip.mp4", 10).await;
    let id = id_of(&created);
    let upload = &created["upload"];
    let (status, _) = app
        .put(
            upload["uploadUrl"].as_str().unwrap(),
            &headers_of(upload),
            vec![1; 10],
        )
        .await;
    assert_eq!(status, 200);
    proxy.plan([
        Fault::Status(500, "InternalError"),
        Fault::Status(500, "InternalError"),
    ]);
    let failed = app.complete(&token, &id, None).await;
    assert_eq!(failed.status, StatusCode::BAD_GATEWAY);
    let video = app
        .call(
            Method::GET,
            &format!("/api/videos/{id}"),
            Some(&token),
            None,
        )
        .await
        .json();
    assert_eq!(video["video"]["status"], "uploading");
    app.complete(&token, &id, None).await.expect(StatusCode::OK);

    // Deleting while the store is overloaded: 503 with Retry-After, and the video is still
    // there (with all its objects) to delete again.
    app.finish_conversion(&id, b"mp4").await;
    proxy.plan([
        Fault::Status(503, "SlowDown"),
        Fault::Status(503, "SlowDown"),
    ]);
    let busy = app
        .call(
            Method::DELETE,
            &format!("/api/videos/{id}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(busy.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(busy.code(), "storage_busy");
    assert_eq!(busy.header("retry-after"), Some("1"));
    assert_eq!(listed(&app, &token).await, 1);
    assert!(
        app.object_exists("media", &format!("videos/{id}/video.mp4"))
            .await
    );
    app.call(
        Method::DELETE,
        &format!("/api/videos/{id}"),
        Some(&token),
        None,
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(listed(&app, &token).await, 0);
    assert!(
        !app.object_exists("media", &format!("videos/{id}/video.mp4"))
            .await
    );
    assert!(
        !app.object_exists("incoming", &format!("uploads/{id}/source.mp4"))
            .await
    );
    proxy.clear();
}

#[tokio::test]
async fn edge_playback_answers_a_failing_store_with_a_clear_code() {
    let _turn = TURN.lock().await;
    let proxy = proxy();
    let endpoint = proxy.endpoint();
    let app = TestApp::with(|s| {
        s.insert("S3_ENDPOINT".into(), endpoint);
        s.insert("PLAYBACK_MODE".into(), "edge".into());
    });
    let token = app.admin().await;
    let id = app.uploaded_video(&token, vec![1; 64]).await;
    app.finish_conversion(&id, b"0123456789").await;
    let url = app.playback_url(&token, &id).await;
    let path = url.strip_prefix(common::BASE).unwrap().to_string();
    proxy.plan([Fault::Status(503, "SlowDown")]);
    let busy = app.request(Method::GET, &path, &[], Vec::new()).await;
    assert_eq!(busy.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(busy.code(), "storage_busy");
    assert_eq!(busy.header("cache-control"), Some("no-store"));
    proxy.plan([Fault::Drop]);
    let down = app.request(Method::GET, &path, &[], Vec::new()).await;
    assert_eq!(down.status, StatusCode::BAD_GATEWAY);
    let fine = app.request(Method::GET, &path, &[], Vec::new()).await;
    assert_eq!(
        (fine.status, fine.body.as_slice()),
        (StatusCode::OK, b"0123456789".as_slice())
    );
    proxy.clear();
}

#[tokio::test]
async fn a_multipart_upload_resumes_after_the_store_restarts_with_identical_bytes() {
    let dir = testkit::temp_dir("restarting-store");
    let port = testkit::free_port();
    let launch = || {
        SeaweedFs::launch(testkit::SeaweedOptions {
            data_dir: Some(dir.clone()),
            s3_port: Some(port),
            ..Default::default()
        })
        .unwrap_or_else(|e| panic!("{e}"))
    };
    let store = launch();
    let endpoint = store.s3_endpoint.clone();
    let app = TestApp::with(|s| {
        s.insert("S3_ENDPOINT".into(), endpoint.clone());
        s.insert("SINGLE_PUT_MAX_BYTES".into(), MIB.to_string());
    });
    let token = app.admin().await;
    let bytes: Vec<u8> = (0..17 * MIB).map(|i| (i * 7 % 251) as u8).collect();
    let created = app
        .create_video(&token, "long.mov", bytes.len() as u64)
        .await;
    let id = id_of(&created);
    let part_size = created["upload"]["partSize"].as_u64().unwrap() as usize;
    let sign = |numbers: Vec<u64>| {
        let path = format!("/api/videos/{id}/parts");
        let token = token.clone();
        let app = &app;
        async move {
            app.call(
                Method::POST,
                &path,
                Some(&token),
                Some(serde_json::json!({ "partNumbers": numbers })),
            )
            .await
            .expect(StatusCode::OK)
            .json()["parts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["url"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    let chunk = |n: usize| bytes[(n - 1) * part_size..(n * part_size).min(bytes.len())].to_vec();
    let urls = sign(vec![1, 2, 3]).await;
    let (status, first_etag) = app.put(&urls[0], &[], chunk(1)).await;
    assert_eq!(status, 200);

    // The store goes down mid-upload: the next part cannot be sent.
    drop(store);
    let down = app.http.put(&urls[1]).body(chunk(2)).send().await;
    assert!(down.is_err(), "nothing answers while the store is down");

    // Back up on the same data: the client asks what is stored and sends the rest.
    let store = launch();
    let stored = app
        .call(
            Method::GET,
            &format!("/api/videos/{id}/parts"),
            Some(&token),
            None,
        )
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(stored["parts"].as_array().unwrap().len(), 1);
    assert_eq!(stored["parts"][0]["etag"].as_str(), first_etag.as_deref());
    let urls = sign(vec![2, 3]).await;
    let mut etags = vec![first_etag.unwrap()];
    for (n, url) in [2, 3].into_iter().zip(&urls) {
        let (status, etag) = app.put(url, &[], chunk(n)).await;
        assert_eq!(status, 200);
        etags.push(etag.unwrap());
    }
    let parts: Vec<serde_json::Value> = etags
        .iter()
        .enumerate()
        .map(|(i, etag)| serde_json::json!({ "partNumber": i + 1, "etag": etag }))
        .collect();
    app.complete(&token, &id, Some(serde_json::json!({ "parts": parts })))
        .await
        .expect(StatusCode::OK);

    // The object is exactly the bytes sent.
    let s3 = signer::s3::S3Config {
        endpoint: store.s3_endpoint.clone(),
        region: testkit::S3_REGION.into(),
        addressing: signer::s3::Addressing::Path,
        credentials: signer::s3::Credentials {
            access_key_id: testkit::S3_ACCESS_KEY.into(),
            secret_access_key: testkit::S3_SECRET_KEY.into(),
            session_token: None,
        },
    }
    .signer()
    .unwrap();
    let bucket = model::BucketName::parse("incoming").unwrap();
    let key = model::ObjectKey::parse(created["key"].as_str().unwrap()).unwrap();
    let get = s3
        .presign(
            &signer::s3::S3Request::GetObject {
                bucket: &bucket,
                key: &key,
                response_content_disposition: None,
                range: None,
            },
            common::wall_clock(),
            Duration::from_secs(60),
        )
        .unwrap();
    let stored = app
        .http
        .get(&get.url)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(
        stored.as_ref() == bytes.as_slice(),
        "{} bytes stored",
        stored.len()
    );
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}
