//! The route table: one place that says which method and path reach which endpoint, with
//! its path parameters parsed into the model's types. The OpenAPI test compares this table
//! with `openapi.yaml` in both directions.

use crate::error::{Error, Result};
use http::Method;
use model::{ObjectKey, UserId, VideoId};

/// A request the router understood, with typed parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    SignIn,
    Refresh,
    Logout,
    ChangePassword,
    Health,
    OpenApi,
    ListVideos,
    CreateVideo,
    GetVideo(VideoId),
    DeleteVideo(VideoId),
    SignParts(VideoId),
    ListParts(VideoId),
    CompleteUpload(VideoId),
    AbortUpload(VideoId),
    Playback(VideoId),
    CreateUser,
    ListUsers,
    ChangeUser(UserId),
    DeleteUser(UserId),
    ResetPassword(UserId),
    JobEvent,
    /// The origin asks whether to convert an upload.
    Claim,
    /// Development only: times signing operations inside the Worker.
    Bench,
    /// `PLAYBACK_MODE=edge`: the token in the path authorizes the read.
    Media {
        token: String,
        key: ObjectKey,
    },
}

/// Path parameters in order of appearance, percent-decoded.
pub struct Params(Vec<String>);

impl Params {
    fn text(&self, index: usize) -> &str {
        self.0.get(index).map_or("", String::as_str)
    }

    /// The `{id}` of a video route: an id no video can have is simply not found.
    fn video(&self) -> Result<VideoId> {
        VideoId::parse(self.text(0)).map_err(|_| Error::not_found("video"))
    }

    /// The `{id}` of a user route.
    fn user(&self) -> Result<UserId> {
        UserId::parse(self.text(0)).map_err(|_| Error::not_found("user"))
    }
}

pub struct Route {
    pub method: Method,
    /// Segments; `{name}` matches one segment, a final `{*name}` the rest of the path.
    pub path: &'static str,
    endpoint: fn(&Params) -> Result<Endpoint>,
}

const fn route(
    method: Method,
    path: &'static str,
    endpoint: fn(&Params) -> Result<Endpoint>,
) -> Route {
    Route {
        method,
        path,
        endpoint,
    }
}

fn media(params: &Params) -> Result<Endpoint> {
    Ok(Endpoint::Media {
        token: params.text(0).to_string(),
        key: ObjectKey::parse(params.text(1)).map_err(|_| Error::not_found("media"))?,
    })
}

pub const ROUTES: &[Route] = &[
    route(Method::POST, "/api/auth", |_| Ok(Endpoint::SignIn)),
    route(Method::POST, "/api/auth/refresh", |_| Ok(Endpoint::Refresh)),
    route(Method::POST, "/api/auth/logout", |_| Ok(Endpoint::Logout)),
    route(Method::POST, "/api/auth/password", |_| {
        Ok(Endpoint::ChangePassword)
    }),
    route(Method::GET, "/api/health", |_| Ok(Endpoint::Health)),
    route(Method::GET, "/api/openapi.yaml", |_| Ok(Endpoint::OpenApi)),
    route(Method::GET, "/api/videos", |_| Ok(Endpoint::ListVideos)),
    route(Method::POST, "/api/videos", |_| Ok(Endpoint::CreateVideo)),
    route(Method::GET, "/api/videos/{id}", |p| {
        p.video().map(Endpoint::GetVideo)
    }),
    route(Method::DELETE, "/api/videos/{id}", |p| {
        p.video().map(Endpoint::DeleteVideo)
    }),
    route(Method::POST, "/api/videos/{id}/parts", |p| {
        p.video().map(Endpoint::SignParts)
    }),
    route(Method::GET, "/api/videos/{id}/parts", |p| {
        p.video().map(Endpoint::ListParts)
    }),
    route(Method::POST, "/api/videos/{id}/complete", |p| {
        p.video().map(Endpoint::CompleteUpload)
    }),
    route(Method::DELETE, "/api/videos/{id}/upload", |p| {
        p.video().map(Endpoint::AbortUpload)
    }),
    route(Method::GET, "/api/videos/{id}/playback", |p| {
        p.video().map(Endpoint::Playback)
    }),
    route(Method::POST, "/api/users", |_| Ok(Endpoint::CreateUser)),
    route(Method::GET, "/api/users", |_| Ok(Endpoint::ListUsers)),
    route(Method::PATCH, "/api/users/{id}", |p| {
        p.user().map(Endpoint::ChangeUser)
    }),
    route(Method::DELETE, "/api/users/{id}", |p| {
        p.user().map(Endpoint::DeleteUser)
    }),
    route(Method::POST, "/api/users/{id}/password", |p| {
        p.user().map(Endpoint::ResetPassword)
    }),
    route(Method::POST, "/api/internal/jobs", |_| {
        Ok(Endpoint::JobEvent)
    }),
    route(Method::POST, "/api/internal/claims", |_| {
        Ok(Endpoint::Claim)
    }),
    route(Method::GET, "/api/internal/bench", |_| Ok(Endpoint::Bench)),
    route(Method::GET, "/media/{token}/{*key}", media),
    route(Method::HEAD, "/media/{token}/{*key}", media),
];

