//! The route table: one place that says which method and path reach which endpoint.
//! The OpenAPI test compares this table with `openapi.yaml` in both directions.

use http::Method;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    SignIn,
    Health,
    OpenApi,
    ListVideos,
    CreateVideo,
    GetVideo,
    DeleteVideo,
    SignParts,
    ListParts,
    CompleteUpload,
    AbortUpload,
    Playback,
    CreateUser,
    JobEvent,
    /// Development only: times signing operations inside the Worker.
    Bench,
    /// `PLAYBACK_MODE=edge`: the token in the path authorizes the read.
    Media,
}

#[derive(Debug)]
pub struct Route {
    pub method: Method,
    /// Segments; `{name}` matches one segment, a final `{*name}` the rest of the path.
    pub path: &'static str,
    pub endpoint: Endpoint,
}

const fn route(method: Method, path: &'static str, endpoint: Endpoint) -> Route {
    Route {
        method,
        path,
        endpoint,
    }
}

pub const ROUTES: &[Route] = &[
    route(Method::POST, "/api/auth", Endpoint::SignIn),
    route(Method::GET, "/api/health", Endpoint::Health),
    route(Method::GET, "/api/openapi.yaml", Endpoint::OpenApi),
    route(Method::GET, "/api/videos", Endpoint::ListVideos),
    route(Method::POST, "/api/videos", Endpoint::CreateVideo),
    route(Method::GET, "/api/videos/{id}", Endpoint::GetVideo),
    route(Method::DELETE, "/api/videos/{id}", Endpoint::DeleteVideo),
    route(Method::POST, "/api/videos/{id}/parts", Endpoint::SignParts),
    route(Method::GET, "/api/videos/{id}/parts", Endpoint::ListParts),
    route(
        Method::POST,
        "/api/videos/{id}/complete",
        Endpoint::CompleteUpload,
    ),
    route(
        Method::DELETE,
        "/api/videos/{id}/upload",
        Endpoint::AbortUpload,
    ),
    route(Method::GET, "/api/videos/{id}/playback", Endpoint::Playback),
    route(Method::POST, "/api/users", Endpoint::CreateUser),
    route(Method::POST, "/api/internal/jobs", Endpoint::JobEvent),
    route(Method::GET, "/api/internal/bench", Endpoint::Bench),
    route(Method::GET, "/media/{token}/{*key}", Endpoint::Media),
    route(Method::HEAD, "/media/{token}/{*key}", Endpoint::Media),
];

#[derive(Debug, PartialEq, Eq)]
pub enum Match {
    Found {
        endpoint: Endpoint,
        /// Path parameters in order of appearance, percent-decoded.
        params: Vec<String>,
    },
    /// The path exists, the method does not: these are the methods it has.
    WrongMethod(Vec<Method>),
    NotFound,
}

/// The route for `method` and `path`. HEAD is answered by a GET route where the path has no
/// HEAD route of its own (the body is dropped).
pub fn find(method: &Method, path: &str) -> Match {
    match find_exact(method, path) {
        Match::WrongMethod(allowed) if method == Method::HEAD && allowed.contains(&Method::GET) => {
            find_exact(&Method::GET, path)
        }
        other => other,
    }
}

fn find_exact(method: &Method, path: &str) -> Match {
    let mut allowed = Vec::new();
    for route in ROUTES {
        if let Some(params) = match_path(route.path, path) {
            if route.method == method {
                return Match::Found {
                    endpoint: route.endpoint,
                    params,
                };
            }
            allowed.push(route.method.clone());
        }
    }
    if allowed.is_empty() {
        Match::NotFound
    } else {
        Match::WrongMethod(allowed)
    }
}

fn match_path(pattern: &str, path: &str) -> Option<Vec<String>> {
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
    segments.next().is_none().then_some(params)
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

    fn found(method: Method, path: &str) -> Option<(Endpoint, Vec<String>)> {
        match find(&method, path) {
            Match::Found { endpoint, params } => Some((endpoint, params)),
            _ => None,
        }
    }

    #[test]
    fn matches_literal_and_parameter_segments() {
        assert_eq!(
            found(Method::GET, "/api/videos"),
            Some((Endpoint::ListVideos, vec![]))
        );
        assert_eq!(
            found(Method::POST, "/api/videos/abc/parts"),
            Some((Endpoint::SignParts, vec!["abc".into()]))
        );
        assert_eq!(found(Method::GET, "/api/videos/abc/parts/extra"), None);
        assert_eq!(found(Method::GET, "/api/videos/"), None);
        assert_eq!(found(Method::GET, "/api/videos//parts"), None);
        assert_eq!(found(Method::GET, "/api/video"), None);
    }

    #[test]
    fn catch_all_takes_the_rest_of_the_path() {
        assert_eq!(
            found(Method::GET, "/media/tok/videos/1/video.mp4"),
            Some((
                Endpoint::Media,
                vec!["tok".into(), "videos/1/video.mp4".into()]
            ))
        );
        assert_eq!(found(Method::GET, "/media/tok/"), None);
    }

    #[test]
    fn head_is_answered_by_get_routes() {
        assert_eq!(
            found(Method::HEAD, "/api/health"),
            Some((Endpoint::Health, vec![]))
        );
        assert_eq!(
            find(&Method::HEAD, "/api/users"),
            Match::WrongMethod(vec![Method::POST])
        );
    }

    #[test]
    fn wrong_method_lists_the_allowed_ones() {
        assert_eq!(
            find(&Method::PUT, "/api/videos/x"),
            Match::WrongMethod(vec![Method::GET, Method::DELETE])
        );
        assert_eq!(find(&Method::GET, "/api/nothing"), Match::NotFound);
    }
}
