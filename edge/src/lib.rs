//! The edge Worker: sign-in, presigned uploads, the catalog, signed playback.
//!
//! A core that handles `http::Request` → `http::Response` ([`dispatch`]) over ports
//! ([`ports`]), with two thin shells in [`platform`]: the Worker (D1, fetch) and native code
//! (SQLite, an HTTP client) that the tests drive. Module map:
//! - request plumbing: [`app`] (the app and its services), [`request`] (what a handler
//!   reads), [`routes`] (typed endpoints), [`dispatch`], [`respond`], [`api`] (shared
//!   response bodies), [`error`];
//! - handlers: [`auth`], [`uploads`], [`library`], [`playback`], [`internal`] (the
//!   origin's calls), [`bench`], and
//!   the scheduled [`sweep`];
//! - state: [`catalog`] (D1/SQLite), [`storage`] (S3), [`config`].

pub mod api;
pub mod app;
pub mod auth;
pub mod bench;
pub mod catalog;
pub mod config;
pub mod dispatch;
pub mod error;
pub mod internal;
pub mod library;
pub mod platform;
pub mod playback;
pub mod ports;
pub mod request;
pub mod respond;
pub mod routes;
pub mod storage;
pub mod sweep;
pub mod uploads;

/// The Worker's entry points: everything else lives in `platform::worker`.
#[cfg(target_arch = "wasm32")]
#[worker::event(fetch)]
async fn fetch(
    request: worker::Request,
    env: worker::Env,
    ctx: worker::Context,
) -> worker::Result<worker::Response> {
    platform::worker::fetch(request, env, ctx).await
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
