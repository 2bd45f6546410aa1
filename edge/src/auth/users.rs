//! Accounts: a user changes their own password (`POST /api/auth/password`); admins create,
//! list, change (role, disabled, quotas), reset and delete users. Whatever takes a user's
//! rights away (disabling, demoting, a new password, deletion) also ends their sessions, so
//! it holds within one access token's lifetime.

use super::session::{self, Delivery};
use super::signin::check_password;
use crate::api::{Done, UserView};
use crate::app::App;
use crate::catalog::{Changed, UserChange, UserRow, UserWithUsage};
use crate::config::Quota;
use crate::error::{Error, ErrorCode, Result};
use crate::library::remove_video_objects;
use crate::ports::Platform;
use crate::request::{Caller, Ctx};
use crate::respond::{self, Reply};
use http::StatusCode;
use model::{Email, Role, UserId};
use serde::{Deserialize, Deserializer, Serialize};
use signer::password::{self, Argon2Params};

const MIN_PASSWORD_CHARS: usize = 8;
const MAX_PASSWORD_BYTES: usize = 1024;
const DEFAULT_PAGE: u32 = 50;
const MAX_PAGE: u32 = 200;
/// Videos removed per `DELETE /api/users/{id}` call: each takes a few storage calls, and a
/// Worker invocation has a bounded number of them.
pub const VIDEOS_PER_DELETE: u32 = 50;

/// A new password's hash, or 400 when it is too short or too long.
fn hash_new_password<P: Platform>(app: &App<P>, password: &str) -> Result<String> {
    if password.chars().count() < MIN_PASSWORD_CHARS || password.len() > MAX_PASSWORD_BYTES {
        return Err(Error::invalid(format!(
            "password must be {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_BYTES} bytes long"
        )));
    }
    Ok(password::hash_password(
        password,
        &app.random_bytes(),
        &Argon2Params::default(),
    )?)
}

fn require_admin(caller: &Caller) -> Result<()> {
    if caller.is_admin() {
        Ok(())
    } else {
        Err(Error::forbidden("only admins can manage users"))
    }
}

/// A user as admins see them.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ManagedUser<'a> {
    #[serde(flatten)]
    user: UserView<'a>,
    disabled: bool,
    /// The limits in effect.
    quota: Quota,
    /// The ones an admin set (null: the default).
    quota_overrides: QuotaFields,
    usage: QuotaFields,
}

#[derive(Serialize, Default)]
struct QuotaFields {
    bytes: Option<u64>,
    videos: Option<u64>,
    uploads: Option<u64>,
}

impl<'a> ManagedUser<'a> {
    fn of<P: Platform>(app: &App<P>, found: &'a UserWithUsage) -> Self {
        let user = &found.user;
        ManagedUser {
            user: UserView::from(user),
            disabled: user.disabled_at.is_some(),
            quota: user.quota.over(app.config.quota),
            quota_overrides: QuotaFields {
                bytes: user.quota.bytes,
                videos: user.quota.videos,
                uploads: user.quota.uploads,
            },
            usage: QuotaFields {
                bytes: Some(found.usage.bytes),
                videos: Some(found.usage.videos),
                uploads: Some(found.usage.uploads),
            },
        }
    }
}

#[derive(Serialize)]
struct UserBody<'a> {
    user: ManagedUser<'a>,
}

#[derive(Deserialize)]
struct NewUser {
    email: String,
    password: String,
    role: Option<String>,
}

/// `POST /api/users`.
pub async fn create_user<P: Platform>(
    app: &App<P>,
    ctx: &Ctx<'_>,
    caller: &Caller,
) -> Result<Reply> {
    require_admin(caller)?;
    let input: NewUser = ctx.json()?;
    let email =
        Email::parse(&input.email).map_err(|_| Error::invalid("email must be an email address"))?;
    let role = match input.role.as_deref() {
        None => Role::Member,
        Some(text) => parse_role(text)?,
    };
    let user = UserRow {
        id: UserId::new(ctx.now, app.random_bytes()),
        email,
        password_hash: hash_new_password(app, &input.password)?,
        role,
        created_at: ctx.now,
        disabled_at: None,
        quota: Default::default(),
    };
    if !app.catalog().insert_user(&user).await? {
        return Err(Error::new(
            ErrorCode::Exists,
            "a user with this email already exists",
        ));
    }
    #[derive(Serialize)]
    struct Created<'a> {
        user: UserView<'a>,
    }
    Ok(respond::success(
        StatusCode::CREATED,
        &Created {
            user: UserView::from(&user),
        },
    ))
}

fn parse_role(text: &str) -> Result<Role> {
    Role::parse(text).map_err(|_| Error::invalid("role must be \"admin\" or \"member\""))
}

/// `GET /api/users?limit=&cursor=`: by email; the cursor is the last email of a page.
pub async fn list_users<P: Platform>(
    app: &App<P>,
    ctx: &Ctx<'_>,
    caller: &Caller,
) -> Result<Reply> {
    require_admin(caller)?;
    let limit = match ctx.query("limit") {
        None => DEFAULT_PAGE,
        Some(text) => text
            .parse()
            .ok()
            .filter(|n| (1..=MAX_PAGE).contains(n))
            .ok_or_else(|| Error::invalid(format!("limit must be 1 to {MAX_PAGE}")))?,
    };
    let after = match ctx.query("cursor").filter(|c| !c.is_empty()) {
        None => None,
        Some(text) => Some(Email::parse(&text).map_err(|_| {
            Error::new(
                ErrorCode::InvalidCursor,
                "cursor is not one this API returned",
            )
        })?),
    };
    let mut users = app.catalog().list_users(after.as_ref(), limit + 1).await?;
    let next_cursor = (users.len() > limit as usize).then(|| {
        users.truncate(limit as usize);
        users.last().map(|u| u.user.email.to_string())
    });
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Page<'a> {
        users: Vec<ManagedUser<'a>>,
        next_cursor: Option<String>,
    }
    Ok(respond::success(
        StatusCode::OK,
        &Page {
            users: users.iter().map(|u| ManagedUser::of(app, u)).collect(),
            next_cursor: next_cursor.flatten(),
        },
    ))
}

