//! `POST /api/auth`: email and password for a session, throttled so that nobody can turn
//! the throttle against the account's owner.
//!
//! An attempt counts in scopes, each with its own rule:
//! - the email from this client (`CF-Connecting-IP`): a few tries, then waits that double;
//! - the email alone: a much higher ceiling, against one account tried from many clients;
//! - the client alone: a ceiling against one client trying many accounts.
//!
//! A browser that signed in to the account before carries a device cookie (an HMAC of the
//! account and a random device id): its attempts count only for that device, with the same
//! growing waits, so neither the email's nor the address's ceiling locks its owner out.
//! Behind Cloudflare `CF-Connecting-IP` is always set; without it (a request that did not
//! come through Cloudflare) every such client shares one scope, `client:unknown`.

use super::session::{self, Delivery};
use crate::app::App;
use crate::catalog::{Rule, UserRow, settle_success};
use crate::config::AdminBootstrap;
use crate::error::{Error, ErrorCode, Result};
use crate::ports::Platform;
use crate::request::Ctx;
use crate::respond::{self, Reply};
use model::{Email, Role, Timestamp, UserId};
use serde::Deserialize;
use signer::password::{self, Argon2Params};
use signer::session::{device_cookie, device_cookie_matches, device_id};
use std::time::Duration;

/// The device cookie: lives a year, renewed by every sign-in.
pub const DEVICE_COOKIE: &str = "edgevid_device";
const DEVICE_COOKIE_AGE: Duration = Duration::from_secs(365 * 24 * 3600);

/// One email from one client or device: five tries, then 1 s, 2 s, 4 s … up to 15 minutes
/// between tries.
pub const PAIR: Rule = Rule::Backoff {
    free: 5,
    first: Duration::from_secs(1),
    longest: Duration::from_secs(15 * 60),
    window: Duration::from_secs(24 * 3600),
};
/// One email from anywhere: 100 failures an hour.
pub const EMAIL: Rule = Rule::Ceiling {
    limit: 100,
    window: Duration::from_secs(3600),
};
/// One client, any email: 100 failures in 15 minutes.
pub const CLIENT: Rule = Rule::Ceiling {
    limit: 100,
    window: Duration::from_secs(15 * 60),
};

/// An argon2id hash (OWASP parameters) of a random password nobody knows: unknown emails are
/// checked against it so that a miss costs as much as a wrong password.
const DECOY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$ycrmVXnmJqFBmsS/ey8MZg$unmaNxm23LeDqBKe8OVO9Zp3lfRh8XXwiIZRTPSC0Hk";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SignIn {
    email: String,
    password: String,
    #[serde(default)]
    refresh_delivery: Delivery,
}

pub async fn sign_in<P: Platform>(app: &App<P>, ctx: &Ctx<'_>) -> Result<Reply> {
    let input: SignIn = ctx.json()?;
    // Something that is not an email address is just a wrong credential (and counts as one).
    let email = Email::parse(&input.email).ok();
    let user = check_password(app, ctx, email.as_ref(), &input.password).await?;
    if user.disabled_at.is_some() {
        return Err(Error::new(
            ErrorCode::AccountDisabled,
            "this account is disabled; ask an admin",
        ));
    }
    let mut reply = session::open(app, ctx, &user, input.refresh_delivery, Vec::new()).await?;
    let device = device_cookie(
        app.config.device_secret.expose(),
        user.email.as_str(),
        &app.random_bytes(),
    );
    respond::set_cookie(&mut reply, DEVICE_COOKIE, &device, DEVICE_COOKIE_AGE);
    Ok(reply)
}

