//! The video containers the platform accepts for upload, as one table: extension and media
//! type side by side, so adding a container is one line.

use crate::{Error, Result};

/// A video container, known by its file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VideoContainer(&'static Entry);

#[derive(Debug, PartialEq, Eq, Hash)]
struct Entry {
    extension: &'static str,
    mime_type: &'static str,
}

const fn entry(extension: &'static str, mime_type: &'static str) -> Entry {
    Entry {
        extension,
        mime_type,
    }
}

/// Every accepted container: lowercase extension, registered (or conventional) media type.
static TABLE: [Entry; 14] = [
    entry("mp4", "video/mp4"),
    entry("mov", "video/quicktime"),
    entry("m4v", "video/x-m4v"),
    entry("mkv", "video/x-matroska"),
    entry("webm", "video/webm"),
    entry("avi", "video/x-msvideo"),
    entry("wmv", "video/x-ms-wmv"),
    entry("flv", "video/x-flv"),
    entry("mpg", "video/mpeg"),
    entry("mpeg", "video/mpeg"),
    entry("ts", "video/mp2t"),
    entry("m2ts", "video/mp2t"),
    entry("3gp", "video/3gpp"),
    entry("ogv", "video/ogg"),
];

impl VideoContainer {
    pub const MP4: VideoContainer = VideoContainer(&TABLE[0]);
    pub const MKV: VideoContainer = VideoContainer(&TABLE[3]);
    pub const THREE_GP: VideoContainer = VideoContainer(&TABLE[12]);

    /// Every accepted container, in the table's order.
    pub const ALL: [VideoContainer; 14] = {
        let mut all = [VideoContainer(&TABLE[0]); 14];
        let mut i = 0;
        while i < all.len() {
            all[i] = VideoContainer(&TABLE[i]);
            i += 1;
        }
        all
    };

    /// The container named by a file name's extension (case-insensitive).
    pub fn from_file_name(file_name: &str) -> Result<Self> {
        let extension = file_name
            .rsplit_once('.')
            .map(|(_, extension)| extension)
            .ok_or_else(|| Error::UnsupportedContainer(file_name.to_string()))?;
        Self::from_extension(extension)
    }

    /// The container for an extension without the dot (case-insensitive).
    pub fn from_extension(extension: &str) -> Result<Self> {
        TABLE
            .iter()
            .find(|entry| entry.extension.eq_ignore_ascii_case(extension))
            .map(VideoContainer)
            .ok_or_else(|| Error::UnsupportedContainer(extension.to_string()))
    }

    /// The lowercase extension, without the dot.
    pub fn extension(self) -> &'static str {
        self.0.extension
    }

    /// The registered (or conventional) media type.
    pub fn mime_type(self) -> &'static str {
        self.0.mime_type
    }

    /// `mp4 mov … ogv`: the accepted extensions, for messages.
    pub fn extensions() -> String {
        TABLE
            .iter()
            .map(|entry| entry.extension)
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The media type an uploader declares for a file (`fileType`): signed into the upload's
/// `Content-Type`, so S3 stores exactly it.
#[derive(Clone, PartialEq, Eq)]
pub struct FileType(String);

impl FileType {
    /// Trimmed; `video/*` or `application/octet-stream` (what browsers send for unknown
    /// types), case-insensitive, with any `; parameters` kept but not judged.
    pub fn parse(text: &str) -> Result<Self> {
        let text = text.trim();
        if accepts_file_type(text) {
            Ok(Self(text.to_string()))
        } else {
            Err(Error::UnsupportedFileType(text.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

string_newtype!(FileType);

/// Whether an upload's declared `fileType` is acceptable: `video/*` or
/// `application/octet-stream` (what browsers send for unknown types), case-insensitive, with
/// any `; parameters` ignored.
fn accepts_file_type(file_type: &str) -> bool {
    // It is signed into a Content-Type header: printable ASCII only.
    if !file_type.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return false;
    }
    let essence = file_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let is_token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    essence == "application/octet-stream" || essence.strip_prefix("video/").is_some_and(is_token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containers_by_file_name() {
        assert_eq!(
            VideoContainer::from_file_name("Holiday.MP4").unwrap(),
            VideoContainer::MP4
        );
        assert_eq!(
            VideoContainer::from_file_name("a.b.3GP").unwrap(),
            VideoContainer::THREE_GP
        );
        assert_eq!(
            VideoContainer::from_file_name("x.m2ts")
                .unwrap()
                .mime_type(),
            "video/mp2t"
        );
        assert_eq!(
            VideoContainer::extensions(),
            "mp4 mov m4v mkv webm avi wmv flv mpg mpeg ts m2ts 3gp ogv"
        );
        for container in VideoContainer::ALL {
            let name = format!("clip.{}", container.extension().to_uppercase());
            assert_eq!(VideoContainer::from_file_name(&name).unwrap(), container);
            assert!(container.mime_type().starts_with("video/"));
            assert!(FileType::parse(container.mime_type()).is_ok());
        }
        for bad in ["noextension", "x.txt", "x.", "x.mp4.exe"] {
            assert!(
                matches!(
                    VideoContainer::from_file_name(bad),
                    Err(Error::UnsupportedContainer(_))
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn file_types() {
        for good in [
            "video/mp4",
            "VIDEO/QuickTime",
            "video/mp4; codecs=\"avc1\"",
            " application/octet-stream ",
            "Application/Octet-Stream;x=y",
        ] {
            assert!(accepts_file_type(good), "{good:?}");
        }
        assert_eq!(
            FileType::parse(" video/mp4 ").unwrap().as_str(),
            "video/mp4"
        );
        assert!(matches!(
            FileType::parse("text/plain"),
            Err(Error::UnsupportedFileType(_))
        ));
        for bad in [
            "",
            "video/",
            "video",
            "audio/mp4",
            "image/png",
            "video/m p4",
            "text/video",
            "video/mp4; x=\u{e9}",
            "video/mp4\u{7f}",
            "video/mp4\n",
        ] {
            assert!(!accepts_file_type(bad), "{bad:?}");
        }
    }
}
