//! Storyboards for seek-bar previews, as Mux serves them: thumbnails at a fixed interval tiled
//! into sprite images, and a WebVTT file whose cues point at each tile with a
//! `#xywh=x,y,w,h` fragment. The geometry is decided here; FFmpeg and MediaConvert make the
//! tiles, and [`Storyboard::vtt`] writes the file that names them.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

/// Thumbnails are this wide; their height follows the picture's aspect ratio.
pub const TILE_WIDTH: u32 = 160;
/// Tiles per row of a sprite.
pub const COLUMNS: u32 = 10;
/// Under 15 minutes 50 previews, above 100, as Mux does.
const SHORT_VIDEO_MS: u64 = 15 * 60 * 1000;
/// The tallest sprite (MediaConvert refuses taller tile images): very tall pictures get
/// flatter tiles.
pub const MAX_SPRITE_HEIGHT: u32 = 4096;

/// Where each thumbnail of a video sits: tile `i` shows the moment `i * interval`, in
/// sprite `i / (columns * rows)`, row-major within it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Storyboard {
    pub tile_width: u32,
    pub tile_height: u32,
    /// Tiles per row of a sprite.
    pub columns: u32,
    /// Rows of a sprite.
    pub rows: u32,
    /// Each tile stands for this long.
    pub interval_ms: u64,
    pub duration_ms: u64,
}

impl Storyboard {
    /// The storyboard of a `duration_ms` video whose picture is `width` x `height` (as
    /// displayed): 50 tiles (100 from 15 minutes on) at an even interval, all in one sprite
    /// of [`COLUMNS`] columns. Tile heights are even, at least 2.
    pub fn new(duration_ms: u64, width: u32, height: u32) -> Self {
        let duration_ms = duration_ms.max(1);
        let wanted: u32 = if duration_ms < SHORT_VIDEO_MS {
            50
        } else {
            100
        };
        let interval_ms = duration_ms.div_ceil(u64::from(wanted));
        let tiles = u32::try_from(duration_ms.div_ceil(interval_ms)).unwrap_or(wanted);
        let rows = tiles.div_ceil(COLUMNS);
        let tile_height = if width == 0 {
            90
        } else {
            let exact = u64::from(TILE_WIDTH) * u64::from(height) / u64::from(width);
            let tallest = u64::from(MAX_SPRITE_HEIGHT / rows.max(1));
            (u32::try_from(exact.min(tallest)).unwrap_or(u32::MAX).max(2)) & !1
        };
        Storyboard {
            tile_width: TILE_WIDTH,
            tile_height,
            columns: COLUMNS.min(tiles),
            rows,
            interval_ms,
            duration_ms,
        }
    }

    /// How many thumbnails cover the duration.
    pub fn tiles(&self) -> u32 {
        u32::try_from(self.duration_ms.div_ceil(self.interval_ms.max(1))).unwrap_or(u32::MAX)
    }

    pub fn tiles_per_sprite(&self) -> u32 {
        (self.columns * self.rows).max(1)
    }

    /// How many sprite images hold the tiles.
    pub fn sprites(&self) -> u32 {
        self.tiles().div_ceil(self.tiles_per_sprite())
    }

    /// One sprite: (width, height).
    pub fn sprite_size(&self) -> (u32, u32) {
        (self.columns * self.tile_width, self.rows * self.tile_height)
    }

    /// Thumbnails per second, as FFmpeg's `fps` filter takes it: `1000/interval_ms`.
    pub fn frame_rate(&self) -> (u64, u64) {
        (1000, self.interval_ms.max(1))
    }

    /// The WebVTT file of a storyboard in one sprite, `sprite_uri` (relative, so it resolves
    /// next to the VTT wherever that is served).
    pub fn vtt(&self, sprite_uri: &str) -> String {
        self.vtt_in_sprites(&[sprite_uri])
    }

    /// The WebVTT file: tile `i` covers `[i, i+1) * interval` (the last ends with the video)
    /// and points at its place in its sprite, `sprite_uris[i / tiles_per_sprite]`. Tiles
    /// of sprites not named are left out.
    pub fn vtt_in_sprites(&self, sprite_uris: &[&str]) -> String {
        let mut out = String::from("WEBVTT\n");
        let per_sprite = self.tiles_per_sprite();
        for i in 0..self.tiles() {
            let Some(sprite) = sprite_uris.get((i / per_sprite) as usize) else {
                break;
            };
            let start = u64::from(i) * self.interval_ms;
            // Saturating: a probed duration can be as long as u64 milliseconds go.
            let end = start.saturating_add(self.interval_ms).min(self.duration_ms);
            let place = i % per_sprite;
            let _ = write!(
                out,
                "\n{} --> {}\n{sprite}#xywh={},{},{},{}\n",
                cue_time(start),
                cue_time(end),
                place % self.columns * self.tile_width,
                place / self.columns * self.tile_height,
                self.tile_width,
                self.tile_height
            );
        }
        out
    }
}

/// `HH:MM:SS.mmm`.
fn cue_time(ms: u64) -> String {
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

/// One cue of a storyboard file: its time range and the tile it shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cue {
    pub start_ms: u64,
    pub end_ms: u64,
    pub image: String,
    /// x, y, width, height within `image`.
    pub tile: (u32, u32, u32, u32),
}

