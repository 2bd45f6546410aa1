//! `GET /api/internal/bench?op=presign|verify|verify-platform|rewrite|none&n=N`: runs one operation N times
//! inside the Worker, so that `cargo xtask bench` can time it in workerd from outside (Workers'
//! clocks do not advance during computation). Development only, and only with DEV_BENCH_ROUTES=1.

use crate::app::App;
use crate::auth;
use crate::error::{Error, Result};
use crate::playback;
use crate::ports::Platform;
use crate::request::Ctx;
use crate::respond::{self, Reply};
use http::StatusCode;
use model::{Email, ObjectKey, Role, Timestamp, UserId, VideoContainer, VideoId};
use serde::Serialize;
use signer::s3::S3Request;
use std::hint::black_box;
use std::time::Duration;

const MAX_ITERATIONS: u32 = 100_000;

#[derive(Serialize)]
struct Ran {
    op: String,
    n: u32,
}

pub async fn run<P: Platform>(app: &App<P>, ctx: &Ctx<'_>) -> Result<Reply> {
    if !app.config.bench_routes {
        return Err(Error::not_found("route"));
    }
    let n: u32 = ctx
        .query("n")
        .and_then(|n| n.parse().ok())
        .filter(|n| *n <= MAX_ITERATIONS)
        .ok_or_else(|| Error::invalid(format!("n must be 0 to {MAX_ITERATIONS}")))?;
    let op = ctx.query("op").unwrap_or_default();
    match op.as_str() {
        "presign" => {
            let id = VideoId::new(Timestamp::UNIX_EPOCH, [7; 10]);
            let key = ObjectKey::source(&id, VideoContainer::MKV);
            for i in 0..n {
                let request = S3Request::UploadPart {
                    bucket: &app.config.incoming_bucket,
                    key: &key,
                    upload_id: "2~bench-upload-id",
                    part_number: u16::try_from(i % 10_000 + 1).unwrap_or(1),
                    content_length: 8 * 1024 * 1024,
                };
                black_box(
                    app.config
                        .s3
                        .presign(&request, ctx.now, Duration::from_secs(3600))?,
                );
            }
        }
        // Our Ed25519 compiled to wasm, and the path requests take (the platform's own).
        "verify" => {
            let token = bench_token(app, ctx)?;
            let verifier = app.config.jwt.verifier();
            for _ in 0..n {
                black_box(verifier.verify(black_box(&token), ctx.now, Duration::from_secs(30))?);
            }
        }
        "verify-platform" => {
            let token = bench_token(app, ctx)?;
            for _ in 0..n {
                black_box(auth::verify_token(app, black_box(&token), ctx.now).await?);
            }
        }
        "rewrite" => {
            // A 2-hour video's media playlist: 1,200 six-second segments, signed for the
            // configured PLAYBACK_MODE as `/media/` serves it.
            let id = VideoId::new(Timestamp::UNIX_EPOCH, [7; 10]);
            let key = ObjectKey::output(&id, "hls/720p/index.m3u8")
                .map_err(|e| Error::Config(e.to_string()))?;
            let mut playlist = String::from(
                "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:6\n#EXT-X-MAP:URI=\"init.mp4\"\n",
            );
            for segment in 0..1200 {
                playlist.push_str(&format!("#EXTINF:6.000,\nseg_{segment:04}.m4s\n"));
            }
            playlist.push_str("#EXT-X-ENDLIST\n");
            let grant = playback::Grant::new(&app.config, &id, ctx.now);
            for _ in 0..n {
                black_box(playback::sign_listing(
                    &grant,
                    &key,
                    black_box(&playlist),
                    playback::Listing::Playlist,
                )?);
            }
        }
        "none" => {}
        _ => {
            return Err(Error::invalid(
                "op must be presign, verify, verify-platform, rewrite or none",
            ));
        }
    }
    Ok(respond::success(StatusCode::OK, &Ran { op, n }))
}

/// A member's access token, as sign-in issues them.
fn bench_token<P: Platform>(app: &App<P>, ctx: &Ctx<'_>) -> Result<String> {
    let user = UserId::new(Timestamp::UNIX_EPOCH, [1; 10]);
    let email = Email::parse("bench@example.com").map_err(|e| Error::Config(e.to_string()))?;
    let (token, _) = app.config.jwt.issue(
        &user,
        &email,
        Role::Member,
        "bench",
        ctx.now,
        Duration::from_secs(3600),
    )?;
    Ok(token)
}