/// `null` and absent differ: absent leaves a limit, `null` returns it to the default.
fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Option<u64>>, D::Error> {
    Option::<u64>::deserialize(deserializer).map(Some)
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct QuotaChange {
    #[serde(default, deserialize_with = "present")]
    bytes: Option<Option<u64>>,
    #[serde(default, deserialize_with = "present")]
    videos: Option<Option<u64>>,
    #[serde(default, deserialize_with = "present")]
    uploads: Option<Option<u64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Change {
    role: Option<String>,
    disabled: Option<bool>,
    quota: Option<QuotaChange>,
}

/// `PATCH /api/users/{id}`.
pub async fn change_user<P: Platform>(
    app: &App<P>,
    ctx: &Ctx<'_>,
    caller: &Caller,
    id: &UserId,
) -> Result<Reply> {
    require_admin(caller)?;
    let input: Change = ctx.json()?;
    let quota = input.quota.unwrap_or_default();
    for limit in [quota.bytes, quota.videos, quota.uploads]
        .into_iter()
        .flatten()
        .flatten()
    {
        if limit == 0 || limit > u64::MAX >> 11 {
            return Err(Error::invalid("a quota is a whole number above 0"));
        }
    }
    let change = UserChange {
        role: input.role.as_deref().map(parse_role).transpose()?,
        disabled: input.disabled,
        quota_bytes: quota.bytes,
        quota_videos: quota.videos,
        quota_uploads: quota.uploads,
    };
    changed_answer(app, app.catalog().change_user(id, &change, ctx.now).await?)
}

/// The answer to an admin's change: the user as they are now; 404 when there is no such
/// user, 409 when the change was refused for leaving no enabled admin.
fn changed_answer<P: Platform>(app: &App<P>, changed: Option<Changed>) -> Result<Reply> {
    let changed = changed.ok_or_else(|| Error::not_found("user"))?;
    if !changed.applied {
        return Err(last_admin());
    }
    Ok(respond::success(
        StatusCode::OK,
        &UserBody {
            user: ManagedUser::of(app, &changed.user),
        },
    ))
}

fn last_admin() -> Error {
    Error::new(ErrorCode::LastAdmin, "this would leave no enabled admin")
}

#[derive(Deserialize)]
struct NewPassword {
    password: String,
}

/// `POST /api/users/{id}/password`: an admin sets a user's password.
pub async fn reset_password<P: Platform>(
    app: &App<P>,
    ctx: &Ctx<'_>,
    caller: &Caller,
    id: &UserId,
) -> Result<Reply> {
    require_admin(caller)?;
    let input: NewPassword = ctx.json()?;
    let hash = hash_new_password(app, &input.password)?;
    changed_answer(app, app.catalog().reset_password(id, &hash, ctx.now).await?)
}

/// `DELETE /api/users/{id}`: the user is disabled and their sessions end at once; their
/// videos go (every object, both buckets) at most [`VIDEOS_PER_DELETE`] a call, 202 with the
/// number left meaning "call again"; once none is left the user goes too: 200. One round
/// trip, two in the call that removes the last batch.
pub async fn delete_user<P: Platform>(
    app: &App<P>,
    ctx: &Ctx<'_>,
    caller: &Caller,
    id: &UserId,
) -> Result<Reply> {
    require_admin(caller)?;
    let mut step = app
        .catalog()
        .retire_user(id, VIDEOS_PER_DELETE, ctx.now)
        .await?;
    if step.refused {
        return Err(last_admin());
    }
    for video in &step.videos {
        remove_video_objects(app, ctx.now, video).await?;
    }
    if !step.videos.is_empty() && step.remaining_videos == 0 {
        // That was the last batch, and its objects are gone: the user goes too.
        step = app.catalog().retire_user(id, 0, ctx.now).await?;
    }
    if step.gone {
        return Ok(respond::success(StatusCode::OK, &Done {}));
    }
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Pending {
        remaining_videos: u64,
    }
    Ok(respond::success(
        StatusCode::ACCEPTED,
        &Pending {
            remaining_videos: step.remaining_videos,
        },
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PasswordChange {
    current_password: String,
    new_password: String,
    #[serde(default)]
    refresh_delivery: Delivery,
}

/// `POST /api/auth/password`: the caller's own password, confirmed with the current one
/// (throttled like a sign-in). Every other session ends; this one starts afresh.
pub async fn change_own_password<P: Platform>(
    app: &App<P>,
    ctx: &Ctx<'_>,
    caller: &Caller,
) -> Result<Reply> {
    let input: PasswordChange = ctx.json()?;
    let user = check_password(app, ctx, Some(&caller.email), &input.current_password).await?;
    if user.id != caller.id || user.disabled_at.is_some() {
        return Err(Error::new(
            ErrorCode::InvalidToken,
            "this session's account has changed: sign in again",
        ));
    }
    let hash = hash_new_password(app, &input.new_password)?;
    let replace = vec![
        (
            "UPDATE users SET password_hash = ?2 WHERE id = ?1",
            vec![(&user.id).into(), hash.into()],
        ),
        (
            "UPDATE sessions SET revoked_at = ?2 WHERE user_id = ?1 AND revoked_at IS NULL",
            vec![(&user.id).into(), ctx.now.into()],
        ),
    ];
    session::open(app, ctx, &user, input.refresh_delivery, replace).await
}
