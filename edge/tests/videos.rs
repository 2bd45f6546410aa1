//! Videos end to end against a real SeaweedFS: create, upload through the presigned URLs,
//! complete, list, get, delete, abort, and every refusal on the way.

mod common;

use common::{TestApp, headers_of, id_of};
use http::{Method, StatusCode};
use model::{BucketName, ObjectKey};
use serde_json::{Value, json};
use signer::s3::S3Request;
use std::time::Duration;

const MIB: u64 = 1024 * 1024;

#[tokio::test]
async fn small_file_uploads_with_one_presigned_put_bound_to_its_size() {
    let app = TestApp::new();
    let token = app.admin().await;
    let created = app.create_video(&token, "Holiday clip.MP4", 1000).await;
    assert_eq!(created["success"], true);
    let video = &created["video"];
    assert_eq!(video["status"], "uploading");
    assert_eq!(video["title"], "Holiday clip");
    assert_eq!(video["fileName"], "Holiday clip.MP4");
    assert_eq!(video["fileSize"], 1000);
    assert_eq!(video["progress"], Value::Null);
    let id = id_of(&created);
    let upload = &created["upload"];
    assert_eq!(upload["method"], "PUT");
    assert_eq!(upload["key"], format!("uploads/{id}/source.mp4"));
    assert_eq!(created["key"], upload["key"]);
    assert_eq!(upload["bucket"], "incoming");
    assert_eq!(created["uploadUrl"], upload["uploadUrl"]);
    assert_eq!(upload["headers"]["Content-Type"], "video/mp4");
    assert_eq!(upload["headers"]["If-None-Match"], "*", "write-once");
    let url = upload["uploadUrl"].as_str().unwrap();
    assert!(!url.contains("Holiday"), "keys never contain user text");

    // Another length is refused by S3: the URL binds Content-Length.
    let (status, _) = app.put(url, &headers_of(upload), vec![0; 999]).await;
    assert_eq!(status, 403);
    let (status, _) = app
        .put(
            url,
            &[("Content-Type".into(), "video/webm".into())],
            vec![0; 1000],
        )
        .await;
    assert_eq!(status, 403, "the URL binds Content-Type");

    let early = app.complete(&token, &id, None).await;
    assert_eq!(early.status, StatusCode::BAD_REQUEST);
    assert_eq!(early.code(), "upload_incomplete");

    let (status, _) = app.put(url, &headers_of(upload), vec![7; 1000]).await;
    assert_eq!(status, 200);
    let done = app.complete(&token, &id, None).await;
    assert_eq!(done.status, StatusCode::OK);
    assert_eq!(done.json()["video"]["status"], "processing");
    // Completing again sees the same result.
    let again = app.complete(&token, &id, None).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json()["video"]["status"], "processing");
    assert!(
        app.object_exists("incoming", &format!("uploads/{id}/source.mp4"))
            .await
    );
    // The URL is still within its lifetime, but replaying it cannot replace the upload
    // (which would convert again, or swap a published video).
    let (status, _) = app.put(url, &headers_of(upload), vec![9; 1000]).await;
    assert_eq!(status, 412);
}

