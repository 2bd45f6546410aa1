//! The native shell: SQLite (the same migrations D1 applies), an HTTP client, the OS clock
//! and entropy. The tests run the whole router on it against a real SeaweedFS.

use crate::app::App;
use crate::error::{Error, Result};
use crate::ports::{
    Database, Deferred, HttpClient, Limiter, Outcome, Platform, Row, SqlValue, Statement,
};
use crate::respond::Served;
use model::Timestamp;
use rusqlite::types::{ToSqlOutput, Value as SqliteValue, ValueRef};
use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// SQLite behind the `Database` port.
pub struct Sqlite {
    connection: Mutex<rusqlite::Connection>,
    /// Calls so far (each would be one round trip to D1): tests count them per request.
    round_trips: AtomicU64,
}

impl Sqlite {
    /// A fresh in-memory database with every migration in `migrations` applied.
    pub fn in_memory(migrations: &Path) -> Result<Sqlite> {
        let connection = rusqlite::Connection::open_in_memory().map_err(db_error)?;
        // D1 enforces foreign keys; SQLite does only when asked.
        connection
            .pragma_update(None, "foreign_keys", true)
            .map_err(db_error)?;
        let sqlite = Sqlite {
            connection: Mutex::new(connection),
            round_trips: AtomicU64::new(0),
        };
        sqlite.migrate(migrations)?;
        Ok(sqlite)
    }

    /// Applies `dir/*.sql` in name order, as `wrangler d1 migrations apply` does.
    pub fn migrate(&self, dir: &Path) -> Result<()> {
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| Error::Database(format!("read {}: {e}", dir.display())))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| path.extension().is_some_and(|ext| ext == "sql"))
            .collect();
        files.sort();
        let connection = self.connection()?;
        for file in files {
            let sql = std::fs::read_to_string(&file)
                .map_err(|e| Error::Database(format!("read {}: {e}", file.display())))?;
            connection.execute_batch(&sql).map_err(db_error)?;
        }
        Ok(())
    }

    /// Database calls made so far.
    pub fn round_trips(&self) -> u64 {
        self.round_trips.load(Ordering::Relaxed)
    }

    /// The connection, for one round trip.
    fn lock(&self) -> Result<std::sync::MutexGuard<'_, rusqlite::Connection>> {
        self.round_trips.fetch_add(1, Ordering::Relaxed);
        self.connection()
    }

    fn connection(&self) -> Result<std::sync::MutexGuard<'_, rusqlite::Connection>> {
        self.connection
            .lock()
            .map_err(|_| Error::Database("a previous query panicked".into()))
    }
}

fn db_error(error: rusqlite::Error) -> Error {
    Error::Database(error.to_string())
}

impl rusqlite::ToSql for SqlValue {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            SqlValue::Null => ToSqlOutput::Owned(SqliteValue::Null),
            SqlValue::Integer(v) => ToSqlOutput::Owned(SqliteValue::Integer(*v)),
            SqlValue::Text(v) => ToSqlOutput::Borrowed(ValueRef::Text(v.as_bytes())),
        })
    }
}

fn run(connection: &rusqlite::Connection, sql: &str, params: &[SqlValue]) -> Result<u64> {
    let changed = connection
        .execute(sql, rusqlite::params_from_iter(params))
        .map_err(db_error)?;
    Ok(changed as u64)
}

/// Runs one statement and reads the rows it returns, as D1 does: column name → JSON value.
fn rows(connection: &rusqlite::Connection, sql: &str, params: &[SqlValue]) -> Result<Vec<Row>> {
    let mut statement = connection.prepare(sql).map_err(db_error)?;
    let names: Vec<String> = statement
        .column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    let mut rows = statement
        .query(rusqlite::params_from_iter(params))
        .map_err(db_error)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(db_error)? {
        let mut object = Row::new();
        for (index, name) in names.iter().enumerate() {
            let value = match row.get_ref(index).map_err(db_error)? {
                ValueRef::Null => serde_json::Value::Null,
                ValueRef::Integer(v) => v.into(),
                ValueRef::Real(v) => v.into(),
                ValueRef::Text(v) => String::from_utf8_lossy(v).into_owned().into(),
                ValueRef::Blob(v) => v.to_vec().into(),
            };
            object.insert(name.clone(), value);
        }
        out.push(object);
    }
    Ok(out)
}

