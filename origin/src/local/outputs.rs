//! A local job's outputs after FFmpeg, before the handler hears COMPLETE: the master
//! playlist gets BANDWIDTH and AVERAGE-BANDWIDTH measured from the segments FFmpeg wrote
//! (FFmpeg's own figures are nominal: its rate caps plus the audio's), the storyboard gets
//! its WebVTT file, and every file goes up to the media bucket under the video's folder
//! with its content type. The COMPLETE event then names them as MediaConvert would.

use std::path::{Path, PathBuf};

use model::ObjectKey;
use model::layout::{
    HLS_DIR, HLS_MASTER_NAME, STORYBOARD_NAME, STORYBOARD_SPRITE_NAME, content_type,
};

use super::state::{OutputFacts, PendingUpload};
use crate::error::{Error, Result};
use crate::event::{OutputDetail, OutputGroupDetail, VideoDetails};
use crate::playlist::{BitRates, segments, with_measured_bandwidth};
use crate::store::ObjectStore;
use crate::transcoder::JobSpec;

/// Measures the ladder into its master playlist and writes the storyboard's VTT. Without a
/// master there is nothing to measure: the handler reports the ladder missing.
pub async fn finish_streams(spec: &JobSpec, dir: &Path) -> Result<()> {
    let Some(streams) = &spec.streams else {
        return Ok(());
    };
    let hls = dir.join(HLS_DIR);
    let master_path = hls.join(HLS_MASTER_NAME);
    let master = match tokio::fs::read_to_string(&master_path).await {
        Ok(master) => master,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let mut rates = Vec::new();
    for uri in variant_uris(&master) {
        let playlist_path = hls.join(uri);
        let Ok(playlist) = tokio::fs::read_to_string(&playlist_path).await else {
            continue;
        };
        let folder = playlist_path.parent().unwrap_or(&hls);
        let mut sized = Vec::new();
        for segment in segments(&playlist) {
            let bytes = tokio::fs::metadata(folder.join(segment.uri)).await?.len();
            sized.push((segment.duration_s, bytes));
        }
        rates.push((uri.to_string(), BitRates::of(&sized)));
    }
    let measured = with_measured_bandwidth(&master, |uri| {
        rates.iter().find(|(u, _)| u == uri).map(|(_, r)| *r)
    });
    tokio::fs::write(&master_path, measured).await?;
    if let Some(board) = &streams.storyboard
        && tokio::fs::metadata(dir.join(STORYBOARD_SPRITE_NAME))
            .await
            .is_ok()
    {
        let vtt = board.vtt(STORYBOARD_SPRITE_NAME);
        tokio::fs::write(dir.join(STORYBOARD_NAME), vtt).await?;
    }
    Ok(())
}

/// Every rendition playlist a master names (variants and the audio group's).
fn variant_uris(master: &str) -> Vec<&str> {
    let mut uris: Vec<&str> = master
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(str::trim)
        .collect();
    uris.extend(master.lines().filter_map(|l| {
        let rest = l.strip_prefix("#EXT-X-MEDIA:")?;
        let (_, after) = rest.split_once("URI=\"")?;
        after.split_once('"').map(|(uri, _)| uri)
    }));
    uris
}

/// Every file under `dir`, with its path relative to it (`/`-separated), sorted.
fn files(dir: &Path) -> std::io::Result<Vec<(PathBuf, String)>> {
    let mut found = Vec::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder)? {
            let path = entry?.path();
            if path.is_dir() {
                folders.push(path);
            } else if let Ok(relative) = path.strip_prefix(dir) {
                let name = relative
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/");
                found.push((path.clone(), name));
            }
        }
    }
    found.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(found)
}

/// Uploads every output under `dir` to `videos/{id}/…`; a multipart upload's id goes to
/// `journal` first, so a restart can abort it.
pub async fn upload_all<S: ObjectStore>(
    store: &S,
    spec: &JobSpec,
    dir: &Path,
    journal: &(dyn Fn(Option<PendingUpload>) + Send + Sync),
) -> Result<()> {
    for (path, name) in files(dir)? {
        let key = ObjectKey::output(&spec.video_id, &name)
            .map_err(|e| Error::InvalidInput(format!("output {name:?}: {e}")))?;
        let pending = |upload_id: &str| {
            journal(Some(PendingUpload {
                key: key.clone(),
                upload_id: upload_id.to_string(),
            }));
        };
        store
            .upload(
                &spec.output_bucket,
                &key,
                &path,
                content_type(&key),
                &pending,
            )
            .await?;
        journal(None);
    }
    Ok(())
}

/// The COMPLETE event's output groups, as MediaConvert reports them: the MP4's file group
/// (with what ffprobe found of it), the ladder's CMAF group and the poster's file group.
pub fn reported_groups(spec: &JobSpec, facts: &OutputFacts) -> Vec<OutputGroupDetail> {
    let url = |key: &ObjectKey| format!("s3://{}/{key}", spec.output_bucket);
    let video = &spec.video_id;
    let mut groups = Vec::new();
    if let Some(mp4) = &spec.mp4 {
        groups.push(OutputGroupDetail {
            output_details: vec![OutputDetail {
                output_file_paths: vec![url(mp4)],
                duration_in_ms: facts.duration_ms,
                video_details: Some(VideoDetails {
                    width_in_px: facts.width,
                    height_in_px: facts.height,
                }),
            }],
            playlist_file_paths: Vec::new(),
            kind: Some("FILE_GROUP".into()),
        });
    }
    if spec.streams.is_some() {
        groups.push(OutputGroupDetail {
            output_details: Vec::new(),
            playlist_file_paths: vec![url(&ObjectKey::hls_master(video))],
            kind: Some("CMAF_GROUP".into()),
        });
        groups.push(OutputGroupDetail {
            output_details: vec![OutputDetail {
                output_file_paths: vec![url(&ObjectKey::poster(video))],
                ..OutputDetail::default()
            }],
            playlist_file_paths: Vec::new(),
            kind: Some("FILE_GROUP".into()),
        });
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rendition_playlist_of_a_master() {
        let master = "#EXTM3U\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"group_audio\",NAME=\"audio_0\",URI=\"audio/index.m3u8\"\n\
                      #EXT-X-STREAM-INF:BANDWIDTH=1,RESOLUTION=320x240\n240p/index.m3u8\n\n";
        assert_eq!(
            variant_uris(master),
            ["240p/index.m3u8", "audio/index.m3u8"]
        );
    }
}
