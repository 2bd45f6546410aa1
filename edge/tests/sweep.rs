//! The scheduled sweep of abandoned uploads, against SQLite and a real SeaweedFS.

mod common;

use common::{TestApp, headers_of, id_of};
use edge::ports::{Database, Platform};
use http::{Method, StatusCode};
use model::{BucketName, ObjectKey};
use signer::s3::S3Request;

const MIB: u64 = 1024 * 1024;
const DAY_MS: i64 = 24 * 3600 * 1000;

/// Moves a video's creation into the past. S3 keeps running on real time (SeaweedFS checks
/// signatures against its own clock), so the age is the catalog's alone.
async fn age(app: &TestApp, id: &str, days: i64) {
    app.app
        .platform
        .db
        .execute(
            "UPDATE videos SET created_at = created_at - ?1 WHERE id = ?2",
            &[(days * DAY_MS).into(), id.into()],
        )
        .await
        .unwrap();
}

async fn status_of(app: &TestApp, token: &str, id: &str) -> Option<String> {
    let answer = app
        .call(Method::GET, &format!("/api/videos/{id}"), Some(token), None)
        .await;
    (answer.status == StatusCode::OK).then(|| answer.json()["video"]["status"].to_string())
}

#[tokio::test]
async fn abandoned_uploads_leave_the_catalog_and_the_buckets() {
    let app = TestApp::with(|s| {
        s.insert("SINGLE_PUT_MAX_BYTES".into(), MIB.to_string());
    });
    let token = app.admin().await;

    // Abandoned: a multipart upload past its 7 days (+1), a single PUT that landed but was
    // never completed, and one never sent (both past their URL's hour, +1 day).
    let multipart = app.create_video(&token, "old parts.mkv", 20 * MIB).await;
    let landed = app.create_video(&token, "landed.mp4", 10).await;
    let (status, _) = app
        .put(
            landed["uploadUrl"].as_str().unwrap(),
            &headers_of(&landed["upload"]),
            vec![1; 10],
        )
        .await;
    assert_eq!(status, 200);
    let never_sent = app.create_video(&token, "never sent.mp4", 10).await;
    // Kept: a completed upload, a recent single PUT, and a multipart upload within its week.
    let completed = app.uploaded_video(&token, vec![2; 10]).await;
    let recent = app.create_video(&token, "recent.mp4", 10).await;
    let resumable = app.create_video(&token, "resumable.mkv", 20 * MIB).await;

    for (id, days) in [
        (id_of(&multipart), 9),
        (id_of(&landed), 2),
        (id_of(&never_sent), 2),
        (completed.clone(), 30),
        (id_of(&resumable), 6),
    ] {
        age(&app, &id, days).await;
    }

    let removed = edge::sweep::abandoned_uploads(&app.app, common::wall_clock())
        .await
        .unwrap();
    assert_eq!(removed, 3);

    for gone in [&multipart, &landed, &never_sent] {
        assert_eq!(status_of(&app, &token, &id_of(gone)).await, None);
    }
    let bucket = BucketName::parse("incoming").unwrap();
    let multipart_id = id_of(&multipart);
    let key = ObjectKey::parse(&format!("uploads/{multipart_id}/source.mkv")).unwrap();
    let list_parts = S3Request::ListParts {
        bucket: &bucket,
        key: &key,
        upload_id: multipart["upload"]["uploadId"].as_str().unwrap(),
        part_number_marker: None,
    };
    assert_eq!(app.s3_status(&list_parts).await, 404, "upload aborted");
    let landed_id = id_of(&landed);
    assert!(
        !app.object_exists("incoming", &format!("uploads/{landed_id}/source.mp4"))
            .await
    );

    assert_eq!(
        status_of(&app, &token, &completed).await.as_deref(),
        Some("\"processing\"")
    );
    assert!(
        app.object_exists("incoming", &format!("uploads/{completed}/source.mp4"))
            .await
    );
    for kept in [&recent, &resumable] {
        assert_eq!(
            status_of(&app, &token, &id_of(kept)).await.as_deref(),
            Some("\"uploading\"")
        );
    }

    // Nothing left to do: a second run removes nothing.
    let again = edge::sweep::abandoned_uploads(&app.app, common::wall_clock())
        .await
        .unwrap();
    assert_eq!(again, 0);
}

#[tokio::test]
async fn conversions_silent_for_a_day_end_failed_and_a_late_ready_still_wins() {
    let app = TestApp::new();
    let token = app.admin().await;
    let silent = app.uploaded_video(&token, vec![4; 10]).await;
    let busy = app.uploaded_video(&token, vec![5; 10]).await;
    app.app
        .platform
        .db
        .execute(
            "UPDATE videos SET updated_at = updated_at - ?1 WHERE id = ?2",
            &[(2 * DAY_MS).into(), silent.as_str().into()],
        )
        .await
        .unwrap();

    let failed = edge::sweep::stalled_conversions(&app.app, common::wall_clock())
        .await
        .unwrap();
    assert_eq!(failed, 1);
    let video = app
        .call(
            Method::GET,
            &format!("/api/videos/{silent}"),
            Some(&token),
            None,
        )
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(video["video"]["status"], "failed");
    assert!(
        video["video"]["error"]
            .as_str()
            .unwrap()
            .starts_with("conversion stalled"),
        "{video}"
    );
    assert!(
        app.object_exists("incoming", &format!("uploads/{silent}/source.mp4"))
            .await,
        "the source is kept"
    );
    assert_eq!(
        status_of(&app, &token, &busy).await.as_deref(),
        Some("\"processing\"")
    );

    // The converter was only slow: its `ready` still lands.
    app.finish_conversion(&silent, b"not really an mp4").await;
    assert_eq!(
        status_of(&app, &token, &silent).await.as_deref(),
        Some("\"ready\"")
    );
}

#[tokio::test]
async fn expired_refresh_tokens_are_forgotten() {
    let app = TestApp::new();
    app.admin().await;
    app.admin().await;
    let count = || async {
        let rows = app
            .app
            .platform
            .db
            .query("SELECT COUNT(*) AS n FROM sessions", &[])
            .await
            .unwrap();
        rows[0]["n"].as_i64().unwrap()
    };
    assert_eq!(count().await, 2);
    edge::sweep::run_scheduled(&app.app, app.app.platform.now()).await;
    assert_eq!(count().await, 2, "live sessions stay");
    app.advance(std::time::Duration::from_secs(30 * 24 * 3600 + 1));
    edge::sweep::run_scheduled(&app.app, app.app.platform.now()).await;
    assert_eq!(count().await, 0);
}
