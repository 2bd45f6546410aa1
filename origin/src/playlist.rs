//! HLS playlists, as far as the origin reads them: a media playlist's segments (to measure a
//! rendition's real bit rates), the master's variants (to write those rates into it), and
//! the image playlist of MediaConvert's trick play (Image Media Playlist v0.4, as Roku
//! reads it: sprites of tiles at a fixed interval), which names the storyboard's sprites.
//! Pure: text in, text or facts out.

/// One segment of a media playlist: its `#EXTINF` duration and its URI.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment<'a> {
    pub duration_s: f64,
    pub uri: &'a str,
}

/// The segments of a media playlist, in order.
pub fn segments(playlist: &str) -> Vec<Segment<'_>> {
    let mut out = Vec::new();
    let mut duration = None;
    for line in playlist.lines().map(str::trim) {
        if let Some(value) = line.strip_prefix("#EXTINF:") {
            duration = value.split(',').next().and_then(|d| d.trim().parse().ok());
        } else if !line.is_empty()
            && !line.starts_with('#')
            && let Some(duration_s) = duration.take()
        {
            out.push(Segment {
                duration_s,
                uri: line,
            });
        }
    }
    out
}

/// A rendition's bit rates (bits/s) as its segments measure them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BitRates {
    /// The highest of any segment: what HLS's BANDWIDTH means.
    pub peak: u64,
    /// Over the whole rendition: AVERAGE-BANDWIDTH.
    pub average: u64,
}

impl BitRates {
    /// From (duration in seconds, size in bytes) of each segment.
    pub fn of(segments: &[(f64, u64)]) -> BitRates {
        let (mut peak, mut bits, mut seconds) = (0f64, 0f64, 0f64);
        for &(duration, bytes) in segments.iter().filter(|(d, _)| *d > 0.0) {
            let segment_bits = bytes as f64 * 8.0;
            peak = peak.max(segment_bits / duration);
            bits += segment_bits;
            seconds += duration;
        }
        let average = if seconds > 0.0 { bits / seconds } else { 0.0 };
        BitRates {
            peak: peak.ceil() as u64,
            average: average.ceil() as u64,
        }
    }

    fn plus(self, other: BitRates) -> BitRates {
        BitRates {
            peak: self.peak + other.peak,
            average: self.average + other.average,
        }
    }
}

/// An attribute list (`A=1,B="x,y"`) as (name, raw value) pairs, quotes kept.
fn attributes(list: &str) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    let mut rest = list;
    while let Some((name, after)) = rest.split_once('=') {
        let end = if let Some(quoted) = after.strip_prefix('"') {
            quoted.find('"').map_or(after.len(), |i| i + 2)
        } else {
            after.find(',').unwrap_or(after.len())
        };
        out.push((name.trim(), &after[..end]));
        rest = after[end..].strip_prefix(',').unwrap_or(&after[end..]);
    }
    out
}

fn attribute<'a>(list: &'a str, name: &str) -> Option<&'a str> {
    attributes(list)
        .into_iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.trim_matches('"'))
}