/// Reads the cues of a storyboard WebVTT file (what players and the tests read back).
/// `None` when it is not one.
pub fn parse_vtt(text: &str) -> Option<Vec<Cue>> {
    let mut lines = text.lines();
    if !lines.next()?.starts_with("WEBVTT") {
        return None;
    }
    let mut cues = Vec::new();
    let lines: Vec<&str> = lines.filter(|l| !l.trim().is_empty()).collect();
    for pair in lines.chunks(2) {
        let [timing, target] = pair else {
            return None;
        };
        let (start, end) = timing.split_once(" --> ")?;
        let (image, fragment) = target.split_once("#xywh=")?;
        let numbers: Vec<u32> = fragment
            .split(',')
            .map(|n| n.parse().ok())
            .collect::<Option<_>>()?;
        let [x, y, w, h] = numbers[..] else {
            return None;
        };
        cues.push(Cue {
            start_ms: parse_cue_time(start)?,
            end_ms: parse_cue_time(end)?,
            image: image.to_string(),
            tile: (x, y, w, h),
        });
    }
    Some(cues)
}

fn parse_cue_time(text: &str) -> Option<u64> {
    let (hms, ms) = text.trim().split_once('.')?;
    let parts: Vec<u64> = hms
        .split(':')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let [h, m, s] = parts[..] else {
        return None;
    };
    // Checked: the numbers are the file's, as large as it likes.
    h.checked_mul(60)?
        .checked_add(m)?
        .checked_mul(60)?
        .checked_add(s)?
        .checked_mul(1000)?
        .checked_add(ms.parse().ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn geometry_follows_the_picture_and_the_length() {
        let board = Storyboard::new(20_000, 1280, 720);
        assert_eq!(
            (board.tiles(), board.tile_width, board.tile_height),
            (50, 160, 90)
        );
        assert_eq!((board.interval_ms, board.sprites()), (400, 1));
        assert_eq!(board.sprite_size(), (1600, 450));
        let portrait = Storyboard::new(20 * 60_000, 720, 1280);
        assert_eq!((portrait.tiles(), portrait.tile_height), (100, 284));
        assert_eq!(portrait.sprite_size(), (1600, 2840));
        let tall = Storyboard::new(20 * 60_000, 100, 1000);
        assert_eq!((tall.tile_height, tall.sprite_size().1), (408, 4080));
        let short = Storyboard::new(101, 320, 240);
        assert_eq!((short.tiles(), short.sprites()), (34, 1));
        assert_eq!(short.frame_rate(), (1000, 3));
    }

    #[test]
    fn cues_cover_the_video_and_stay_inside_the_sprite() {
        let board = Storyboard::new(20_011, 1280, 720);
        let cues = parse_vtt(&board.vtt("storyboard.jpg")).unwrap();
        assert_eq!(cues.len(), 50);
        assert_eq!(cues[0].start_ms, 0);
        assert_eq!(cues.last().unwrap().end_ms, 20_011);
        let (sprite_w, sprite_h) = board.sprite_size();
        for pair in cues.windows(2) {
            assert_eq!(pair[0].end_ms, pair[1].start_ms, "no gaps, no overlaps");
        }
        for cue in &cues {
            let (x, y, w, h) = cue.tile;
            assert!(x + w <= sprite_w && y + h <= sprite_h, "{cue:?}");
            assert_eq!(cue.image, "storyboard.jpg");
        }
        assert_eq!(cues[11].tile, (160, 90, 160, 90));
        assert_eq!(cue_time(3_723_004), "01:02:03.004");
        assert_eq!(parse_vtt("not vtt"), None);
    }

    /// Found by fuzzing: cue times and durations at the ends of u64 overflowed.
    #[test]
    fn extreme_times_neither_overflow_nor_wrap() {
        let huge = "WEBVTT\n\n307445734561825861:00:00.000 --> 00:00:01.000\na.jpg#xywh=0,0,1,1\n";
        assert_eq!(parse_vtt(huge), None);
        let board = Storyboard::new(u64::MAX, 1280, 720);
        let cues = parse_vtt(&board.vtt("a.jpg")).unwrap();
        assert_eq!(cues.len() as u32, board.tiles());
        assert_eq!(cues.last().unwrap().end_ms, u64::MAX);
        for pair in cues.windows(2) {
            assert_eq!(pair[0].end_ms, pair[1].start_ms);
        }
    }

    #[test]
    fn tiles_at_a_fixed_interval_spread_over_several_sprites() {
        // As MediaConvert makes them: a thumbnail every 5 s, 5x2 tiles per sprite.
        let board = Storyboard {
            tile_width: 160,
            tile_height: 90,
            columns: 5,
            rows: 2,
            interval_ms: 5000,
            duration_ms: 62_500,
        };
        assert_eq!((board.tiles(), board.sprites()), (13, 2));
        let cues = parse_vtt(&board.vtt_in_sprites(&["a.jpg", "b.jpg"])).unwrap();
        assert_eq!(cues.len(), 13);
        assert_eq!(
            (cues[9].image.as_str(), cues[9].tile),
            ("a.jpg", (640, 90, 160, 90))
        );
        assert_eq!(
            (cues[10].image.as_str(), cues[10].tile),
            ("b.jpg", (0, 0, 160, 90))
        );
        assert_eq!((cues[12].start_ms, cues[12].end_ms), (60_000, 62_500));
        // A sprite that is not named drops its tiles.
        assert_eq!(parse_vtt(&board.vtt("a.jpg")).unwrap().len(), 10);
    }
}