impl Database for Sqlite {
    async fn query(&self, sql: &str, params: &[SqlValue]) -> Result<Vec<Row>> {
        rows(&*self.lock()?, sql, params)
    }

    async fn execute(&self, sql: &str, params: &[SqlValue]) -> Result<u64> {
        run(&*self.lock()?, sql, params)
    }

    async fn batch(&self, statements: Vec<Statement<'_>>) -> Result<Vec<Outcome>> {
        self.round_trips.fetch_add(1, Ordering::Relaxed);
        self.run_batch(&statements)
    }
}

impl Sqlite {
    /// A deferred batch: it runs, but the client does not wait for it.
    fn batch_uncounted(&self, statements: &Deferred) -> Result<Vec<Outcome>> {
        let statements: Vec<Statement<'_>> = statements
            .iter()
            .map(|(sql, params)| (sql.as_str(), params.clone()))
            .collect();
        self.run_batch(&statements)
    }

    fn run_batch(&self, statements: &[Statement<'_>]) -> Result<Vec<Outcome>> {
        let mut connection = self.connection()?;
        let transaction = connection.transaction().map_err(db_error)?;
        let outcomes = statements
            .iter()
            .map(|(sql, params)| {
                let before = transaction.total_changes();
                let rows = rows(&transaction, sql, params)?;
                Ok(Outcome {
                    rows,
                    changes: transaction.total_changes() - before,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        transaction.commit().map_err(db_error)?;
        Ok(outcomes)
    }
}

/// An HTTP client for the edge's S3 calls.
#[derive(Clone, Default)]
pub struct Reqwest(reqwest::Client);

impl Reqwest {
    async fn send_raw(&self, request: http::Request<Vec<u8>>) -> Result<reqwest::Response> {
        let request = reqwest::Request::try_from(request.map(reqwest::Body::from))
            .map_err(|e| Error::Storage(format!("build request: {e}")))?;
        self.0
            .execute(request)
            .await
            .map_err(|e| Error::Storage(format!("send: {}", e.without_url())))
    }
}

impl HttpClient for Reqwest {
    type Stream = reqwest::Response;

    async fn send(&self, request: http::Request<Vec<u8>>) -> Result<http::Response<Vec<u8>>> {
        let (parts, response) = self.open(request).await?.into_parts();
        let body = read_body(response).await?;
        Ok(http::Response::from_parts(parts, body))
    }

    async fn open(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<reqwest::Response>> {
        let response = self.send_raw(request).await?;
        let mut builder = http::Response::builder().status(response.status());
        if let Some(headers) = builder.headers_mut() {
            headers.extend(response.headers().clone());
        }
        builder
            .body(response)
            .map_err(|e| Error::Storage(e.to_string()))
    }
}

async fn read_body(response: reqwest::Response) -> Result<Vec<u8>> {
    response
        .bytes()
        .await
        .map(|bytes| bytes.to_vec())
        .map_err(|e| Error::Storage(format!("read body: {}", e.without_url())))
}

/// The time source: the OS clock, or a settable one for tests of expiry and throttling.
#[derive(Clone)]
pub enum NativeClock {
    System,
    Fixed(Arc<Mutex<Timestamp>>),
}

impl NativeClock {
    pub fn fixed(at: Timestamp) -> NativeClock {
        NativeClock::Fixed(Arc::new(Mutex::new(at)))
    }

    /// Moves a fixed clock; the system clock cannot be moved.
    pub fn advance(&self, by: std::time::Duration) {
        if let NativeClock::Fixed(time) = self
            && let Ok(mut time) = time.lock()
        {
            *time = *time + by;
        }
    }
}

pub struct NativePlatform {
    pub db: Sqlite,
    pub http: Reqwest,
    pub clock: NativeClock,
    pub limits: RateLimits,
    /// Writes to run once the answer is out ([`Platform::after_response`]).
    pub deferred: Mutex<Vec<Deferred>>,
}

impl NativePlatform {
    pub fn new(db: Sqlite, clock: NativeClock, limits: RateLimits) -> Self {
        NativePlatform {
            db,
            http: Reqwest::default(),
            clock,
            limits,
            deferred: Mutex::new(Vec::new()),
        }
    }
}

/// Rate limits that really count, in memory, as the Workers binding does per location: at
/// most `limit` calls per key within each `period`, on the platform's clock.
pub struct RateLimits {
    limit: usize,
    calls: Mutex<HashMap<(Limiter, String), VecDeque<Timestamp>>>,
}

impl RateLimits {
    /// `limit` calls per key within each limiter's period (wrangler.toml's `simple.limit`).
    pub fn new(limit: usize) -> Self {
        RateLimits {
            limit,
            calls: Mutex::new(HashMap::new()),
        }
    }

    fn count(&self, limiter: Limiter, key: &str, now: Timestamp) -> bool {
        let mut calls = self.calls.lock().unwrap_or_else(|e| e.into_inner());
        let recent = calls.entry((limiter, key.to_string())).or_default();
        while recent.front().is_some_and(|t| *t <= now - limiter.period()) {
            recent.pop_front();
        }
        if recent.len() >= self.limit {
            return false;
        }
        recent.push_back(now);
        true
    }
}

impl Platform for NativePlatform {
    type Db = Sqlite;
    type Http = Reqwest;

    fn db(&self) -> &Sqlite {
        &self.db
    }

    fn http(&self) -> &Reqwest {
        &self.http
    }

    fn now(&self) -> Timestamp {
        match &self.clock {
            // The one place the native shell reads the OS clock.
            #[allow(clippy::disallowed_methods)]
            NativeClock::System => Timestamp::from_system_time(std::time::SystemTime::now()),
            NativeClock::Fixed(time) => *time.lock().unwrap_or_else(|e| e.into_inner()),
        }
    }

    fn fill_random(&self, buf: &mut [u8]) {
        getrandom::fill(buf).expect("the OS has an entropy source");
    }

    fn log(&self, line: &str) {
        eprintln!("edge: {line}");
    }

    async fn within_limit(&self, limiter: Limiter, key: &str) -> Result<bool> {
        Ok(self.limits.count(limiter, key, self.now()))
    }

    fn after_response(&self, statements: Deferred) {
        self.deferred
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(statements);
    }

    async fn verify_ed25519(&self, _: &[u8; 32], _: &[u8], _: &[u8; 64]) -> Result<Option<bool>> {
        Ok(None)
    }
}

impl App<NativePlatform> {
    /// Handles a request end to end and reads any relayed body: what a client receives. The
    /// writes deferred past the answer run before this returns (not counted as round trips:
    /// the client does not wait for them).
    pub async fn serve_buffered(&self, request: http::Request<Vec<u8>>) -> http::Response<Vec<u8>> {
        let (parts, served) = self.serve(request).await.into_parts();
        let deferred = std::mem::take(
            &mut *self
                .platform
                .deferred
                .lock()
                .unwrap_or_else(|e| e.into_inner()),
        );
        for statements in deferred {
            if let Err(error) = self.platform.db.batch_uncounted(&statements) {
                self.platform.log(&format!("deferred write: {error}"));
            }
        }
        let bytes = match served {
            Served::Bytes(bytes) => bytes,
            // A body cut off mid-read arrives short, as it would at a client.
            Served::Stream(response) => read_body(response).await.unwrap_or_default(),
        };
        http::Response::from_parts(parts, bytes)
    }
}
