//! The XML bodies S3 answers with, read leniently: unknown elements are ignored.

use serde::{Deserialize, Serialize};

use model::ObjectKey;

use super::{ObjectVersion, flag, number, optional_number, parse_document, root_name, url_decode};
use crate::{Error, Result};

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
