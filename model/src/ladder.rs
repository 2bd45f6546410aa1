//! The adaptive streaming ladder, one definition for MediaConvert and FFmpeg: which
//! renditions a source gets, at which sizes and bitrates, and the stream's timing.
//!
//! Rungs follow the AWS "Video on Demand on AWS" QVBR ladder (1080p at 8.5 Mb/s max down to a
//! 0.4 Mb/s floor), trimmed to the five heights players switch between (1080/720/480/360/240),
//! with Mux's 1080p as the default cap. A rendition is named by the picture's short side, so
//! a portrait phone video gets the same ladder as a landscape one, and nothing is upscaled.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Keyframes every 2 s, aligned across renditions, so a player can switch at any segment.
pub const GOP: Duration = Duration::from_secs(2);
/// Segments of about 6 s (three GOPs): few requests, quick start, CDN-cacheable files.
pub const SEGMENT: Duration = Duration::from_secs(6);
/// One AAC-LC stereo rendition, shared by every video rendition.
pub const AUDIO_BITRATE: u32 = 128_000;
pub const AUDIO_SAMPLE_RATE: u32 = 48_000;
/// The default highest rendition (short side), as Mux's default tier.
pub const DEFAULT_CAP: u32 = 1080;

/// The H.264 profile of a rendition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    /// The small renditions, which old and low-end decoders get.
    Main,
    High,
}

/// One video rendition of the ladder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rendition {
    /// The short side of the picture, in pixels (720 for 1280x720 and for 720x1280).
    pub short_side: u32,
    /// The most any segment may average (bits/s): QVBR's MaxBitrate, x264's maxrate.
    pub max_bitrate: u32,
    /// What a typical segment needs (bits/s): the planning figure for x264's target.
    pub average_bitrate: u32,
    /// MediaConvert's QVBR quality level (1..=10).
    pub qvbr_quality: u8,
}

impl Rendition {
    /// `720p`.
    pub fn name(&self) -> String {
        format!("{}p", self.short_side)
    }

    /// High from 720p up, Main below (as the AWS solution's templates do).
    pub fn profile(&self) -> Profile {
        if self.short_side >= 720 {
            Profile::High
        } else {
            Profile::Main
        }
    }

    /// The picture size of this rendition of an upright `width` x `height` source: the short
    /// side is the rendition's, the long side follows the aspect ratio, both even.
    pub fn size(&self, width: u32, height: u32) -> (u32, u32) {
        let (long, short) = (width.max(height), width.min(height).max(1));
        let scaled = u64::from(long) * u64::from(self.short_side);
        // Nearest even number: H.264 4:2:0 needs even sides.
        let long = u32::try_from((scaled + u64::from(short)) / (2 * u64::from(short)) * 2)
            .unwrap_or(u32::MAX)
            .max(2);
        if width >= height {
            (long, self.short_side)
        } else {
            (self.short_side, long)
        }
    }
}

const fn rung(
    short_side: u32,
    max_bitrate: u32,
    average_bitrate: u32,
    qvbr_quality: u8,
) -> Rendition {
    Rendition {
        short_side,
        max_bitrate,
        average_bitrate,
        qvbr_quality,
    }
}

/// Highest first. Max bitrates are the AWS solution's (1080p 8.5, 720p 5.0, 540p 3.5 →
/// 480p 2.5, 360p 1.2, 270p 0.4 → 240p 0.6 Mb/s, the floor raised for H.264 at that size);
/// averages are what x264 at CRF 23 lands near for ordinary footage.
pub const RUNGS: [Rendition; 5] = [
    rung(1080, 8_500_000, 5_000_000, 8),
    rung(720, 5_000_000, 3_000_000, 8),
    rung(480, 2_500_000, 1_400_000, 7),
    rung(360, 1_200_000, 800_000, 7),
    rung(240, 600_000, 400_000, 7),
];