#[tokio::test]
async fn create_refuses_bad_input_with_clear_codes() {
    // 28 uploads are left open below: more than the default quota of uploads in flight.
    let app = TestApp::with(|s| {
        s.insert("QUOTA_UPLOADS".into(), "50".into());
    });
    let token = app.admin().await;
    let cases = [
        (
            json!({ "fileName": "notes.txt", "fileSize": 10, "fileType": "video/mp4" }),
            "unsupported_type",
        ),
        (
            json!({ "fileName": "clip.mp4", "fileSize": 10, "fileType": "text/plain" }),
            "unsupported_type",
        ),
        (
            json!({ "fileName": "clip", "fileSize": 10, "fileType": "video/mp4" }),
            "unsupported_type",
        ),
        (
            json!({ "fileName": "clip.mp4", "fileSize": 0, "fileType": "video/mp4" }),
            "invalid_request",
        ),
        (
            json!({ "fileName": "clip.mp4", "fileSize": -5, "fileType": "video/mp4" }),
            "invalid_request",
        ),
        (
            json!({ "fileName": "clip.mp4", "fileSize": 1.5, "fileType": "video/mp4" }),
            "invalid_request",
        ),
        (
            json!({ "fileName": "clip.mp4", "fileSize": 6u64 << 40, "fileType": "video/mp4" }),
            "file_too_large",
        ),
        (
            json!({ "fileName": "", "fileSize": 10, "fileType": "video/mp4" }),
            "invalid_request",
        ),
        (
            json!({ "fileName": "a\u{0}b.mp4", "fileSize": 10, "fileType": "video/mp4" }),
            "invalid_request",
        ),
        (
            json!({ "fileName": "x".repeat(300) + ".mp4", "fileSize": 10, "fileType": "video/mp4" }),
            "invalid_request",
        ),
        (
            json!({ "fileName": "clip.mp4", "fileSize": 10, "fileType": "video/mp4", "title": "t".repeat(201) }),
            "invalid_request",
        ),
        (
            json!({ "fileSize": 10, "fileType": "video/mp4" }),
            "invalid_request",
        ),
    ];
    for (body, code) in cases {
        let answer = app
            .call(
                Method::POST,
                "/api/videos",
                Some(&token),
                Some(body.clone()),
            )
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(answer.code(), code, "{body}");
    }
    // Every accepted container and both accepted type families.
    for ext in [
        "mp4", "mov", "m4v", "mkv", "webm", "avi", "wmv", "flv", "mpg", "mpeg", "ts", "m2ts",
        "3gp", "ogv",
    ] {
        for file_type in ["video/anything", "application/octet-stream"] {
            let body =
                json!({ "fileName": format!("f.{ext}"), "fileSize": 10, "fileType": file_type });
            let answer = app
                .call(Method::POST, "/api/videos", Some(&token), Some(body))
                .await;
            assert_eq!(answer.status, StatusCode::CREATED, "{ext} {file_type}");
            assert!(
                answer.json()["key"]
                    .as_str()
                    .unwrap()
                    .ends_with(&format!("/source.{ext}"))
            );
        }
    }
    let list = app
        .call(Method::GET, "/api/videos?limit=100", Some(&token), None)
        .await;
    assert_eq!(
        list.json()["videos"].as_array().unwrap().len(),
        28,
        "refusals created nothing"
    );
}

