//! HLS playlists and storyboard WebVTT files as text whose URIs name other files: finding
//! those URIs, resolving them against the file's own key, and rewriting them (the edge signs
//! each one where relative URIs cannot carry a signature), plus reading a master playlist's
//! variants (what players and the tests see).

use crate::storage::ObjectKey;

/// Where a URI sits in a line: the whole line, or the value of a `URI="…"` attribute.
fn uri_span(line: &str) -> Option<(usize, usize)> {
    let trimmed = line.trim_end();
    if trimmed.is_empty() {
        return None;
    }
    if !trimmed.starts_with('#') {
        return Some((0, trimmed.len()));
    }
    let start = trimmed.find("URI=\"")? + "URI=\"".len();
    let len = trimmed[start..].find('"')?;
    Some((start, start + len))
}

/// `playlist` with every URI (segment and playlist lines, and `URI="…"` attributes such as
/// `#EXT-X-MAP` and `#EXT-X-MEDIA`) replaced by what `replace` returns for it; `None` keeps
/// it. Line endings become `\n`.
pub fn rewrite_playlist(playlist: &str, replace: impl FnMut(&str) -> Option<String>) -> String {
    rewrite_lines(playlist, uri_span, replace)
}

/// A storyboard's cue payloads (`sprite.jpg#xywh=…`) are URIs; its header, timings and
/// blank lines are not. The fragment stays as it is.
fn storyboard_span(line: &str) -> Option<(usize, usize)> {
    let trimmed = line.trim_end();
    if trimmed.is_empty() || trimmed.starts_with("WEBVTT") || trimmed.contains("-->") {
        return None;
    }
    Some((0, trimmed.find('#').unwrap_or(trimmed.len())))
}

/// A storyboard WebVTT file with each cue's image URI replaced, its `#xywh=` kept.
pub fn rewrite_storyboard(vtt: &str, replace: impl FnMut(&str) -> Option<String>) -> String {
    rewrite_lines(vtt, storyboard_span, replace)
}

fn rewrite_lines(
    text: &str,
    span: fn(&str) -> Option<(usize, usize)>,
    mut replace: impl FnMut(&str) -> Option<String>,
) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for line in text.lines() {
        match span(line)
            .and_then(|(start, end)| replace(&line[start..end]).map(|new| (start, end, new)))
        {
            Some((start, end, new)) => {
                out.push_str(&line[..start]);
                out.push_str(&new);
                out.push_str(&line[end..]);
            }
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

/// The key a relative `uri` in the file at `base` names: `./` and `../` resolved, query
/// and fragment dropped. `None` for absolute URIs (with a scheme, or from the root), for
/// paths that climb above the bucket, and for names that are not keys.
pub fn resolve(base: &ObjectKey, uri: &str) -> Option<ObjectKey> {
    let path = uri.split(['?', '#']).next().unwrap_or_default();
    if path.is_empty() || path.starts_with('/') || path.contains(':') || path.contains('%') {
        return None;
    }
    let mut parts: Vec<&str> = base.as_str().split('/').collect();
    parts.pop();
    for segment in path.split('/') {
        match segment {
            "." | "" => {}
            ".." => {
                parts.pop()?;
            }
            name => parts.push(name),
        }
    }
    ObjectKey::parse(&parts.join("/")).ok()
}

/// One `#EXT-X-STREAM-INF` of a master playlist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    pub uri: String,
    /// Peak bits per second.
    pub bandwidth: u64,
    pub average_bandwidth: Option<u64>,
    /// `(width, height)`.
    pub resolution: Option<(u32, u32)>,
    pub codecs: Option<String>,
    /// The `AUDIO` group its audio comes from.
    pub audio: Option<String>,
}

/// One `#EXT-X-MEDIA` rendition of a master playlist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media {
    pub kind: String,
    pub group: String,
    pub uri: Option<String>,
}

/// What a master playlist offers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Master {
    pub variants: Vec<Variant>,
    pub media: Vec<Media>,
}

/// The attributes of a tag line (`#TAG:A=1,B="x,y"`), quotes removed.
pub fn attributes(line: &str) -> Vec<(String, String)> {
    let Some((_, list)) = line.split_once(':') else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut rest = list;
    while let Some((name, after)) = rest.split_once('=') {
        let (value, next) = if let Some(quoted) = after.strip_prefix('"') {
            let end = quoted.find('"').unwrap_or(quoted.len());
            let next = quoted.get(end + 1..).unwrap_or("");
            (&quoted[..end], next.strip_prefix(',').unwrap_or(next))
        } else {
            match after.split_once(',') {
                Some((value, next)) => (value, next),
                None => (after, ""),
            }
        };
        out.push((name.trim().to_string(), value.to_string()));
        rest = next;
    }
    out
}

