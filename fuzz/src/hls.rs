//! HLS playlists and storyboard WebVTT files, as the edge rewrites them (one signed URI per
//! file in `s3` and `cloudfront` playback) and as players read them back.
//!
//! Rewriting with no replacement, or with each URI replaced by itself, gives the text back
//! (with `\n` line endings); replacing each URI by a longer one moves exactly those URIs. A
//! relative URI resolves to a key with no `.`, `..` or empty segment, inside the playlist's
//! folder unless it climbs. A storyboard made from any duration and picture reads back as
//! cues that tile the video and stay inside their sprite.

use model::ObjectKey;
use model::hls::{attributes, parse_master, resolve, rewrite_playlist, rewrite_storyboard};
use model::storyboard::{Cue, Storyboard, parse_vtt};

use crate::input::{normalized_lines, take_u64, text};

/// Where the playlists under test sit, as the edge sees a rendition's playlist.
const PLAYLIST_KEY: &str = "videos/01943a5b-0000-7000-8000-000000000001/hls/720p/index.m3u8";

pub fn hls_playlist(data: &[u8]) {
    let text = text(data);
    let uris = rewrites_in_place(&text, |text, replace| rewrite_playlist(text, replace));
    let base = ObjectKey::parse(PLAYLIST_KEY).expect("a valid key");
    for uri in uris.iter().map(String::as_str).chain([&*text]) {
        resolves_inside(&base, uri);
    }
    for line in text.lines() {
        attribute_lists_round_trip(line);
    }
    if let Some(master) = parse_master(&text) {
        let stream_tags = text
            .lines()
            .filter(|l| l.trim().starts_with("#EXT-X-STREAM-INF:"))
            .count();
        assert!(master.variants.len() <= stream_tags);
        for variant in &master.variants {
            assert!(
                !variant.uri.is_empty() && !variant.uri.starts_with('#'),
                "{variant:?}"
            );
        }
    }
}

pub fn storyboard_vtt(data: &[u8]) {
    let text = text(data);
    rewrites_in_place(&text, |text, replace| rewrite_storyboard(text, replace));
    if let Some(cues) = parse_vtt(&text) {
        assert_eq!(parse_vtt(&vtt_of(&cues)), Some(cues));
    }
    storyboards_read_back(data);
}

/// Checks the rewriting promises on `text`; returns the URIs found, in order.
fn rewrites_in_place(
    text: &str,
    rewrite: impl Fn(&str, &mut dyn FnMut(&str) -> Option<String>) -> String,
) -> Vec<String> {
    let expected = normalized_lines(text);
    let mut uris = Vec::new();
    let untouched = rewrite(text, &mut |uri| {
        uris.push(uri.to_string());
        None
    });
    assert_eq!(untouched, expected);
    assert_eq!(rewrite(text, &mut |uri| Some(uri.to_string())), expected);
    let signed = rewrite(text, &mut |uri| {
        Some(format!("https://cdn.example/{uri}?s=1"))
    });
    let mut found_again = Vec::new();
    rewrite(&signed, &mut |uri| {
        found_again.push(uri.to_string());
        None
    });
    let expected_uris: Vec<String> = uris
        .iter()
        .map(|uri| format!("https://cdn.example/{uri}?s=1"))
        .collect();
    assert_eq!(found_again, expected_uris);
    uris
}

fn resolves_inside(base: &ObjectKey, uri: &str) {
    let Some(key) = resolve(base, uri) else {
        return;
    };
    assert!(
        key.as_str()
            .split('/')
            .all(|s| !matches!(s, "" | "." | "..")),
        "{uri:?} -> {key}"
    );
    let path = uri.split(['?', '#']).next().unwrap_or_default();
    if !path.split('/').any(|segment| segment == "..") {
        // `.` names the folder itself (a key without the slash): harmless, the edge signs
        // only keys of the video's objects.
        let folder = &PLAYLIST_KEY[..PLAYLIST_KEY.rfind('/').expect("a folder")];
        assert!(key.as_str().starts_with(folder), "{uri:?} -> {key}");
    }
}

/// Attributes written back as `NAME="value"` read back the same, where no value holds a
/// quote (which a quoted value cannot).
fn attribute_lists_round_trip(line: &str) {
    let attrs = attributes(line);
    for (name, _) in &attrs {
        assert!(!name.contains('='), "{line:?}: {name:?}");
    }
    if attrs.iter().any(|(_, value)| value.contains('"')) {
        return;
    }
    let list: Vec<String> = attrs
        .iter()
        .map(|(name, value)| format!("{name}=\"{value}\""))
        .collect();
    assert_eq!(
        attributes(&format!("#TAG:{}", list.join(","))),
        attrs,
        "{line:?}"
    );
}

/// A WebVTT file with these cues, times as `H:MM:SS.mmm`.
fn vtt_of(cues: &[Cue]) -> String {
    let time = |ms: u64| {
        format!(
            "{}:{:02}:{:02}.{:03}",
            ms / 3_600_000,
            ms / 60_000 % 60,
            ms / 1000 % 60,
            ms % 1000
        )
    };
    let mut out = String::from("WEBVTT\n");
    for cue in cues {
        let (x, y, w, h) = cue.tile;
        out += &format!(
            "\n{} --> {}\n{}#xywh={x},{y},{w},{h}\n",
            time(cue.start_ms),
            time(cue.end_ms),
            cue.image
        );
    }
    out
}

/// The storyboard of a video of the input's duration and picture, written and read back.
fn storyboards_read_back(data: &[u8]) {
    let (duration_ms, rest) = take_u64(data);
    let (picture, _) = take_u64(rest);
    let (width, height) = ((picture >> 32) as u32, picture as u32);
    let board = Storyboard::new(duration_ms, width, height);
    let cues = parse_vtt(&board.vtt("storyboard.jpg")).expect("our storyboard reads back");
    assert_eq!(cues.len() as u64, u64::from(board.tiles()), "{board:?}");
    assert_eq!(board.sprites(), 1, "{board:?}");
    assert_eq!(cues.first().map(|c| c.start_ms), Some(0), "{board:?}");
    assert_eq!(
        cues.last().map(|c| c.end_ms),
        Some(board.duration_ms),
        "{board:?}"
    );
    for pair in cues.windows(2) {
        assert_eq!(pair[0].end_ms, pair[1].start_ms, "{board:?}");
    }
    let (sprite_width, sprite_height) = board.sprite_size();
    assert!(
        sprite_height <= model::storyboard::MAX_SPRITE_HEIGHT,
        "{board:?}"
    );
    for cue in &cues {
        let (x, y, w, h) = cue.tile;
        assert!(cue.start_ms < cue.end_ms, "{cue:?} of {board:?}");
        assert!(
            x + w <= sprite_width && y + h <= sprite_height,
            "{cue:?} of {board:?}"
        );
    }
}