#[tokio::test]
async fn large_file_uploads_in_parts_and_resumes_from_list_parts() {
    let app = TestApp::new();
    let token = app.admin().await;
    // 50 MiB is the default single-PUT limit: one byte more is multipart.
    let at_limit = app.create_video(&token, "a.mp4", 50 * MIB).await;
    assert_eq!(at_limit["upload"]["method"], "PUT");
    let above = app.create_video(&token, "b.mp4", 50 * MIB + 1).await;
    assert_eq!(above["upload"]["method"], "multipart");

    // A lower limit keeps this test's bytes small: three parts of 8, 8 and 1 MiB + 5.
    let app = TestApp::with(|s| {
        s.insert("SINGLE_PUT_MAX_BYTES".into(), (16 * MIB).to_string());
    });
    let token = app.admin().await;
    let size = 17 * MIB + 5;
    let created = app
        .call(
            Method::POST,
            "/api/videos",
            Some(&token),
            Some(
                json!({ "fileName": "long.mkv", "fileSize": size, "fileType": "video/x-matroska" }),
            ),
        )
        .await
        .json();
    let id = id_of(&created);
    let upload = &created["upload"];
    assert_eq!(upload["method"], "multipart");
    assert_eq!(upload["partSize"], 8 * MIB);
    assert_eq!(upload["partCount"], 3);
    assert!(upload["uploadId"].as_str().is_some_and(|u| !u.is_empty()));
    assert!(created.get("uploadUrl").is_none());

    let parts_path = format!("/api/videos/{id}/parts");
    let signed = app
        .call(
            Method::POST,
            &parts_path,
            Some(&token),
            Some(json!({ "partNumbers": [1, 2, 3] })),
        )
        .await;
    assert_eq!(signed.status, StatusCode::OK);
    let signed = signed.json();
    assert!(signed["expiresAt"].is_string());
    let urls: Vec<String> = signed["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["url"].as_str().unwrap().to_string())
        .collect();
    let lengths = [8 * MIB, 8 * MIB, MIB + 5];

    // A part of the wrong length is refused: each URL binds its part's length.
    let (status, _) = app.put(&urls[2], &[], vec![1; 10]).await;
    assert_eq!(status, 403);

    // Two parts now; the third "after a crash".
    let mut etags = Vec::new();
    for n in 0..2 {
        let (status, etag) = app
            .put(&urls[n], &[], vec![n as u8; lengths[n] as usize])
            .await;
        assert_eq!(status, 200);
        etags.push(etag.expect("S3 returns an ETag"));
    }
    let stored = app.call(Method::GET, &parts_path, Some(&token), None).await;
    assert_eq!(stored.status, StatusCode::OK);
    let stored = stored.json()["parts"].as_array().unwrap().clone();
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[0]["partNumber"], 1);
    assert_eq!(stored[0]["size"], 8 * MIB);
    assert_eq!(
        stored[1]["etag"].as_str().unwrap().trim_matches('"'),
        etags[1].trim_matches('"')
    );

    // Completing with a part missing: 400, and the upload stays open.
    let partial: Vec<Value> = etags
        .iter()
        .enumerate()
        .map(|(i, e)| json!({ "partNumber": i + 1, "etag": e }))
        .collect();
    let short = app
        .complete(&token, &id, Some(json!({ "parts": partial })))
        .await;
    assert_eq!(short.status, StatusCode::BAD_REQUEST);
    assert_eq!(short.code(), "size_mismatch");

    let (status, etag) = app.put(&urls[2], &[], vec![2; lengths[2] as usize]).await;
    assert_eq!(status, 200);
    etags.push(etag.unwrap());

    let wrong_etag = app
        .complete(
            &token,
            &id,
            Some(json!({ "parts": [
                { "partNumber": 1, "etag": etags[0] },
                { "partNumber": 2, "etag": "\"0123456789abcdef0123456789abcdef\"" },
                { "partNumber": 3, "etag": etags[2] },
            ] })),
        )
        .await;
    assert_eq!(wrong_etag.status, StatusCode::BAD_REQUEST);
    assert_eq!(wrong_etag.code(), "invalid_parts");

    let all: Vec<Value> = etags
        .iter()
        .enumerate()
        .rev() // any order: the edge sorts them
        .map(|(i, e)| json!({ "partNumber": i + 1, "etag": e }))
        .collect();
    let done = app
        .complete(&token, &id, Some(json!({ "parts": all })))
        .await;
    assert_eq!(
        done.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&done.body)
    );
    assert_eq!(done.json()["video"]["status"], "processing");
    assert!(
        app.object_exists("incoming", &format!("uploads/{id}/source.mkv"))
            .await
    );

    // A second complete (the first answer lost) sees the same result.
    let again = app
        .complete(&token, &id, Some(json!({ "parts": [] })))
        .await
        .expect(StatusCode::OK);
    assert_eq!(again.json()["video"]["status"], "processing");

    // The upload is closed now.
    let late = app
        .call(
            Method::POST,
            &parts_path,
            Some(&token),
            Some(json!({ "partNumbers": [1] })),
        )
        .await;
    assert_eq!(late.status, StatusCode::CONFLICT);
    assert_eq!(late.code(), "invalid_state");
}