/// Reads a master playlist. `None` when it is not one (no `#EXTM3U`, or a variant without
/// its URI or `BANDWIDTH`).
pub fn parse_master(text: &str) -> Option<Master> {
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    if lines.next()? != "#EXTM3U" {
        return None;
    }
    let mut master = Master::default();
    while let Some(line) = lines.next() {
        let get = |attrs: &[(String, String)], name: &str| {
            attrs
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        };
        if line.starts_with("#EXT-X-STREAM-INF:") {
            let attrs = attributes(line);
            let uri = lines.next().filter(|l| !l.starts_with('#'))?.to_string();
            let number = |name| get(&attrs, name).and_then(|v| v.parse().ok());
            master.variants.push(Variant {
                uri,
                bandwidth: number("BANDWIDTH")?,
                average_bandwidth: number("AVERAGE-BANDWIDTH"),
                resolution: get(&attrs, "RESOLUTION").and_then(|r| {
                    let (w, h) = r.split_once('x')?;
                    Some((w.parse().ok()?, h.parse().ok()?))
                }),
                codecs: get(&attrs, "CODECS"),
                audio: get(&attrs, "AUDIO"),
            });
        } else if line.starts_with("#EXT-X-MEDIA:") {
            let attrs = attributes(line);
            master.media.push(Media {
                kind: get(&attrs, "TYPE")?,
                group: get(&attrs, "GROUP-ID")?,
                uri: get(&attrs, "URI"),
            });
        }
    }
    Some(master)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MASTER: &str = "#EXTM3U\n#EXT-X-VERSION:7\n\
        #EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"aud\",NAME=\"audio\",DEFAULT=YES,URI=\"audio/index.m3u8\"\n\
        #EXT-X-STREAM-INF:BANDWIDTH=1400000,AVERAGE-BANDWIDTH=900000,RESOLUTION=854x480,CODECS=\"avc1.64001e,mp4a.40.2\",AUDIO=\"aud\"\n\
        480p/index.m3u8\n\
        #EXT-X-STREAM-INF:BANDWIDTH=600000,RESOLUTION=426x240,CODECS=\"avc1.64000d,mp4a.40.2\",AUDIO=\"aud\"\n\
        240p/index.m3u8\n";

    const MEDIA: &str = "#EXTM3U\r\n#EXT-X-TARGETDURATION:6\r\n#EXT-X-MAP:URI=\"init.mp4\"\r\n\
        #EXTINF:6.000,\r\nseg_000.m4s\r\n#EXTINF:2.5,\r\nseg_001.m4s\r\n#EXT-X-ENDLIST\r\n";

    fn key(text: &str) -> ObjectKey {
        ObjectKey::parse(text).unwrap()
    }

    #[test]
    fn every_uri_of_a_playlist_is_found_and_only_those() {
        let mut seen = Vec::new();
        let out = rewrite_playlist(MEDIA, |uri| {
            seen.push(uri.to_string());
            Some(format!("https://cdn/{uri}?sig=1"))
        });
        assert_eq!(seen, ["init.mp4", "seg_000.m4s", "seg_001.m4s"]);
        assert!(out.contains("#EXT-X-MAP:URI=\"https://cdn/init.mp4?sig=1\"\n"));
        assert!(out.contains("#EXTINF:6.000,\nhttps://cdn/seg_000.m4s?sig=1\n"));
        assert!(out.ends_with("#EXT-X-ENDLIST\n"));
        assert_eq!(
            rewrite_playlist(MEDIA, |_| None),
            MEDIA.replace("\r\n", "\n")
        );

        let mut seen = Vec::new();
        rewrite_playlist(MASTER, |uri| {
            seen.push(uri.to_string());
            None
        });
        assert_eq!(
            seen,
            ["audio/index.m3u8", "480p/index.m3u8", "240p/index.m3u8"]
        );
    }

    #[test]
    fn storyboard_cues_keep_their_fragment() {
        let vtt = "WEBVTT\n\n00:00:00.000 --> 00:00:05.000\nstoryboard.jpg#xywh=0,0,160,90\n";
        let out = rewrite_storyboard(vtt, |uri| Some(format!("https://s/{uri}?x=1")));
        assert_eq!(
            out,
            "WEBVTT\n\n00:00:00.000 --> 00:00:05.000\nhttps://s/storyboard.jpg?x=1#xywh=0,0,160,90\n"
        );
    }

    #[test]
    fn relative_uris_resolve_against_the_file() {
        let master = key("videos/v/hls/index.m3u8");
        assert_eq!(
            resolve(&master, "720p/index.m3u8"),
            Some(key("videos/v/hls/720p/index.m3u8"))
        );
        assert_eq!(
            resolve(&master, "./a/../b.m4s?x=1#t"),
            Some(key("videos/v/hls/b.m4s"))
        );
        assert_eq!(
            resolve(&master, "../poster.jpg"),
            Some(key("videos/v/poster.jpg"))
        );
        for absolute in ["/videos/v/x", "https://e/x", "../../../../x", "", "a%2Fb"] {
            assert_eq!(resolve(&master, absolute), None, "{absolute}");
        }
    }

    #[test]
    fn master_playlists_are_read() {
        let master = parse_master(MASTER).unwrap();
        assert_eq!(master.variants.len(), 2);
        let top = &master.variants[0];
        assert_eq!(
            (top.bandwidth, top.average_bandwidth, top.resolution),
            (1_400_000, Some(900_000), Some((854, 480)))
        );
        assert_eq!(top.codecs.as_deref(), Some("avc1.64001e,mp4a.40.2"));
        assert_eq!(top.audio.as_deref(), Some("aud"));
        assert_eq!(master.media[0].uri.as_deref(), Some("audio/index.m3u8"));
        assert_eq!(
            parse_master("#EXTM3U\n#EXT-X-STREAM-INF:RESOLUTION=1x1\nx\n"),
            None
        );
        assert_eq!(parse_master("WEBVTT"), None);
    }
}
