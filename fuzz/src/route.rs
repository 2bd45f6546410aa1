//! The route table: any method and path. An endpoint is found only for a method the path
//! answers, and HEAD finds what GET does; a 405 lists methods the path answers and not the
//! one asked; anything else is a 404, for a method the path answers if it answers any.

use edge::error::{Error, ErrorCode};
use edge::routes::{find, methods_of};
use http::Method;

use crate::input::{split_line, text};

pub fn route(data: &[u8]) {
    let (method, path) = split_line(data);
    let Ok(method) = Method::from_bytes(method) else {
        return;
    };
    let path = text(path);
    let answered = methods_of(&path);
    match find(&method, &path) {
        Ok(endpoint) => {
            assert!(
                answered.contains(&method),
                "{method} {path:?}: {answered:?}"
            );
            if method == Method::GET {
                let head = find(&Method::HEAD, &path);
                assert_eq!(
                    head.ok().as_ref(),
                    Some(&endpoint),
                    "HEAD {path:?} is not GET's"
                );
            }
        }
        Err(Error::MethodNotAllowed { allow }) => {
            assert!(
                !allow.is_empty() && !allow.contains(&method),
                "{method}: {allow:?}"
            );
            assert!(
                allow.iter().all(|m| answered.contains(m)),
                "{allow:?} vs {answered:?}"
            );
        }
        Err(other) => {
            assert_eq!(
                other.code(),
                ErrorCode::NotFound,
                "{method} {path:?}: {other}"
            );
            // A path that some route answers is only "not found" for a parameter no
            // resource can have, and only by a route for this method.
            if !answered.is_empty() {
                assert!(
                    answered.contains(&method),
                    "{method} {path:?}: {answered:?}"
                );
            }
        }
    }
}
