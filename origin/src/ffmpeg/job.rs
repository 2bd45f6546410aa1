//! The one FFmpeg run of a job, as MediaConvert makes one job: the input is decoded once and
//! split between every output: the MP4 (a stream copy, or an encode at the source's size),
//! each rendition of the HLS ladder (fMP4 segments, keyframes every [`GOP`] on the same
//! frames in every rendition, one AAC rendition shared by all), the poster and the
//! storyboard sprite. Files land in one directory laid out as `videos/{id}/` is.

use std::ffi::OsString;
use std::path::Path;

use model::ladder::{AUDIO_BITRATE, AUDIO_SAMPLE_RATE, GOP, Profile, SEGMENT};
use model::layout::{HLS_DIR, HLS_MASTER_NAME, MP4_NAME, POSTER_NAME, STORYBOARD_SPRITE_NAME};

use super::Ffmpeg;
use crate::media::Plan;
use crate::transcoder::StreamsPlan;

/// What one run makes.
#[derive(Debug, Clone, Copy)]
pub struct JobRun<'a> {
    pub input: &'a Path,
    /// Where the outputs go.
    pub dir: &'a Path,
    /// The MP4: [`Plan::Remux`] copies the streams, [`Plan::Transcode`] encodes them; `None`:
    /// no MP4.
    pub mp4: Option<Plan>,
    /// The encoded MP4's upright picture when the source's is larger than the caps allow;
    /// `None`: the source's own.
    pub scaled_to: Option<(u32, u32)>,
    pub streams: Option<&'a StreamsPlan>,
}

/// The audio rendition's name and the group every video rendition plays with.
const AUDIO: &str = "audio";

/// FFmpeg's command line, built up.
#[derive(Default)]
struct Args(Vec<OsString>);

impl Args {
    fn arg(&mut self, arg: impl Into<OsString>) -> &mut Self {
        self.0.push(arg.into());
        self
    }

    fn args<const N: usize>(&mut self, args: [&str; N]) -> &mut Self {
        self.0.extend(args.map(OsString::from));
        self
    }
}

impl Ffmpeg {
    /// The arguments of the run. Frames reach the filters upright (FFmpeg applies the display
    /// matrix), so the ladder's sizes are the upright picture's; a copied MP4 keeps the matrix.
    pub fn job_args(&self, run: &JobRun<'_>) -> Vec<OsString> {
        let mut args = Args::default();
        args.args(["-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-i"])
            .arg(run.input);
        let branches = branches(run);
        if !branches.is_empty() {
            let labels: String = (0..branches.len()).map(|i| format!("[s{i}]")).collect();
            let mut graph = format!("[0:v:0]split={}{labels}", branches.len());
            for (i, branch) in branches.iter().enumerate() {
                graph.push_str(&format!(";[s{i}]{branch}"));
            }
            args.arg("-filter_complex").arg(graph);
        }
        match run.mp4 {
            Some(Plan::Transcode) => {
                args.args(["-map", "[mp4]", "-map", "0:a:0?", "-profile:v", "high"]);
                self.x264(&mut args);
                aac(&mut args);
            }
            Some(Plan::Remux | Plan::Copy) => {
                args.args(["-map", "0:v:0", "-map", "0:a:0?", "-c", "copy"]);
            }
            None => {}
        }
        if run.mp4.is_some() {
            args.args(["-movflags", "+faststart", "-f", "mp4"])
                .arg(run.dir.join(MP4_NAME));
        }
        if let Some(streams) = run.streams {
            self.ladder(streams, run.dir, &mut args);
            args.args([
                "-map",
                "[poster]",
                "-frames:v",
                "1",
                "-update",
                "1",
                "-q:v",
                "3",
            ])
            .arg(run.dir.join(POSTER_NAME));
            if streams.storyboard.is_some() {
                args.args([
                    "-map",
                    "[sprite]",
                    "-frames:v",
                    "1",
                    "-update",
                    "1",
                    "-q:v",
                    "5",
                ])
                .arg(run.dir.join(STORYBOARD_SPRITE_NAME));
            }
        }
        args.0
    }

    /// The HLS output: every rendition (x264 capped CRF, keyframes forced every GOP with scene
    /// cuts off, so every rendition's segments start on the same frames), the audio
    /// rendition, fMP4 segments of [`SEGMENT`].
    fn ladder(&self, streams: &StreamsPlan, dir: &Path, args: &mut Args) {
        let group = if streams.audio {
            format!(",agroup:{AUDIO}")
        } else {
            String::new()
        };
        let mut names = Vec::new();
        if streams.audio {
            names.push(format!("a:0,agroup:{AUDIO},name:{AUDIO},default:yes"));
        }
        for (i, variant) in streams.variants.iter().enumerate() {
            let rendition = variant.rendition;
            let profile = match rendition.profile() {
                Profile::Main => "main",
                Profile::High => "high",
            };
            args.arg("-map")
                .arg(format!("[v{i}]"))
                .arg(format!("-profile:v:{i}"))
                .arg(profile)
                .arg(format!("-maxrate:v:{i}"))
                .arg(rendition.max_bitrate.to_string())
                .arg(format!("-bufsize:v:{i}"))
                .arg((2 * rendition.max_bitrate).to_string());
            names.push(format!("v:{i}{group},name:{}", rendition.name()));
        }
        if streams.audio {
            args.args(["-map", "0:a:0"]);
            aac(args);
        }
        self.x264(args);
        let hls = dir.join(HLS_DIR);
        args.arg("-force_key_frames:v")
            .arg(format!("expr:gte(t,n_forced*{})", GOP.as_secs()))
            .args(["-sc_threshold", "0", "-f", "hls", "-hls_time"])
            .arg(SEGMENT.as_secs().to_string())
            .args(["-hls_playlist_type", "vod", "-hls_segment_type", "fmp4"])
            .args(["-hls_flags", "independent_segments"])
            .args([
                "-hls_fmp4_init_filename",
                "init.mp4",
                "-hls_segment_filename",
            ])
            .arg(hls.join("%v").join("seg_%03d.m4s"))
            .args(["-master_pl_name", HLS_MASTER_NAME, "-var_stream_map"])
            .arg(names.join(" "))
            .arg(hls.join("%v").join("index.m3u8"));
    }

