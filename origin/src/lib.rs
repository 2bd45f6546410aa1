//! The conversion pipeline: one handler for S3 `ObjectCreated` and EventBridge
//! `MediaConvert Job State Change` events, generic over its ports (transcoder, object
//! store, edge, clock). In AWS it runs as a Lambda with MediaConvert
//! (`src/bin/lambda.rs`); locally as `origin-local` with FFmpeg (`src/bin/local.rs`).
//!
//! Module map: [`handler`] (the one handler) over [`event`] (what arrives), [`media`] (what
//! an input holds, and the plan), [`playlist`] (the HLS text it reads), and the ports
//! [`transcoder`], [`store`], [`edge`], [`clock`]; their implementations [`mediaconvert`] +
//! [`mp4`] (AWS), [`local`] + [`ffmpeg`] (this machine), [`s3`]; and [`config`], [`retry`],
//! [`error`].

pub mod clock;
pub mod config;
pub mod edge;
pub mod error;
pub mod event;
pub mod ffmpeg;
pub mod handler;
pub mod local;
pub mod media;
pub mod mediaconvert;
pub mod mp4;
pub mod playlist;
pub mod retry;
pub mod s3;
pub mod store;
pub mod transcoder;

pub use error::{Error, Result};
pub use handler::{Buckets, Origin, Outcome};
pub use media::{MediaInfo, Plan, plan};
