//! The application: one `handle` from an `http::Request` to an `http::Response`, over the
//! platform's ports. Tests call it directly; the Worker calls it per fetch event.

use crate::config::{Config, Environment};
use crate::error::{Error, Result};
use crate::ports::Platform;
use crate::respond::{self, Body, Reply};
use crate::routes::{self, Endpoint, Match};
use crate::storage::Storage;
use crate::{auth, bench, jobs, videos};
use http::header::{self, HeaderValue};
use http::{Method, Request, StatusCode};
use serde::de::DeserializeOwned;
use signer::ids::Role;
use std::rc::Rc;
use std::time::{SystemTime, UNIX_EPOCH};

/// Request bodies are small JSON documents; video bytes never pass the edge.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// The OpenAPI document, served as is.
pub const OPENAPI_YAML: &str = include_str!("../openapi.yaml");

pub struct App<P> {
    /// Shared: the Worker parses it once per isolate.
    pub config: Rc<Config>,
    pub platform: P,
}

/// One request being handled: the request, its path parameters and the time it arrived.
pub struct Ctx<'r> {
    pub request: &'r Request<Vec<u8>>,
    pub params: Vec<String>,
    pub now: SystemTime,
}

impl Ctx<'_> {
    pub fn now_ms(&self) -> i64 {
        unix_ms(self.now)
    }

    pub fn now_secs(&self) -> i64 {
        self.now_ms().div_euclid(1000)
    }

    pub fn param(&self, index: usize) -> &str {
        self.params.get(index).map_or("", String::as_str)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
    }

    /// The query parameter `name`, percent-decoded.
    pub fn query(&self, name: &str) -> Option<String> {
        self.request.uri().query()?.split('&').find_map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (key == name).then(|| {
                let value = value.replace('+', " ");
                percent_encoding::percent_decode_str(&value)
                    .decode_utf8_lossy()
                    .into_owned()
            })
        })
    }

    /// The JSON body as `T`; a clear 400 when it is missing or malformed.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        let body = self.request.body();
        if body.iter().all(u8::is_ascii_whitespace) {
            return Err(Error::invalid("the request body must be a JSON object"));
        }
        serde_json::from_slice(body).map_err(|e| Error::invalid(format!("invalid JSON body: {e}")))
    }
}

/// Who is calling, from a verified bearer token.
#[derive(Debug, Clone)]
pub struct Caller {
    pub id: String,
    pub email: String,
    pub role: Role,
}

