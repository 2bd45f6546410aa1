//! `POST /api/auth`: email and password for a session token, throttled per email and per
//! client address.

use crate::api::UserView;
use crate::app::App;
use crate::catalog::{UserRow, Window};
use crate::config::AdminBootstrap;
use crate::error::{Error, ErrorCode, Result};
use crate::ports::Platform;
use crate::request::Ctx;
use crate::respond::{self, Reply};
use http::StatusCode;
use model::{Email, Role, Timestamp, UserId};
use serde::{Deserialize, Serialize};
use signer::password::{self, Argon2Params};
use std::time::Duration;

/// Failed sign-ins allowed per email and per client address within the window.
pub const MAX_FAILURES: u32 = 10;
pub const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);
const THROTTLE: Window = Window {
    limit: MAX_FAILURES,
    window: FAILURE_WINDOW,
};

/// An argon2id hash (OWASP parameters) of a random password nobody knows: unknown emails are
/// checked against it so that a miss costs as much as a wrong password.
const DECOY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$ycrmVXnmJqFBmsS/ey8MZg$unmaNxm23LeDqBKe8OVO9Zp3lfRh8XXwiIZRTPSC0Hk";

#[derive(Deserialize)]
struct SignIn {
    email: String,
    password: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SignedIn<'a> {
    token: String,
    expires_at: Timestamp,
    user: UserView<'a>,
}

pub async fn sign_in<P: Platform>(app: &App<P>, ctx: &Ctx<'_>) -> Result<Reply> {
    let input: SignIn = ctx.json()?;
    // Something that is not an email address is just a wrong credential (and counts as one).
    let email = Email::parse(&input.email).ok();
    let client_scope = client_scope(ctx.header("cf-connecting-ip"));
    let email_scope = email.as_ref().map(|e| format!("email:{e}"));
    let scopes: Vec<String> = email_scope.iter().cloned().chain([client_scope]).collect();
    let catalog = app.catalog();

    let attempt = hex::encode(app.random_bytes::<16>());
    if !catalog
        .reserve_attempt(&scopes, &attempt, THROTTLE, ctx.now)
        .await?
    {
        let frees_at = catalog
            .throttled_until(&scopes, THROTTLE, ctx.now)
            .await?
            .unwrap_or(ctx.now);
        let retry_after_secs = frees_at.since(ctx.now).as_secs_f64().ceil().max(1.0) as u64;
        return Err(Error::RateLimited { retry_after_secs });
    }

    if let Some(admin) = app
        .config
        .admin
        .as_ref()
        .filter(|a| email.as_ref() == Some(a.email()))
    {
        ensure_bootstrap_admin(app, admin, ctx.now).await?;
    }
    let user = match &email {
        Some(email) => catalog.user_by_email(email).await?,
        None => None,
    };
    let stored_hash = user
        .as_ref()
        .map_or(DECOY_HASH, |u| u.password_hash.as_str());
    let password_ok = password::verify_password(&input.password, stored_hash).unwrap_or(false);
    let (user, email_scope) = match (user, email_scope) {
        (Some(user), Some(scope)) if password_ok => (user, scope),
        // The reserved rows stay: they are this failure's record.
        _ => {
            return Err(Error::new(
                ErrorCode::InvalidCredentials,
                "email or password is wrong",
            ));
        }
    };
    catalog.settle_success(&attempt, &email_scope).await?;

    // Seeded bcrypt hashes (and weaker argon2 parameters) are upgraded on a good sign-in.
    let params = Argon2Params::default();
    if password::needs_rehash(&user.password_hash, &params) {
        let upgraded = password::hash_password(&input.password, &app.random_bytes(), &params)?;
        catalog.set_password_hash(&user.id, &upgraded).await?;
    }

    let jti = hex::encode(app.random_bytes::<16>());
    let (token, claims) = app.config.jwt.issue(
        &user.id,
        &user.email,
        user.role,
        &jti,
        ctx.now,
        app.config.jwt_ttl,
    )?;
    Ok(respond::success(
        StatusCode::OK,
        &SignedIn {
            token,
            expires_at: claims.expires_at,
            user: UserView {
                created_at: None,
                ..UserView::from(&user)
            },
        },
    ))
}

/// The throttling scope of a client address. IPv6 clients usually hold a whole /64, so that
/// is the unit counted for them.
fn client_scope(address: Option<&str>) -> String {
    match address.map(str::trim) {
        Some(text) => match text.parse::<std::net::IpAddr>() {
            Ok(std::net::IpAddr::V6(v6)) => {
                let s = v6.segments();
                format!("ip:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
            Ok(ip) => format!("ip:{ip}"),
            Err(_) => format!("ip:{text}"),
        },
        None => "ip:unknown".into(),
    }
}

/// Makes sure the configured admin can sign in: in development it is created (once) from
/// the dev password; in production its row follows ADMIN_PASSWORD_HASH.
async fn ensure_bootstrap_admin<P: Platform>(
    app: &App<P>,
    admin: &AdminBootstrap,
    now: Timestamp,
) -> Result<()> {
    let catalog = app.catalog();
    let row = |password_hash: String| UserRow {
        id: UserId::new(now, app.random_bytes()),
        email: admin.email().clone(),
        password_hash,
        role: Role::Admin,
        created_at: now,
    };
    match admin {
        AdminBootstrap::DevPassword { email, password } => {
            if catalog.user_by_email(email).await?.is_none() {
                let hash = password::hash_password(
                    password.expose(),
                    &app.random_bytes(),
                    &Argon2Params::default(),
                )?;
                catalog.insert_user(&row(hash)).await?;
            }
            Ok(())
        }
        AdminBootstrap::Hash { phc, .. } => catalog.upsert_admin(&row(phc.clone())).await,
    }
}
