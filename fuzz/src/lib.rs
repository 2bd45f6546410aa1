//! Fuzz targets for every parser that reads text or bytes from outside: uploads (MP4/MOV
//! boxes), S3's XML answers, tokens, cookies and signature headers, request paths and list
//! cursors, HLS playlists and storyboards, the model's names and the job event, and the
//! multipart planner's arithmetic.
//!
//! Each target is one `pub fn <target>(data: &[u8])` that panics when a property fails, so
//! the same body serves libFuzzer (`libfuzzer/`, `cargo xtask fuzz`, nightly) and the stable
//! replay test (`tests/replay.rs`, part of `cargo test`), which runs every file of
//! `corpus/<target>/` plus a bounded proptest pass under a per-case time budget. Beyond "no
//! panic", targets check what is cheap to check: round trips, covering, and that nothing
//! unsigned or malformed is accepted.

mod input;

mod cookie;
mod cursor;
mod hls;
mod job_event;
mod jwt;
mod mp4;
mod multipart;
mod names;
mod route;
mod s3_xml;
mod webhook;

pub use cookie::cookie;
pub use cursor::list_cursor;
pub use hls::{hls_playlist, storyboard_vtt};
pub use job_event::job_event;
pub use jwt::jwt;
pub use mp4::mp4;
pub use multipart::multipart_plan;
pub use names::model_names;
pub use route::route;
pub use s3_xml::s3_xml;
pub use webhook::webhook_signature;

/// A target by name: what `corpus/<name>/` and `libfuzzer/fuzz_targets/<name>.rs` are for.
pub struct Target {
    pub name: &'static str,
    pub run: fn(&[u8]),
}

/// Every target; `libfuzzer/fuzz_targets/` has one binary for each.
pub const TARGETS: &[Target] = &[
    Target {
        name: "mp4",
        run: mp4,
    },
    Target {
        name: "s3_xml",
        run: s3_xml,
    },
    Target {
        name: "jwt",
        run: jwt,
    },
    Target {
        name: "cookie",
        run: cookie,
    },
    Target {
        name: "webhook_signature",
        run: webhook_signature,
    },
    Target {
        name: "route",
        run: route,
    },
    Target {
        name: "list_cursor",
        run: list_cursor,
    },
    Target {
        name: "multipart_plan",
        run: multipart_plan,
    },
    Target {
        name: "hls_playlist",
        run: hls_playlist,
    },
    Target {
        name: "storyboard_vtt",
        run: storyboard_vtt,
    },
    Target {
        name: "model_names",
        run: model_names,
    },
    Target {
        name: "job_event",
        run: job_event,
    },
];