#[tokio::test]
async fn complete_succeeds_when_s3_already_completed_the_upload() {
    // As if an earlier complete reached S3 but its answer was lost before the catalog knew.
    let app = TestApp::with(|s| {
        s.insert("SINGLE_PUT_MAX_BYTES".into(), MIB.to_string());
    });
    let token = app.admin().await;
    let size = 9 * MIB;
    let created = app.create_video(&token, "lost.mp4", size).await;
    let id = id_of(&created);
    let upload_id = created["upload"]["uploadId"].as_str().unwrap();
    let signed = app
        .call(
            Method::POST,
            &format!("/api/videos/{id}/parts"),
            Some(&token),
            Some(json!({ "partNumbers": [1, 2] })),
        )
        .await
        .expect(StatusCode::OK)
        .json();
    let mut parts = Vec::new();
    for (n, length) in [(1, 8 * MIB), (2, MIB)] {
        let url = signed["parts"][n - 1]["url"].as_str().unwrap();
        let (status, etag) = app.put(url, &[], vec![n as u8; length as usize]).await;
        assert_eq!(status, 200);
        parts.push(signer::s3::xml::CompletedPart {
            part_number: n as u16,
            etag: etag.unwrap(),
        });
    }
    let listed: Vec<Value> = parts
        .iter()
        .map(|p| json!({ "partNumber": p.part_number, "etag": p.etag }))
        .collect();
    let bucket = BucketName::parse("incoming").unwrap();
    let key = ObjectKey::parse(&format!("uploads/{id}/source.mp4")).unwrap();
    let status = app
        .s3_call(
            &S3Request::CompleteMultipartUpload {
                bucket: &bucket,
                key: &key,
                upload_id,
                create_only: false,
            },
            signer::s3::xml::complete_multipart_upload_body(&parts),
        )
        .await;
    assert_eq!(status, 200);

    let done = app
        .complete(&token, &id, Some(json!({ "parts": listed })))
        .await
        .expect(StatusCode::OK);
    assert_eq!(done.json()["video"]["status"], "processing");
}

