//! What is known about an input, and the pure decision of what to do with it: the plan by
//! its codecs and container, within the [`Caps`] a source must meet.

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

/// The caps a source must meet before it is converted, and the ladder's top. A source
/// longer than `max_duration_ms` fails; one whose picture is larger than `max_long_side` x
/// `max_short_side` (either way up, as the ladder names renditions by their short side) is
/// scaled down to fit, aspect ratio kept: its MP4 is transcoded at that size, never copied,
/// and its ladder is planned from that size under `ladder`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caps {
    /// `MAX_DURATION_SECS`: 6 h by default, Cloudflare Stream's ceiling.
    pub max_duration_ms: u64,
    /// `MAX_RESOLUTION` (`{long}x{short}`): 4096x2160 by default, DCI 4K, which also holds
    /// UHD (3840x2160) and a portrait 2160x4096.
    pub max_long_side: u32,
    pub max_short_side: u32,
    /// `LADDER_CAP`: the highest rendition's short side.
    pub ladder: u32,
}

impl Default for Caps {
    fn default() -> Caps {
        Caps {
            max_duration_ms: 6 * 3_600_000,
            max_long_side: 4096,
            max_short_side: 2160,
            ladder: model::ladder::DEFAULT_CAP,
        }
    }
}

impl Caps {
    /// Why a source lasting `duration_ms` is refused; `None` when it is within the cap or
    /// its duration is not known (then it is checked on the job's output).
    pub fn too_long(&self, duration_ms: Option<u64>) -> Option<String> {
        let duration = duration_ms.filter(|&d| d > self.max_duration_ms)?;
        Some(format!(
            "the video lasts {}, longer than the {} allowed",
            human_duration(duration),
            human_duration(self.max_duration_ms)
        ))
    }

    /// An upright `width` x `height` picture scaled down to fit the cap (both sides even,
    /// rounded down so neither passes it); `None` when it fits as it is.
    pub fn scaled(&self, width: u32, height: u32) -> Option<(u32, u32)> {
        let (long, short) = (width.max(height), width.min(height));
        if long <= self.max_long_side && short <= self.max_short_side {
            return None;
        }
        // The side that overshoots most sets the factor max/side, kept as a fraction.
        let (max, side) = if u64::from(self.max_long_side) * u64::from(short)
            <= u64::from(self.max_short_side) * u64::from(long)
        {
            (self.max_long_side, long)
        } else {
            (self.max_short_side, short)
        };
        let scale = |n: u32| {
            let scaled = u64::from(n) * u64::from(max) / u64::from(side);
            (u32::try_from(scaled).unwrap_or(u32::MAX) & !1).max(2)
        };
        Some((scale(width), scale(height)))
    }

    /// The upright picture a source's outputs are made at: its own, or scaled down to the
    /// cap. `None` when its size is not known.
    pub fn picture(&self, info: &MediaInfo) -> Option<(u32, u32)> {
        let (width, height) = info.video.as_ref()?.upright()?;
        Some(self.scaled(width, height).unwrap_or((width, height)))
    }
}

/// `6 h`, `1 h 30 min`, `2 min 5 s`, `2.5 s`: for people reading a failure.
fn human_duration(ms: u64) -> String {
    let (hours, minutes, seconds) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60);
    match (hours, minutes, seconds) {
        (0, 0, _) => format!("{} s", ms as f64 / 1000.0),
        (0, m, 0) => format!("{m} min"),
        (0, m, s) => format!("{m} min {s} s"),
        (h, 0, _) => format!("{h} h"),
        (h, m, _) => format!("{h} h {m} min"),
    }
}

/// How a source is converted, within the caps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conversion {
    pub plan: Plan,
    /// The MP4's upright picture when the source's is larger than the cap (the plan is then
    /// [`Plan::Transcode`]); `None`: the source's own.
    pub scaled_to: Option<(u32, u32)>,
}

/// Decides what to do with a source under `caps`: [`plan`] by its codecs and container,
/// a transcode at the cap when its picture is larger. Pure. `Err`: why it is refused (it
/// is longer than the cap).
pub fn decide(info: &MediaInfo, caps: &Caps) -> Result<Conversion, String> {
    if let Some(reason) = caps.too_long(info.duration_ms) {
        return Err(reason);
    }
    let scaled_to = info
        .video
        .as_ref()
        .and_then(VideoTrack::upright)
        .and_then(|(width, height)| caps.scaled(width, height));
    Ok(Conversion {
        plan: if scaled_to.is_some() {
            Plan::Transcode
        } else {
            plan(info)
        },
        scaled_to,
    })
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

    #[test]
    fn a_source_longer_than_the_cap_is_refused_with_its_length() {
        let caps = Caps::default();
        let mut long = info(Container::Mp4, VideoCodec::H264, Some(AudioCodec::Aac));
        long.duration_ms = Some(caps.max_duration_ms);
        assert!(decide(&long, &caps).is_ok(), "the cap itself is allowed");
        long.duration_ms = Some(caps.max_duration_ms + 90 * 60_000);
        assert_eq!(
            decide(&long, &caps),
            Err("the video lasts 7 h 30 min, longer than the 6 h allowed".into())
        );
        long.duration_ms = None;
        assert!(
            decide(&long, &caps).is_ok(),
            "unknown: checked on the output"
        );
        let short = Caps {
            max_duration_ms: 2000,
            ..caps
        };
        assert_eq!(
            short.too_long(Some(2500)).unwrap(),
            "the video lasts 2.5 s, longer than the 2 s allowed"
        );
        assert_eq!(human_duration(125_000), "2 min 5 s");
    }

    #[test]
    fn a_picture_larger_than_the_cap_is_transcoded_at_the_cap() {
        let caps = Caps::default();
        for (w, h) in [(3840, 2160), (4096, 2160), (2160, 4096), (320, 240)] {
            assert_eq!(caps.scaled(w, h), None, "{w}x{h} fits");
        }
        // 8K UHD: the short side binds; a panorama: the long side; a portrait: the same rule.
        assert_eq!(caps.scaled(7680, 4320), Some((3840, 2160)));
        assert_eq!(caps.scaled(8000, 2000), Some((4096, 1024)));
        assert_eq!(caps.scaled(4320, 7680), Some((2160, 3840)));
        assert_eq!(caps.scaled(4097, 2161), Some((4094, 2160)), "even, within");

        let small = Caps {
            max_long_side: 640,
            max_short_side: 240,
            ..caps
        };
        let mut phone = info(Container::Mp4, VideoCodec::H264, Some(AudioCodec::Aac));
        let track = phone.video.as_mut().unwrap();
        (track.width, track.height) = (320, 480);
        assert_eq!(plan(&phone), Plan::Remux);
        assert_eq!(
            decide(&phone, &small),
            Ok(Conversion {
                plan: Plan::Transcode,
                scaled_to: Some((240, 360)),
            }),
            "never remuxed at a size over the cap"
        );
        assert_eq!(small.picture(&phone), Some((240, 360)));
        assert_eq!(
            decide(&phone, &caps),
            Ok(Conversion {
                plan: Plan::Remux,
                scaled_to: None,
            })
        );
        assert_eq!(caps.picture(&phone), Some((320, 480)));
    }
}
