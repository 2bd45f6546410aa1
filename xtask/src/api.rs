//! The stack's API over HTTP, for the steps that drive it from outside (contract fuzzing,
//! the benchmarks, stress): JSON calls, sign-in, and an upload through a presigned PUT.

use serde_json::{Value, json};

/// A JSON call to the Worker on 127.0.0.1:`port`: its status and body (`null` when the body
/// is not JSON).
pub fn call(
    port: u16,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> Result<(u16, Value), String> {
    let bearer = token.map(|t| format!("Bearer {t}"));
    let mut headers = vec![("Content-Type", "application/json")];
    if let Some(bearer) = &bearer {
        headers.push(("Authorization", bearer));
    }
    let body = body.map(Value::to_string).unwrap_or_default();
    let (status, text) = testkit::http_request(port, method, path, &headers, body.as_bytes())
        .ok_or_else(|| format!("{method} {path}: no answer from 127.0.0.1:{port}"))?;
    Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
}

/// The body of an answer with status `wanted`; any other answer is an error.
pub fn expect(wanted: u16, answer: Result<(u16, Value), String>) -> Result<Value, String> {
    match answer? {
        (status, body) if status == wanted => Ok(body),
        (status, body) => Err(format!("HTTP {status} (wanted {wanted}): {body}")),
    }
}

/// A signed-in user, as an API client holds one.
pub struct Session {
    pub token: String,
    pub user_id: String,
}

/// Signs in as an API client (the refresh token in the body, not a cookie).
pub fn sign_in(port: u16, email: &str, password: &str) -> Result<Session, String> {
    let credentials = json!({"email": email, "password": password, "refreshDelivery": "body"});
    let answer = expect(
        200,
        call(port, "POST", "/api/auth", None, Some(&credentials)),
    )
    .map_err(|e| format!("sign in as {email}: {e}"))?;
    match (answer["token"].as_str(), answer["user"]["id"].as_str()) {
        (Some(token), Some(user_id)) => Ok(Session {
            token: token.to_string(),
            user_id: user_id.to_string(),
        }),
        _ => Err(format!("sign in as {email}: no token or user in {answer}")),
    }
}

/// Creates a video for an MP4 of `bytes` and PUTs them to its presigned URL (SeaweedFS on
/// loopback), as the web app does for a small file; the creation's answer. Completing it is
/// the caller's next step.
pub fn create_and_upload(
    port: u16,
    token: &str,
    file_name: &str,
    bytes: &[u8],
) -> Result<Value, String> {
    let file = json!({ "fileName": file_name, "fileSize": bytes.len(), "fileType": "video/mp4" });
    let created = expect(
        201,
        call(port, "POST", "/api/videos", Some(token), Some(&file)),
    )?;
    let upload = &created["upload"];
    let url = upload["uploadUrl"]
        .as_str()
        .ok_or_else(|| format!("no single upload URL in {created}"))?;
    let (s3_port, path) = url
        .strip_prefix("http://127.0.0.1:")
        .and_then(|rest| rest.split_once('/'))
        .and_then(|(port, path)| Some((port.parse::<u16>().ok()?, format!("/{path}"))))
        .ok_or_else(|| format!("an upload URL on loopback, got {url}"))?;
    let headers: Vec<(&str, &str)> = upload["headers"]
        .as_object()
        .into_iter()
        .flatten()
        // The request states its own length.
        .filter(|(name, _)| !name.eq_ignore_ascii_case("content-length"))
        .filter_map(|(name, value)| Some((name.as_str(), value.as_str()?)))
        .collect();
    match testkit::http_request(s3_port, "PUT", &path, &headers, bytes) {
        Some((200, _)) => Ok(created),
        other => Err(format!("the presigned PUT answered {other:?}")),
    }
}
