//! The XML bodies we send, byte for byte as botocore's serializer writes them.

use quick_xml::escape::partial_escape;
use serde::{Deserialize, Serialize};

use model::ObjectKey;

use super::S3_NAMESPACE;
use crate::{Error, Result};

/// S3's limit of keys in one DeleteObjects request.
pub const MAX_DELETE_KEYS: usize = 1000;

/// A part to assemble, as the browser reports it after uploading (camelCase JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompletedPart {
    pub part_number: u16,
    pub etag: String,
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