impl Caller {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

pub fn unix_ms(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl<P: Platform> App<P> {
    pub fn new(config: impl Into<Rc<Config>>, platform: P) -> Self {
        App {
            config: config.into(),
            platform,
        }
    }

    /// Handles one request. Never fails: every error becomes its JSON response.
    pub async fn handle(&self, request: Request<Vec<u8>>) -> Reply {
        let origin = request
            .headers()
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let is_media = request.uri().path().starts_with("/media/");
        let mut reply = match self.respond(&request).await {
            Ok(reply) => reply,
            Err(error) => {
                if error.is_server_side() {
                    // A media path carries a playback token: never log it.
                    let path = if is_media {
                        "/media/…"
                    } else {
                        request.uri().path()
                    };
                    self.platform.log(&format!(
                        "{} {path} -> {}: {error}",
                        request.method(),
                        error.status().as_u16()
                    ));
                }
                respond::failure(&error)
            }
        };
        if request.method() == Method::HEAD
            && let Body::Bytes(bytes) = reply.body_mut()
        {
            bytes.clear();
        }
        let production = self.config.environment == Environment::Production;
        respond::add_security_headers(reply.headers_mut(), production, is_media);
        if !self.config.allowed_origins.is_empty() {
            // Answers differ by Origin: caches must keep them apart.
            reply
                .headers_mut()
                .append(header::VARY, HeaderValue::from_static("Origin"));
        }
        if let Some(origin) = origin.filter(|o| self.origin_allowed(o)) {
            let headers = reply.headers_mut();
            if let Ok(value) = HeaderValue::from_str(&origin) {
                headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
            }
            headers.insert(
                header::ACCESS_CONTROL_EXPOSE_HEADERS,
                HeaderValue::from_static("Retry-After, Content-Range, Content-Length, ETag"),
            );
        }
        reply
    }

    fn origin_allowed(&self, origin: &str) -> bool {
        self.config
            .allowed_origins
            .iter()
            .any(|o| o == "*" || o == origin)
    }

    async fn respond(&self, request: &Request<Vec<u8>>) -> Result<Reply> {
        if request.body().len() > MAX_BODY_BYTES {
            return Err(Error::client(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("request bodies are limited to {MAX_BODY_BYTES} bytes"),
            ));
        }
        let path = request.uri().path();
        if request.method() == Method::OPTIONS {
            return self.preflight(request);
        }
        let (endpoint, params) = match routes::find(request.method(), path) {
            Match::Found { endpoint, params } => (endpoint, params),
            Match::WrongMethod(allow) => return Err(Error::MethodNotAllowed { allow }),
            Match::NotFound => return Err(Error::not_found("route")),
        };
        let ctx = Ctx {
            request,
            params,
            now: self.platform.now(),
        };
        match endpoint {
            Endpoint::Health => Ok(respond::success(
                StatusCode::OK,
                serde_json::json!({ "version": env!("CARGO_PKG_VERSION") }),
            )),
            Endpoint::OpenApi => {
                let mut reply = respond::bytes(
                    StatusCode::OK,
                    "application/yaml; charset=utf-8",
                    OPENAPI_YAML.as_bytes().to_vec(),
                );
                // The document is public and the same for everyone.
                reply.headers_mut().insert(
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=300"),
                );
                Ok(reply)
            }
            Endpoint::SignIn => auth::sign_in(self, &ctx).await,
            Endpoint::JobEvent => jobs::receive(self, &ctx).await,
            Endpoint::Bench => bench::run(self, &ctx),
            Endpoint::Media => videos::media(self, &ctx),
            Endpoint::CreateUser => {
                let caller = self.caller(&ctx)?;
                auth::create_user(self, &ctx, &caller).await
            }
            Endpoint::ListVideos => videos::list(self, &ctx, &self.caller(&ctx)?).await,
            Endpoint::CreateVideo => videos::create(self, &ctx, &self.caller(&ctx)?).await,
            Endpoint::GetVideo => videos::get(self, &ctx, &self.caller(&ctx)?).await,
            Endpoint::DeleteVideo => videos::delete(self, &ctx, &self.caller(&ctx)?).await,
            Endpoint::SignParts => videos::sign_parts(self, &ctx, &self.caller(&ctx)?).await,
            Endpoint::ListParts => videos::list_parts(self, &ctx, &self.caller(&ctx)?).await,
            Endpoint::CompleteUpload => videos::complete(self, &ctx, &self.caller(&ctx)?).await,
            Endpoint::AbortUpload => videos::abort(self, &ctx, &self.caller(&ctx)?).await,
            Endpoint::Playback => videos::playback(self, &ctx, &self.caller(&ctx)?).await,
        }
    }

    /// CORS preflight: allowed origins get the methods and headers the API uses.
    fn preflight(&self, request: &Request<Vec<u8>>) -> Result<Reply> {
        let origin = request
            .headers()
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok());
        match origin {
            Some(origin) if self.origin_allowed(origin) => {
                let mut reply = respond::bytes(StatusCode::NO_CONTENT, "text/plain", Vec::new());
                let headers = reply.headers_mut();
                headers.insert(
                    header::ACCESS_CONTROL_ALLOW_METHODS,
                    HeaderValue::from_static("GET, HEAD, POST, DELETE, OPTIONS"),
                );
                headers.insert(
                    header::ACCESS_CONTROL_ALLOW_HEADERS,
                    HeaderValue::from_static("Authorization, Content-Type, Range"),
                );
                headers.insert(
                    header::ACCESS_CONTROL_MAX_AGE,
                    HeaderValue::from_static("600"),
                );
                Ok(reply)
            }
            Some(_) => Err(Error::forbidden("this origin is not allowed")),
            None => Err(Error::MethodNotAllowed {
                allow: vec![Method::GET, Method::POST, Method::DELETE],
            }),
        }
    }

    /// The caller behind `Authorization: Bearer <JWT>`.
    pub fn caller(&self, ctx: &Ctx<'_>) -> Result<Caller> {
        let token = ctx
            .header("authorization")
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                Error::unauthorized(
                    "unauthorized",
                    "sign in: send Authorization: Bearer <token>",
                )
            })?;
        let claims = auth::verify_token(self, token, ctx.now_secs())?;
        Ok(Caller {
            id: claims.sub,
            email: claims.email,
            role: claims.role,
        })
    }

    /// Object storage, signing as of `now`.
    pub fn storage(&self, now: SystemTime) -> Storage<'_, P::Http> {
        Storage {
            s3: &self.config.s3,
            http: self.platform.http(),
            now,
        }
    }

    pub fn catalog(&self) -> crate::catalog::Catalog<'_, P::Db> {
        crate::catalog::Catalog::new(self.platform.db())
    }

    pub fn random_bytes<const N: usize>(&self) -> [u8; N] {
        let mut bytes = [0u8; N];
        self.platform.fill_random(&mut bytes);
        bytes
    }
}

/// A reply whose body is fetched from upstream by the platform shell (edge playback).
pub fn upstream(request: http::Request<Vec<u8>>) -> Reply {
    http::Response::new(Body::Upstream(Box::new(request)))
}

/// The body of a relayed upstream answer: the upstream's own stream, or our error JSON.
#[derive(Debug)]
pub enum Relayed {
    UpstreamBody,
    Bytes(Vec<u8>),
}

/// Second half of an `Upstream` reply, once the shell has S3's answer: a success keeps our
/// headers plus the ones a player needs from S3 (and S3's body); a failure becomes our JSON.
pub fn relay(
    head: http::response::Parts,
    upstream_status: u16,
    upstream_headers: &http::HeaderMap,
) -> http::Response<Relayed> {
    let mut headers = head.headers;
    match upstream_status {
        200 | 206 | 304 => {
            for name in crate::videos::UPSTREAM_HEADERS {
                if let Some(value) = upstream_headers.get(&name) {
                    headers.insert(name, value.clone());
                }
            }
            let mut response = http::Response::new(Relayed::UpstreamBody);
            *response.status_mut() =
                StatusCode::from_u16(upstream_status).unwrap_or(StatusCode::OK);
            *response.headers_mut() = headers;
            response
        }
        status => {
            let (parts, body) =
                respond::failure(&crate::videos::upstream_failure(status)).into_parts();
            headers.extend(parts.headers);
            let bytes = match body {
                Body::Bytes(bytes) => bytes,
                Body::Upstream(_) => Vec::new(),
            };
            let mut response = http::Response::new(Relayed::Bytes(bytes));
            *response.status_mut() = parts.status;
            *response.headers_mut() = headers;
            response
        }
    }
}
