//! What is known about an input, and the pure decision of what to do with it.

use serde::{Deserialize, Serialize};

/// The container family of an input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Container {
    /// ISO base media (brands isom, mp41, mp42, avc1, M4V …): what browsers play.
    Mp4,
    /// QuickTime (`qt  ` brand): same boxes, but not an MP4 file.
    Mov,
    Matroska,
    WebM,
    Avi,
    /// Anything else, by the name the prober gave it.
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VideoCodec {
    H264,
    Hevc,
    Vp8,
    Vp9,
    Av1,
    Mpeg4,
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AudioCodec {
    Aac,
    Mp3,
    Opus,
    Vorbis,
    Pcm,
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VideoTrack {
    pub codec: VideoCodec,
    pub width: u32,
    pub height: u32,
    /// False when the stream is known not to be 8-bit 4:2:0 (High 10, 4:2:2, 4:4:4 …), which
    /// browsers do not decode even when the codec is H.264. `None`: unknown.
    pub browser_safe: Option<bool>,
    /// How far the display matrix turns the coded picture, counterclockwise in degrees (0,
    /// 90, 180, 270), as ffprobe reports it: a phone held upright records a landscape picture
    /// turned by a quarter.
    #[serde(default)]
    pub rotation: u16,
}

impl VideoTrack {
    /// The picture as displayed: (width, height) of the coded picture, swapped when it is
    /// turned by a quarter. `None` when the size is not known.
    pub fn upright(&self) -> Option<(u32, u32)> {
        if self.width == 0 || self.height == 0 {
            return None;
        }
        Some(if self.rotation % 180 == 90 {
            (self.height, self.width)
        } else {
            (self.width, self.height)
        })
    }
}

/// Degrees (any sign, any turn) to 0, 90, 180 or 270, rounded to the nearest quarter.
pub fn quarter_turn(degrees: f64) -> u16 {
    let quarters = (degrees / 90.0).round().rem_euclid(4.0);
    (quarters as u16) * 90
}

/// What a prober (ffprobe locally, a ranged read of the MP4 header in the Lambda) learnt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaInfo {
    pub container: Container,
    pub video: Option<VideoTrack>,
    /// `None`: the input has no audio track (or none was found).
    pub audio: Option<AudioCodec>,
    /// For the MP4 family: is the index (`moov`) before the media data? `None`: unknown.
    pub fast_start: Option<bool>,
    pub duration_ms: Option<u64>,
    /// The object's size in bytes.
    pub size: u64,
}

/// What the pipeline does with an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Plan {
    /// Already a fast-start MP4 with H.264/AAC: the bytes are served as they are.
    Copy,
    /// H.264/AAC in another wrapper, or an MP4 with its index at the end: rewrite the
    /// container (fast start), never re-encode.
    Remux,
    /// Anything else: H.264 + AAC in a fast-start MP4.
    Transcode,
}

/// Decides what to do with an input. Pure: the same facts always give the same plan, and
/// anything not known for sure gives [`Plan::Transcode`].
pub fn plan(info: &MediaInfo) -> Plan {
    let Some(video) = &info.video else {
        return Plan::Transcode;
    };
    let video_ok = video.codec == VideoCodec::H264 && video.browser_safe == Some(true);
    let audio_ok = matches!(info.audio, None | Some(AudioCodec::Aac));
    if !(video_ok && audio_ok) || info.size == 0 {
        return Plan::Transcode;
    }
    match info.container {
        Container::Mp4 if info.fast_start == Some(true) => Plan::Copy,
        Container::Mp4 | Container::Mov | Container::Matroska => Plan::Remux,
        // H.264 in AVI/FLV/TS often carries broken timestamps or Annex B framing that
        // does not survive a stream copy into MP4; a transcode is the safe answer.
        Container::WebM | Container::Avi | Container::Other(_) => Plan::Transcode,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(container: Container, video: VideoCodec, audio: Option<AudioCodec>) -> MediaInfo {
        MediaInfo {
            container,
            video: Some(VideoTrack {
                codec: video,
                width: 320,
                height: 240,
                browser_safe: Some(true),
                rotation: 0,
            }),
            audio,
            fast_start: Some(false),
            duration_ms: Some(2000),
            size: 1000,
        }
    }

    #[test]
    fn a_quarter_turn_swaps_the_displayed_sides() {
        let mut track = info(Container::Mp4, VideoCodec::H264, None).video.unwrap();
        assert_eq!(track.upright(), Some((320, 240)));
        for (degrees, turn) in [
            (90.0, 90),
            (-90.0, 270),
            (270.0, 270),
            (180.0, 180),
            (-0.0, 0),
        ] {
            assert_eq!(quarter_turn(degrees), turn, "{degrees}");
        }
        track.rotation = 270;
        assert_eq!(track.upright(), Some((240, 320)));
        track.width = 0;
        assert_eq!(track.upright(), None);
    }

    #[test]
    fn h264_aac_mp4_is_never_reencoded() {
        let mut i = info(Container::Mp4, VideoCodec::H264, Some(AudioCodec::Aac));
        assert_eq!(plan(&i), Plan::Remux);
        i.fast_start = Some(true);
        assert_eq!(plan(&i), Plan::Copy);
        i.fast_start = None;
        assert_eq!(plan(&i), Plan::Remux);
        i.audio = None;
        assert_eq!(plan(&i), Plan::Remux);
    }

    #[test]
    fn other_wrappers_of_h264_aac_are_remuxed() {
        for c in [Container::Mov, Container::Matroska] {
            assert_eq!(
                plan(&info(c, VideoCodec::H264, Some(AudioCodec::Aac))),
                Plan::Remux
            );
        }
        assert_eq!(
            plan(&info(
                Container::Avi,
                VideoCodec::H264,
                Some(AudioCodec::Aac)
            )),
            Plan::Transcode
        );
    }

    #[test]
    fn everything_else_is_transcoded() {
        let cases = [
            info(Container::Mp4, VideoCodec::Hevc, Some(AudioCodec::Aac)),
            info(Container::Mp4, VideoCodec::H264, Some(AudioCodec::Mp3)),
            info(Container::WebM, VideoCodec::Vp9, Some(AudioCodec::Opus)),
            info(Container::Avi, VideoCodec::Mpeg4, Some(AudioCodec::Pcm)),
            info(
                Container::Other("flv".into()),
                VideoCodec::Other("flv1".into()),
                None,
            ),
        ];
        for c in cases {
            assert_eq!(plan(&c), Plan::Transcode, "{c:?}");
        }
        let mut ten_bit = info(Container::Mp4, VideoCodec::H264, Some(AudioCodec::Aac));
        ten_bit.video.as_mut().unwrap().browser_safe = Some(false);
        assert_eq!(plan(&ten_bit), Plan::Transcode);
        ten_bit.video.as_mut().unwrap().browser_safe = None;
        assert_eq!(plan(&ten_bit), Plan::Transcode, "unsure means transcode");
        let mut no_video = info(Container::Mp4, VideoCodec::H264, Some(AudioCodec::Aac));
        no_video.video = None;
        assert_eq!(plan(&no_video), Plan::Transcode);
    }
}
