//! The streaming set's flows on in-memory ports: a copied MP4 plays at once and its ladder
//! follows in a job of its own; a job that made the MP4 alone is followed by one; a ladder
//! that fails leaves the MP4 playing; the source goes only once the edge says nothing needs
//! it; replayed events change nothing.

mod common;

use common::fakes::{ProbeAnswer, TestOrigin, bucket, h264_aac_mp4};
use common::{fixture, mp4_source, video_id};
use model::storyboard::parse_vtt;
use model::{ObjectKey, VideoId};
use origin::Outcome;
use origin::transcoder::{Makes, streams_token};
use serde_json::{Value, json};

/// A copied upload (a fast-start H.264/AAC MP4) whose ladder job (`job-1`) was started.
async fn copied() -> (TestOrigin, VideoId) {
    let test = TestOrigin::new();
    let id = video_id();
    test.store
        .put(&bucket("incoming"), &mp4_source(&id), b"source bytes");
    test.expecting(&id, &mp4_source(&id), 1024);
    let mut info = h264_aac_mp4(0);
    info.fast_start = Some(true);
    let test = test.probing_as(ProbeAnswer::Media(info));
    let outcome = test
        .handle(fixture("s3-put.json", Some(&id)))
        .await
        .unwrap();
    assert!(
        matches!(&outcome[..], [Outcome::Ready { .. }]),
        "{outcome:?}"
    );
    (test, id)
}

/// A job's event as EventBridge delivers it, for job `job_id` that makes `makes`.
fn job_event(name: &str, id: &VideoId, job_id: &str, makes: &str) -> Value {
    let mut event = fixture(name, Some(id));
    event["detail"]["jobId"] = job_id.into();
    event["detail"]["userMetadata"]["makes"] = makes.into();
    if makes == "streams" {
        // No MP4 among a ladder job's outputs.
        let groups = event["detail"].get_mut("outputGroupDetails");
        if let Some(Value::Array(groups)) = groups {
            groups.retain(|g| g["type"] != "FILE_GROUP" || !g.to_string().contains("video.mp4"));
        }
    }
    event
}

fn source_kept(test: &TestOrigin, id: &VideoId) -> bool {
    test.store
        .get(&bucket("incoming"), &mp4_source(id))
        .is_some()
}

/// What MediaConvert leaves under `hls/`: the master (naming the trick-play images), the
/// image playlist, two sprites; and the frame capture.
fn ladder_written(test: &TestOrigin, id: &VideoId) {
    let media = bucket("media");
    let put = |name: &str, bytes: &[u8]| {
        test.store
            .put(&media, &ObjectKey::output(id, name).unwrap(), bytes)
    };
    put(
        "hls/index.m3u8",
        b"#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=400000,RESOLUTION=320x240,CODECS=\"avc1.4d400d\"\n\
          index_240p.m3u8\n#EXT-X-IMAGE-STREAM-INF:BANDWIDTH=2000,RESOLUTION=160x120,CODECS=\"jpeg\",\
          URI=\"index_thumbnails.m3u8\"\n",
    );
    put(
        "hls/index_thumbnails.m3u8",
        b"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-VERSION:7\n#EXT-X-PLAYLIST-TYPE:VOD\n\
          #EXT-X-IMAGES-ONLY\n#EXTINF:2.000,\n#EXT-X-TILES:RESOLUTION=160x120,LAYOUT=5x5,DURATION=0.080\n\
          index_thumbnails_00001.jpg\n#EXTINF:1.000,\n\
          #EXT-X-TILES:RESOLUTION=160x120,LAYOUT=5x5,DURATION=0.080\nindex_thumbnails_00002.jpg\n\
          #EXT-X-ENDLIST\n",
    );
    put("hls/index_thumbnails_00001.jpg", b"\xff\xd8 sprite 1");
    put("hls/index_thumbnails_00002.jpg", b"\xff\xd8 sprite 2");
    put("poster.0000000.jpg", b"\xff\xd8 poster");
}

#[tokio::test]
async fn a_copy_plays_at_once_and_its_ladder_job_finishes_the_video() {
    let (test, id) = copied().await;
    let ladder = &test.submitted()[0];
    assert_eq!(ladder.makes(), Makes::Streams);
    assert_eq!(ladder.mp4, None);
    assert!(source_kept(&test, &id));

    ladder_written(&test, &id);
    let complete = job_event("mediaconvert-complete.json", &id, "job-1", "streams");
    let outcome = test.handle(complete.clone()).await.unwrap();
    assert_eq!(
        outcome,
        [Outcome::StreamsReady {
            video_id: id.clone(),
            hls_key: ObjectKey::hls_master(&id)
        }]
    );
    let sent = test.sent();
    let done = sent.last().unwrap();
    assert_eq!(
        (&done["status"], &done["streams"], &done["eventId"]),
        (
            &json!("streams"),
            &json!("ready"),
            &json!("job-1:streams:ready")
        )
    );
    assert_eq!(done["hlsKey"], ObjectKey::hls_master(&id).as_str());
    assert_eq!(done["posterKey"], ObjectKey::poster(&id).as_str());
    assert_eq!(done["storyboardKey"], ObjectKey::storyboard(&id).as_str());
    assert!(
        !source_kept(&test, &id),
        "the video is done with its source"
    );

    // The storyboard, written from the trick-play playlist: 3 s of 80 ms tiles, 25 to a
    // sprite, named relative to the VTT.
    let vtt = test
        .store
        .get(&bucket("media"), &ObjectKey::storyboard(&id))
        .unwrap();
    let cues = parse_vtt(&String::from_utf8(vtt).unwrap()).unwrap();
    assert_eq!(cues.len(), 38);
    assert_eq!(cues[0].image, "hls/index_thumbnails_00001.jpg");
    assert_eq!(cues[24].tile, (640, 480, 160, 120));
    assert_eq!(cues[25].image, "hls/index_thumbnails_00002.jpg");
    assert_eq!(cues[25].tile, (0, 0, 160, 120));
    assert_eq!(cues.last().unwrap().end_ms, 3000);

    // Redelivered: the same event, a no-op at the edge.
    let before = test.sent().len();
    assert_eq!(test.handle(complete).await.unwrap(), outcome);
    let sent = test.sent();
    assert_eq!(sent.len(), before + 1);
    assert_eq!(sent[before], sent[before - 1]);
}

