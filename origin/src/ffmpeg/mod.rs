//! FFmpeg and ffprobe: the local stand-in for MediaConvert. [`job`] builds the one FFmpeg
//! run that makes every output of a job.

pub mod job;

use std::ffi::OsString;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::Stdio;

use serde::Deserialize;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};

use crate::error::{Error, Result};
use crate::media::{AudioCodec, Container, MediaInfo, VideoCodec, VideoTrack, quarter_turn};
use crate::mp4::BoxHeader;

/// Where the tools are and how hard the encoder works.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ffmpeg {
    pub ffmpeg: PathBuf,
    pub ffprobe: PathBuf,
    /// libx264 preset (`FFMPEG_PRESET`, default `veryfast`).
    pub preset: String,
    /// libx264 CRF (`FFMPEG_CRF`, default 23).
    pub crf: u8,
}

impl Ffmpeg {
    /// `ffmpeg`/`ffprobe` from `PATH` unless given.
    pub fn new(ffmpeg: Option<PathBuf>, ffprobe: Option<PathBuf>) -> Ffmpeg {
        Ffmpeg {
            ffmpeg: ffmpeg.unwrap_or_else(|| "ffmpeg".into()),
            ffprobe: ffprobe.unwrap_or_else(|| "ffprobe".into()),
            preset: "veryfast".into(),
            crf: 23,
        }
    }

    /// Runs FFmpeg with `args`, reporting progress (0–99 % of `duration_ms`) from
    /// `-progress` as it goes. A failed run is [`Error::InvalidInput`] with FFmpeg's reason.
    pub async fn run(
        &self,
        args: &[OsString],
        duration_ms: Option<u64>,
        mut progress: impl FnMut(u8) + Send,
    ) -> Result<()> {
        let mut args = args.to_vec();
        args.splice(
            0..0,
            ["-progress", "pipe:1", "-nostats"].map(OsString::from),
        );
        let mut child = tokio::process::Command::new(&self.ffmpeg)
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| {
                Error::Io(std::io::Error::new(
                    e.kind(),
                    format!("start {}: {e}", self.ffmpeg.display()),
                ))
            })?;
        let mut stderr = child.stderr.take().expect("piped stderr");
        let errors = tokio::spawn(async move {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text).await;
            text
        });
        let mut lines = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
        let mut last = None;
        while let Some(line) = lines.next_line().await? {
            let Some(us) = line
                .strip_prefix("out_time_us=")
                .and_then(|v| v.trim().parse::<u64>().ok())
            else {
                continue;
            };
            if let Some(total) = duration_ms.filter(|&d| d > 0) {
                let pct = ((us / 1000).saturating_mul(100) / total).min(99) as u8;
                if last != Some(pct) {
                    last = Some(pct);
                    progress(pct);
                }
            }
        }
        let status = child.wait().await?;
        let errors = errors.await.unwrap_or_default();
        if status.success() {
            Ok(())
        } else {
            Err(Error::InvalidInput(format!(
                "ffmpeg failed ({status}): {}",
                last_lines(&errors, 5)
            )))
        }
    }

    /// What a local file holds. A file ffprobe cannot read, or one without a video stream,
    /// is [`Error::InvalidInput`] with ffprobe's reason.
    pub async fn probe(&self, path: &Path, size: u64) -> Result<MediaInfo> {
        let probed = self.ffprobe_json(path).await?;
        let video = probed
            .streams
            .iter()
            .find(|s| s.codec_type.as_deref() == Some("video") && s.disposition.attached_pic == 0)
            .ok_or_else(|| Error::InvalidInput("ffprobe found no video stream".into()))?;
        let audio = probed
            .streams
            .iter()
            .find(|s| s.codec_type.as_deref() == Some("audio"));
        let format_name = probed.format.format_name.clone().unwrap_or_default();
        let container = if format_name.starts_with("mov,mp4") {
            match probed.format.tags.major_brand.as_deref().map(str::trim) {
                Some("qt") => Container::Mov,
                _ => Container::Mp4,
            }
        } else if format_name.starts_with("matroska") {
            Container::Matroska
        } else if format_name == "avi" {
            Container::Avi
        } else {
            Container::Other(format_name)
        };
        let fast_start = match container {
            Container::Mp4 | Container::Mov => file_fast_start(path),
            _ => None,
        };
        let codec = video.codec_name.as_deref().unwrap_or_default();
        let video_codec = match codec {
            "h264" => VideoCodec::H264,
            "hevc" => VideoCodec::Hevc,
            "vp8" => VideoCodec::Vp8,
            "vp9" => VideoCodec::Vp9,
            "av1" => VideoCodec::Av1,
            "mpeg4" => VideoCodec::Mpeg4,
            other => VideoCodec::Other(other.into()),
        };
        let eight_bit_420 = matches!(video.pix_fmt.as_deref(), Some("yuv420p" | "yuvj420p"));
        let profile_ok = match video_codec {
            VideoCodec::H264 => matches!(
                video.profile.as_deref(),
                Some("Baseline" | "Constrained Baseline" | "Main" | "High" | "Extended")
            ),
            _ => true,
        };
        let audio = audio.map(|a| match a.codec_name.as_deref().unwrap_or_default() {
            "aac" => AudioCodec::Aac,
            "mp3" => AudioCodec::Mp3,
            "opus" => AudioCodec::Opus,
            "vorbis" => AudioCodec::Vorbis,
            pcm if pcm.starts_with("pcm_") => AudioCodec::Pcm,
            other => AudioCodec::Other(other.into()),
        });
        Ok(MediaInfo {
            container,
            video: Some(VideoTrack {
                codec: video_codec,
                width: video.width.unwrap_or(0),
                height: video.height.unwrap_or(0),
                browser_safe: Some(eight_bit_420 && profile_ok),
                rotation: video.rotation(),
            }),
            audio,
            fast_start,
            duration_ms: probed.duration_ms(),
            size,
        })
    }

    /// Duration (ms), width and height (as displayed) of a finished output, as MediaConvert
    /// reports them.
    pub async fn output_facts(
        &self,
        path: &Path,
    ) -> Result<(Option<u64>, Option<u32>, Option<u32>)> {
        let probed = self.ffprobe_json(path).await?;
        let upright = probed
            .streams
            .iter()
            .find(|s| s.codec_type.as_deref() == Some("video"))
            .and_then(|v| match (v.width, v.height) {
                (Some(w), Some(h)) if v.rotation() % 180 == 90 => Some((h, w)),
                (Some(w), Some(h)) => Some((w, h)),
                _ => None,
            });
        Ok((
            probed.duration_ms(),
            upright.map(|(w, _)| w),
            upright.map(|(_, h)| h),
        ))
    }

    async fn ffprobe_json(&self, path: &Path) -> Result<Probed> {
        let out = tokio::process::Command::new(&self.ffprobe)
            .args([
                "-v",
                "error",
                "-print_format",
                "json",
                "-show_format",
                "-show_streams",
            ])
            .arg(path)
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output()
            .await
            .map_err(|e| {
                Error::Io(std::io::Error::new(
                    e.kind(),
                    format!("start {}: {e}", self.ffprobe.display()),
                ))
            })?;
        if !out.status.success() {
            let reason = String::from_utf8_lossy(&out.stderr);
            let reason = last_lines(&reason, 3).replace(&path.display().to_string(), "input");
            return Err(Error::InvalidInput(format!("ffprobe: {}", reason.trim())));
        }
        serde_json::from_slice(&out.stdout)
            .map_err(|e| Error::InvalidInput(format!("ffprobe output: {e}")))
    }
}

