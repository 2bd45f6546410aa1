//! In-memory stand-ins for the handler's ports, and [`TestOrigin`], a handler built on them:
//! branch logic is tested without a network, a MediaConvert client or a SeaweedFS.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::Path;
use std::sync::{Arc, Mutex};

use model::claim::{Claim, ClaimAnswer};
use model::job::{Acknowledgement, JobEvent};
use model::storage::KeyPrefix;
use model::{BucketName, ObjectKey, Timestamp};
use origin::clock::FixedClock;
use origin::edge::{Deadline, Edge};
use origin::media::{AudioCodec, Container, MediaInfo, VideoCodec, VideoTrack};
use origin::store::{Listed, ObjectMeta, ObjectStore, UploadJournal};
use origin::transcoder::{JobSpec, Source, Transcoder};
use origin::{Buckets, Error, Origin, Outcome, Result};
use sha2::{Digest, Sha256};

pub fn bucket(name: &str) -> BucketName {
    BucketName::parse(name).unwrap()
}

pub fn key(text: &str) -> ObjectKey {
    ObjectKey::parse(text).unwrap()
}

type Objects = BTreeMap<(BucketName, ObjectKey), Vec<u8>>;

/// Objects by (bucket, key).
#[derive(Clone, Default)]
pub struct MemoryStore {
    objects: Arc<Mutex<Objects>>,
}

impl MemoryStore {
    pub fn put(&self, bucket: &BucketName, key: &ObjectKey, bytes: &[u8]) {
        self.objects
            .lock()
            .unwrap()
            .insert((bucket.clone(), key.clone()), bytes.to_vec());
    }

    pub fn get(&self, bucket: &BucketName, key: &ObjectKey) -> Option<Vec<u8>> {
        self.objects
            .lock()
            .unwrap()
            .get(&(bucket.clone(), key.clone()))
            .cloned()
    }

    fn meta(bytes: &[u8]) -> ObjectMeta {
        ObjectMeta {
            size: bytes.len() as u64,
            etag: hex::encode(&Sha256::digest(bytes)[..16]),
        }
    }

    fn missing(bucket: &BucketName, key: &ObjectKey) -> Error {
        Error::NotFound {
            bucket: bucket.to_string(),
            key: key.to_string(),
        }
    }
}

impl ObjectStore for MemoryStore {
    async fn head(&self, bucket: &BucketName, key: &ObjectKey) -> Result<Option<ObjectMeta>> {
        Ok(self.get(bucket, key).map(|bytes| Self::meta(&bytes)))
    }

    async fn get_range(
        &self,
        bucket: &BucketName,
        key: &ObjectKey,
        start: u64,
        len: u64,
    ) -> Result<Vec<u8>> {
        let bytes = self
            .get(bucket, key)
            .ok_or_else(|| Self::missing(bucket, key))?;
        let start = (start as usize).min(bytes.len());
        let end = (start + len as usize).min(bytes.len());
        Ok(bytes[start..end].to_vec())
    }

    async fn download(&self, bucket: &BucketName, key: &ObjectKey, to: &Path) -> Result<u64> {
        let bytes = self
            .get(bucket, key)
            .ok_or_else(|| Self::missing(bucket, key))?;
        std::fs::write(to, &bytes)?;
        Ok(bytes.len() as u64)
    }

    async fn upload(
        &self,
        bucket: &BucketName,
        key: &ObjectKey,
        from: &Path,
        _content_type: &str,
        _journal: UploadJournal<'_>,
    ) -> Result<()> {
        self.put(bucket, key, &std::fs::read(from)?);
        Ok(())
    }

    async fn put_bytes(
        &self,
        bucket: &BucketName,
        key: &ObjectKey,
        bytes: Vec<u8>,
        _content_type: &str,
    ) -> Result<()> {
        self.put(bucket, key, &bytes);
        Ok(())
    }

    async fn copy(
        &self,
        (source_bucket, source_key): (&BucketName, &ObjectKey),
        (bucket, key): (&BucketName, &ObjectKey),
        _size: u64,
        _content_type: &str,
    ) -> Result<()> {
        let bytes = self
            .get(source_bucket, source_key)
            .ok_or_else(|| Self::missing(source_bucket, source_key))?;
        self.put(bucket, key, &bytes);
        Ok(())
    }