/// The renditions for a picture whose short side is `short_side`, highest first: every
/// rung at or below both the source and `cap`. A source smaller than the lowest rung gets
/// one rendition at its own size (even, as H.264 4:2:0 needs), never an upscale.
pub fn ladder(short_side: u32, cap: u32) -> Vec<Rendition> {
    let top = short_side.min(cap);
    let rungs: Vec<Rendition> = RUNGS
        .iter()
        .copied()
        .filter(|r| r.short_side <= top)
        .collect();
    if rungs.is_empty() {
        let lowest = RUNGS[RUNGS.len() - 1];
        vec![Rendition {
            short_side: (top.max(2)) & !1,
            ..lowest
        }]
    } else {
        rungs
    }
}

/// A rendition at its picture size, for one source: what an encoder is told to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Variant {
    pub rendition: Rendition,
    pub width: u32,
    pub height: u32,
}

/// The ladder of an upright `width` x `height` picture, highest first.
pub fn variants(width: u32, height: u32, cap: u32) -> Vec<Variant> {
    ladder(width.min(height), cap)
        .into_iter()
        .map(|rendition| {
            let (width, height) = rendition.size(width, height);
            Variant {
                rendition,
                width,
                height,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sides(short_side: u32, cap: u32) -> Vec<u32> {
        ladder(short_side, cap)
            .iter()
            .map(|r| r.short_side)
            .collect()
    }

    #[test]
    fn never_upscales_and_honours_the_cap() {
        assert_eq!(sides(2160, DEFAULT_CAP), [1080, 720, 480, 360, 240]);
        assert_eq!(sides(1080, DEFAULT_CAP), [1080, 720, 480, 360, 240]);
        assert_eq!(sides(720, DEFAULT_CAP), [720, 480, 360, 240]);
        assert_eq!(sides(719, DEFAULT_CAP), [480, 360, 240]);
        assert_eq!(sides(2160, 720), [720, 480, 360, 240]);
        assert_eq!(sides(240, DEFAULT_CAP), [240]);
        assert_eq!(sides(181, DEFAULT_CAP), [180]);
        assert_eq!(sides(1, DEFAULT_CAP), [2]);
        assert_eq!(ladder(720, 1080)[0].name(), "720p");
    }

    #[test]
    fn sizes_follow_the_short_side_and_the_aspect_ratio() {
        let sizes = |w, h| -> Vec<(u32, u32)> {
            variants(w, h, DEFAULT_CAP)
                .iter()
                .map(|v| (v.width, v.height))
                .collect()
        };
        assert_eq!(
            sizes(1920, 1080),
            [
                (1920, 1080),
                (1280, 720),
                (854, 480),
                (640, 360),
                (426, 240)
            ]
        );
        // A portrait phone video: the same rungs, standing up.
        assert_eq!(
            sizes(1080, 1920),
            [
                (1080, 1920),
                (720, 1280),
                (480, 854),
                (360, 640),
                (240, 426)
            ]
        );
        assert_eq!(sizes(320, 240), [(320, 240)]);
        assert_eq!(sizes(640, 480)[0], (640, 480));
        assert_eq!(sizes(200, 150), [(200, 150)]);
        assert_eq!(sizes(201, 151), [(200, 150)], "even sides");
        assert_eq!(RUNGS[0].profile(), Profile::High);
        assert_eq!(RUNGS[2].profile(), Profile::Main);
    }

    #[test]
    fn bitrates_fall_with_the_picture() {
        for pair in RUNGS.windows(2) {
            assert!(pair[0].max_bitrate > pair[1].max_bitrate);
            assert!(pair[0].average_bitrate > pair[1].average_bitrate);
        }
        for r in RUNGS {
            assert!(r.average_bitrate < r.max_bitrate);
            assert!((1..=10).contains(&r.qvbr_quality));
        }
        assert_eq!(
            SEGMENT.as_secs() % GOP.as_secs(),
            0,
            "segments start on keyframes"
        );
    }
}
