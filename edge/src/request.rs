//! One request being handled: what handlers read from it, and who is calling.

use crate::error::{Error, Result};
use http::Request;
use model::{Email, Role, Timestamp, UserId};
use serde::de::DeserializeOwned;

/// The request and the time it arrived.
pub struct Ctx<'r> {
    pub request: &'r Request<Vec<u8>>,
    pub now: Timestamp,
}

impl Ctx<'_> {
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
        let invalid = |e: serde_json::Error| Error::invalid(format!("invalid JSON body: {e}"));
        let mut value: serde_json::Value = serde_json::from_slice(body).map_err(invalid)?;
        // serde also reads a struct from an array of its fields in order (`[null]`).
        if !value.is_object() {
            return Err(Error::invalid("the request body must be a JSON object"));
        }
        integral_numbers_as_integers(&mut value);
        serde_json::from_value(value).map_err(invalid)
    }

    /// The cookie `name`, if the request carries it.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.request
            .headers()
            .get_all(http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|header| header.split(';'))
            .find_map(|pair| {
                let (key, value) = pair.trim().split_once('=')?;
                (key == name).then_some(value)
            })
    }

    /// The JSON body as `T`, or `T::default()` when there is none.
    pub fn json_or_default<T: DeserializeOwned + Default>(&self) -> Result<T> {
        if self.request.body().iter().all(u8::is_ascii_whitespace) {
            Ok(T::default())
        } else {
            self.json()
        }
    }

    /// The client's address as Cloudflare saw it (`CF-Connecting-IP`, which Cloudflare
    /// sets and a client cannot); None outside Cloudflare.
    pub fn client_address(&self) -> Option<&str> {
        self.header("cf-connecting-ip")
            .map(str::trim)
            .filter(|a| !a.is_empty())
    }

    /// `scheme://host` this request came in on (the Worker sees absolute URLs).
    pub fn public_origin(&self) -> String {
        let uri = self.request.uri();
        match (uri.scheme_str(), uri.authority()) {
            (Some(scheme), Some(authority)) => format!("{scheme}://{authority}"),
            _ => format!("https://{}", self.header("host").unwrap_or("localhost")),
        }
    }
}

/// Writes each number with no fractional part (`3.0`, `1e3`) as the integer it is. JSON has
/// one number type and JSON Schema's `integer` accepts `3.0`, as clients that hold every
/// number as a double send it; serde would refuse it for an integer field.
fn integral_numbers_as_integers(value: &mut serde_json::Value) {
    use serde_json::Value;
    // 2^64 and 2^63: every integral double below them converts exactly.
    const U64_END: f64 = 18_446_744_073_709_551_616.0;
    const I64_START: f64 = -9_223_372_036_854_775_808.0;
    match value {
        Value::Number(number) => {
            let Some(float) = number.as_f64().filter(|_| number.is_f64()) else {
                return;
            };
            if float.fract() != 0.0 {
                return;
            }
            if (0.0..U64_END).contains(&float) {
                *number = (float as u64).into();
            } else if (I64_START..0.0).contains(&float) {
                *number = (float as i64).into();
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_numbers_as_integers),
        Value::Object(fields) => fields.values_mut().for_each(integral_numbers_as_integers),
        _ => {}
    }
}

/// Who is calling, from a verified bearer token.
#[derive(Debug, Clone)]
pub struct Caller {
    pub id: UserId,
    pub email: Email,
    pub role: Role,
}

impl Caller {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}
