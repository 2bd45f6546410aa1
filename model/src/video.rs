//! A video's lifecycle and the text its uploader gives it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::container::VideoContainer;
use crate::text::single_line;
use crate::{Error, Result};

/// Where a video is in its life: `uploading → processing → ready | failed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VideoStatus {
    Uploading,
    Processing,
    Ready,
    Failed,
}

impl VideoStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            VideoStatus::Uploading => "uploading",
            VideoStatus::Processing => "processing",
            VideoStatus::Ready => "ready",
            VideoStatus::Failed => "failed",
        }
    }
}

impl fmt::Display for VideoStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for VideoStatus {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        [
            VideoStatus::Uploading,
            VideoStatus::Processing,
            VideoStatus::Ready,
            VideoStatus::Failed,
        ]
        .into_iter()
        .find(|status| status.as_str() == text)
        .ok_or_else(|| Error::InvalidStatus(text.to_string()))
    }
}

/// Where a video's adaptive ladder (HLS, poster, storyboard) is. A video may be `ready` (its
/// MP4 plays) while its ladder is still `processing`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LadderStatus {
    /// Not started: the video is still uploading or converting.
    Pending,
    Processing,
    Ready,
    /// Given up on; a ready video keeps playing as MP4.
    Failed,
    /// None is coming: the video was converted before ladders existed.
    None,
}

impl LadderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            LadderStatus::Pending => "pending",
            LadderStatus::Processing => "processing",
            LadderStatus::Ready => "ready",
            LadderStatus::Failed => "failed",
            LadderStatus::None => "none",
        }
    }

    /// The ladder of a video in `status`, given what its job reported of the ladder
    /// (`reported`: processing, ready or failed, or no word yet).
    pub fn of(status: VideoStatus, reported: Option<LadderStatus>) -> Self {
        match (reported, status) {
            (Some(reported), _) => reported,
            (None, VideoStatus::Uploading | VideoStatus::Processing) => LadderStatus::Pending,
            (None, VideoStatus::Failed) => LadderStatus::Failed,
            (None, VideoStatus::Ready) => LadderStatus::None,
        }
    }

    /// Whether nothing more will happen to it.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            LadderStatus::Ready | LadderStatus::Failed | LadderStatus::None
        )
    }
}

/// The name of the uploaded file: one printable line that ends in an accepted container's
/// extension. Shown back to its owner; never part of a key.
#[derive(Clone, PartialEq, Eq)]
pub struct FileName {
    name: String,
    container: VideoContainer,
}

impl FileName {
    pub const MAX_CHARS: usize = 255;

    /// Trimmed; [`Error::InvalidText`] when empty, too long or not printable,
    /// [`Error::UnsupportedContainer`] when its extension is not a video container's.
    pub fn parse(text: &str) -> Result<Self> {
        let name = single_line(text, Self::MAX_CHARS).ok_or(Error::InvalidText {
            field: "fileName",
            max_chars: Self::MAX_CHARS,
        })?;
        let container = VideoContainer::from_file_name(name)?;
        Ok(Self {
            name: name.to_string(),
            container,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.name
    }

    pub fn container(&self) -> VideoContainer {
        self.container
    }

    /// The name without its extension (`Holiday` for `Holiday.mp4`).
    pub fn stem(&self) -> &str {
        self.name
            .rsplit_once('.')
            .map_or(self.name.as_str(), |(stem, _)| stem)
    }
}

string_newtype!(FileName);

/// A video's title: one printable line.
#[derive(Clone, PartialEq, Eq)]
pub struct Title(String);

impl Title {
    pub const MAX_CHARS: usize = 200;

    /// Trimmed; [`Error::InvalidText`] when empty, too long or not printable.
    pub fn parse(text: &str) -> Result<Self> {
        single_line(text, Self::MAX_CHARS)
            .map(|title| Self(title.to_string()))
            .ok_or(Error::InvalidText {
                field: "title",
                max_chars: Self::MAX_CHARS,
            })
    }

    /// The title a video gets when its uploader gives none: the file name's stem, cut to
    /// the longest title (and the whole file name when the stem is blank).
    pub fn from_file_name(file: &FileName) -> Self {
        let stem: String = file.stem().trim().chars().take(Self::MAX_CHARS).collect();
        Self::parse(&stem)
            .unwrap_or_else(|_| Self(file.as_str().chars().take(Self::MAX_CHARS).collect()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

string_newtype!(Title);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_text_round_trips() {
        for status in ["uploading", "processing", "ready", "failed"] {
            let parsed: VideoStatus = status.parse().unwrap();
            assert_eq!(parsed.as_str(), status);
            assert_eq!(
                serde_json::to_string(&parsed).unwrap(),
                format!("\"{status}\"")
            );
        }
        assert!("Ready".parse::<VideoStatus>().is_err());
    }

    #[test]
    fn file_names() {
        let name = FileName::parse("  My Holiday.MOV ").unwrap();
        assert_eq!(name.as_str(), "My Holiday.MOV");
        assert_eq!(name.container().extension(), "mov");
        assert_eq!(name.stem(), "My Holiday");
        assert!(matches!(
            FileName::parse("notes.txt"),
            Err(Error::UnsupportedContainer(_))
        ));
        for bad in ["", "   ", "a\nb.mp4"] {
            assert!(matches!(
                FileName::parse(bad),
                Err(Error::InvalidText { .. })
            ));
        }
        let long = format!("{}.mp4", "x".repeat(252));
        assert!(FileName::parse(&long).is_err());
        assert!(FileName::parse(&long[1..]).is_ok());
    }

    #[test]
    fn titles() {
        assert_eq!(Title::parse(" A trip ").unwrap().as_str(), "A trip");
        assert!(Title::parse(&"t".repeat(201)).is_err());
        assert!(Title::parse("tab\there").is_err());
        let file = FileName::parse(&format!("{}.mkv", "n".repeat(250))).unwrap();
        assert_eq!(Title::from_file_name(&file).as_str().len(), 200);
        let dotted = FileName::parse(" .mp4").unwrap();
        assert_eq!(Title::from_file_name(&dotted).as_str(), ".mp4");
    }
}
