//! A finished job's streaming set, checked and named as the layout wants it before the edge
//! hears of it: the master playlist must be there and not empty; the poster and the
//! storyboard are named only when they exist. What a transcoder writes under other names is
//! put in place here: MediaConvert's frame capture (`poster.0000000.jpg`) is copied to
//! `poster.jpg`, and its trick-play images (sprites named by an image playlist beside the
//! ladder) get their `storyboard.vtt`, written by [`Storyboard::vtt_in_sprites`]. The
//! local runner writes both under their own names, so here they are found as they are.

use model::job::Streams;
use model::layout::{HLS_DIR, content_type};
use model::storage::KeyPrefix;
use model::storyboard::Storyboard;
use model::{ObjectKey, VideoId};

use super::Origin;
use crate::clock::Clock;
use crate::edge::Edge;
use crate::error::Result;
use crate::event::{JobStateChange, split_s3_url};
use crate::playlist::{image_playlist, image_stream};
use crate::store::ObjectStore;
use crate::transcoder::Transcoder;

impl<T: Transcoder, S: ObjectStore, E: Edge, C: Clock> Origin<T, S, E, C> {
    /// The streaming set a job made, in place (`Err`: why it is not).
    pub(super) async fn publish_streams(
        &self,
        video: &VideoId,
        detail: &JobStateChange,
    ) -> Result<Result<Streams, String>> {
        let hls = ObjectKey::hls_master(video);
        match self.store.head(&self.buckets.media, &hls).await? {
            Some(meta) if meta.size > 0 => {}
            found => {
                let what = if found.is_some() {
                    "is empty"
                } else {
                    "does not exist"
                };
                let url = format!("s3://{}/{hls}", self.buckets.media);
                return Ok(Err(format!("the master playlist {url} {what}")));
            }
        }
        Ok(Ok(Streams {
            poster: self.publish_poster(video, detail).await?,
            storyboard: self.publish_storyboard(video).await?,
            hls,
        }))
    }

    /// `poster.jpg`, copied from the frame capture the job reports when that has another
    /// name (the original is then removed, when the store lets it).
    async fn publish_poster(
        &self,
        video: &VideoId,
        detail: &JobStateChange,
    ) -> Result<Option<ObjectKey>> {
        let poster = ObjectKey::poster(video);
        let media = &self.buckets.media;
        let outputs = KeyPrefix::outputs(video);
        let captured = detail
            .output_group_details
            .iter()
            .flat_map(|g| &g.output_details)
            .flat_map(|o| &o.output_file_paths)
            .filter_map(|url| split_s3_url(url))
            .filter(|(bucket, _)| *bucket == media.as_str())
            .filter_map(|(_, key)| ObjectKey::parse(key).ok())
            .find(|key| {
                outputs.relative(key).is_some_and(|name| {
                    name.starts_with("poster.") && name.ends_with(".jpg") && *key != poster
                })
            });
        if let Some(captured) = captured
            && let Some(meta) = self.store.head(media, &captured).await?
        {
            let (from, to) = ((media, &captured), (media, &poster));
            self.store
                .copy(from, to, meta.size, content_type(&poster))
                .await?;
            // Tidying only: the copy is what counts, and deleting the video removes both.
            if let Err(e) = self.store.delete(media, &captured).await {
                eprintln!("origin: {captured} stays beside {poster}: {e}");
            }
        }
        Ok(self
            .store
            .head(media, &poster)
            .await?
            .filter(|meta| meta.size > 0)
            .map(|_| poster))
    }

    /// `storyboard.vtt`: there already, or written from the trick-play image playlist the
    /// master names. `None` when there is neither.
    async fn publish_storyboard(&self, video: &VideoId) -> Result<Option<ObjectKey>> {
        let vtt = ObjectKey::storyboard(video);
        let media = &self.buckets.media;
        if self.store.head(media, &vtt).await?.is_some() {
            return Ok(Some(vtt));
        }
        let Some(master) = self.read_text(&ObjectKey::hls_master(video)).await? else {
            return Ok(None);
        };
        let Some(images) = image_stream(&master)
            .and_then(|uri| ObjectKey::output(video, &format!("{HLS_DIR}/{uri}")).ok())
        else {
            return Ok(None);
        };
        let described = self
            .read_text(&images)
            .await?
            .and_then(|text| described_storyboard(video, &images, &text));
        let Some((board, sprites)) = described else {
            return Ok(None);
        };
        let names: Vec<&str> = sprites.iter().map(String::as_str).collect();
        let text = board.vtt_in_sprites(&names);
        self.store
            .put_bytes(media, &vtt, text.into_bytes(), content_type(&vtt))
            .await?;
        Ok(Some(vtt))
    }

    /// A small text object of the media bucket (a playlist); `None` when it does not exist.
    async fn read_text(&self, key: &ObjectKey) -> Result<Option<String>> {
        let media = &self.buckets.media;
        let Some(meta) = self.store.head(media, key).await? else {
            return Ok(None);
        };
        let bytes = self.store.get_range(media, key, 0, meta.size).await?;
        Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
    }
}

/// The storyboard an image playlist (`images`, of `video`) describes, and its sprites' names
/// relative to the video's folder, where the VTT is. `None` when it describes none, or names
/// a sprite outside the folder.
fn described_storyboard(
    video: &VideoId,
    images: &ObjectKey,
    text: &str,
) -> Option<(Storyboard, Vec<String>)> {
    let outputs = KeyPrefix::outputs(video);
    let dir = outputs
        .relative(images)?
        .rsplit_once('/')
        .map_or("", |(dir, _)| dir);
    let tiles = image_playlist(text)?;
    let sprites = tiles
        .sprites
        .iter()
        .map(|sprite| {
            let key = ObjectKey::output(video, &format!("{dir}/{}", sprite.uri)).ok()?;
            outputs.relative(&key).map(str::to_string)
        })
        .collect::<Option<Vec<String>>>()?;
    let seconds: f64 = tiles.sprites.iter().map(|s| s.duration_s).sum();
    let board = Storyboard {
        tile_width: tiles.tile.0,
        tile_height: tiles.tile.1,
        columns: tiles.layout.0,
        rows: tiles.layout.1,
        interval_ms: (tiles.tile_duration_s * 1000.0).round().max(1.0) as u64,
        duration_ms: (seconds * 1000.0).round() as u64,
    };
    Some((board, sprites))
}
