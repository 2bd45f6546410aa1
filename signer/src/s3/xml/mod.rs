//! S3's XML bodies. Input is read leniently (AWS, SeaweedFS and MinIO differ in namespaces
//! and optional fields; unknown elements are ignored), but the root element must be the one
//! expected, and an `<Error>` document becomes [`Error::S3`]. Output is exact: the same bytes
//! botocore sends.

use percent_encoding::percent_decode_str;
use quick_xml::events::Event;
use serde::de::DeserializeOwned;

use crate::{Error, Result};

mod requests;
mod responses;

pub use requests::{
    CompletedPart, MAX_DELETE_KEYS, ObjectVersion, complete_multipart_upload_body,
    delete_objects_body,
};
pub use responses::*;

const S3_NAMESPACE: &str = "http://s3.amazonaws.com/doc/2006-03-01/";

/// Deserializes `body` if its root element is `root` (namespace prefixes ignored).
fn parse_document<T: DeserializeOwned>(body: &[u8], root: &str) -> Result<T> {
    let xml = std::str::from_utf8(body).map_err(|_| Error::MalformedXml("not UTF-8".into()))?;
    let found = root_name(xml)?;
    if found == root {
        return quick_xml::de::from_str(xml).map_err(|e| Error::MalformedXml(e.to_string()));
    }
    match parse_error(body) {
        Some(S3Error { code, message }) => Err(Error::S3 { code, message }),
        None => Err(Error::MalformedXml(format!(
            "expected <{root}>, found <{found}>"
        ))),
    }
}

fn root_name(xml: &str) -> Result<String> {
    let mut reader = quick_xml::Reader::from_str(xml);
    loop {
        match reader.read_event() {
            Ok(Event::Start(element) | Event::Empty(element)) => {
                return String::from_utf8(element.local_name().as_ref().to_vec())
                    .map_err(|_| Error::MalformedXml("root element name is not UTF-8".into()));
            }
            Ok(Event::Eof) => return Err(Error::MalformedXml("no root element".into())),
            Ok(_) => {}
            Err(e) => return Err(Error::MalformedXml(e.to_string())),
        }
    }
}

fn number<T: std::str::FromStr>(text: &str, field: &str) -> Result<T> {
    text.trim()
        .parse()
        .map_err(|_| Error::MalformedXml(format!("{field} is not a number: {text:?}")))
}

/// Absent and empty both mean "none" (SeaweedFS sends empty markers).
fn optional_number<T: std::str::FromStr>(text: Option<&str>, field: &str) -> Result<Option<T>> {
    match text.map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => number(text, field).map(Some),
    }
}

/// Absent means false.
fn flag(text: Option<&str>) -> Result<bool> {
    match text.map(str::trim) {
        None | Some("") | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(Error::MalformedXml(format!("not a boolean: {other:?}"))),
    }
}

/// S3's `encoding-type=url` is form encoding: `+` is a space (botocore decodes it with
/// `unquote_plus` too).
fn url_decode(text: &str) -> Result<String> {
    percent_decode_str(&text.replace('+', " "))
        .decode_utf8()
        .map(|decoded| decoded.into_owned())
        .map_err(|_| Error::MalformedXml(format!("URL-encoded key is not UTF-8: {text:?}")))
}

#[cfg(test)]
mod tests;
