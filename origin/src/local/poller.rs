//! Notices new uploads: every object under `uploads/` in the incoming bucket that the
//! handler has not seen becomes an S3 notification of the same shape AWS sends.

use super::LocalOrigin;
use crate::clock::Clock;
use crate::edge::Edge;
use crate::error::Result;
use crate::event::{NewObject, s3_event_json};
use crate::store::ObjectStore;
use crate::transcoder::Source;
use model::storage::KeyPrefix;

/// One poll. Returns how many objects were handed to the handler.
pub async fn poll_once<S: ObjectStore, E: Edge, C: Clock>(
    origin: &LocalOrigin<S, E, C>,
    region: &str,
) -> Result<usize> {
    let state = &origin.transcoder.state;
    let bucket = &origin.buckets.incoming;
    let mut handed = 0;
    for object in origin.store.list(bucket, &KeyPrefix::all_sources()).await? {
        let source = Source {
            bucket: bucket.clone(),
            key: object.key,
            etag: object.meta.etag,
            size: object.meta.size,
        };
        let token = source.token();
        if state.seen(&token) {
            continue;
        }
        let new = NewObject {
            region,
            bucket,
            key: &source.key,
            size: source.size,
            etag: &source.etag,
        };
        let event = s3_event_json(&new, origin.clock.now());
        match origin.handle(event, None).await {
            Ok(_) => state.mark_seen(&token)?,
            Err(e) if e.is_retryable() => {
                eprintln!("origin-local: {}: {e}; will retry", source.key);
                continue;
            }
            Err(e) => {
                eprintln!(
                    "origin-local: {}: {e}; giving up on this object",
                    source.key
                );
                state.mark_seen(&token)?;
            }
        }
        handed += 1;
    }
    Ok(handed)
}