/// The user whose password `password` is, throttled: a refused attempt is 429 with
/// `Retry-After`, a wrong one 401. One round trip (two the first time the bootstrap admin
/// signs in); what the answer need not wait for (clearing this attempt, upgrading an old
/// hash) runs after it. Also confirms a password before it is changed.
pub async fn check_password<P: Platform>(
    app: &App<P>,
    ctx: &Ctx<'_>,
    email: Option<&Email>,
    password: &str,
) -> Result<UserRow> {
    let scopes = scopes(app, ctx, email);
    let catalog = app.catalog();
    let attempt = hex::encode(app.random_bytes::<16>());
    let start = catalog
        .begin_sign_in(&scopes, &attempt, email, ctx.now)
        .await?;
    if !start.reserved {
        let frees_at = start.frees_at.unwrap_or(ctx.now);
        let retry_after_secs = frees_at.since(ctx.now).as_secs_f64().ceil().max(1.0) as u64;
        return Err(Error::RateLimited {
            what: "failed sign-ins",
            retry_after_secs,
        });
    }
    let user = match (start.user, app.config.admin.as_ref()) {
        (None, Some(admin)) if email == Some(admin.email()) => {
            Some(bootstrap_admin(app, admin, ctx.now).await?)
        }
        (user, _) => user,
    };
    let stored_hash = user
        .as_ref()
        .map_or(DECOY_HASH, |u| u.password_hash.as_str());
    let password_ok = password::verify_password(password, stored_hash).unwrap_or(false);
    let Some(user) = user.filter(|_| password_ok) else {
        // The reserved rows stay: they are this failure's record.
        return Err(Error::new(
            ErrorCode::InvalidCredentials,
            "email or password is wrong",
        ));
    };
    // The first scope is this email from this client or device: it starts afresh.
    let mut after = vec![settle_success(&attempt, &[scopes[0].0.as_str()])];
    // Seeded bcrypt hashes (and weaker argon2 parameters) are upgraded on a good sign-in.
    let params = Argon2Params::default();
    if password::needs_rehash(&user.password_hash, &params) {
        let upgraded = password::hash_password(password, &app.random_bytes(), &params)?;
        after.push((
            "UPDATE users SET password_hash = ?2 WHERE id = ?1".into(),
            vec![(&user.id).into(), upgraded.into()],
        ));
    }
    app.platform.after_response(after);
    Ok(user)
}

/// The scopes an attempt counts in, the email-and-client (or device) one first.
fn scopes<P: Platform>(app: &App<P>, ctx: &Ctx<'_>, email: Option<&Email>) -> Vec<(String, Rule)> {
    let account = email.map_or("-", Email::as_str);
    let known_device = ctx.cookie(DEVICE_COOKIE).filter(|cookie| {
        email.is_some() && device_cookie_matches(app.config.device_secret.expose(), cookie, account)
    });
    if let Some(device) = known_device.and_then(device_id) {
        return vec![(format!("device:{account}|{device}"), PAIR)];
    }
    let client = client_scope(ctx.client_address());
    let mut scopes = vec![(format!("pair:{account}|{client}"), PAIR)];
    if let Some(email) = email {
        scopes.push((format!("email:{email}"), EMAIL));
    }
    scopes.push((format!("client:{client}"), CLIENT));
    scopes
}

/// A client address as a throttling scope. IPv6 clients usually hold a whole /64, so that
/// is the unit counted for them.
fn client_scope(address: Option<&str>) -> String {
    match address {
        Some(text) => match text.parse::<std::net::IpAddr>() {
            Ok(std::net::IpAddr::V6(v6)) => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
            Ok(ip) => ip.to_string(),
            Err(_) => "invalid".into(),
        },
        None => "unknown".into(),
    }
}

/// The configured admin, created the first time its email signs in and no user has it:
/// from the dev password (development) or ADMIN_PASSWORD_HASH (production). Never changed
/// after, so the secret is not needed once the admin exists.
async fn bootstrap_admin<P: Platform>(
    app: &App<P>,
    admin: &AdminBootstrap,
    now: Timestamp,
) -> Result<UserRow> {
    let password_hash = match admin {
        AdminBootstrap::DevPassword { password, .. } => password::hash_password(
            password.expose(),
            &app.random_bytes(),
            &Argon2Params::default(),
        )?,
        AdminBootstrap::Hash { phc, .. } => phc.clone(),
    };
    let user = UserRow {
        id: UserId::new(now, app.random_bytes()),
        email: admin.email().clone(),
        password_hash,
        role: Role::Admin,
        created_at: now,
        disabled_at: None,
        quota: Default::default(),
    };
    if app.catalog().insert_admin_if_absent(&user).await? {
        return Ok(user);
    }
    // Another sign-in created it a moment ago.
    app.catalog()
        .user_by_email(admin.email())
        .await?
        .ok_or_else(|| Error::Database("the bootstrap admin vanished".into()))
}
