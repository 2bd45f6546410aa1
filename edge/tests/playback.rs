//! Playback end to end against a real SeaweedFS, in the three modes: the URLs the playback
//! answer hands out, the playlists and storyboards the Worker serves with every URI signed
//! for the mode, the files those URIs reach, and every refusal.

mod common;

use common::TestApp;
use http::{Method, StatusCode};
use model::hls;
use model::storyboard::parse_vtt;
use serde_json::Value;
use std::collections::HashMap;
use std::time::Duration;

/// The playback answer of a ready video.
async fn playback(app: &TestApp, token: &str, id: &str) -> Value {
    app.call(
        Method::GET,
        &format!("/api/videos/{id}/playback"),
        Some(token),
        None,
    )
    .await
    .expect(StatusCode::OK)
    .json()
}

/// The Worker path of one of its own URLs.
fn worker_path(url: &str) -> &str {
    url.strip_prefix(common::BASE)
        .unwrap_or_else(|| panic!("{url} is not served by the Worker"))
}

/// A file the Worker serves, as text, with its answer.
async fn worker_text(app: &TestApp, url: &str) -> (String, common::Answer) {
    let answer = app
        .request(Method::GET, worker_path(url), &[], Vec::new())
        .await
        .expect(StatusCode::OK);
    (String::from_utf8(answer.body.clone()).unwrap(), answer)
}

/// Every URI of a playlist, in order.
fn uris(playlist: &str) -> Vec<String> {
    let mut found = Vec::new();
    hls::rewrite_playlist(playlist, |uri| {
        found.push(uri.to_string());
        None
    });
    found
}

/// A URL relative to a Worker URL, as a player resolves it.
fn join(base: &str, relative: &str) -> String {
    let (folder, _) = base.rsplit_once('/').unwrap();
    format!("{folder}/{relative}")
}

