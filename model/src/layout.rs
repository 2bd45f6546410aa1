//! The object-key layout, both ways: every key the platform writes is built here, and every
//! key it reads back is recognised here. Keys never contain user text.
//!
//! - `incoming`: `uploads/{videoId}/source.{ext}`, the original as the browser uploaded it;
//! - `media`: `videos/{videoId}/…`, the conversion's outputs: `video.mp4` (the download and
//!   the fallback), `hls/index.m3u8` and its renditions, `poster.jpg`, `storyboard.vtt` with
//!   its sprite(s).

use crate::container::VideoContainer;
use crate::ids::VideoId;
use crate::storage::{KeyPrefix, ObjectKey};
use crate::{Error, Result};

const SOURCES: &str = "uploads/";
const SOURCE_STEM: &str = "source.";
const OUTPUTS: &str = "videos/";
/// The progressive MP4 every ready video has: the download and the fallback.
pub const MP4_NAME: &str = "video.mp4";
/// The HLS ladder's folder, below the video's.
pub const HLS_DIR: &str = "hls";
/// The master playlist, in [`HLS_DIR`].
pub const HLS_MASTER_NAME: &str = "index.m3u8";
pub const POSTER_NAME: &str = "poster.jpg";
pub const STORYBOARD_NAME: &str = "storyboard.vtt";
/// The storyboard's sprite, beside its WebVTT file.
pub const STORYBOARD_SPRITE_NAME: &str = "storyboard.jpg";

impl ObjectKey {
    /// `uploads/{id}/source.{ext}`: where the browser uploads the original.
    pub fn source(video: &VideoId, container: VideoContainer) -> Self {
        Self(format!(
            "{SOURCES}{video}/{SOURCE_STEM}{}",
            container.extension()
        ))
    }

    /// `videos/{id}/{name}`: a conversion output. `name` must be relative and free of
    /// `.`/`..` segments so it cannot leave the video's folder.
    pub fn output(video: &VideoId, name: &str) -> Result<Self> {
        if name.is_empty()
            || name.starts_with('/')
            || name
                .split('/')
                .any(|segment| segment.is_empty() || segment == "." || segment == "..")
        {
            return Err(Error::InvalidObjectKey(
                "output name must be a relative path without empty, '.' or '..' segments",
            ));
        }
        Self::parse(&format!("{OUTPUTS}{video}/{name}"))
    }

    /// `videos/{id}/video.mp4`.
    pub fn mp4(video: &VideoId) -> Self {
        Self(format!("{OUTPUTS}{video}/{MP4_NAME}"))
    }

    /// `videos/{id}/hls/index.m3u8`: the master playlist of the ladder.
    pub fn hls_master(video: &VideoId) -> Self {
        Self(format!("{OUTPUTS}{video}/{HLS_DIR}/{HLS_MASTER_NAME}"))
    }

    /// `videos/{id}/poster.jpg`.
    pub fn poster(video: &VideoId) -> Self {
        Self(format!("{OUTPUTS}{video}/{POSTER_NAME}"))
    }

    /// `videos/{id}/storyboard.vtt`.
    pub fn storyboard(video: &VideoId) -> Self {
        Self(format!("{OUTPUTS}{video}/{STORYBOARD_NAME}"))
    }

    /// `videos/{id}/storyboard.jpg`.
    pub fn storyboard_sprite(video: &VideoId) -> Self {
        Self(format!("{OUTPUTS}{video}/{STORYBOARD_SPRITE_NAME}"))
    }
}

impl KeyPrefix {
    /// `uploads/`: every source of every video (what the local runner watches).
    pub fn all_sources() -> Self {
        Self(SOURCES.into())
    }

    /// `uploads/{id}/`: every source object of a video.
    pub fn sources(video: &VideoId) -> Self {
        Self(format!("{SOURCES}{video}/"))
    }

    /// `videos/{id}/`: every output object of a video.
    pub fn outputs(video: &VideoId) -> Self {
        Self(format!("{OUTPUTS}{video}/"))
    }

    /// `videos/{id}/hls/`: the ladder's playlists and segments.
    pub fn hls(video: &VideoId) -> Self {
        Self(format!("{OUTPUTS}{video}/{HLS_DIR}/"))
    }
}

/// The media type an output is served with, by its name's extension: what S3 stores, what
/// the edge answers with, what players expect.
pub fn content_type(key: &ObjectKey) -> &'static str {
    let extension = key
        .file_name()
        .rsplit_once('.')
        .map_or("", |(_, extension)| extension);
    match extension.to_ascii_lowercase().as_str() {
        "m3u8" => "application/vnd.apple.mpegurl",
        "mp4" | "m4s" | "cmfv" | "m4v" => "video/mp4",
        "cmfa" | "m4a" => "audio/mp4",
        "jpg" | "jpeg" => "image/jpeg",
        "vtt" => "text/vtt; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// What a key is, by the layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Located<'k> {
    /// An uploaded original.
    Source {
        video: VideoId,
        container: VideoContainer,
    },
    /// A conversion output; `name` is the path below the video's folder.
    Output { video: VideoId, name: &'k str },
}

impl Located<'_> {
    pub fn video(&self) -> &VideoId {
        match self {
            Located::Source { video, .. } | Located::Output { video, .. } => video,
        }
    }
}

