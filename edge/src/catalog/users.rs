//! Users.

use super::Catalog;
use crate::error::Result;
use crate::ports::Database;
use model::{Email, Role, Timestamp, UserId};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct UserRow {
    pub id: UserId,
    pub email: Email,
    pub password_hash: String,
    pub role: Role,
    #[serde(with = "model::time::unix_ms")]
    pub created_at: Timestamp,
}

impl<D: Database> Catalog<'_, D> {
    pub async fn user_by_email(&self, email: &Email) -> Result<Option<UserRow>> {
        self.one(
            "SELECT id, email, password_hash, role, created_at FROM users WHERE email = ?1",
            &[email.into()],
        )
        .await
    }

    /// Inserts a user unless the email is taken; false when it was.
    pub async fn insert_user(&self, user: &UserRow) -> Result<bool> {
        let changed = self
            .db
            .execute(
                "INSERT INTO users (id, email, password_hash, role, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (email) DO NOTHING",
                &[
                    (&user.id).into(),
                    (&user.email).into(),
                    user.password_hash.as_str().into(),
                    user.role.into(),
                    user.created_at.into(),
                ],
            )
            .await?;
        Ok(changed == 1)
    }

    pub async fn set_password_hash(&self, user: &UserId, password_hash: &str) -> Result<()> {
        self.db
            .execute(
                "UPDATE users SET password_hash = ?2 WHERE id = ?1",
                &[user.into(), password_hash.into()],
            )
            .await
            .map(|_| ())
    }

    /// The production bootstrap admin follows its configured hash (so rotating the secret
    /// rotates the password) and is always an admin. `user.role` is ignored.
    pub async fn upsert_admin(&self, user: &UserRow) -> Result<()> {
        self.db
            .execute(
                "INSERT INTO users (id, email, password_hash, role, created_at) \
                 VALUES (?1, ?2, ?3, 'admin', ?4) \
                 ON CONFLICT (email) DO UPDATE SET password_hash = excluded.password_hash, role = 'admin' \
                 WHERE users.password_hash <> excluded.password_hash OR users.role <> 'admin'",
                &[
                    (&user.id).into(),
                    (&user.email).into(),
                    user.password_hash.as_str().into(),
                    user.created_at.into(),
                ],
            )
            .await?;
        Ok(())
    }
}
