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

/// One version of an object (or a delete marker): what a versioned delete names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectVersion {
    pub key: ObjectKey,
    /// None: the current version, whatever it is (in a versioned bucket, deleting it only
    /// adds a delete marker).
    pub version_id: Option<String>,
}

/// A page of ListObjectVersions: versions and delete markers alike.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListObjectVersions {
    pub versions: Vec<ObjectVersion>,
    pub is_truncated: bool,
    pub next_key_marker: Option<String>,
    pub next_version_id_marker: Option<String>,
}

/// Keys come URL-encoded when the response says so, which
/// [`super::S3Request::ListObjectVersions`] asks for; version ids never are.
pub fn parse_list_object_versions(body: &[u8]) -> Result<ListObjectVersions> {
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Raw {
        #[serde(rename = "$value", default)]
        entries: Vec<Entry>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    enum Entry {
        Version(RawVersion),
        DeleteMarker(RawVersion),
        IsTruncated(String),
        NextKeyMarker(String),
        NextVersionIdMarker(String),
        EncodingType(String),
        #[serde(other)]
        Other,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct RawVersion {
        key: String,
        version_id: Option<String>,
    }
    let raw: Raw = parse_document(body, "ListVersionsResult")?;
    let url_encoded = raw
        .entries
        .iter()
        .any(|e| matches!(e, Entry::EncodingType(t) if t.trim().eq_ignore_ascii_case("url")));
    let mut page = ListObjectVersions {
        versions: Vec::new(),
        is_truncated: false,
        next_key_marker: None,
        next_version_id_marker: None,
    };
    for entry in raw.entries {
        match entry {
            Entry::Version(version) | Entry::DeleteMarker(version) => {
                let key = if url_encoded {
                    url_decode(&version.key)?
                } else {
                    version.key
                };
                page.versions.push(ObjectVersion {
                    key: ObjectKey::parse(&key)
                        .map_err(|e| Error::MalformedXml(format!("listed key {key:?}: {e}")))?,
                    version_id: version.version_id.filter(|v| !v.is_empty()),
                });
            }
            Entry::IsTruncated(flag_text) => page.is_truncated = flag(Some(&flag_text))?,
            Entry::NextKeyMarker(marker) => {
                page.next_key_marker = Some(marker).filter(|m| !m.is_empty());
            }
            Entry::NextVersionIdMarker(marker) => {
                page.next_version_id_marker = Some(marker).filter(|m| !m.is_empty());
            }
            Entry::EncodingType(_) | Entry::Other => {}
        }
    }
    if url_encoded && let Some(marker) = page.next_key_marker.take() {
        page.next_key_marker = Some(url_decode(&marker)?);
    }
    Ok(page)
}

/// The DeleteObjects request body: 1 to 1000 objects, each a key and, to remove one
/// version for good, its version id. `quiet` asks S3 to report only failures.
pub fn delete_objects_body(objects: &[ObjectVersion], quiet: bool) -> Result<Vec<u8>> {
    if objects.is_empty() {
        return Err(Error::InvalidS3Request(
            "DeleteObjects needs at least one key".into(),
        ));
    }
    if objects.len() > MAX_DELETE_KEYS {
        return Err(Error::TooManyKeys {
            count: objects.len(),
            max: MAX_DELETE_KEYS,
        });
    }
    let mut xml = format!("<Delete xmlns=\"{S3_NAMESPACE}\">");
    for object in objects {
        xml.push_str(&format!(
            "<Object><Key>{}</Key>",
            partial_escape(object.key.as_str())
        ));
        if let Some(version) = &object.version_id {
            xml.push_str(&format!(
                "<VersionId>{}</VersionId>",
                partial_escape(version.as_str())
            ));
        }
        xml.push_str("</Object>");
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