/// The endpoint for `method` and `path`: 404 for an unknown path (or a parameter no resource
/// can have), 405 with the path's methods for a known path. HEAD is answered by a GET route
/// where the path has no HEAD route of its own (the body is dropped).
pub fn find(method: &Method, path: &str) -> Result<Endpoint> {
    let mut allowed = Vec::new();
    let mut get = None;
    for route in ROUTES {
        let Some(params) = match_path(route.path, path) else {
            continue;
        };
        if route.method == method {
            return (route.endpoint)(&params);
        }
        if route.method == Method::GET {
            get = Some((route, params));
        }
        allowed.push(route.method.clone());
    }
    match get {
        Some((route, params)) if method == Method::HEAD => (route.endpoint)(&params),
        _ if allowed.is_empty() => Err(Error::not_found("route")),
        _ => Err(Error::MethodNotAllowed { allow: allowed }),
    }
}

/// The methods `path` answers (for `Allow`), HEAD included where GET is.
pub fn methods_of(path: &str) -> Vec<Method> {
    let mut methods: Vec<Method> = ROUTES
        .iter()
        .filter(|route| match_path(route.path, path).is_some())
        .map(|route| route.method.clone())
        .collect();
    if methods.contains(&Method::GET) && !methods.contains(&Method::HEAD) {
        methods.push(Method::HEAD);
    }
    methods
}

fn match_path(pattern: &str, path: &str) -> Option<Params> {
    let mut segments = path.strip_prefix('/')?.split('/');
    let mut params = Vec::new();
    for expected in pattern.trim_start_matches('/').split('/') {
        if expected.starts_with("{*") {
            let rest: Vec<&str> = segments.by_ref().collect();
            if rest.is_empty() || rest.iter().any(|s| s.is_empty()) {
                return None;
            }
            params.push(decode(&rest.join("/"))?);
        } else {
            let segment = segments.next()?;
            if expected.starts_with('{') {
                if segment.is_empty() {
                    return None;
                }
                params.push(decode(segment)?);
            } else if expected != segment {
                return None;
            }
        }
    }
    segments.next().is_none().then_some(Params(params))
}

fn decode(segment: &str) -> Option<String> {
    percent_encoding::percent_decode_str(segment)
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    const ID: &str = "0193a5b0-0000-7000-8000-000000000001";

    fn id() -> VideoId {
        VideoId::parse(ID).unwrap()
    }

    fn code(result: Result<Endpoint>) -> ErrorCode {
        result.unwrap_err().code()
    }

    #[test]
    fn matches_literal_and_parameter_segments() {
        assert_eq!(
            find(&Method::GET, "/api/videos").unwrap(),
            Endpoint::ListVideos
        );
        assert_eq!(
            find(&Method::POST, &format!("/api/videos/{ID}/parts")).unwrap(),
            Endpoint::SignParts(id())
        );
        for path in [
            format!("/api/videos/{ID}/parts/extra"),
            "/api/videos/".into(),
            "/api/videos//parts".into(),
            "/api/video".into(),
        ] {
            assert_eq!(
                code(find(&Method::GET, &path)),
                ErrorCode::NotFound,
                "{path}"
            );
        }
    }

    #[test]
    fn parameters_are_typed() {
        for bad in ["null,null", "abc", "6f1c1f3e-8d9b-4a5c-9e2f-0a1b2c3d4e5f"] {
            let answer = find(&Method::DELETE, &format!("/api/videos/{bad}"));
            assert_eq!(code(answer), ErrorCode::NotFound, "{bad}");
        }
        let upper = ID.to_uppercase();
        assert_eq!(
            find(&Method::GET, &format!("/api/videos/{upper}")).unwrap(),
            Endpoint::GetVideo(id())
        );
    }

    #[test]
    fn catch_all_takes_the_rest_of_the_path() {
        assert_eq!(
            find(&Method::GET, "/media/tok/videos/1/video.mp4").unwrap(),
            Endpoint::Media {
                token: "tok".into(),
                key: ObjectKey::parse("videos/1/video.mp4").unwrap()
            }
        );
        assert_eq!(code(find(&Method::GET, "/media/tok/")), ErrorCode::NotFound);
    }

    #[test]
    fn head_is_answered_by_get_routes() {
        assert_eq!(
            find(&Method::HEAD, "/api/health").unwrap(),
            Endpoint::Health
        );
        assert!(matches!(
            find(&Method::HEAD, "/api/auth"),
            Err(Error::MethodNotAllowed { allow }) if allow == [Method::POST]
        ));
    }

    #[test]
    fn wrong_method_lists_the_allowed_ones() {
        assert!(matches!(
            find(&Method::PUT, &format!("/api/videos/{ID}")),
            Err(Error::MethodNotAllowed { allow }) if allow == [Method::GET, Method::DELETE]
        ));
        let query = Method::from_bytes(b"QUERY").unwrap();
        assert!(matches!(
            find(&query, "/api/health"),
            Err(Error::MethodNotAllowed { allow }) if allow == [Method::GET]
        ));
        assert_eq!(
            methods_of("/api/videos"),
            [Method::GET, Method::POST, Method::HEAD]
        );
        assert!(methods_of("/nowhere").is_empty());
    }
}