#[tokio::test]
async fn a_failed_ladder_leaves_the_mp4_playing_and_frees_the_source() {
    let (test, id) = copied().await;
    let progress = job_event("mediaconvert-status-update.json", &id, "job-1", "streams");
    test.handle(progress).await.unwrap();
    let error = job_event("mediaconvert-error.json", &id, "job-1", "streams");
    let outcome = test.handle(error).await.unwrap();
    assert_eq!(
        outcome,
        [Outcome::StreamsFailed {
            video_id: id.clone(),
            code: "mediaconvert_1010".into()
        }]
    );
    let sent = test.sent();
    let statuses: Vec<(&str, &str)> = sent
        .iter()
        .map(|e| {
            (
                e["status"].as_str().unwrap(),
                e["streams"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [
            ("ready", ""),
            ("streams", "processing"),
            ("streams", "processing"),
            ("streams", "failed")
        ]
    );
    assert_eq!(sent[2]["progress"], 7);
    assert_eq!(sent[2]["eventId"], "job-1:streams:progress:7");
    assert_eq!(sent[3]["eventId"], "job-1:streams:failed");
    assert!(
        test.store
            .get(&bucket("media"), &ObjectKey::mp4(&id))
            .is_some(),
        "the MP4 stays"
    );
    assert!(
        !source_kept(&test, &id),
        "the edge said nothing needs the source"
    );
}

#[tokio::test]
async fn a_job_that_made_the_mp4_alone_is_followed_by_its_ladder() {
    let test = TestOrigin::new();
    let id = video_id();
    let media = bucket("media");
    test.store
        .put(&bucket("incoming"), &mp4_source(&id), b"source bytes");
    test.store.put(&media, &ObjectKey::mp4(&id), b"the mp4");
    // What the MP4 holds (the prober reads it where the upload's container was unreadable).
    let mut made = h264_aac_mp4(0);
    made.video.as_mut().unwrap().rotation = 90;
    let test = test.probing_as(ProbeAnswer::Media(made));
    let complete = job_event("mediaconvert-complete.json", &id, "mp4-job", "mp4");
    let outcome = test.handle(complete).await.unwrap();
    assert!(
        matches!(&outcome[..], [Outcome::Ready { .. }]),
        "{outcome:?}"
    );

    let ladder = &test.submitted()[0];
    assert_eq!(ladder.makes(), Makes::Streams);
    assert_eq!(
        ladder.source.key,
        mp4_source(&id),
        "from the original upload"
    );
    assert_eq!(
        ladder.token,
        streams_token("e00d115c25d30a2457aa31409452876a32d9314b")
    );
    let streams = ladder.streams.as_ref().unwrap();
    assert_eq!(
        (streams.variants[0].width, streams.variants[0].height),
        (240, 320),
        "sized from the MP4, upright"
    );
    let sent = test.sent();
    assert_eq!(sent.len(), 2);
    assert_eq!(
        (&sent[0]["status"], sent[0].get("hlsKey")),
        (&json!("ready"), None)
    );
    assert_eq!(sent[1]["eventId"], "job-1:streams:progressing");
    assert!(source_kept(&test, &id), "the ladder is made from it");

    ladder_written(&test, &id);
    test.handle(job_event(
        "mediaconvert-complete.json",
        &id,
        "job-1",
        "streams",
    ))
    .await
    .unwrap();
    assert!(!source_kept(&test, &id));
}

#[tokio::test]
async fn a_job_from_before_streaming_sets_made_the_mp4_alone() {
    let test = TestOrigin::new();
    let id = video_id();
    test.store
        .put(&bucket("media"), &ObjectKey::mp4(&id), b"the mp4");
    let mut complete = fixture("mediaconvert-complete.json", Some(&id));
    let metadata = complete["detail"]["userMetadata"].as_object_mut().unwrap();
    metadata.remove("makes");
    metadata.remove("token");
    test.handle(complete).await.unwrap();
    // Its upload is gone (converted long ago): the video plays on, without a ladder.
    let sent = test.sent();
    assert_eq!(sent[0]["status"], "ready");
    assert_eq!(
        (&sent[1]["streams"], &sent[1]["error"]["code"]),
        (&json!("failed"), &json!("no_streams"))
    );
    assert_eq!(sent[1]["eventId"], "1735787165123-abc123:streams:failed");
    assert!(test.submitted().is_empty());
}

#[tokio::test]
async fn the_source_is_kept_while_the_edge_needs_it_and_goes_with_its_video() {
    let (test, id) = copied().await;
    // Progress of the ladder: the video still needs its source.
    let progress = job_event("mediaconvert-status-update.json", &id, "job-1", "streams");
    test.handle(progress.clone()).await.unwrap();
    assert!(source_kept(&test, &id));
    // The video is deleted meanwhile: the next acknowledgement says so.
    test.edge.deleted.lock().unwrap().insert(id.clone());
    let mut later = progress;
    later["detail"]["jobProgress"]["jobPercentComplete"] = 50.into();
    test.handle(later).await.unwrap();
    assert!(!source_kept(&test, &id));
}
