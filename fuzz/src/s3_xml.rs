//! S3's XML answers, as the edge and the origin read them: every parser gets every input.
//! What a parser accepts, written back as a plain document, must read back the same (keys
//! URL-encoded where the listing says so), and an `<Error>` document must surface as that
//! error from every parser.

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use signer::Error;
use signer::s3::xml::{
    CompleteMultipartUploadOutput, DeleteObjectsOutput, InitiateMultipartUpload,
    ListObjectVersions, ListObjectsV2, ListParts, S3Error, parse_complete_multipart_upload,
    parse_copy_etag, parse_delete_objects, parse_error, parse_initiate_multipart_upload,
    parse_list_object_versions, parse_list_objects_v2, parse_list_parts,
};

pub fn s3_xml(data: &[u8]) {
    let error = parse_error(data);
    if let Some(S3Error { code, message }) = &error {
        assert!(!code.is_empty());
        assert_eq!(parse_error(error_document(code, message).as_bytes()), error);
    }
    // A parser either reads its own document or reports the error document it got instead.
    let refused_with_the_error = |result: Result<(), Error>| match (&error, result) {
        (Some(e), Err(Error::S3 { code, message })) => {
            assert_eq!((&e.code, &e.message), (&code, &message));
        }
        (Some(e), other) => panic!("an <Error> document ({e:?}) parsed as {other:?}"),
        (None, Err(Error::S3 { code, .. })) => panic!("S3 error {code} from no <Error> document"),
        (None, _) => {}
    };

    let parts = parse_list_parts(data);
    if let Ok(parts) = &parts {
        assert_eq!(
            parse_list_parts(list_parts_document(parts).as_bytes()).as_ref(),
            Ok(parts)
        );
    }
    refused_with_the_error(parts.map(drop));

    let objects = parse_list_objects_v2(data);
    if let Ok(objects) = &objects {
        let again = parse_list_objects_v2(list_objects_document(objects).as_bytes());
        assert_eq!(again.as_ref(), Ok(objects));
    }
    refused_with_the_error(objects.map(drop));

    let versions = parse_list_object_versions(data);
    if let Ok(versions) = &versions {
        let again = parse_list_object_versions(list_versions_document(versions).as_bytes());
        assert_eq!(again.as_ref(), Ok(versions));
    }
    refused_with_the_error(versions.map(drop));

    let deleted = parse_delete_objects(data);
    if let Ok(deleted) = &deleted {
        let again = parse_delete_objects(delete_result_document(deleted).as_bytes());
        assert_eq!(again.as_ref(), Ok(deleted));
    }
    refused_with_the_error(deleted.map(drop));

    let initiated = parse_initiate_multipart_upload(data);
    if let Ok(initiated) = &initiated {
        assert!(!initiated.upload_id.is_empty());
        let again = parse_initiate_multipart_upload(initiate_document(initiated).as_bytes());
        assert_eq!(again.as_ref(), Ok(initiated));
    }
    refused_with_the_error(initiated.map(drop));

    let completed = parse_complete_multipart_upload(data);
    if let Ok(completed) = &completed {
        let again = parse_complete_multipart_upload(complete_document(completed).as_bytes());
        assert_eq!(again.as_ref(), Ok(completed));
    }
    refused_with_the_error(completed.map(drop));

    let copied = parse_copy_etag(data);
    if let Ok(etag) = &copied {
        assert!(!etag.trim().is_empty());
        let document = format!(
            "<CopyObjectResult><ETag>{}</ETag></CopyObjectResult>",
            escape(etag)
        );
        assert_eq!(parse_copy_etag(document.as_bytes()).as_ref(), Ok(etag));
    }
    refused_with_the_error(copied.map(drop));
}

/// Text content with markup escaped, and XML's whitespace as character references so that
/// what is read back is exactly the text, whatever the reader trims. (Other control
/// characters stay raw: XML has no reference for them, and the reader takes them raw.)
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            ' ' | '\t' | '\n' | '\r' => out.push_str(&format!("&#{};", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// `<name>text</name>`, escaped.
fn element(name: &str, text: &str) -> String {
    format!("<{name}>{}</{name}>", escape(text))
}

fn url_encoded(text: &str) -> String {
    utf8_percent_encode(text, NON_ALPHANUMERIC).to_string()
}

fn error_document(code: &str, message: &str) -> String {
    format!(
        "<Error>{}{}</Error>",
        element("Code", code),
        element("Message", message)
    )
}

fn list_parts_document(list: &ListParts) -> String {
    let mut xml = String::from("<ListPartsResult>");
    for part in &list.parts {
        xml += &format!(
            "<Part><PartNumber>{}</PartNumber>{}<Size>{}</Size></Part>",
            part.part_number,
            element("ETag", &part.etag),
            part.size
        );
    }
    xml += &format!("<IsTruncated>{}</IsTruncated>", list.is_truncated);
    if let Some(marker) = list.next_part_number_marker {
        xml += &format!("<NextPartNumberMarker>{marker}</NextPartNumberMarker>");
    }
    xml + "</ListPartsResult>"
}

fn list_objects_document(list: &ListObjectsV2) -> String {
    let mut xml = String::from("<ListBucketResult><EncodingType>url</EncodingType>");
    for object in &list.objects {
        xml += &format!(
            "<Contents>{}<Size>{}</Size>{}</Contents>",
            element("Key", &url_encoded(object.key.as_str())),
            object.size,
            element("ETag", &object.etag)
        );
    }
    xml += &format!("<IsTruncated>{}</IsTruncated>", list.is_truncated);
    if let Some(token) = &list.next_continuation_token {
        xml += &element("NextContinuationToken", token);
    }
    xml + "</ListBucketResult>"
}

fn list_versions_document(list: &ListObjectVersions) -> String {
    let mut xml = String::from("<ListVersionsResult><EncodingType>url</EncodingType>");
    for version in &list.versions {
        xml += "<Version>";
        xml += &element("Key", &url_encoded(version.key.as_str()));
        if let Some(id) = &version.version_id {
            xml += &element("VersionId", id);
        }
        xml += "</Version>";
    }
    xml += &format!("<IsTruncated>{}</IsTruncated>", list.is_truncated);
    if let Some(marker) = &list.next_key_marker {
        xml += &element("NextKeyMarker", &url_encoded(marker));
    }
    if let Some(marker) = &list.next_version_id_marker {
        xml += &element("NextVersionIdMarker", marker);
    }
    xml + "</ListVersionsResult>"
}

fn delete_result_document(result: &DeleteObjectsOutput) -> String {
    let mut xml = String::from("<DeleteResult>");
    for key in &result.deleted {
        xml += &format!("<Deleted>{}</Deleted>", element("Key", key));
    }
    for error in &result.errors {
        xml += &format!(
            "<Error>{}{}{}</Error>",
            element("Key", &error.key),
            element("Code", &error.code),
            element("Message", &error.message)
        );
    }
    xml + "</DeleteResult>"
}

fn initiate_document(initiated: &InitiateMultipartUpload) -> String {
    format!(
        "<InitiateMultipartUploadResult>{}{}{}</InitiateMultipartUploadResult>",
        element("Bucket", &initiated.bucket),
        element("Key", &initiated.key),
        element("UploadId", &initiated.upload_id)
    )
}

fn complete_document(completed: &CompleteMultipartUploadOutput) -> String {
    format!(
        "<CompleteMultipartUploadResult>{}{}{}</CompleteMultipartUploadResult>",
        element("Bucket", &completed.bucket),
        element("Key", &completed.key),
        element("ETag", &completed.etag)
    )
}
