//! S3's XML bodies. Input is read leniently (AWS, SeaweedFS and MinIO differ in namespaces
//! and optional fields; unknown elements are ignored), but the root element must be the one
//! expected, and an `<Error>` document becomes [`Error::S3`]. Output is exact: the same bytes
//! botocore sends.

use percent_encoding::percent_decode_str;
use quick_xml::escape::partial_escape;
use quick_xml::events::Event;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use model::ObjectKey;

use crate::{Error, Result};

/// S3's limit of keys in one DeleteObjects request.
pub const MAX_DELETE_KEYS: usize = 1000;

const S3_NAMESPACE: &str = "http://s3.amazonaws.com/doc/2006-03-01/";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitiateMultipartUpload {
    pub bucket: String,
    pub key: String,
    pub upload_id: String,
}

/// An uploaded part, as ListParts reports it (and as the API returns it: camelCase JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Part {
    pub part_number: u16,
    pub etag: String,
    pub size: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListParts {
    pub parts: Vec<Part>,
    pub is_truncated: bool,
    pub next_part_number_marker: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompleteMultipartUploadOutput {
    pub bucket: String,
    pub key: String,
    pub etag: String,
}

/// An object in a listing; keys come decoded and validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectSummary {
    pub key: ObjectKey,
    pub size: u64,
    pub etag: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListObjectsV2 {
    pub objects: Vec<ObjectSummary>,
    pub is_truncated: bool,
    pub next_continuation_token: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteObjectsOutput {
    pub deleted: Vec<String>,
    pub errors: Vec<DeleteError>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteError {
    pub key: String,
    pub code: String,
    pub message: String,
}

/// The code and message of an S3 `<Error>` document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Error {
    pub code: String,
    pub message: String,
}

/// A part to assemble, as the browser reports it after uploading (camelCase JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompletedPart {
    pub part_number: u16,
    pub etag: String,
}

pub fn parse_initiate_multipart_upload(body: &[u8]) -> Result<InitiateMultipartUpload> {
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Raw {
        #[serde(default)]
        bucket: String,
        key: String,
        upload_id: String,
    }
    let raw: Raw = parse_document(body, "InitiateMultipartUploadResult")?;
    if raw.upload_id.is_empty() {
        return Err(Error::MalformedXml("empty UploadId".into()));
    }
    Ok(InitiateMultipartUpload {
        bucket: raw.bucket,
        key: raw.key,
        upload_id: raw.upload_id,
    })
}

pub fn parse_list_parts(body: &[u8]) -> Result<ListParts> {
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Raw {
        #[serde(rename = "Part", default)]
        parts: Vec<RawPart>,
        is_truncated: Option<String>,
        next_part_number_marker: Option<String>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct RawPart {
        part_number: String,
        #[serde(rename = "ETag", default)]
        etag: String,
        size: String,
    }
    let raw: Raw = parse_document(body, "ListPartsResult")?;
    let parts = raw
        .parts
        .into_iter()
        .map(|part| {
            Ok(Part {
                part_number: number(&part.part_number, "PartNumber")?,
                etag: part.etag,
                size: number(&part.size, "Size")?,
            })
        })
        .collect::<Result<_>>()?;
    Ok(ListParts {
        parts,
        is_truncated: flag(raw.is_truncated.as_deref())?,
        next_part_number_marker: optional_number(
            raw.next_part_number_marker.as_deref(),
            "NextPartNumberMarker",
        )?,
    })
}

pub fn parse_complete_multipart_upload(body: &[u8]) -> Result<CompleteMultipartUploadOutput> {
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Raw {
        #[serde(default)]
        bucket: String,
        #[serde(default)]
        key: String,
        #[serde(rename = "ETag")]
        etag: String,
    }
    let raw: Raw = parse_document(body, "CompleteMultipartUploadResult")?;
    Ok(CompleteMultipartUploadOutput {
        bucket: raw.bucket,
        key: raw.key,
        etag: raw.etag,
    })
}

/// The new ETag of a CopyObject (`<CopyObjectResult>`) or UploadPartCopy (`<CopyPartResult>`)
/// answer, quotes included as S3 sends them. Both may arrive with status 200 and an `<Error>`
/// document instead, which is [`Error::S3`].
pub fn parse_copy_etag(body: &[u8]) -> Result<String> {
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Raw {
        #[serde(rename = "ETag")]
        etag: String,
    }
    let part = std::str::from_utf8(body)
        .ok()
        .and_then(|xml| root_name(xml).ok())
        .is_some_and(|root| root == "CopyPartResult");
    let root = if part {
        "CopyPartResult"
    } else {
        "CopyObjectResult"
    };
    let raw: Raw = parse_document(body, root)?;
    if raw.etag.trim().is_empty() {
        return Err(Error::MalformedXml("empty ETag in a copy answer".into()));
    }
    Ok(raw.etag)
}

/// Keys (and nothing else we read) come URL-encoded when the response says
/// `<EncodingType>url</EncodingType>`, which [`super::S3Request::ListObjectsV2`] asks for.
pub fn parse_list_objects_v2(body: &[u8]) -> Result<ListObjectsV2> {
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Raw {
        #[serde(default)]
        contents: Vec<RawObject>,
        is_truncated: Option<String>,
        next_continuation_token: Option<String>,
        encoding_type: Option<String>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct RawObject {
        key: String,
        size: String,
        #[serde(rename = "ETag", default)]
        etag: String,
    }
    let raw: Raw = parse_document(body, "ListBucketResult")?;
    let url_encoded = raw
        .encoding_type
        .as_deref()
        .is_some_and(|encoding| encoding.trim().eq_ignore_ascii_case("url"));
    let objects = raw
        .contents
        .into_iter()
        .map(|object| {
            let key = if url_encoded {
                url_decode(&object.key)?
            } else {
                object.key
            };
            Ok(ObjectSummary {
                key: ObjectKey::parse(&key)
                    .map_err(|e| Error::MalformedXml(format!("listed key {key:?}: {e}")))?,
                size: number(&object.size, "Size")?,
                etag: object.etag,
            })
        })
        .collect::<Result<_>>()?;
    Ok(ListObjectsV2 {
        objects,
        is_truncated: flag(raw.is_truncated.as_deref())?,
        next_continuation_token: raw
            .next_continuation_token
            .filter(|token| !token.is_empty()),
    })
}

pub fn parse_delete_objects(body: &[u8]) -> Result<DeleteObjectsOutput> {
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Raw {
        #[serde(default)]
        deleted: Vec<RawDeleted>,
        #[serde(rename = "Error", default)]
        errors: Vec<RawError>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct RawDeleted {
        key: String,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct RawError {
        #[serde(default)]
        key: String,
        #[serde(default)]
        code: String,
        #[serde(default)]
        message: String,
    }
    let raw: Raw = parse_document(body, "DeleteResult")?;
    Ok(DeleteObjectsOutput {
        deleted: raw.deleted.into_iter().map(|deleted| deleted.key).collect(),
        errors: raw
            .errors
            .into_iter()
            .map(|error| DeleteError {
                key: error.key,
                code: error.code,
                message: error.message,
            })
            .collect(),
    })
}

/// The code and message of an S3 `<Error>` body; `None` for anything else (another
/// document, an empty body, HTML from a proxy).
pub fn parse_error(body: &[u8]) -> Option<S3Error> {
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Raw {
        #[serde(default)]
        code: String,
        #[serde(default)]
        message: String,
    }
    let xml = std::str::from_utf8(body).ok()?;
    if root_name(xml).ok()? != "Error" {
        return None;
    }
    let raw: Raw = quick_xml::de::from_str(xml).ok()?;
    (!raw.code.is_empty()).then_some(S3Error {
        code: raw.code,
        message: raw.message,
    })
}

/// The CompleteMultipartUpload request body, parts in the order given (S3 wants them
/// ascending).
pub fn complete_multipart_upload_body(parts: &[CompletedPart]) -> Vec<u8> {
    let mut xml = format!("<CompleteMultipartUpload xmlns=\"{S3_NAMESPACE}\">");
    for part in parts {
        xml.push_str(&format!(
            "<Part><PartNumber>{}</PartNumber><ETag>{}</ETag></Part>",
            part.part_number,
            partial_escape(part.etag.as_str())
        ));
    }
    xml.push_str("</CompleteMultipartUpload>");
    xml.into_bytes()
}

/// The DeleteObjects request body: 1 to 1000 keys. `quiet` asks S3 to report only failures.
pub fn delete_objects_body(keys: &[ObjectKey], quiet: bool) -> Result<Vec<u8>> {
    if keys.is_empty() {
        return Err(Error::InvalidS3Request(
            "DeleteObjects needs at least one key".into(),
        ));
    }
    if keys.len() > MAX_DELETE_KEYS {
        return Err(Error::TooManyKeys {
            count: keys.len(),
            max: MAX_DELETE_KEYS,
        });
    }
    let mut xml = format!("<Delete xmlns=\"{S3_NAMESPACE}\">");
    for key in keys {
        xml.push_str(&format!(
            "<Object><Key>{}</Key></Object>",
            partial_escape(key.as_str())
        ));
    }
    xml.push_str(&format!("<Quiet>{quiet}</Quiet></Delete>"));
    Ok(xml.into_bytes())
}

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
