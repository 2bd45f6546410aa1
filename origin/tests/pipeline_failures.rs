//! The local pipeline when things go wrong or get large: a corrupt upload, an output big
//! enough for a multipart upload, duplicated notifications, a source deleted mid-job. One
//! runner serves every test of this file (`common::local`).

mod common;

use std::time::Duration;

use common::fakes::bucket;
use common::local::{
    JOB_TIMEOUT, TEST_PART_SIZE, convert_and_check, dir, harness, jobs_of, outputs_of,
    source_exists, source_key, upload,
};
use common::{clip, wait_for};
use model::ObjectKey;
use origin::Plan;
use origin::clock::{Clock, SystemClock};
use origin::local::Stage;
use origin::store::ObjectStore;
use origin::transcoder::Makes;

const H264_AAC: &[&str] = &[
    "-c:v",
    "libx264",
    "-preset",
    "ultrafast",
    "-pix_fmt",
    "yuv420p",
    "-c:a",
    "aac",
];

#[test]
fn a_corrupt_file_fails_with_ffprobes_reason_and_keeps_the_source() {
    let h = harness();
    let path = dir().join("broken.mp4");
    let mut junk = b"this is not a video at all\n".repeat(2000);
    junk.extend((0..50_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
    std::fs::write(&path, junk).unwrap();
    let id = upload(&path);
    let failed = h.edge.wait_final(&id, JOB_TIMEOUT);
    assert_eq!(failed["status"], "failed", "{failed}");
    assert_eq!(failed["error"]["code"], "invalid_input");
    let message = failed["error"]["message"].as_str().unwrap();
    assert!(message.starts_with("ffprobe:"), "{message}");
    assert!(
        message.contains("Invalid data") || message.contains("moov atom not found"),
        "{message}"
    );
    assert!(source_exists(&id, &path), "a failed job keeps its source");
    assert!(outputs_of(&id).is_empty());
}

#[test]
fn a_large_output_goes_up_as_a_multipart_upload() {
    let h = harness();
    // Noise at a near-lossless quantizer: a few seconds make an output of several parts.
    // H.264/AAC with its index at the end: remuxed, never re-encoded, so the output is as
    // large as the (noisy, barely compressible) source.
    let path = dir().join("noisy.mp4");
    common::ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=640x360:rate=25:duration=2,noise=alls=60:allf=t",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=300:duration=2",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-qp",
        "4",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        path.to_str().unwrap(),
    ]);
    let size = std::fs::metadata(&path).unwrap().len();
    assert!(
        size > 2 * TEST_PART_SIZE,
        "the clip ({size} bytes) spans several parts"
    );
    let (id, _, out) = convert_and_check(&path, Plan::Remux);
    let out_size = std::fs::metadata(out.join("video.mp4")).unwrap().len();
    let meta =
        h.rt.block_on(h.store.head(&bucket("media"), &ObjectKey::mp4(&id)))
            .unwrap()
            .unwrap();
    assert_eq!(meta.size, out_size);
    let parts: u64 = meta
        .etag
        .rsplit_once('-')
        .expect("a multipart ETag")
        .1
        .parse()
        .unwrap();
    assert_eq!(parts, out_size.div_ceil(TEST_PART_SIZE));
}

#[test]
fn a_duplicate_event_makes_one_job() {
    let h = harness();
    let src = clip(&dir(), "dup.mkv", "320x240", 2, H264_AAC);
    let id = upload(&src);
    let key = source_key(&id, &src);
    let meta =
        h.rt.block_on(h.store.head(&bucket("incoming"), &key))
            .unwrap()
            .unwrap();
    // The same notification three times (S3 is at-least-once), besides the poller's own.
    let object = origin::event::NewObject {
        region: "us-east-1",
        bucket: &bucket("incoming"),
        key: &key,
        size: meta.size,
        etag: &meta.etag,
    };
    let event = origin::event::s3_event_json(&object, SystemClock.now());
    let mut job_ids = Vec::new();
    for _ in 0..3 {
        // Handled beside the runner's own pass, a duplicate may find the source's download
        // removed under it by a job that just ended: a retryable error, as AWS would retry.
        let outcomes = match h.rt.block_on(h.running.origin.handle(event.clone(), None)) {
            Ok(outcomes) => outcomes,
            Err(e) if e.is_retryable() => continue,
            Err(e) => panic!("{e}"),
        };
        for outcome in outcomes {
            match outcome {
                origin::Outcome::Submitted { job_id, .. }
                | origin::Outcome::AlreadyStarted { job_id, .. } => job_ids.push(job_id),
                // The job may already be finished and its source deleted.
                origin::Outcome::SourceGone { .. } => {}
                other => panic!("{other:?}"),
            }
        }
    }
    job_ids.dedup();
    assert!(job_ids.len() <= 1, "{job_ids:?}");
    let ready = h.edge.wait_final(&id, JOB_TIMEOUT);
    assert_eq!(ready["status"], "ready");
    let done = h.edge.wait_streams(&id, JOB_TIMEOUT);
    assert!(done.get("hlsKey").is_some(), "{done}");
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(
        jobs_of(&id),
        [(Makes::Mp4, Plan::Remux), (Makes::Streams, Plan::Copy)],
        "one MP4 job, one ladder job"
    );
    let mut ready_ids: Vec<String> = h
        .edge
        .for_video(&id)
        .iter()
        .filter(|e| e["status"] == "ready")
        .map(|e| e["eventId"].as_str().unwrap().to_string())
        .collect();
    ready_ids.dedup();
    assert_eq!(ready_ids.len(), 1, "one logical ready event");
}

#[test]
fn a_source_deleted_while_it_is_converted_ends_the_job_cleanly() {
    let h = harness();
    let path = dir().join("long.avi");
    common::ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=640x360:rate=25:duration=12",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=300:duration=12",
        "-c:v",
        "mpeg4",
        "-c:a",
        "pcm_s16le",
        path.to_str().unwrap(),
    ]);
    let id = upload(&path);
    let token = wait_for("the job to start converting", JOB_TIMEOUT, || {
        h.running
            .state
            .jobs()
            .into_iter()
            .find(|r| r.spec.video_id == id && r.stage == Stage::Converting)
            .map(|r| r.spec.token)
    });
    h.rt.block_on(h.store.delete(&bucket("incoming"), &source_key(&id, &path)))
        .unwrap();
    let failed = h.edge.wait_final(&id, JOB_TIMEOUT);
    assert_eq!(failed["status"], "failed", "{failed}");
    assert_eq!(
        failed["error"]["code"],
        format!(
            "mediaconvert_{}",
            origin::local::runner::ERROR_SOURCE_DELETED
        )
    );
    assert!(outputs_of(&id).is_empty(), "no output for a deleted source");
    // The event goes out first (so a crash before it retries the whole ending), then the
    // stage is recorded and the work files go.
    wait_for("the work files to be removed", JOB_TIMEOUT, || {
        (!h.running.state.work(&token).exists()).then_some(())
    });
    let record = h.running.state.load(&token).unwrap();
    assert_eq!(record.stage, Stage::Canceled);
}
