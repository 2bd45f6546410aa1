//! The edge Worker: sign-in, presigned uploads, the catalog, signed playback.
//!
//! A pure-ish core ([`app::App::handle`]: `http::Request` in, `http::Response` out) over ports
//! ([`ports`]), with two thin shells in [`platform`]: the Worker (D1, fetch) and native code
//! (SQLite, an HTTP client) that the tests drive.

pub mod app;
pub mod auth;
pub mod bench;
pub mod catalog;
pub mod config;
pub mod error;
pub mod jobs;
pub mod platform;
pub mod ports;
pub mod respond;
pub mod routes;
pub mod storage;
pub mod sweep;
pub mod videos;

/// The Worker's entry points: everything else lives in `platform::worker`.
#[cfg(target_arch = "wasm32")]
#[worker::event(fetch)]
async fn fetch(
    request: worker::Request,
    env: worker::Env,
    _ctx: worker::Context,
) -> worker::Result<worker::Response> {
    platform::worker::fetch(request, env).await
}

#[cfg(target_arch = "wasm32")]
#[worker::event(scheduled)]
async fn scheduled(
    _event: worker::ScheduledEvent,
    env: worker::Env,
    _ctx: worker::ScheduleContext,
) {
    platform::worker::scheduled(env).await;
}