/// The master playlist with each variant's BANDWIDTH (peak) and AVERAGE-BANDWIDTH set to what
/// its segments and its audio group's measure (RFC 8216 §4.3.4.2: the rendition plus the
/// audio it plays with). `rates` gives a rendition's rates by the URI the master names it
/// with; a variant it knows nothing of keeps its line.
pub fn with_measured_bandwidth(master: &str, rates: impl Fn(&str) -> Option<BitRates>) -> String {
    let lines: Vec<&str> = master.lines().collect();
    // Audio groups: the most any of their renditions needs.
    let mut groups: Vec<(&str, BitRates)> = Vec::new();
    for line in &lines {
        let Some(list) = line.strip_prefix("#EXT-X-MEDIA:") else {
            continue;
        };
        let (Some(group), Some(uri)) = (attribute(list, "GROUP-ID"), attribute(list, "URI")) else {
            continue;
        };
        let measured = rates(uri).unwrap_or_default();
        match groups.iter_mut().find(|(g, _)| *g == group) {
            Some((_, known)) => {
                known.peak = known.peak.max(measured.peak);
                known.average = known.average.max(measured.average);
            }
            None => groups.push((group, measured)),
        }
    }
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        let variant = line.strip_prefix("#EXT-X-STREAM-INF:").and_then(|list| {
            let uri = lines.get(i + 1)?.trim();
            let audio = attribute(list, "AUDIO")
                .and_then(|g| groups.iter().find(|(name, _)| *name == g))
                .map(|(_, r)| *r)
                .unwrap_or_default();
            Some((list, rates(uri)?.plus(audio)))
        });
        match variant {
            Some((list, measured)) => {
                let kept: Vec<String> = attributes(list)
                    .into_iter()
                    .filter(|(n, _)| !matches!(*n, "BANDWIDTH" | "AVERAGE-BANDWIDTH"))
                    .map(|(n, v)| format!("{n}={v}"))
                    .collect();
                out.push_str(&format!(
                    "#EXT-X-STREAM-INF:BANDWIDTH={},AVERAGE-BANDWIDTH={},{}\n",
                    measured.peak,
                    measured.average,
                    kept.join(",")
                ));
            }
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

/// The URI of the master's first image stream (`#EXT-X-IMAGE-STREAM-INF:…,URI="…"`).
pub fn image_stream(master: &str) -> Option<&str> {
    master
        .lines()
        .find_map(|line| line.trim().strip_prefix("#EXT-X-IMAGE-STREAM-INF:"))
        .and_then(|list| attribute(list, "URI"))
}

/// What an image media playlist says of its sprites.
#[derive(Debug, Clone, PartialEq)]
pub struct Tiles<'a> {
    /// One tile: (width, height).
    pub tile: (u32, u32),
    /// Tiles per sprite: (columns, rows).
    pub layout: (u32, u32),
    /// How long each tile stands for.
    pub tile_duration_s: f64,
    /// The sprites, in order: how long each covers, and its URI.
    pub sprites: Vec<Segment<'a>>,
}

/// Reads an image media playlist (`#EXT-X-IMAGES-ONLY`, `#EXT-X-TILES` with RESOLUTION, LAYOUT
/// and DURATION); `None` when it is not one.
pub fn image_playlist(text: &str) -> Option<Tiles<'_>> {
    if !text.lines().any(|l| l.trim() == "#EXT-X-IMAGES-ONLY") {
        return None;
    }
    let list = text
        .lines()
        .find_map(|line| line.trim().strip_prefix("#EXT-X-TILES:"))?;
    let pair = |name: &str| -> Option<(u32, u32)> {
        let (a, b) = attribute(list, name)?.split_once('x')?;
        Some((a.parse().ok()?, b.parse().ok()?))
    };
    Some(Tiles {
        tile: pair("RESOLUTION")?,
        layout: pair("LAYOUT")?,
        tile_duration_s: attribute(list, "DURATION")?.parse().ok()?,
        sprites: segments(text),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MASTER: &str = "#EXTM3U\n#EXT-X-VERSION:7\n\
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"group_audio\",NAME=\"audio_0\",DEFAULT=YES,URI=\"audio/index.m3u8\"\n\
#EXT-X-STREAM-INF:BANDWIDTH=2890800,RESOLUTION=480x640,CODECS=\"avc1.4d401e,mp4a.40.2\",AUDIO=\"group_audio\"\n\
480p/index.m3u8\n\n\
#EXT-X-STREAM-INF:BANDWIDTH=1460800,RESOLUTION=360x480,CODECS=\"avc1.4d4015,mp4a.40.2\",AUDIO=\"group_audio\"\n\
360p/index.m3u8\n";

    #[test]
    fn segments_and_their_rates() {
        let playlist = "#EXTM3U\n#EXT-X-MAP:URI=\"init_1.mp4\"\n#EXTINF:6.000000,\nseg_000.m4s\n\
                        #EXTINF:2.000000,\nseg_001.m4s\n#EXT-X-ENDLIST\n";
        let found = segments(playlist);
        assert_eq!(
            found,
            [
                Segment {
                    duration_s: 6.0,
                    uri: "seg_000.m4s"
                },
                Segment {
                    duration_s: 2.0,
                    uri: "seg_001.m4s"
                }
            ]
        );
        // 600 kB in 6 s, then 300 kB in 2 s: 800 kb/s on average, 1.2 Mb/s at the peak.
        let rates = BitRates::of(&[(6.0, 600_000), (2.0, 300_000)]);
        assert_eq!(
            rates,
            BitRates {
                peak: 1_200_000,
                average: 900_000
            }
        );
        assert_eq!(BitRates::of(&[]), BitRates::default());
    }

    #[test]
    fn the_master_gets_measured_rates_with_its_audio() {
        let rates = |uri: &str| match uri {
            "audio/index.m3u8" => Some(BitRates {
                peak: 130_000,
                average: 128_000,
            }),
            "480p/index.m3u8" => Some(BitRates {
                peak: 900_000,
                average: 600_000,
            }),
            _ => None,
        };
        let fixed = with_measured_bandwidth(MASTER, rates);
        assert!(
            fixed.contains(
                "#EXT-X-STREAM-INF:BANDWIDTH=1030000,AVERAGE-BANDWIDTH=728000,RESOLUTION=480x640,\
             CODECS=\"avc1.4d401e,mp4a.40.2\",AUDIO=\"group_audio\"\n480p/index.m3u8\n"
            ),
            "{fixed}"
        );
        // Unmeasured: left as it was.
        assert!(fixed.contains("#EXT-X-STREAM-INF:BANDWIDTH=1460800,RESOLUTION=360x480"));
        assert!(fixed.contains("#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"group_audio\""));
        assert_eq!(attribute("A=1,B=\"x,y\",C=z", "C"), Some("z"));
    }

    #[test]
    fn trick_play_images_name_the_sprites() {
        let master = format!(
            "{MASTER}#EXT-X-IMAGE-STREAM-INF:BANDWIDTH=5000,RESOLUTION=160x90,CODECS=\"jpeg\",URI=\"index_thumbnails.m3u8\"\n"
        );
        assert_eq!(image_stream(&master), Some("index_thumbnails.m3u8"));
        assert_eq!(image_stream(MASTER), None);
        let images = "#EXTM3U\n#EXT-X-TARGETDURATION:50\n#EXT-X-VERSION:7\n#EXT-X-MEDIA-SEQUENCE:1\n\
                      #EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-IMAGES-ONLY\n\
                      #EXTINF:50.000,\n#EXT-X-TILES:RESOLUTION=160x90,LAYOUT=5x2,DURATION=5.000\n\
                      index_thumbnails_1.jpg\n\
                      #EXTINF:12.500,\n#EXT-X-TILES:RESOLUTION=160x90,LAYOUT=5x2,DURATION=5.000\n\
                      index_thumbnails_2.jpg\n#EXT-X-ENDLIST\n";
        let tiles = image_playlist(images).unwrap();
        assert_eq!(
            (tiles.tile, tiles.layout, tiles.tile_duration_s),
            ((160, 90), (5, 2), 5.0)
        );
        let uris: Vec<&str> = tiles.sprites.iter().map(|s| s.uri).collect();
        assert_eq!(uris, ["index_thumbnails_1.jpg", "index_thumbnails_2.jpg"]);
        assert_eq!(image_playlist("#EXTM3U\n#EXTINF:6,\nseg.m4s\n"), None);
    }
}
