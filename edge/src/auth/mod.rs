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
use std::time::Duration;

/// Clock skew tolerated between token issuer and verifier.
const TOKEN_LEEWAY: Duration = Duration::from_secs(30);

/// The caller behind `Authorization: Bearer <JWT>`.
pub fn caller<P: Platform>(app: &App<P>, ctx: &Ctx<'_>) -> Result<Caller> {
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
    let claims = app
        .config
        .jwt
        .verifier()
        .verify(token, ctx.now, TOKEN_LEEWAY)
        .map_err(|e| match e {
            signer::Error::JwtExpired => Error::new(
                ErrorCode::TokenExpired,
                "the token has expired; sign in again",
            ),
            _ => Error::new(ErrorCode::InvalidToken, "the bearer token is not valid"),
        })?;
    Ok(Caller {
        id: claims.sub,
        email: claims.email,
        role: claims.role,
    })
}
