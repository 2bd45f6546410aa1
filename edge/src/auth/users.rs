//! `POST /api/users`: admins create users.

use crate::api::UserView;
use crate::app::App;
use crate::catalog::UserRow;
use crate::error::{Error, ErrorCode, Result};
use crate::ports::Platform;
use crate::request::{Caller, Ctx};
use crate::respond::{self, Reply};
use http::StatusCode;
use model::{Email, Role, UserId};
use serde::{Deserialize, Serialize};
use signer::password::{self, Argon2Params};

const MIN_PASSWORD_CHARS: usize = 8;
const MAX_PASSWORD_BYTES: usize = 1024;

#[derive(Deserialize)]
struct NewUser {
    email: String,
    password: String,
    role: Option<String>,
}

#[derive(Serialize)]
struct Created<'a> {
    user: UserView<'a>,
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
    let user = UserRow {
        id: UserId::new(ctx.now, app.random_bytes()),
        email,
        password_hash: password::hash_password(
            &input.password,
            &app.random_bytes(),
            &Argon2Params::default(),
        )?,
        role,
        created_at: ctx.now,
    };
    if !app.catalog().insert_user(&user).await? {
        return Err(Error::new(
            ErrorCode::Exists,
            "a user with this email already exists",
        ));
    }
    Ok(respond::success(
        StatusCode::CREATED,
        &Created {
            user: UserView::from(&user),
        },
    ))
}
