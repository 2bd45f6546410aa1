//! From an `http::Request` to an `http::Response`: body limits, CORS, routing to the
//! handlers, the JSON error envelope, security headers; and for edge playback, the relay of
//! S3's answer. Tests call [`App::serve`] directly; the Worker calls it per fetch event.

use crate::app::App;
use crate::error::{Error, Result};
use crate::library::{owned_video, visible_video};
use crate::ports::{HttpClient, Platform};
use crate::request::Ctx;
use crate::respond::{self, Body, Reply, Served};
use crate::routes::{self, Endpoint};
use crate::{auth, bench, internal, library, playback, uploads};
use http::header::{self, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use serde::Serialize;

/// Request bodies are small JSON documents; video bytes never pass the edge.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// The OpenAPI document, served as is.
pub const OPENAPI_YAML: &str = include_str!("../openapi.yaml");

#[derive(Serialize)]
struct Health {
    version: &'static str,
}

impl<P: Platform> App<P> {
    /// Handles a request end to end, relaying an upstream read (edge playback) as the
    /// platform's unread stream.
    pub async fn serve(
        &self,
        request: Request<Vec<u8>>,
    ) -> Response<Served<<P::Http as HttpClient>::Stream>> {
        let (head, body) = self.handle(request).await.into_parts();
        let upstream = match body {
            Body::Bytes(bytes) => return Response::from_parts(head, Served::Bytes(bytes)),
            Body::Upstream(upstream) => *upstream,
        };
        let answer = match self.platform.http().open(upstream).await {
            Ok(answer) => Some(answer),
            Err(error) => {
                self.platform.log(&format!("streamed read: {error}"));
                None
            }
        };
        playback::relay(head, answer)
    }

    /// Handles one request. Never fails: every error becomes its JSON response.
    pub async fn handle(&self, request: Request<Vec<u8>>) -> Reply {
        let origin = request
            .headers()
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let is_media = request.uri().path().starts_with("/media/");
        let mut failed = false;
        let mut reply = match self.respond(&request).await {
            Ok(reply) => reply,
            Err(error) => {
                failed = true;
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
        let production = self.config.environment == crate::config::Environment::Production;
        // Media answers say how long they may be kept; failures are never kept.
        respond::add_security_headers(reply.headers_mut(), production, is_media && !failed);
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
                HeaderValue::from_static(
                    "Retry-After, Content-Range, Content-Length, ETag, X-D1-Bookmark",
                ),
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
            return Err(Error::new(
                crate::error::ErrorCode::PayloadTooLarge,
                format!("request bodies are limited to {MAX_BODY_BYTES} bytes"),
            ));
        }
        if request.method() == Method::OPTIONS {
            return self.preflight(request);
        }
        let endpoint = routes::find(request.method(), request.uri().path())?;
        let ctx = Ctx {
            request,
            now: self.platform.now(),
        };
        let caller = || auth::caller(self, &ctx);
        // Who may touch which video is decided here, once: handlers get the row.
        let visible = async |id| visible_video(self, &id, &caller().await?).await;
        let owned = async |id| owned_video(self, &id, &caller().await?).await;
        match endpoint {
            Endpoint::Health => Ok(respond::success(
                StatusCode::OK,
                &Health {
                    version: env!("CARGO_PKG_VERSION"),
                },
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
            Endpoint::Refresh => auth::refresh(self, &ctx).await,
            Endpoint::Logout => auth::logout(self, &ctx).await,
            Endpoint::ChangePassword => {
                auth::change_own_password(self, &ctx, &caller().await?).await
            }
            Endpoint::JobEvent => internal::job_event(self, &ctx).await,
            Endpoint::Claim => internal::claim(self, &ctx).await,
            Endpoint::Bench => bench::run(self, &ctx).await,
            Endpoint::Media { token, key } => playback::media(self, &ctx, &token, &key).await,
            Endpoint::CreateUser => auth::create_user(self, &ctx, &caller().await?).await,
            Endpoint::ListUsers => auth::list_users(self, &ctx, &caller().await?).await,
            Endpoint::ChangeUser(id) => auth::change_user(self, &ctx, &caller().await?, &id).await,
            Endpoint::DeleteUser(id) => auth::delete_user(self, &ctx, &caller().await?, &id).await,
            Endpoint::ResetPassword(id) => {
                auth::reset_password(self, &ctx, &caller().await?, &id).await
            }
            Endpoint::ListVideos => library::list(self, &ctx, &caller().await?).await,
            Endpoint::GetVideo(id) => Ok(library::get(self, &ctx, &visible(id).await?)),
            Endpoint::DeleteVideo(id) => library::delete(self, &ctx, &id, &caller().await?).await,
            Endpoint::CreateVideo => uploads::create(self, &ctx, &caller().await?).await,
            Endpoint::SignParts(id) => uploads::sign_parts(self, &ctx, &owned(id).await?),
            Endpoint::ListParts(id) => uploads::list_parts(self, &ctx, &owned(id).await?).await,
            Endpoint::CompleteUpload(id) => {
                uploads::complete(self, &ctx, &id, &caller().await?).await
            }
            Endpoint::AbortUpload(id) => uploads::abort(self, &ctx, &id, &caller().await?).await,
            Endpoint::Playback(id) => playback::playback(self, &ctx, &visible(id).await?),
        }
    }

    /// CORS preflight: allowed origins get the methods and headers the API uses. Without an
    /// `Origin` it is a plain OPTIONS: 204 with the path's methods in `Allow`.
    fn preflight(&self, request: &Request<Vec<u8>>) -> Result<Reply> {
        let origin = request
            .headers()
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok());
        let methods = routes::methods_of(request.uri().path());
        if methods.is_empty() {
            return Err(Error::not_found("route"));
        }
        let allow = methods
            .iter()
            .chain([&Method::OPTIONS])
            .map(Method::as_str)
            .collect::<Vec<_>>()
            .join(", ");
        let allow = HeaderValue::from_str(&allow).map_err(|e| Error::Config(e.to_string()))?;
        let mut reply = respond::bytes(StatusCode::NO_CONTENT, "text/plain", Vec::new());
        let headers = reply.headers_mut();
        match origin {
            Some(origin) if self.origin_allowed(origin) => {
                headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, allow);
                headers.insert(
                    header::ACCESS_CONTROL_ALLOW_HEADERS,
                    HeaderValue::from_static("Authorization, Content-Type, Range, X-D1-Bookmark"),
                );
                headers.insert(
                    header::ACCESS_CONTROL_MAX_AGE,
                    HeaderValue::from_static("600"),
                );
            }
            Some(_) => return Err(Error::forbidden("this origin is not allowed")),
            None => {
                headers.insert(header::ALLOW, allow);
            }
        }
        Ok(reply)
    }
}
