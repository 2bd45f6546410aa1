//! Checks a video's streaming set as players and the issue want it, from the files in the
//! media bucket, with ffprobe: the master playlist (CODECS, RESOLUTION, BANDWIDTH as measured,
//! an audio group iff the source has audio), every rendition (codec, size by the ladder,
//! a keyframe at each segment start, ~6 s segments), the poster (a JPEG of the top
//! rendition's size) and the storyboard (every cue inside its sprite).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use model::VideoId;
use model::ladder::{DEFAULT_CAP, SEGMENT, variants};
use model::storage::KeyPrefix;
use model::storyboard::parse_vtt;
use origin::clock::SystemClock;
use origin::s3::S3Store;
use origin::store::ObjectStore;
use serde_json::Value;

use super::fakes::bucket;

/// What the source was.
pub struct Source {
    /// As displayed.
    pub width: u32,
    pub height: u32,
    pub audio: bool,
    pub duration_s: f64,
}

/// Downloads every output of the video into `dir` (laid out as under `videos/{id}/`).
pub async fn download(store: &S3Store<SystemClock>, id: &VideoId, dir: &Path) -> Vec<String> {
    let prefix = KeyPrefix::outputs(id);
    let mut names = Vec::new();
    for object in store.list(&bucket("media"), &prefix).await.unwrap() {
        let name = prefix.relative(&object.key).unwrap().to_string();
        let path = dir.join(&name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        store
            .download(&bucket("media"), &object.key, &path)
            .await
            .unwrap();
        names.push(name);
    }
    names.sort();
    names
}

/// The attributes of an HLS tag line (`A=1,B="x,y"`), quotes removed.
fn attributes(list: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut rest = list;
    while let Some((name, after)) = rest.split_once('=') {
        let (value, next) = match after.strip_prefix('"') {
            Some(quoted) => {
                let end = quoted.find('"').unwrap();
                (&quoted[..end], quoted[end + 1..].trim_start_matches(','))
            }
            None => match after.split_once(',') {
                Some((value, next)) => (value, next),
                None => (after, ""),
            },
        };
        out.insert(name.to_string(), value.to_string());
        rest = next;
    }
    out
}

/// (duration, URI) of each segment, and the init segment's URI.
fn media_playlist(path: &Path) -> (Vec<(f64, String)>, String) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut segments = Vec::new();
    let mut init = String::new();
    let mut duration = None;
    for line in text.lines() {
        if let Some(map) = line.strip_prefix("#EXT-X-MAP:") {
            init = attributes(map)["URI"].clone();
        } else if let Some(extinf) = line.strip_prefix("#EXTINF:") {
            duration = extinf.trim_end_matches(',').parse::<f64>().ok();
        } else if !line.starts_with('#') && !line.is_empty() {
            segments.push((duration.take().unwrap(), line.to_string()));
        }
    }
    assert!(text.contains("#EXT-X-ENDLIST"), "{}", path.display());
    (segments, init)
}