/// The inverse of the constructors above: `None` for a key the platform never writes.
pub fn locate(key: &ObjectKey) -> Option<Located<'_>> {
    let key = key.as_str();
    if let Some(rest) = key.strip_prefix(SOURCES) {
        let (id, file) = rest.split_once('/')?;
        let container = VideoContainer::from_extension(file.strip_prefix(SOURCE_STEM)?).ok()?;
        let video = VideoId::parse(id).ok()?;
        // Only the canonical spelling: the constructor writes the extension in lowercase.
        return (ObjectKey::source(&video, container).as_str() == key)
            .then_some(Located::Source { video, container });
    }
    let (id, name) = key.strip_prefix(OUTPUTS)?.split_once('/')?;
    let video = VideoId::parse(id).ok()?;
    let canonical = ObjectKey::output(&video, name).ok()?;
    (canonical.as_str() == key).then_some(Located::Output { video, name })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Timestamp;

    fn video() -> VideoId {
        VideoId::new(Timestamp::from_unix_ms(1_700_000_000_000), [7; 10])
    }

    #[test]
    fn keys_for_a_video() {
        let id = video();
        assert_eq!(
            ObjectKey::source(&id, VideoContainer::THREE_GP).as_str(),
            format!("uploads/{id}/source.3gp")
        );
        assert_eq!(
            ObjectKey::output(&id, "hls/seg 1.m4s").unwrap().as_str(),
            format!("videos/{id}/hls/seg 1.m4s")
        );
        assert_eq!(
            ObjectKey::mp4(&id).as_str(),
            format!("videos/{id}/video.mp4")
        );
        assert_eq!(KeyPrefix::sources(&id).as_str(), format!("uploads/{id}/"));
        assert_eq!(KeyPrefix::outputs(&id).as_str(), format!("videos/{id}/"));
        for bad in ["", "/abs", "../x", "a/../../x", "./x", "a/.", "a//b", "a/"] {
            assert!(
                matches!(ObjectKey::output(&id, bad), Err(Error::InvalidObjectKey(_))),
                "{bad:?}"
            );
        }
        assert!(ObjectKey::output(&id, &"x".repeat(1024)).is_err());
    }

    #[test]
    fn outputs_have_their_names_and_types() {
        let id = video();
        assert_eq!(
            ObjectKey::hls_master(&id).as_str(),
            format!("videos/{id}/hls/index.m3u8")
        );
        assert_eq!(KeyPrefix::hls(&id).as_str(), format!("videos/{id}/hls/"));
        for (name, expected) in [
            ("hls/index.m3u8", "application/vnd.apple.mpegurl"),
            ("hls/720p/seg_001.m4s", "video/mp4"),
            ("hls/index_720pinit.cmfv", "video/mp4"),
            ("hls/index_audio_000000001.cmfa", "audio/mp4"),
            ("poster.jpg", "image/jpeg"),
            ("storyboard.vtt", "text/vtt; charset=utf-8"),
            ("video.mp4", "video/mp4"),
            ("odd", "application/octet-stream"),
        ] {
            assert_eq!(
                content_type(&ObjectKey::output(&id, name).unwrap()),
                expected,
                "{name}"
            );
        }
        for key in [
            ObjectKey::poster(&id),
            ObjectKey::storyboard(&id),
            ObjectKey::storyboard_sprite(&id),
            ObjectKey::hls_master(&id),
        ] {
            assert_eq!(locate(&key).unwrap().video(), &id);
        }
    }

    #[test]
    fn locate_inverts_every_constructor() {
        let id = video();
        for container in VideoContainer::ALL {
            let key = ObjectKey::source(&id, container);
            assert_eq!(
                locate(&key),
                Some(Located::Source {
                    video: id.clone(),
                    container
                })
            );
        }
        let mp4 = ObjectKey::mp4(&id);
        assert_eq!(
            locate(&mp4),
            Some(Located::Output {
                video: id.clone(),
                name: "video.mp4"
            })
        );
        let nested = ObjectKey::output(&id, "hls/720p/seg_001.m4s").unwrap();
        assert_eq!(locate(&nested).unwrap().video(), &id);
        assert_eq!(
            KeyPrefix::outputs(&id).relative(&nested),
            Some("hls/720p/seg_001.m4s")
        );
    }

    #[test]
    fn locate_refuses_what_the_platform_never_writes() {
        let id = video();
        for key in [
            format!("uploads/{id}/source"),
            format!("uploads/{id}/source."),
            format!("uploads/{id}/source.txt"),
            format!("uploads/{id}/source.MP4"),
            format!("uploads/{id}/other.mp4"),
            format!("uploads/{id}/x/source.mp4"),
            format!("uploads/{}/source.mp4", id.as_str().to_uppercase()),
            "uploads/not-an-id/source.mp4".into(),
            format!("videos/{id}/"),
            format!("videos/{id}/../x"),
            format!("thumbs/{id}/a.jpg"),
            "uploads/".into(),
        ] {
            let key = ObjectKey::parse(&key).unwrap();
            assert_eq!(locate(&key), None, "{key}");
        }
    }
}