    async fn abort_upload(&self, _: &BucketName, _: &ObjectKey, _: &str) -> Result<()> {
        Ok(())
    }

    async fn delete(&self, bucket: &BucketName, key: &ObjectKey) -> Result<()> {
        self.objects
            .lock()
            .unwrap()
            .remove(&(bucket.clone(), key.clone()));
        Ok(())
    }

    async fn list(&self, bucket: &BucketName, prefix: &KeyPrefix) -> Result<Vec<Listed>> {
        Ok(self
            .objects
            .lock()
            .unwrap()
            .iter()
            .filter(|((b, k), _)| b == bucket && k.as_str().starts_with(prefix.as_str()))
            .map(|((_, k), bytes)| Listed {
                key: k.clone(),
                meta: Self::meta(bytes),
            })
            .collect())
    }
}

/// What the fake prober says about every source that exists.
#[derive(Clone)]
pub enum ProbeAnswer {
    Media(MediaInfo),
    NotMedia(String),
}

/// Probes from a set answer (a missing source is `NotFound`, as a real prober finds), and
/// records every submitted job; a token seen before returns the first job's id, as
/// MediaConvert's ClientRequestToken does.
#[derive(Clone)]
pub struct FakeTranscoder {
    store: MemoryStore,
    pub answer: Arc<Mutex<ProbeAnswer>>,
    pub submitted: Arc<Mutex<Vec<JobSpec>>>,
    jobs: Arc<Mutex<HashMap<String, String>>>,
}

/// A 320x240 H.264 + AAC MP4 with its index at the end: the remux case.
pub fn h264_aac_mp4(size: u64) -> MediaInfo {
    MediaInfo {
        container: Container::Mp4,
        video: Some(VideoTrack {
            codec: VideoCodec::H264,
            width: 320,
            height: 240,
            browser_safe: Some(true),
            rotation: 0,
        }),
        audio: Some(AudioCodec::Aac),
        fast_start: Some(false),
        duration_ms: Some(2000),
        size,
    }
}

impl Transcoder for FakeTranscoder {
    async fn probe(&self, source: &Source) -> Result<MediaInfo> {
        if self.store.get(&source.bucket, &source.key).is_none() {
            return Err(MemoryStore::missing(&source.bucket, &source.key));
        }
        match self.answer.lock().unwrap().clone() {
            ProbeAnswer::Media(info) => Ok(MediaInfo {
                size: source.size,
                ..info
            }),
            ProbeAnswer::NotMedia(reason) => Err(Error::InvalidInput(reason)),
        }
    }

    async fn submit(&self, job: &JobSpec) -> Result<String> {
        self.submitted.lock().unwrap().push(job.clone());
        let mut jobs = self.jobs.lock().unwrap();
        let next = format!("job-{}", jobs.len() + 1);
        Ok(jobs.entry(job.token.clone()).or_insert(next).clone())
    }
}

type Claims = HashMap<model::VideoId, (String, Option<String>)>;

/// The edge's rules for claims, on the uploads it was told to expect, and for
/// acknowledgements ([`super::Acknowledger`]; the real ones are tested on SQLite in the edge's
/// own tests); records every report, and fails the next calls with the queued errors first.
#[derive(Clone, Default)]
pub struct FakeEdge {
    /// Expected uploads: video → (source key, size).
    pub expected: Arc<Mutex<HashMap<model::VideoId, (ObjectKey, u64)>>>,
    /// Claims made: video → (token, job id).
    pub claims: Arc<Mutex<Claims>>,
    pub events: Arc<Mutex<Vec<JobEvent>>>,
    pub failures: Arc<Mutex<VecDeque<Error>>>,
    /// While set, every report fails as an unreachable edge would (claims still pass).
    refusing_reports: Arc<std::sync::atomic::AtomicBool>,
    acknowledger: super::Acknowledger,
    /// Videos deleted from the catalog: nothing needs their source any more.
    pub deleted: Arc<Mutex<std::collections::HashSet<model::VideoId>>>,
}

impl FakeEdge {
    pub fn refuse_reports(&self, refuse: bool) {
        self.refusing_reports
            .store(refuse, std::sync::atomic::Ordering::Relaxed);
    }

