//! The catalog's SQL, written once for D1 and SQLite (`migrations/*.sql` is the schema).
//! Rows come back as the model's types: a row the model refuses is a database error, never a
//! value a handler sees.

mod claims;
mod events;
mod sessions;
mod throttle;
mod users;
mod videos;

pub use events::JOB_EVENT_RETENTION;
pub use sessions::Renewal;
pub use throttle::{Rule, SignInStart, settle_success};
pub use users::{Changed, QuotaOverrides, Retirement, Usage, UserChange, UserRow, UserWithUsage};
pub use videos::{ListCursor, VideoRow};

use crate::error::{Error, Result};
use crate::ports::{Database, Row, SqlValue};
use serde::de::DeserializeOwned;

pub struct Catalog<'a, D> {
    db: &'a D,
}

impl<'a, D: Database> Catalog<'a, D> {
    pub fn new(db: &'a D) -> Self {
        Catalog { db }
    }

    async fn all<T: DeserializeOwned>(&self, sql: &str, params: &[SqlValue]) -> Result<Vec<T>> {
        rows(self.db.query(sql, params).await?)
    }

    async fn one<T: DeserializeOwned>(&self, sql: &str, params: &[SqlValue]) -> Result<Option<T>> {
        Ok(self.all(sql, params).await?.into_iter().next())
    }
}

fn rows<T: DeserializeOwned>(rows: Vec<Row>) -> Result<Vec<T>> {
    rows.into_iter()
        .map(|row| {
            serde_json::from_value(serde_json::Value::Object(row))
                .map_err(|e| Error::Database(format!("unexpected row: {e}")))
        })
        .collect()
}

/// `?{first}, ?{first+1}, …`: placeholders for an `IN (…)` or `VALUES` list of `count` items.
fn placeholders(first: usize, count: usize, wrap: fn(String) -> String) -> String {
    (first..first + count)
        .map(|i| wrap(format!("?{i}")))
        .collect::<Vec<_>>()
        .join(", ")
}
