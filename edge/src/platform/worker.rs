//! The Worker shell: D1 behind `Database`, `fetch` behind `HttpClient`, `Date.now()` and
//! `crypto.getRandomValues` behind `Platform`, and the fetch event converted to and from
//! `http` types. No application logic lives here.

use crate::app::App;
use crate::config::Config;
use crate::dispatch::MAX_BODY_BYTES;
use crate::error::{Error, Result};
use crate::ports::{Deferred, HttpClient, Limiter, Platform};
use crate::respond::{Body, Served};
use futures_util::StreamExt;
use model::Timestamp;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use worker::{Env, Fetch, Headers, RequestInit, ResponseBody};

use super::d1::{D1, d1_error, js_params};

/// The D1 binding's name in wrangler.toml.
const DATABASE_BINDING: &str = "DB";

thread_local! {
    // Vars and secrets are fixed for an isolate's life: parse (and decode keys) once.
    static CONFIG: std::cell::OnceCell<std::result::Result<Rc<Config>, String>> =
        const { std::cell::OnceCell::new() };
}

fn config(env: &Env) -> std::result::Result<Rc<Config>, String> {
    CONFIG.with(|cell| {
        cell.get_or_init(|| {
            Config::from_lookup(|name| {
                env.var(name)
                    .map(|v| v.to_string())
                    .or_else(|_| env.secret(name).map(|v| v.to_string()))
                    .ok()
            })
            .map(Rc::new)
            .map_err(|e| e.to_string())
        })
        .clone()
    })
}

/// The header a client sends back so that it reads its own writes from any D1 replica
/// (the bookmark of the last answer it got); every answer carries the next one.
pub const BOOKMARK_HEADER: &str = "x-d1-bookmark";

/// The app over this isolate's config and a D1 session that starts after `bookmark` (any
/// replica when there is none); the reason when either is missing.
fn app(env: &Env, bookmark: Option<&str>) -> std::result::Result<App<WorkerPlatform>, String> {
    let config = config(env)?;
    let session = env
        .d1(DATABASE_BINDING)
        .and_then(|db| db.with_session(Some(bookmark.unwrap_or("first-unconstrained"))))
        .map_err(|error| format!("the D1 binding {DATABASE_BINDING}: {error}"))?;
    Ok(App::new(
        config,
        WorkerPlatform {
            db: D1(session),
            http: FetchClient,
            env: env.clone(),
            deferred: RefCell::new(Vec::new()),
        },
    ))
}

pub async fn fetch(
    mut request: worker::Request,
    env: Env,
    ctx: worker::Context,
) -> worker::Result<worker::Response> {
    // A bookmark is D1's opaque text; anything unusable starts a fresh session instead.
    let bookmark = request
        .headers()
        .get(BOOKMARK_HEADER)
        .ok()
        .flatten()
        .filter(|b| !b.is_empty() && b.len() <= 256 && b.bytes().all(|c| c.is_ascii_graphic()));
    let app = match app(&env, bookmark.as_deref()) {
        Ok(app) => app,
        Err(message) => {
            worker::console_error!("edge: {message}");
            return early_failure(&Error::Config(message));
        }
    };
    let request = match to_http_request(&mut request).await {
        Ok(request) => request,
        Err(error) => {
            return early_failure(&Error::invalid(format!("unreadable request: {error}")));
        }
    };
    let (mut parts, served) = app.serve(request).await.into_parts();
    if let Ok(Some(next)) = app.platform.db.0.get_bookmark()
        && let Ok(value) = http::HeaderValue::from_str(&next)
    {
        parts.headers.insert(BOOKMARK_HEADER, value);
    }
    for statements in app.platform.deferred.take() {
        let env = env.clone();
        ctx.wait_until(async move { run_deferred(&env, statements).await });
    }
    let body = match served {
        Served::Bytes(bytes) if bytes.is_empty() => ResponseBody::Empty,
        Served::Bytes(bytes) => ResponseBody::Body(bytes),
        Served::Stream(stream) => stream,
    };
    Ok(worker::Response::from_body(body)?
        .with_status(parts.status.as_u16())
        .with_headers(worker_headers(&parts.headers)?))
}

/// Writes deferred past an answer, on the primary.
async fn run_deferred(env: &Env, statements: Deferred) {
    let outcome = async {
        let db = env.d1(DATABASE_BINDING).map_err(d1_error)?;
        let prepared = statements
            .iter()
            .map(|(sql, params)| db.prepare(sql.as_str()).bind(&js_params(params)))
            .collect::<worker::Result<Vec<_>>>()
            .map_err(d1_error)?;
        db.batch(prepared).await.map_err(d1_error)
    };
    if let Err(error) = outcome.await {
        worker::console_error!("edge: deferred write: {error}");
    }
}

/// A Cron Trigger: the scheduled housekeeping, on the primary.
pub async fn scheduled(env: Env) {
    match app(&env, Some("first-primary")) {
        Ok(app) => {
            crate::sweep::run_scheduled(&app, app.platform.now()).await;
            for statements in app.platform.deferred.take() {
                run_deferred(&env, statements).await;
            }
        }
        Err(message) => worker::console_error!("edge: scheduled: {message}"),
    }
}

/// A failure before the app could run (no config, no database, unreadable request): still
/// the JSON envelope and the security headers.
fn early_failure(error: &Error) -> worker::Result<worker::Response> {
    let (mut parts, body) = crate::respond::failure(error).into_parts();
    crate::respond::add_security_headers(&mut parts.headers, true, false);
    let bytes = match body {
        Body::Bytes(bytes) => bytes,
        Body::Upstream(_) => Vec::new(),
    };
    Ok(worker::Response::from_body(ResponseBody::Body(bytes))?
        .with_status(parts.status.as_u16())
        .with_headers(worker_headers(&parts.headers)?))
}