    fn fail_next(&self) -> Result<()> {
        match self.failures.lock().unwrap().pop_front() {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }
}

impl Edge for FakeEdge {
    async fn claim(&self, claim: &Claim, _: Deadline) -> Result<ClaimAnswer> {
        self.fail_next()?;
        let expected = self.expected.lock().unwrap().get(&claim.video_id).cloned();
        if expected != Some((claim.key.clone(), claim.size)) {
            return Ok(ClaimAnswer::NotExpected {
                reason: "not expected".into(),
            });
        }
        let mut claims = self.claims.lock().unwrap();
        let first = !claims.contains_key(&claim.video_id);
        let (token, job_id) = claims
            .entry(claim.video_id.clone())
            .or_insert((claim.token.clone(), None));
        if *token != claim.token {
            return Ok(ClaimAnswer::NotExpected {
                reason: "another upload was claimed first".into(),
            });
        }
        if claim.job_id.is_some() {
            job_id.clone_from(&claim.job_id);
        }
        Ok(if first && claim.job_id.is_none() {
            ClaimAnswer::Granted
        } else {
            ClaimAnswer::Held {
                job_id: job_id.clone(),
            }
        })
    }

    async fn report(&self, event: &JobEvent, _: Deadline) -> Result<Acknowledgement> {
        self.fail_next()?;
        if self
            .refusing_reports
            .load(std::sync::atomic::Ordering::Relaxed)
        {
            return Err(Error::Edge {
                message: "unreachable".into(),
                status: None,
            });
        }
        self.events.lock().unwrap().push(event.clone());
        let wire: serde_json::Value = serde_json::from_slice(&event.to_json()).unwrap();
        let mut acknowledged: Acknowledgement =
            serde_json::from_value(self.acknowledger.acknowledge(&wire)).unwrap();
        if self.deleted.lock().unwrap().contains(&event.video_id) {
            acknowledged.source_needed = false;
        }
        Ok(acknowledged)
    }
}

pub type FakeOrigin = Origin<FakeTranscoder, MemoryStore, FakeEdge, FixedClock>;

/// A handler on in-memory ports, with handles on each.
pub struct TestOrigin {
    pub origin: FakeOrigin,
    pub store: MemoryStore,
    pub transcoder: FakeTranscoder,
    pub edge: FakeEdge,
}

impl TestOrigin {
    /// Buckets `incoming` and `media`; every source probes as an H.264/AAC MP4.
    pub fn new() -> TestOrigin {
        let store = MemoryStore::default();
        let transcoder = FakeTranscoder {
            store: store.clone(),
            answer: Arc::new(Mutex::new(ProbeAnswer::Media(h264_aac_mp4(0)))),
            submitted: Arc::default(),
            jobs: Arc::default(),
        };
        let edge = FakeEdge::default();
        TestOrigin {
            origin: Origin {
                buckets: Buckets {
                    incoming: bucket("incoming"),
                    media: bucket("media"),
                },
                caps: origin::media::Caps::default(),
                transcoder: transcoder.clone(),
                store: store.clone(),
                edge: edge.clone(),
                clock: FixedClock(Timestamp::from_unix_secs(1_735_787_165)),
            },
            store,
            transcoder,
            edge,
        }
    }

    /// The edge expects `size` bytes at `key` for `video` (a created video's upload).
    pub fn expecting(&self, video: &model::VideoId, key: &ObjectKey, size: u64) {
        self.edge
            .expected
            .lock()
            .unwrap()
            .insert(video.clone(), (key.clone(), size));
    }

    pub fn probing_as(self, answer: ProbeAnswer) -> TestOrigin {
        *self.transcoder.answer.lock().unwrap() = answer;
        self
    }

    pub async fn handle(&self, event: serde_json::Value) -> Result<Vec<Outcome>> {
        self.origin.handle(event, None).await
    }

    /// The events the edge was sent, as JSON in the contract's shape.
    pub fn sent(&self) -> Vec<serde_json::Value> {
        self.edge
            .events
            .lock()
            .unwrap()
            .iter()
            .map(|e| serde_json::from_slice(&e.to_json()).unwrap())
            .collect()
    }

    pub fn submitted(&self) -> Vec<JobSpec> {
        self.transcoder.submitted.lock().unwrap().clone()
    }
}
