//! Sessions: a short-lived access token (an EdDSA JWT the edge verifies with no database
//! call) and a refresh token that renews it. The refresh token rotates on every use, is
//! stored only as its SHA-256, and revokes its whole family when a used one comes back.
//! The web app gets it in an `HttpOnly` cookie no script can read; API clients may ask for
//! it in the body instead.
//!
//! `POST /api/auth/refresh` renews; `POST /api/auth/logout` ends the sign-in.

use crate::api::{Done, UserView};
use crate::app::App;
use crate::catalog::{Renewal, UserRow};
use crate::error::{Error, ErrorCode, Result};
use crate::ports::{Platform, Statement};
use crate::request::Ctx;
use crate::respond::{self, Reply};
use http::StatusCode;
use model::Timestamp;
use serde::{Deserialize, Serialize};
use signer::session;
use std::time::Duration;

/// The refresh token's cookie (path `/api/auth`: sent to nothing else).
pub const REFRESH_COOKIE: &str = "edgevid_refresh";

/// Where a refresh token travels.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Delivery {
    /// An `HttpOnly` cookie: the web app.
    #[default]
    Cookie,
    /// The answer's `refreshToken`: API clients, which send it back in the body.
    Body,
}

/// The answer of every call that opens or renews a session.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SessionView<'a> {
    token: String,
    expires_at: Timestamp,
    user: UserView<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    refresh_expires_at: Timestamp,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Presented {
    refresh_token: Option<String>,
}

/// Starts a session (a new refresh token family) for `user`, after `before` in the same
/// round trip, and answers with it.
pub async fn open<P: Platform>(
    app: &App<P>,
    ctx: &Ctx<'_>,
    user: &UserRow,
    delivery: Delivery,
    before: Vec<Statement<'_>>,
) -> Result<Reply> {
    let token = session::refresh_token(&app.random_bytes());
    let family = hex::encode(app.random_bytes::<16>());
    let expires = ctx.now + app.config.refresh_ttl;
    app.catalog()
        .start_session(
            before,
            &user.id,
            &session::token_hash(&token),
            &family,
            ctx.now,
            expires,
        )
        .await?;
    answer(app, ctx, user, token, expires, delivery)
}

/// The access token and the refresh token, where the client wants it.
fn answer<P: Platform>(
    app: &App<P>,
    ctx: &Ctx<'_>,
    user: &UserRow,
    refresh_token: String,
    refresh_expires_at: Timestamp,
    delivery: Delivery,
) -> Result<Reply> {
    let jti = hex::encode(app.random_bytes::<16>());
    let (token, claims) = app.config.jwt.issue(
        &user.id,
        &user.email,
        user.role,
        &jti,
        ctx.now,
        app.config.jwt_ttl,
    )?;
    let in_body = delivery == Delivery::Body;
    let mut reply = respond::success(
        StatusCode::OK,
        &SessionView {
            token,
            expires_at: claims.expires_at,
            user: UserView {
                created_at: None,
                ..UserView::from(user)
            },
            refresh_token: in_body.then(|| refresh_token.clone()),
            refresh_expires_at,
        },
    );
    if !in_body {
        respond::set_cookie(
            &mut reply,
            REFRESH_COOKIE,
            &refresh_token,
            app.config.refresh_ttl,
        );
    }
    Ok(reply)
}

/// The refresh token a request presents (the body's, else the cookie's), and where the
/// next one goes: back the way it came.
fn presented(ctx: &Ctx<'_>) -> Result<(Option<String>, Delivery)> {
    let body: Presented = ctx.json_or_default()?;
    Ok(match body.refresh_token {
        Some(token) => (Some(token), Delivery::Body),
        None => (
            ctx.cookie(REFRESH_COOKIE).map(str::to_string),
            Delivery::Cookie,
        ),
    })
}

/// `POST /api/auth/refresh`.
pub async fn refresh<P: Platform>(app: &App<P>, ctx: &Ctx<'_>) -> Result<Reply> {
    let (token, delivery) = presented(ctx)?;
    let token = token
        .filter(|t| !t.is_empty())
        .ok_or_else(|| Error::new(ErrorCode::InvalidRefreshToken, "no refresh token: sign in"))?;
    let next = session::refresh_token(&app.random_bytes());
    let expires = ctx.now + app.config.refresh_ttl;
    let renewal = app
        .catalog()
        .renew_session(
            &session::token_hash(&token),
            &session::token_hash(&next),
            ctx.now,
            expires,
        )
        .await?;
    let failure = |code, message: &str| {
        let mut reply = respond::failure(&Error::new(code, message));
        if delivery == Delivery::Cookie {
            respond::set_cookie(&mut reply, REFRESH_COOKIE, "", Duration::ZERO);
        }
        Ok(reply)
    };
    match renewal {
        Renewal::Renewed(user) => answer(app, ctx, &user, next, expires, delivery),
        Renewal::Reused => failure(
            ErrorCode::RefreshTokenReused,
            "this refresh token was used before, so this sign-in has ended everywhere: sign in again",
        ),
        Renewal::Invalid => failure(
            ErrorCode::InvalidRefreshToken,
            "the session has ended: sign in again",
        ),
    }
}

/// `POST /api/auth/logout`: ends the sign-in the refresh token belongs to. Always succeeds
/// (ending an ended session is done) and clears the cookie.
pub async fn logout<P: Platform>(app: &App<P>, ctx: &Ctx<'_>) -> Result<Reply> {
    let (token, _) = presented(ctx)?;
    if let Some(token) = token.filter(|t| !t.is_empty()) {
        app.catalog()
            .end_session(&session::token_hash(&token), ctx.now)
            .await?;
    }
    let mut reply = respond::success(StatusCode::OK, &Done {});
    respond::set_cookie(&mut reply, REFRESH_COOKIE, "", Duration::ZERO);
    Ok(reply)
}