    /// libx264 at the configured preset and CRF, 8-bit 4:2:0.
    fn x264(&self, args: &mut Args) {
        args.args(["-c:v", "libx264", "-pix_fmt", "yuv420p", "-preset"])
            .arg(&self.preset)
            .arg("-crf")
            .arg(self.crf.to_string());
    }
}

/// AAC-LC stereo at the ladder's rate.
fn aac(args: &mut Args) {
    args.args(["-c:a", "aac", "-ac", "2", "-b:a"])
        .arg(AUDIO_BITRATE.to_string())
        .arg("-ar")
        .arg(AUDIO_SAMPLE_RATE.to_string());
}

/// One filter chain per encoded picture, in the order of the outputs that map them.
fn branches(run: &JobRun<'_>) -> Vec<String> {
    let mut branches = Vec::new();
    if run.mp4 == Some(Plan::Transcode) {
        let size = match run.scaled_to {
            Some((width, height)) => format!("{width}:{height},setsar=1"),
            None => "trunc(iw/2)*2:trunc(ih/2)*2".to_string(),
        };
        branches.push(format!("scale={size},format=yuv420p[mp4]"));
    }
    let Some(streams) = run.streams else {
        return branches;
    };
    for (i, v) in streams.variants.iter().enumerate() {
        branches.push(format!(
            "scale={}:{},setsar=1,format=yuv420p[v{i}]",
            v.width, v.height
        ));
    }
    let (width, height) = streams.poster_size();
    branches.push(format!("scale={width}:{height},setsar=1[poster]"));
    if let Some(board) = &streams.storyboard {
        let (per_second, every) = board.frame_rate();
        branches.push(format!(
            "fps={per_second}/{every},scale={}:{},setsar=1,tile={}x{}[sprite]",
            board.tile_width, board.tile_height, board.columns, board.rows
        ));
    }
    branches
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::storyboard::Storyboard;

    fn text(args: &[OsString]) -> String {
        args.iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn one_run_makes_the_mp4_the_ladder_the_poster_and_the_sprite() {
        let ffmpeg = Ffmpeg::new(None, None);
        let streams = StreamsPlan {
            variants: model::ladder::variants(720, 1280, 1080),
            audio: true,
            storyboard: Some(Storyboard::new(20_000, 720, 1280)),
        };
        let run = JobRun {
            input: Path::new("/w/source.mov"),
            dir: Path::new("/w/out"),
            mp4: Some(Plan::Remux),
            scaled_to: None,
            streams: Some(&streams),
        };
        let args = text(&ffmpeg.job_args(&run));
        assert!(args.contains("[0:v:0]split=6[s0][s1][s2][s3][s4][s5];[s0]scale=720:1280,"));
        assert!(args.contains("[s5]fps=1000/400,scale=160:284,setsar=1,tile=10x5[sprite]"));
        assert!(args.contains("-c copy -movflags +faststart -f mp4 /w/out/video.mp4"));
        assert!(args.contains(
            "-var_stream_map a:0,agroup:audio,name:audio,default:yes v:0,agroup:audio,name:720p"
        ));
        assert!(args.contains("-profile:v:0 high -maxrate:v:0 5000000 -bufsize:v:0 10000000"));
        assert!(args.contains("-profile:v:3 main"));
        assert!(args.contains("-force_key_frames:v expr:gte(t,n_forced*2) -sc_threshold 0"));
        assert!(args.ends_with("-frames:v 1 -update 1 -q:v 5 /w/out/storyboard.jpg"));

        // A silent source copied already: the ladder alone, without an audio group.
        let silent = StreamsPlan {
            audio: false,
            storyboard: None,
            variants: streams.variants.clone(),
        };
        let run = JobRun {
            mp4: None,
            streams: Some(&silent),
            ..run
        };
        let args = text(&ffmpeg.job_args(&run));
        assert!(
            !args.contains("0:a:0") && !args.contains("agroup"),
            "{args}"
        );
        assert!(!args.contains("video.mp4") && !args.contains("[sprite]"));
        assert!(args.contains("-var_stream_map v:0,name:720p v:1,name:480p"));

        // A picture over the caps: the MP4 encoded at the size it was scaled to.
        let run = JobRun {
            mp4: Some(Plan::Transcode),
            scaled_to: Some((2160, 3840)),
            ..run
        };
        let args = text(&ffmpeg.job_args(&run));
        assert!(
            args.contains("[s0]scale=2160:3840,setsar=1,format=yuv420p[mp4]"),
            "{args}"
        );
    }
}
