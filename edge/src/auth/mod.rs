//! Who is calling: sign-in (throttled, with the bootstrap admin), sessions (short access
//! tokens, rotating refresh tokens), bearer tokens, and the accounts admins manage.

mod session;
mod signin;
mod users;

pub use session::{REFRESH_COOKIE, logout, refresh};
pub use signin::{CLIENT, DEVICE_COOKIE, EMAIL, PAIR, sign_in};
pub use users::{
    VIDEOS_PER_DELETE, change_own_password, change_user, create_user, delete_user, list_users,
    reset_password,
};

use crate::app::App;
use crate::error::{Error, ErrorCode, Result};
use crate::ports::Platform;
use crate::request::{Caller, Ctx};
use model::Timestamp;
use std::time::Duration;

/// Clock skew tolerated between token issuer and verifier.
const TOKEN_LEEWAY: Duration = Duration::from_secs(30);

/// The caller behind `Authorization: Bearer <JWT>`.
pub async fn caller<P: Platform>(app: &App<P>, ctx: &Ctx<'_>) -> Result<Caller> {
    let token = ctx
        .header("authorization")
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            Error::new(
                ErrorCode::Unauthorized,
                "sign in: send Authorization: Bearer <token>",
            )
        })?;
    let claims = verify_token(app, token, ctx.now).await?;
    Ok(Caller {
        id: claims.sub,
        email: claims.email,
        role: claims.role,
    })
}

/// A bearer token's claims. Its signature is checked by the platform's own Ed25519 where
/// it has one: in workerd, WebCrypto's native code is faster than ours compiled to wasm
/// (`cargo xtask bench` measures both).
pub async fn verify_token<P: Platform>(
    app: &App<P>,
    token: &str,
    now: Timestamp,
) -> Result<signer::jwt::Claims> {
    let refused = |e: signer::Error| match e {
        signer::Error::JwtExpired => Error::new(
            ErrorCode::TokenExpired,
            "the token has expired; sign in again",
        ),
        _ => Error::new(ErrorCode::InvalidToken, "the bearer token is not valid"),
    };
    let opened = app
        .config
        .jwt
        .verifier()
        .open(token, now, TOKEN_LEEWAY)
        .map_err(refused)?;
    let valid = match app
        .platform
        .verify_ed25519(&opened.public_key(), opened.message(), opened.signature())
        .await?
    {
        Some(valid) => valid,
        None => opened.check_signature(),
    };
    opened.claims(valid).map_err(refused)
}
