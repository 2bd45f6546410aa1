//! Sign-in (throttled, with the bootstrap admin), bearer tokens, and user creation.

use crate::app::{App, Caller, Ctx};
use crate::catalog::role_text;
use crate::config::AdminBootstrap;
use crate::error::{Error, Result};
use crate::ports::Platform;
use crate::respond::{self, Reply};
use crate::videos::rfc3339;
use http::StatusCode;
use serde::Deserialize;
use signer::ids::{Email, Role, UserId};
use signer::jwt::Claims;
use signer::password::{self, Argon2Params};

/// Failed sign-ins allowed per email and per client address within the window.
pub const MAX_FAILURES: u32 = 10;
pub const FAILURE_WINDOW_MS: i64 = 15 * 60 * 1000;
/// Clock skew tolerated between token issuer and verifier.
const TOKEN_LEEWAY_SECS: u64 = 30;
const MIN_PASSWORD_CHARS: usize = 8;
const MAX_PASSWORD_BYTES: usize = 1024;

/// An argon2id hash (OWASP parameters) of a random password nobody knows: unknown emails are
/// checked against it so that a miss costs as much as a wrong password.
const DECOY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$ycrmVXnmJqFBmsS/ey8MZg$unmaNxm23LeDqBKe8OVO9Zp3lfRh8XXwiIZRTPSC0Hk";

#[derive(Deserialize)]
struct SignIn {
    email: String,
    password: String,
}

pub async fn sign_in<P: Platform>(app: &App<P>, ctx: &Ctx<'_>) -> Result<Reply> {
    let input: SignIn = ctx.json()?;
    // Something that is not an email address is just a wrong credential (and counts as one).
    let email = Email::parse(&input.email).ok();
    let client_scope = client_scope(ctx.header("cf-connecting-ip"));
    let email_scope = email.as_ref().map(|e| format!("email:{}", e.as_str()));
    let scopes: Vec<String> = email_scope.iter().cloned().chain([client_scope]).collect();
    let now_ms = ctx.now_ms();
    let window_start = now_ms - FAILURE_WINDOW_MS;
    let catalog = app.catalog();

    let attempt = hex::encode(app.random_bytes::<16>());
    if !catalog
        .reserve_attempt(&scopes, &attempt, MAX_FAILURES, now_ms, window_start)
        .await?
    {
        let frees_at = catalog
            .throttled_until(&scopes, MAX_FAILURES, window_start, FAILURE_WINDOW_MS)
            .await?
            .unwrap_or(now_ms);
        let retry_after_secs = u64::try_from((frees_at - now_ms + 999) / 1000)
            .unwrap_or(1)
            .max(1);
        return Err(Error::RateLimited { retry_after_secs });
    }

    if let Some(admin) = app
        .config
        .admin
        .as_ref()
        .filter(|a| email.as_ref() == Some(a.email()))
    {
        ensure_bootstrap_admin(app, admin, now_ms).await?;
    }
    let user = match &email {
        Some(email) => catalog.user_by_email(email.as_str()).await?,
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
            return Err(Error::unauthorized(
                "invalid_credentials",
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
        &UserId::parse(&user.id)?,
        &Email::parse(&user.email)?,
        user.role,
        &jti,
        ctx.now_secs(),
        app.config.jwt_ttl_secs,
    )?;
    Ok(respond::success(
        StatusCode::OK,
        serde_json::json!({
            "token": token,
            "expiresAt": rfc3339(claims.exp.saturating_mul(1000)),
            "user": { "id": user.id, "email": user.email, "role": role_text(user.role) },
        }),
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
    now_ms: i64,
) -> Result<()> {
    let catalog = app.catalog();
    let id = UserId::new(u64::try_from(now_ms).unwrap_or(0), app.random_bytes());
    match admin {
        AdminBootstrap::DevPassword { email, password } => {
            if catalog.user_by_email(email.as_str()).await?.is_none() {
                let hash = password::hash_password(
                    password,
                    &app.random_bytes(),
                    &Argon2Params::default(),
                )?;
                catalog
                    .insert_user(id.as_str(), email.as_str(), &hash, Role::Admin, now_ms)
                    .await?;
            }
            Ok(())
        }
        AdminBootstrap::Hash { email, phc } => {
            catalog
                .upsert_admin(id.as_str(), email.as_str(), phc, now_ms)
                .await
        }
    }
}

/// The claims of a valid bearer token.
pub fn verify_token<P: Platform>(app: &App<P>, token: &str, now_secs: i64) -> Result<Claims> {
    app.config
        .jwt
        .verifier()
        .verify(token, now_secs, TOKEN_LEEWAY_SECS)
        .map_err(|e| match e {
            signer::Error::JwtExpired => {
                Error::unauthorized("token_expired", "the token has expired; sign in again")
            }
            _ => Error::unauthorized("invalid_token", "the bearer token is not valid"),
        })
}

#[derive(Deserialize)]
struct NewUser {
    email: String,
    password: String,
    role: Option<String>,
}

pub async fn create_user<P: Platform>(
    app: &App<P>,
    ctx: &Ctx<'_>,
    caller: &Caller,
) -> Result<Reply> {
    if !caller.is_admin() {
        return Err(Error::forbidden("only admins can create users"));
    }
    let input: NewUser = ctx.json()?;
    let email =
        Email::parse(&input.email).map_err(|_| Error::invalid("email must be an email address"))?;
    let chars = input.password.chars().count();
    if chars < MIN_PASSWORD_CHARS || input.password.len() > MAX_PASSWORD_BYTES {
        return Err(Error::invalid(format!(
            "password must be {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_BYTES} bytes long"
        )));
    }
    let role = match input.role.as_deref() {
        None => Role::Member,
        Some(text) => {
            Role::parse(text).map_err(|_| Error::invalid("role must be \"admin\" or \"member\""))?
        }
    };
    let now_ms = ctx.now_ms();
    let id = UserId::new(u64::try_from(now_ms).unwrap_or(0), app.random_bytes());
    let hash = password::hash_password(
        &input.password,
        &app.random_bytes(),
        &Argon2Params::default(),
    )?;
    if !app
        .catalog()
        .insert_user(id.as_str(), email.as_str(), &hash, role, now_ms)
        .await?
    {
        return Err(Error::conflict(
            "exists",
            "a user with this email already exists",
        ));
    }
    Ok(respond::success(
        StatusCode::CREATED,
        serde_json::json!({
            "user": {
                "id": id.as_str(),
                "email": email.as_str(),
                "role": role_text(role),
                "createdAt": rfc3339(now_ms),
            }
        }),
    ))
}