/// The incoming request as `http::Request`, reading at most one byte more than the core
/// accepts, so an oversized body is refused without buffering all of it.
async fn to_http_request(request: &mut worker::Request) -> worker::Result<http::Request<Vec<u8>>> {
    // The raw method: worker::Method turns one it has no variant for (QUERY, PROPFIND…) into
    // GET, which would answer instead of 405.
    let mut builder = http::Request::builder()
        .method(request.inner().method().as_str())
        .uri(request.url()?.as_str());
    if let Some(headers) = builder.headers_mut() {
        *headers = header_map(request.headers());
    }
    let mut body = Vec::new();
    if let Ok(mut stream) = request.stream() {
        while let Some(chunk) = stream.next().await {
            body.extend_from_slice(&chunk?);
            if body.len() > MAX_BODY_BYTES {
                break;
            }
        }
    }
    builder
        .body(body)
        .map_err(|e| worker::Error::RustError(e.to_string()))
}

fn header_map(headers: &Headers) -> http::HeaderMap {
    let mut map = http::HeaderMap::new();
    for (name, value) in headers.entries() {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(name.as_bytes()),
            http::HeaderValue::from_str(&value),
        ) {
            map.append(name, value);
        }
    }
    map
}

fn worker_headers(map: &http::HeaderMap) -> worker::Result<Headers> {
    let headers = Headers::new();
    for (name, value) in map {
        if let Ok(value) = value.to_str() {
            headers.append(name.as_str(), value)?;
        }
    }
    Ok(headers)
}

fn to_worker_request(request: http::Request<Vec<u8>>) -> worker::Result<worker::Request> {
    let (parts, body) = request.into_parts();
    let mut init = RequestInit::new();
    init.with_method(worker::Method::from(parts.method.to_string()))
        .with_headers(worker_headers(&parts.headers)?);
    if !body.is_empty() {
        init.with_body(Some(js_sys::Uint8Array::from(body.as_slice()).into()));
    }
    worker::Request::new_with_init(&parts.uri.to_string(), &init)
}

pub struct FetchClient;

impl FetchClient {
    async fn fetch(request: http::Request<Vec<u8>>) -> Result<worker::Response> {
        let request = to_worker_request(request).map_err(|e| Error::Storage(e.to_string()))?;
        Fetch::Request(request)
            .send()
            .await
            .map_err(|e| Error::Storage(format!("fetch: {e}")))
    }

    /// The answer's status and headers.
    fn head(answer: &worker::Response) -> http::response::Builder {
        let mut builder = http::Response::builder().status(answer.status_code());
        if let Some(headers) = builder.headers_mut() {
            *headers = header_map(answer.headers());
        }
        builder
    }
}

impl HttpClient for FetchClient {
    type Stream = ResponseBody;

    async fn send(&self, request: http::Request<Vec<u8>>) -> Result<http::Response<Vec<u8>>> {
        let mut answer = Self::fetch(request).await?;
        let builder = Self::head(&answer);
        let body = answer
            .bytes()
            .await
            .map_err(|e| Error::Storage(format!("read body: {e}")))?;
        builder
            .body(body)
            .map_err(|e| Error::Storage(e.to_string()))
    }

    async fn open(&self, request: http::Request<Vec<u8>>) -> Result<http::Response<ResponseBody>> {
        let answer = Self::fetch(request).await?;
        Self::head(&answer)
            .body(answer.body().clone())
            .map_err(|e| Error::Storage(e.to_string()))
    }
}

pub struct WorkerPlatform {
    db: D1,
    http: FetchClient,
    env: Env,
    deferred: RefCell<Vec<Deferred>>,
}

impl Platform for WorkerPlatform {
    type Db = D1;
    type Http = FetchClient;

    fn db(&self) -> &D1 {
        &self.db
    }

    fn http(&self) -> &FetchClient {
        &self.http
    }

    fn now(&self) -> Timestamp {
        Timestamp::from_unix_ms(i64::try_from(worker::Date::now().as_millis()).unwrap_or(i64::MAX))
    }

    fn fill_random(&self, buf: &mut [u8]) {
        let crypto = js_sys::global()
            .unchecked_into::<web_sys::WorkerGlobalScope>()
            .crypto()
            .expect("Workers have crypto");
        // getRandomValues takes at most 65536 bytes a call.
        for chunk in buf.chunks_mut(65536) {
            crypto
                .get_random_values_with_u8_array(chunk)
                .expect("getRandomValues accepts a byte array");
        }
    }

    async fn within_limit(&self, limiter: Limiter, key: &str) -> Result<bool> {
        let binding = self
            .env
            .rate_limiter(limiter.binding())
            .map_err(|e| Error::Config(format!("the {} binding: {e}", limiter.binding())))?;
        let outcome = binding
            .limit(key.to_string())
            .await
            .map_err(|e| Error::Config(format!("{}: {e}", limiter.binding())))?;
        Ok(outcome.success)
    }

    fn after_response(&self, statements: Deferred) {
        self.deferred.borrow_mut().push(statements);
    }

    fn log(&self, line: &str) {
        worker::console_error!("edge: {line}");
    }

    async fn verify_ed25519(
        &self,
        public_key: &[u8; 32],
        message: &[u8],
        signature: &[u8; 64],
    ) -> Result<Option<bool>> {
        super::webcrypto::verify_ed25519(public_key, message, signature)
            .await
            .map(Some)
    }
}
