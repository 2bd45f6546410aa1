//! What the code needs: the S3 requests it builds (`S3Request::<Variant>`) and the
//! MediaConvert SDK operations it calls (`.create_job()`), each mapped to IAM actions by one
//! table, scanned from the files that run as each principal (outside test modules).

use std::collections::BTreeSet;
use std::path::Path;

use super::{Needs, need};
use crate::deploy::settings::rust_files;
use crate::run::root;

/// The IAM actions each S3 request of `signer::s3::S3Request` needs (S3 API reference,
/// "Permissions" of each operation). Every variant the code uses must be here.
pub(super) const S3_REQUEST_ACTIONS: &[(&str, &[&str])] = &[
    ("GetObject", &["s3:GetObject"]),
    // HEAD is authorized as GetObject; without ListBucket a missing key answers 403, not 404.
    ("HeadObject", &["s3:GetObject", "s3:ListBucket"]),
    ("PutObject", &["s3:PutObject"]),
    // Multipart uploads are authorized as PutObject, except abort and the parts listing.
    ("CreateMultipartUpload", &["s3:PutObject"]),
    ("UploadPart", &["s3:PutObject"]),
    ("CompleteMultipartUpload", &["s3:PutObject"]),
    ("AbortMultipartUpload", &["s3:AbortMultipartUpload"]),
    ("ListParts", &["s3:ListMultipartUploadParts"]),
    // A server-side copy writes the destination and reads the source (up to 5 GiB in one
    // CopyObject, above that UploadPartCopy parts of a multipart upload).
    ("CopyObject", &["s3:PutObject", "s3:GetObject"]),
    ("UploadPartCopy", &["s3:PutObject", "s3:GetObject"]),
    ("DeleteObject", &["s3:DeleteObject"]),
    // The multi-object delete is authorized per key as DeleteObject, or DeleteObjectVersion
    // for the keys it names a version of (a deleted video's every version goes).
    (
        "DeleteObjects",
        &["s3:DeleteObject", "s3:DeleteObjectVersion"],
    ),
    ("ListObjectsV2", &["s3:ListBucket"]),
    ("ListObjectVersions", &["s3:ListBucketVersions"]),
];

/// The operations of `aws-sdk-mediaconvert`'s client (its fluent methods); each needs
/// `mediaconvert:<Operation>`.
pub(super) const MEDIACONVERT_OPERATIONS: &[&str] = &[
    "associate_certificate",
    "cancel_job",
    "create_job",
    "create_job_template",
    "create_preset",
    "create_queue",
    "create_resource_share",
    "delete_job_template",
    "delete_policy",
    "delete_preset",
    "delete_queue",
    "describe_endpoints",
    "disassociate_certificate",
    "get_job",
    "get_job_template",
    "get_jobs_query_results",
    "get_policy",
    "get_preset",
    "get_queue",
    "list_job_templates",
    "list_jobs",
    "list_presets",
    "list_queues",
    "list_tags_for_resource",
    "list_versions",
    "probe",
    "put_policy",
    "search_jobs",
    "start_jobs_query",
    "tag_resource",
    "untag_resource",
    "update_job_template",
    "update_preset",
    "update_queue",
];

/// Code that runs as a principal: a directory of the workspace, minus what runs elsewhere.
pub(super) struct Code {
    dir: &'static str,
    /// Paths below `dir` (files or directories) that are not part of it.
    skip: &'static [&'static str],
}

/// The origin as the Lambda runs it; the local runner (FFmpeg, its poller and state) is not.
pub(super) const ORIGIN_LAMBDA: Code = Code {
    dir: "origin/src",
    skip: &["local", "ffmpeg", "bin/local.rs"],
};

/// The edge Worker, which signs with the IAM user's keys; the bench route is development-only
/// (refused in production).
pub(super) const EDGE_WORKER: Code = Code {
    dir: "edge/src",
    skip: &["bench.rs"],
};

/// The actions `code` needs, from its files outside test modules.
pub(super) fn scan(code: &Code) -> Result<Needs, String> {
    let dir = root().join(code.dir);
    let mut files = Vec::new();
    for path in rust_files(&dir)? {
        let relative = path.strip_prefix(&dir).unwrap_or(&path);
        if code
            .skip
            .iter()
            .any(|skip| relative.starts_with(Path::new(skip)))
        {
            continue;
        }
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        files.push((format!("{}/{}", code.dir, relative.display()), text));
    }
    if files.is_empty() {
        return Err(format!("no Rust files under {}", code.dir));
    }
    needs_of_code(&files)
}

/// The actions a set of (path, source) files needs: S3 requests and MediaConvert calls,
/// outside `#[cfg(test)]` modules and comment lines.
pub(super) fn needs_of_code(files: &[(String, String)]) -> Result<Needs, String> {
    let mut needs = Needs::new();
    let mut unknown = Vec::new();
    for (path, text) in files {
        let code: String = text
            .split("#[cfg(test)]")
            .next()
            .unwrap_or_default()
            .lines()
            .filter(|line| !line.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        for variant in identifiers_after(&code, "S3Request::") {
            match S3_REQUEST_ACTIONS.iter().find(|(name, _)| *name == variant) {
                Some((_, actions)) => {
                    for action in *actions {
                        need(
                            &mut needs,
                            action,
                            format!("S3Request::{variant} in {path}"),
                        );
                    }
                }
                None => unknown.push(format!("S3Request::{variant} in {path}")),
            }
        }
        for operation in identifiers_after(&code, ".") {
            let called = code.contains(&format!(".{operation}()"));
            if called && MEDIACONVERT_OPERATIONS.contains(&operation.as_str()) {
                let why = format!(".{operation}() in {path}");
                need(&mut needs, &mediaconvert_action(&operation), why.clone());
                // CreateJob hands MediaConvert a role to assume.
                if operation == "create_job" {
                    need(&mut needs, "iam:PassRole", why);
                }
            }
        }
    }
    if unknown.is_empty() {
        Ok(needs)
    } else {
        Err(format!(
            "no IAM actions known for {} (add them to S3_REQUEST_ACTIONS in xtask/src/deploy/iam.rs)",
            unknown.join(", ")
        ))
    }
}

/// `mediaconvert:CreateJob` for `create_job`.
pub(super) fn mediaconvert_action(operation: &str) -> String {
    let pascal: String = operation
        .split('_')
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect();
    format!("mediaconvert:{pascal}")
}

/// Identifiers right after each occurrence of `prefix`, deduplicated.
fn identifiers_after(code: &str, prefix: &str) -> BTreeSet<String> {
    code.match_indices(prefix)
        .filter_map(|(at, _)| {
            let rest = &code[at + prefix.len()..];
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            (end > 0).then(|| rest[..end].to_string())
        })
        .collect()
}