#[derive(Debug, Default, Deserialize)]
struct Probed {
    #[serde(default)]
    streams: Vec<Stream>,
    #[serde(default)]
    format: Format,
}

impl Probed {
    fn duration_ms(&self) -> Option<u64> {
        let seconds: f64 = self.format.duration.as_deref()?.parse().ok()?;
        Some((seconds * 1000.0).round() as u64)
    }
}

#[derive(Debug, Default, Deserialize)]
struct Stream {
    codec_type: Option<String>,
    codec_name: Option<String>,
    profile: Option<String>,
    pix_fmt: Option<String>,
    width: Option<u32>,
    height: Option<u32>,
    #[serde(default)]
    disposition: Disposition,
    #[serde(default)]
    side_data_list: Vec<SideData>,
}

impl Stream {
    /// The display matrix's turn (ffprobe's `rotation`, counterclockwise), as 0/90/180/270.
    fn rotation(&self) -> u16 {
        self.side_data_list
            .iter()
            .find_map(|d| d.rotation)
            .map_or(0, quarter_turn)
    }
}

#[derive(Debug, Default, Deserialize)]
struct SideData {
    rotation: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
struct Disposition {
    #[serde(default)]
    attached_pic: u8,
}

#[derive(Debug, Default, Deserialize)]
struct Format {
    format_name: Option<String>,
    duration: Option<String>,
    #[serde(default)]
    tags: FormatTags,
}

#[derive(Debug, Default, Deserialize)]
struct FormatTags {
    major_brand: Option<String>,
}

/// Walks a local file's top-level boxes: `Some(true)` when `moov` comes before `mdat`.
pub fn file_fast_start(path: &Path) -> Option<bool> {
    let mut file = std::fs::File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    let (mut offset, mut moov, mut mdat) = (0u64, None, None);
    while offset + 8 <= len && (moov.is_none() || mdat.is_none()) {
        let mut buf = [0u8; 16];
        file.seek(SeekFrom::Start(offset)).ok()?;
        let n = file.read(&mut buf).ok()?;
        let header = BoxHeader::parse(&buf[..n], offset)?;
        match &header.kind {
            b"moov" => moov = moov.or(Some(offset)),
            b"mdat" => mdat = mdat.or(Some(offset)),
            _ => {}
        }
        offset += header.size.unwrap_or(len - offset);
    }
    Some(moov? < mdat.unwrap_or(u64::MAX))
}

fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join("; ")
}