#[tokio::test]
async fn part_signing_validates_numbers_and_state() {
    let app = TestApp::with(|s| {
        s.insert("SINGLE_PUT_MAX_BYTES".into(), MIB.to_string());
    });
    let token = app.admin().await;
    let multipart = id_of(&app.create_video(&token, "big.mp4", 900 * MIB).await); // 113 parts
    let path = format!("/api/videos/{multipart}/parts");
    let too_many: Vec<u32> = (1..=101).collect();
    for (body, code) in [
        (json!({ "partNumbers": [] }), "invalid_request"),
        (json!({ "partNumbers": too_many }), "invalid_request"),
        (json!({ "partNumbers": [0] }), "invalid_request"),
        (json!({ "partNumbers": [114] }), "invalid_request"),
        (json!({ "partNumbers": [3, 3] }), "invalid_request"),
        (json!({ "parts": [1] }), "invalid_request"),
    ] {
        let answer = app
            .call(Method::POST, &path, Some(&token), Some(body.clone()))
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(answer.code(), code);
    }
    let hundred: Vec<u32> = (14..=113).collect();
    let answer = app
        .call(
            Method::POST,
            &path,
            Some(&token),
            Some(json!({ "partNumbers": hundred })),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json()["parts"].as_array().unwrap().len(), 100);

    let single = id_of(&app.create_video(&token, "small.mp4", 1000).await);
    let answer = app
        .call(
            Method::POST,
            &format!("/api/videos/{single}/parts"),
            Some(&token),
            Some(json!({ "partNumbers": [1] })),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CONFLICT);
    assert_eq!(answer.code(), "not_multipart");

    // Only the uploader signs parts; an admin who is not the owner is told so.
    let member = app.member("uploader@example.com").await;
    let theirs = id_of(&app.create_video(&member, "theirs.mp4", 900 * MIB).await);
    let admin_try = app
        .call(
            Method::POST,
            &format!("/api/videos/{theirs}/parts"),
            Some(&token),
            Some(json!({ "partNumbers": [1] })),
        )
        .await;
    assert_eq!(admin_try.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn abort_removes_the_upload_and_the_row() {
    let app = TestApp::with(|s| {
        s.insert("SINGLE_PUT_MAX_BYTES".into(), MIB.to_string());
    });
    let token = app.admin().await;
    let created = app.create_video(&token, "big.webm", 20 * MIB).await;
    let id = id_of(&created);
    let upload_id = created["upload"]["uploadId"].as_str().unwrap().to_string();
    let aborted = app
        .call(
            Method::DELETE,
            &format!("/api/videos/{id}/upload"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(aborted.status, StatusCode::OK);
    assert_eq!(aborted.json()["success"], true);
    let gone = app
        .call(
            Method::GET,
            &format!("/api/videos/{id}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);

    // S3 no longer knows the upload.
    let bucket = BucketName::parse("incoming").unwrap();
    let key = ObjectKey::parse(&format!("uploads/{id}/source.webm")).unwrap();
    let status = app
        .s3_status(&S3Request::ListParts {
            bucket: &bucket,
            key: &key,
            upload_id: &upload_id,
            part_number_marker: None,
        })
        .await;
    assert_eq!(status, 404);

    // A single-PUT upload aborts too; a finished one cannot.
    let single = app.create_video(&token, "small.mp4", 10).await;
    let (status, _) = app
        .put(
            single["uploadUrl"].as_str().unwrap(),
            &headers_of(&single["upload"]),
            vec![1; 10],
        )
        .await;
    assert_eq!(status, 200);
    let single_id = id_of(&single);
    let aborted = app
        .call(
            Method::DELETE,
            &format!("/api/videos/{single_id}/upload"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(aborted.status, StatusCode::OK);
    assert!(
        !app.object_exists("incoming", &format!("uploads/{single_id}/source.mp4"))
            .await
    );

    let finished = app.uploaded_video(&token, vec![3; 100]).await;
    let refused = app
        .call(
            Method::DELETE,
            &format!("/api/videos/{finished}/upload"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert_eq!(refused.code(), "invalid_state");
}

#[tokio::test]
async fn members_see_their_own_videos_and_admins_see_all_newest_first_in_pages() {
    let app = TestApp::new();
    let admin = app.admin().await;
    let alice = app.member("alice@example.com").await;
    let bob = app.member("bob@example.com").await;
    let mut alice_ids = Vec::new();
    for n in 0..5 {
        alice_ids.push(id_of(
            &app.create_video(&alice, &format!("a{n}.mp4"), 10).await,
        ));
        app.advance(Duration::from_millis(5));
    }
    let bob_id = id_of(&app.create_video(&bob, "b.mp4", 10).await);

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/videos?limit=2&cursor={c}"),
            None => "/api/videos?limit=2".to_string(),
        };
        let page = app
            .call(Method::GET, &path, Some(&alice), None)
            .await
            .json();
        let videos = page["videos"].as_array().unwrap();
        assert!(videos.len() <= 2);
        seen.extend(videos.iter().map(|v| v["id"].as_str().unwrap().to_string()));
        match page["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    alice_ids.reverse();
    assert_eq!(seen, alice_ids, "alice's own, newest first, each once");

    let all = app
        .call(Method::GET, "/api/videos?limit=100", Some(&admin), None)
        .await
        .json();
    let ids: Vec<&str> = all["videos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 6);
    assert_eq!(ids[0], bob_id);
    assert_eq!(all["nextCursor"], Value::Null);

    for query in [
        "limit=0",
        "limit=101",
        "limit=abc",
        "cursor=%%%",
        "cursor=bm90LWEtY3Vyc29y",
    ] {
        let answer = app
            .call(
                Method::GET,
                &format!("/api/videos?{query}"),
                Some(&alice),
                None,
            )
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{query}");
    }

    // Get: owner and admin yes, another member no (404, not 403: ids reveal nothing).
    let path = format!("/api/videos/{}", alice_ids[0]);
    app.call(Method::GET, &path, Some(&alice), None)
        .await
        .expect(StatusCode::OK);
    app.call(Method::GET, &path, Some(&admin), None)
        .await
        .expect(StatusCode::OK);
    let other = app.call(Method::GET, &path, Some(&bob), None).await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    assert_eq!(other.code(), "not_found");
    let video = app
        .call(Method::GET, &path, Some(&alice), None)
        .await
        .json()["video"]
        .clone();
    for field in [
        "id",
        "title",
        "fileName",
        "fileSize",
        "fileType",
        "status",
        "progress",
        "error",
        "owner",
        "createdAt",
        "updatedAt",
        "durationMs",
        "width",
        "height",
    ] {
        assert!(video.get(field).is_some(), "Video has {field}");
    }
    app.call(Method::GET, "/api/videos/not-an-id", Some(&alice), None)
        .await
        .expect(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn delete_removes_every_object_in_both_buckets_then_the_row_and_is_idempotent() {
    let app = TestApp::new();
    let owner = app.member("deleter@example.com").await;
    let id = app.uploaded_video(&owner, vec![5; 300]).await;
    // What a finished conversion leaves in media.
    for name in ["video.mp4", "thumb.jpg", "hls/index.m3u8"] {
        app.put_object("media", &format!("videos/{id}/{name}"), b"output")
            .await;
    }
    let stranger = app.member("stranger@example.com").await;
    let path = format!("/api/videos/{id}");
    app.call(Method::DELETE, &path, Some(&stranger), None)
        .await
        .expect(StatusCode::NOT_FOUND);

    let deleted = app.call(Method::DELETE, &path, Some(&owner), None).await;
    assert_eq!(deleted.status, StatusCode::OK);
    assert!(
        !app.object_exists("incoming", &format!("uploads/{id}/source.mp4"))
            .await
    );
    for name in ["video.mp4", "thumb.jpg", "hls/index.m3u8"] {
        assert!(
            !app.object_exists("media", &format!("videos/{id}/{name}"))
                .await,
            "{name}"
        );
    }
    app.call(Method::GET, &path, Some(&owner), None)
        .await
        .expect(StatusCode::NOT_FOUND);
    app.call(Method::DELETE, &path, Some(&owner), None)
        .await
        .expect(StatusCode::OK);

    // An admin deletes anyone's video, even mid-upload.
    let admin = app.admin().await;
    let pending = id_of(&app.create_video(&owner, "pending.mp4", 10).await);
    let answer = app
        .call(
            Method::DELETE,
            &format!("/api/videos/{pending}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
}

/// Found by contract fuzzing: a repeated complete answered 200 to a body that is not JSON
/// (a single PUT's complete never read its body at all).
#[tokio::test]
async fn complete_refuses_a_malformed_body_whatever_the_state() {
    let app = TestApp::new();
    let token = app.admin().await;
    let uploading = id_of(&app.create_video(&token, "clip.mp4", 10).await);
    let processing = app.uploaded_video(&token, vec![7; 10]).await;
    for id in [&uploading, &processing] {
        let answer = app
            .request(
                Method::POST,
                &format!("/api/videos/{id}/complete"),
                &[
                    ("authorization", &format!("Bearer {token}")),
                    ("content-type", "application/json"),
                ],
                b"\x00".to_vec(),
            )
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{id}");
        assert_eq!(answer.code(), "invalid_request");
    }
    let video = app
        .call(
            Method::GET,
            &format!("/api/videos/{uploading}"),
            Some(&token),
            None,
        )
        .await
        .json();
    assert_eq!(video["video"]["status"], "uploading");
}