async fn fetch(app: &TestApp, url: &str) -> (u16, Vec<u8>) {
    let response = app.http.get(url).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn playback_is_409_until_ready_then_a_presigned_get_that_honours_range() {
    let app = TestApp::new();
    let token = app.admin().await;
    let id = app.uploaded_video(&token, vec![1; 64]).await;
    let path = format!("/api/videos/{id}/playback");
    let early = app.call(Method::GET, &path, Some(&token), None).await;
    assert_eq!(early.status, StatusCode::CONFLICT);
    assert_eq!(early.code(), "not_ready");

    let mp4: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
    app.finish_conversion(&id, &mp4).await;

    let answer = app.call(Method::GET, &path, Some(&token), None).await;
    assert_eq!(answer.status, StatusCode::OK);
    let body = answer.json();
    assert_eq!(body["mimeType"], "video/mp4");
    let expires = body["expiresAt"].as_str().unwrap();
    assert!(expires.ends_with('Z'));
    let url = body["url"].as_str().unwrap();
    assert!(url.starts_with(&app.weed.s3_endpoint));
    let range = app
        .http
        .get(url)
        .header("range", "bytes=100-199")
        .send()
        .await
        .unwrap();
    assert_eq!(range.status().as_u16(), 206);
    assert_eq!(range.bytes().await.unwrap().as_ref(), &mp4[100..200]);
}

#[tokio::test]
async fn edge_mode_streams_through_the_worker_with_range_and_refuses_bad_tokens() {
    let app = TestApp::with(|s| {
        s.insert("PLAYBACK_MODE".into(), "edge".into());
    });
    let token = app.admin().await;
    let id = app.uploaded_video(&token, vec![1; 64]).await;
    let mp4: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
    app.finish_conversion(&id, &mp4).await;

    let url = app.playback_url(&token, &id).await;
    let url = url.as_str();
    let path = url
        .strip_prefix(common::BASE)
        .expect("served by the Worker itself");
    assert!(path.starts_with("/media/"));

    let ranged = app
        .request(Method::GET, path, &[("range", "bytes=10-19")], Vec::new())
        .await;
    assert_eq!(ranged.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(ranged.body, &mp4[10..20]);
    assert_eq!(ranged.header("content-range"), Some("bytes 10-19/10000"));
    assert_eq!(ranged.header("x-content-type-options"), Some("nosniff"));
    let whole = app.request(Method::GET, path, &[], Vec::new()).await;
    assert_eq!(whole.status, StatusCode::OK);
    assert_eq!(whole.body, mp4);
    let head = app.request(Method::HEAD, path, &[], Vec::new()).await;
    assert_eq!(head.status, StatusCode::OK);
    assert_eq!(head.header("content-length"), Some("10000"));

    // The token opens the video's folder: a file it does not have is simply not found.
    let (token_part, _) = path.trim_start_matches("/media/").split_once('/').unwrap();
    let missing = app
        .request(
            Method::GET,
            &format!("/media/{token_part}/videos/{id}/thumb.jpg"),
            &[],
            Vec::new(),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let tampered = app
        .request(
            Method::GET,
            &path.replacen("/media/", "/media/x", 1),
            &[],
            Vec::new(),
        )
        .await;
    assert_eq!(tampered.status, StatusCode::FORBIDDEN);

    app.advance(Duration::from_secs(24 * 3600));
    let expired = app.request(Method::GET, path, &[], Vec::new()).await;
    assert_eq!(expired.status, StatusCode::FORBIDDEN);
    assert_eq!(expired.code(), "token_expired");
}

#[tokio::test]
async fn cloudfront_mode_signs_urls_on_the_distribution() {
    let pem = rsa_private_key_pem();
    let app = TestApp::with(|s| {
        s.insert("PLAYBACK_MODE".into(), "cloudfront".into());
        s.insert(
            "CLOUDFRONT_DOMAIN".into(),
            "d111111abcdef8.cloudfront.net".into(),
        );
        s.insert("CLOUDFRONT_KEY_PAIR_ID".into(), "K2JCJMDEHXQW5F".into());
        s.insert("CLOUDFRONT_PRIVATE_KEY".into(), pem.clone());
    });
    let token = app.admin().await;
    let id = app.uploaded_video(&token, vec![1; 64]).await;
    app.finish_conversion(&id, b"mp4").await;
    let url = app.playback_url(&token, &id).await;
    let url = url.as_str();
    assert!(
        url.starts_with(&format!(
            "https://d111111abcdef8.cloudfront.net/videos/{id}/video.mp4?Expires="
        )),
        "{url}"
    );
    assert!(
        url.contains("&Signature=") && url.ends_with("&Key-Pair-Id=K2JCJMDEHXQW5F"),
        "{url}"
    );
}

/// A throwaway RSA key made by Python's `cryptography`, as an operator would make one.
fn rsa_private_key_pem() -> String {
    let script = "from cryptography.hazmat.primitives.asymmetric import rsa\n\
        from cryptography.hazmat.primitives import serialization as s\n\
        k = rsa.generate_private_key(public_exponent=65537, key_size=2048)\n\
        print(k.private_bytes(s.Encoding.PEM, s.PrivateFormat.TraditionalOpenSSL, s.NoEncryption()).decode())";
    testkit::python_output(script, &[])
}

#[tokio::test]
async fn s3_mode_signs_every_segment_and_sprite_and_keeps_playlists_relative() {
    let app = TestApp::new();
    let token = app.admin().await;
    let id = app.uploaded_video(&token, vec![1; 64]).await;
    let files = app.finish_ladder(&id).await;
    let body = playback(&app, &token, &id).await;
    assert_eq!(body["url"], body["mp4"]);
    let (status, mp4) = fetch(&app, body["mp4"].as_str().unwrap()).await;
    assert_eq!(
        (status, mp4),
        (200, files[&format!("videos/{id}/video.mp4")].clone())
    );

    let hls_url = body["hls"].as_str().unwrap();
    let (master, answer) = worker_text(&app, hls_url).await;
    assert_eq!(
        answer.header("content-type"),
        Some("application/vnd.apple.mpegurl")
    );
    let cache = answer.header("cache-control").unwrap();
    assert!(cache.starts_with("private, max-age="), "{cache}");
    // Playlists come from the Worker again, with the same token: their URIs stay relative.
    assert_eq!(
        uris(&master),
        ["audio/index.m3u8", "720p/index.m3u8", "240p/index.m3u8"]
    );
    assert_eq!(hls::parse_master(&master).unwrap().variants.len(), 2);
    for rendition in ["720p", "240p", "audio"] {
        let (playlist, _) =
            worker_text(&app, &join(hls_url, &format!("{rendition}/index.m3u8"))).await;
        let signed = uris(&playlist);
        let names = ["init.mp4", "seg_000.m4s", "seg_001.m4s", "seg_002.m4s"];
        assert_eq!(signed.len(), names.len(), "{playlist}");
        for (url, name) in signed.iter().zip(names) {
            assert!(url.starts_with(&app.weed.s3_endpoint), "{url}");
            let (status, bytes) = fetch(&app, url).await;
            assert_eq!(status, 200, "{url}");
            assert_eq!(bytes, files[&format!("videos/{id}/hls/{rendition}/{name}")]);
        }
    }

    let (vtt, answer) = worker_text(&app, body["storyboard"].as_str().unwrap()).await;
    assert_eq!(
        answer.header("content-type"),
        Some("text/vtt; charset=utf-8")
    );
    let cues = parse_vtt(&vtt).expect("a storyboard");
    assert_eq!(cues.len(), 50);
    assert!(cues.iter().all(|cue| cue.image == cues[0].image));
    assert!(cues[0].image.starts_with(&app.weed.s3_endpoint));
    let (status, sprite) = fetch(&app, &cues[0].image).await;
    assert_eq!(
        (status, sprite),
        (200, files[&format!("videos/{id}/storyboard.jpg")].clone())
    );

    // The poster (what library rows show) redirects to its signed URL.
    let poster_url = body["poster"].as_str().unwrap();
    let poster = app
        .request(Method::GET, worker_path(poster_url), &[], Vec::new())
        .await
        .expect(StatusCode::FOUND);
    let location = poster.header("location").unwrap();
    assert!(location.starts_with(&app.weed.s3_endpoint), "{location}");
    let (status, jpeg) = fetch(&app, location).await;
    assert_eq!(
        (status, jpeg),
        (200, files[&format!("videos/{id}/poster.jpg")].clone())
    );

    // The video says what plays, and its row's poster is the same URL in the same window.
    let video = app
        .call(
            Method::GET,
            &format!("/api/videos/{id}"),
            Some(&token),
            None,
        )
        .await
        .expect(StatusCode::OK)
        .json()["video"]
        .clone();
    assert_eq!(
        video["streams"],
        serde_json::json!({"mp4": true, "hls": true, "ladder": "ready",
            "ladderProgress": 100, "ladderError": null})
    );
    assert_eq!(video["posterUrl"].as_str(), Some(poster_url));
}

#[tokio::test]
async fn urls_are_the_same_within_a_signing_window_and_short_lived() {
    let app = TestApp::with(|s| {
        s.insert("PLAYBACK_URL_TTL_SECONDS".into(), "600".into());
    });
    let token = app.admin().await;
    let id = app.uploaded_video(&token, vec![1; 64]).await;
    app.finish_ladder(&id).await;
    // 600 s URLs are signed for 150 s windows: go to the start of one.
    let into_window = app.now_secs().rem_euclid(150) as u64;
    app.advance(Duration::from_secs(150 - into_window));
    let first = playback(&app, &token, &id).await;
    let expires = model::Timestamp::parse_rfc3339(first["expiresAt"].as_str().unwrap()).unwrap();
    assert_eq!(expires.unix_secs() - app.now_secs(), 750);
    app.advance(Duration::from_secs(149));
    assert_eq!(first, playback(&app, &token, &id).await);
    app.advance(Duration::from_secs(1));
    let later = playback(&app, &token, &id).await;
    assert_ne!(first["hls"], later["hls"]);
    assert_ne!(first["mp4"], later["mp4"]);
}

#[tokio::test]
async fn edge_mode_serves_the_ladder_as_it_is_and_streams_each_file_with_range() {
    let app = TestApp::with(|s| {
        s.insert("PLAYBACK_MODE".into(), "edge".into());
    });
    let token = app.admin().await;
    let id = app.uploaded_video(&token, vec![1; 64]).await;
    let files = app.finish_ladder(&id).await;
    let body = playback(&app, &token, &id).await;
    let hls_url = body["hls"].as_str().unwrap();
    let (master, answer) = worker_text(&app, hls_url).await;
    assert_eq!(
        master.as_bytes(),
        files[&format!("videos/{id}/hls/index.m3u8")]
    );
    let cache = answer.header("cache-control").unwrap();
    assert!(cache.starts_with("public, max-age="), "{cache}");

    let variant = join(hls_url, "720p/index.m3u8");
    let (playlist, _) = worker_text(&app, &variant).await;
    assert_eq!(uris(&playlist)[1], "seg_000.m4s");
    let segment = join(&variant, "seg_001.m4s");
    let expected = &files[&format!("videos/{id}/hls/720p/seg_001.m4s")];
    let ranged = app
        .request(
            Method::GET,
            worker_path(&segment),
            &[("range", "bytes=5-14")],
            Vec::new(),
        )
        .await
        .expect(StatusCode::PARTIAL_CONTENT);
    assert_eq!(ranged.body, &expected[5..15]);
    assert_eq!(ranged.header("content-type"), Some("video/mp4"));
    assert!(
        ranged
            .header("cache-control")
            .unwrap()
            .starts_with("public, max-age=")
    );

    let (vtt, _) = worker_text(&app, body["storyboard"].as_str().unwrap()).await;
    let cues = parse_vtt(&vtt).unwrap();
    let sprite = join(body["storyboard"].as_str().unwrap(), &cues[0].image);
    let answer = app
        .request(Method::GET, worker_path(&sprite), &[], Vec::new())
        .await
        .expect(StatusCode::OK);
    assert_eq!(answer.header("content-type"), Some("image/jpeg"));
    assert_eq!(answer.body, files[&format!("videos/{id}/storyboard.jpg")]);

    // The token opens this video's files only, until it expires.
    let other = app.uploaded_video(&token, vec![2; 64]).await;
    app.finish_conversion(&other, b"other").await;
    let (token_part, _) = worker_path(hls_url)
        .trim_start_matches("/media/")
        .split_once('/')
        .unwrap();
    for key in [
        format!("videos/{other}/video.mp4"),
        format!("uploads/{id}/source.mp4"),
    ] {
        let refused = app
            .request(
                Method::GET,
                &format!("/media/{token_part}/{key}"),
                &[],
                Vec::new(),
            )
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{key}");
        assert_eq!(refused.header("cache-control"), Some("no-store"));
    }
    app.advance(Duration::from_secs(24 * 3600));
    let expired = app
        .request(Method::GET, worker_path(&segment), &[], Vec::new())
        .await;
    assert_eq!(expired.status, StatusCode::FORBIDDEN);
    assert_eq!(expired.code(), "token_expired");
}

#[tokio::test]
async fn cloudfront_mode_signs_segments_with_one_wildcard_policy_for_the_video() {
    let pem = rsa_private_key_pem();
    let app = TestApp::with(|s| {
        s.insert("PLAYBACK_MODE".into(), "cloudfront".into());
        s.insert(
            "CLOUDFRONT_DOMAIN".into(),
            "d111111abcdef8.cloudfront.net".into(),
        );
        s.insert("CLOUDFRONT_KEY_PAIR_ID".into(), "K2JCJMDEHXQW5F".into());
        s.insert("CLOUDFRONT_PRIVATE_KEY".into(), pem.clone());
    });
    let token = app.admin().await;
    let id = app.uploaded_video(&token, vec![1; 64]).await;
    app.finish_ladder(&id).await;
    let body = playback(&app, &token, &id).await;
    let expires = model::Timestamp::parse_rfc3339(body["expiresAt"].as_str().unwrap()).unwrap();
    let (playlist, _) = worker_text(
        &app,
        &join(body["hls"].as_str().unwrap(), "720p/index.m3u8"),
    )
    .await;
    let signed = uris(&playlist);
    let base = format!("https://d111111abcdef8.cloudfront.net/videos/{id}/hls/720p/");
    let queries: Vec<&str> = signed
        .iter()
        .map(|url| {
            assert!(url.starts_with(&base), "{url}");
            url.split_once('?').unwrap().1
        })
        .collect();
    assert!(
        queries.iter().all(|q| *q == queries[0]),
        "one policy for all"
    );
    let params: HashMap<&str, &str> = queries[0]
        .split('&')
        .map(|pair| pair.split_once('=').unwrap())
        .collect();
    assert_eq!(params["Key-Pair-Id"], "K2JCJMDEHXQW5F");
    use base64::Engine as _;
    let policy = base64::engine::general_purpose::STANDARD
        .decode(
            params["Policy"]
                .replace('-', "+")
                .replace('_', "=")
                .replace('~', "/"),
        )
        .unwrap();
    let policy: Value = serde_json::from_slice(&policy).unwrap();
    let statement = &policy["Statement"][0];
    assert_eq!(
        statement["Resource"],
        format!("https://d111111abcdef8.cloudfront.net/videos/{id}/*")
    );
    assert_eq!(
        statement["Condition"]["DateLessThan"]["AWS:EpochTime"],
        expires.unix_secs()
    );
}

#[tokio::test]
async fn listings_never_sign_what_lies_outside_their_video() {
    let app = TestApp::new();
    let token = app.admin().await;
    let id = app.uploaded_video(&token, vec![1; 64]).await;
    app.finish_ladder(&id).await;
    let other = app.uploaded_video(&token, vec![2; 64]).await;
    app.finish_conversion(&other, b"other").await;
    let hostile = format!(
        "#EXTM3U\n#EXTINF:6,\n../../../{other}/video.mp4\n#EXTINF:6,\nhttps://evil.example/x.m4s\n\
         #EXTINF:6,\n/videos/{other}/video.mp4\n#EXTINF:6,\n../../../../etc\n#EXT-X-ENDLIST\n"
    );
    app.put_object(
        "media",
        &format!("videos/{id}/hls/odd/index.m3u8"),
        hostile.as_bytes(),
    )
    .await;
    let body = playback(&app, &token, &id).await;
    let odd = join(body["hls"].as_str().unwrap(), "odd/index.m3u8");
    let (served, _) = worker_text(&app, &odd).await;
    assert_eq!(served, hostile, "nothing outside the video is signed");
    let climbing = join(&odd, &format!("../../../{other}/video.mp4"));
    let normalized = climbing.replace(&format!("/videos/{id}/hls/odd/../../../"), "/videos/");
    let refused = app
        .request(Method::GET, worker_path(&normalized), &[], Vec::new())
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}