fn ffprobe_json(path: &Path, entries: &str) -> Value {
    let out = Command::new(testkit::tool("ffprobe"))
        .args([
            "-v",
            "error",
            "-print_format",
            "json",
            "-show_entries",
            entries,
        ])
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// One rendition: every segment (with its init) decodes as `codec`, of `size` for video,
/// starts on a keyframe; segments last SEGMENT (the last may be shorter). Returns the
/// rendition's peak bit rate as measured from its segments (bits/s).
fn check_rendition(playlist: &Path, codec: &str, size: Option<(u32, u32)>, work: &Path) -> f64 {
    let (segments, init) = media_playlist(playlist);
    let folder = playlist.parent().unwrap();
    let init = std::fs::read(folder.join(&init)).unwrap();
    assert!(!segments.is_empty());
    let mut peak = 0f64;
    for (i, (duration, uri)) in segments.iter().enumerate() {
        let bytes = std::fs::read(folder.join(uri)).unwrap();
        peak = peak.max(bytes.len() as f64 * 8.0 / duration);
        let last = i + 1 == segments.len();
        let target = SEGMENT.as_secs_f64();
        assert!(
            if last {
                *duration <= target + 0.1
            } else {
                (duration - target).abs() <= 0.1
            },
            "{} segment {i}: {duration} s",
            playlist.display()
        );
        let joined: PathBuf = work.join(format!("segment-{i}.mp4"));
        std::fs::write(&joined, [init.as_slice(), bytes.as_slice()].concat()).unwrap();
        let probed = ffprobe_json(&joined, "stream=codec_name,width,height:packet=flags");
        let stream = &probed["streams"][0];
        assert_eq!(stream["codec_name"], codec, "{}", playlist.display());
        if let Some((width, height)) = size {
            assert_eq!(
                (stream["width"].as_u64(), stream["height"].as_u64()),
                (Some(u64::from(width)), Some(u64::from(height))),
                "{}",
                playlist.display()
            );
            let first = probed["packets"][0]["flags"].as_str().unwrap();
            assert!(
                first.starts_with('K'),
                "{} segment {i} starts with {first}",
                playlist.display()
            );
        }
    }
    peak
}

/// Checks the streaming set of a video downloaded into `dir` (see [`download`]).
pub fn check(dir: &Path, source: &Source) {
    let work = dir.join(".probe");
    std::fs::create_dir_all(&work).unwrap();
    let hls = dir.join("hls");
    let master = std::fs::read_to_string(hls.join("index.m3u8")).unwrap();
    let audio_groups: Vec<HashMap<String, String>> = master
        .lines()
        .filter_map(|l| l.strip_prefix("#EXT-X-MEDIA:"))
        .map(attributes)
        .filter(|a| a["TYPE"] == "AUDIO")
        .collect();
    assert_eq!(
        !audio_groups.is_empty(),
        source.audio,
        "an audio group iff audio:\n{master}"
    );
    let audio_peak = audio_groups.first().map_or(0.0, |group| {
        check_rendition(&hls.join(&group["URI"]), "aac", None, &work)
    });

    let expected = variants(source.width, source.height, DEFAULT_CAP);
    let lines: Vec<&str> = master.lines().collect();
    let found: Vec<(HashMap<String, String>, &str)> = lines
        .iter()
        .enumerate()
        .filter_map(|(i, l)| {
            Some((
                attributes(l.strip_prefix("#EXT-X-STREAM-INF:")?),
                lines[i + 1],
            ))
        })
        .collect();
    assert_eq!(found.len(), expected.len(), "{master}");
    for ((attributes, uri), variant) in found.iter().zip(&expected) {
        let size = (variant.width, variant.height);
        assert_eq!(
            attributes["RESOLUTION"],
            format!("{}x{}", size.0, size.1),
            "{master}"
        );
        let codecs = &attributes["CODECS"];
        assert!(codecs.starts_with("avc1."), "{codecs}");
        assert_eq!(codecs.contains("mp4a.40.2"), source.audio, "{codecs}");
        let peak = check_rendition(&hls.join(uri), "h264", Some(size), &work);
        let bandwidth: f64 = attributes["BANDWIDTH"].parse().unwrap();
        let average: f64 = attributes["AVERAGE-BANDWIDTH"].parse().unwrap();
        // The peak of the rendition and of its audio, as measured from the files.
        assert!(
            (bandwidth - (peak + audio_peak)).abs() <= 2.0,
            "{bandwidth} vs {peak} + {audio_peak}"
        );
        assert!(0.0 < average && average <= bandwidth, "{master}");
    }

    let top = (expected[0].width, expected[0].height);
    let poster = ffprobe_json(&dir.join("poster.jpg"), "stream=codec_name,width,height");
    assert_eq!(poster["streams"][0]["codec_name"], "mjpeg");
    assert_eq!(
        (
            poster["streams"][0]["width"].as_u64(),
            poster["streams"][0]["height"].as_u64()
        ),
        (Some(u64::from(top.0)), Some(u64::from(top.1)))
    );

    let vtt = std::fs::read_to_string(dir.join("storyboard.vtt")).unwrap();
    let cues = parse_vtt(&vtt).expect("a storyboard");
    assert!(!cues.is_empty());
    let last_end = cues.last().unwrap().end_ms as f64 / 1000.0;
    assert!(
        (last_end - source.duration_s).abs() <= 0.2,
        "{last_end} vs {}",
        source.duration_s
    );
    let mut sprites: HashMap<&str, (u32, u32)> = HashMap::new();
    for cue in &cues {
        let &mut (width, height) = sprites.entry(cue.image.as_str()).or_insert_with(|| {
            let sprite = ffprobe_json(&dir.join(&cue.image), "stream=width,height");
            let side = |name: &str| sprite["streams"][0][name].as_u64().unwrap() as u32;
            (side("width"), side("height"))
        });
        let (x, y, w, h) = cue.tile;
        assert!(
            x + w <= width && y + h <= height,
            "{cue:?} outside {width}x{height}"
        );
    }
    let _ = std::fs::remove_dir_all(&work);
}
