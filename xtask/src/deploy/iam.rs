//! Every IAM principal in the main template allows exactly what is needed of it, both ways:
//! nothing needed is missing (the first stack create failed because the Lambda's role could
//! not write the X-Ray traces its configuration turns on) and nothing allowed goes unused
//! (`mediaconvert:GetJob` was granted and never called).
//!
//! What is needed comes from two places:
//! - the code, scanned: the S3 requests it builds (`S3Request::<Variant>`) and the MediaConvert
//!   SDK operations it calls (`.create_job()`), each mapped to IAM actions by one table;
//! - the configuration in the template: a Lambda function's tracing, dead-letter target,
//!   environment key, logs and async destinations; what MediaConvert does with a job's files.
//!
//! Principals: a role a Lambda function runs as (the origin's code), a role MediaConvert
//! assumes, and a user with access keys (the edge Worker's code, which signs with its keys).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;

use super::settings::rust_files;
use super::template;
use crate::run::root;

/// The IAM actions each S3 request of `signer::s3::S3Request` needs (S3 API reference,
/// "Permissions" of each operation). Every variant the code uses must be here.
const S3_REQUEST_ACTIONS: &[(&str, &[&str])] = &[
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
const MEDIACONVERT_OPERATIONS: &[&str] = &[
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
struct Code {
    dir: &'static str,
    /// Paths below `dir` (files or directories) that are not part of it.
    skip: &'static [&'static str],
}

/// The origin as the Lambda runs it; the local runner (FFmpeg, its poller and state) is not.
const ORIGIN_LAMBDA: Code = Code {
    dir: "origin/src",
    skip: &["local", "ffmpeg.rs", "bin/local.rs"],
};

/// The edge Worker, which signs with the IAM user's keys; the bench route is development-only
/// (refused in production).
const EDGE_WORKER: Code = Code {
    dir: "edge/src",
    skip: &["bench.rs"],
};

/// Needed actions (lowercase) with why, for the messages.
type Needs = BTreeMap<String, BTreeSet<String>>;

fn need(needs: &mut Needs, action: &str, why: impl Into<String>) {
    needs
        .entry(action.to_ascii_lowercase())
        .or_default()
        .insert(why.into());
}

pub fn check() -> Result<(), String> {
    let template = template::load(template::MAIN)?;
    let origin = scan(&ORIGIN_LAMBDA)?;
    let edge = scan(&EDGE_WORKER)?;
    let report = compare(&template, &origin, &edge)?;
    for line in &report.summary {
        println!("{line}");
    }
    if report.problems.is_empty() {
        Ok(())
    } else {
        Err(report.problems.join("\n    "))
    }
}

/// The actions `code` needs, from its files outside test modules.
fn scan(code: &Code) -> Result<Needs, String> {
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
fn needs_of_code(files: &[(String, String)]) -> Result<Needs, String> {
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
fn mediaconvert_action(operation: &str) -> String {
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

struct Report {
    summary: Vec<String>,
    problems: Vec<String>,
}

/// Compares what every principal of `template` allows with what it needs.
fn compare(template: &Value, origin: &Needs, edge: &Needs) -> Result<Report, String> {
    let resources = template["Resources"]
        .as_object()
        .ok_or("the template has no Resources")?;
    let mut report = Report {
        summary: Vec::new(),
        problems: Vec::new(),
    };
    let principals = resources.iter().filter(|(_, r)| {
        matches!(
            r["Type"].as_str(),
            Some("AWS::IAM::Role" | "AWS::IAM::User")
        )
    });
    for (name, resource) in principals {
        let needs = match needs_of_principal(template, name, resource, origin, edge) {
            Ok(needs) => needs,
            Err(problem) => {
                report.problems.push(problem);
                continue;
            }
        };
        let allowed = match allowed_actions(template, name) {
            Ok(allowed) => allowed,
            Err(problem) => {
                report.problems.push(problem);
                continue;
            }
        };
        let missing: Vec<String> = needs
            .iter()
            .filter(|(action, _)| !allowed.contains_key(*action))
            .map(|(action, why)| {
                let why: Vec<&str> = why.iter().map(String::as_str).collect();
                format!("{action} ({})", why.join("; "))
            })
            .collect();
        let unused: Vec<String> = allowed
            .iter()
            .filter(|(action, _)| !needs.contains_key(*action))
            .map(|(_, written)| format!("{written} (nothing calls it)"))
            .collect();
        if !missing.is_empty() {
            report.problems.push(format!(
                "{name} does not allow what is needed: {}",
                missing.join(", ")
            ));
        }
        if !unused.is_empty() {
            report.problems.push(format!(
                "{name} allows what nothing needs: {}",
                unused.join(", ")
            ));
        }
        report.summary.push(format!(
            "{name}: {} actions allowed, {} needed",
            allowed.len(),
            needs.len()
        ));
    }
    Ok(report)
}

/// What a principal needs, by what it is: the role of a Lambda function (the origin's code and
/// the function's configuration), the role MediaConvert assumes, or a user with access keys
/// (the edge's code).
fn needs_of_principal(
    template: &Value,
    name: &str,
    resource: &Value,
    origin: &Needs,
    edge: &Needs,
) -> Result<Needs, String> {
    let resources = template["Resources"].as_object().into_iter().flatten();
    let functions: Vec<(&String, &Value)> = resources
        .filter(|(_, r)| r["Type"] == "AWS::Lambda::Function")
        .filter(|(_, r)| logical_id(&r["Properties"]["Role"]) == Some(name))
        .collect();
    if !functions.is_empty() {
        let mut needs = origin.clone();
        for (function, properties) in functions {
            needs_of_function(template, function, &properties["Properties"], &mut needs);
        }
        return Ok(needs);
    }
    if assumed_by(resource, "mediaconvert.amazonaws.com") {
        let mut needs = Needs::new();
        need(
            &mut needs,
            "s3:GetObject",
            "MediaConvert reads the job's input",
        );
        need(
            &mut needs,
            "s3:PutObject",
            "MediaConvert writes the job's outputs (MP4, HLS ladder, frame captures)",
        );
        return Ok(needs);
    }
    let has_keys = template::resources(template).any(|(_, r)| {
        r["Type"] == "AWS::IAM::AccessKey" && logical_id(&r["Properties"]["UserName"]) == Some(name)
    });
    if has_keys {
        return Ok(edge.clone());
    }
    Err(format!(
        "{name}: no rule says what it needs (not a Lambda function's role, MediaConvert's role or a user with access keys); teach xtask/src/deploy/iam.rs"
    ))
}

/// What a Lambda function's configuration needs of its role.
fn needs_of_function(template: &Value, function: &str, properties: &Value, needs: &mut Needs) {
    if properties["TracingConfig"]["Mode"] == "Active" {
        for action in ["xray:PutTraceSegments", "xray:PutTelemetryRecords"] {
            need(needs, action, format!("{function} TracingConfig Active"));
        }
    }
    if !properties["KmsKeyArn"].is_null() {
        need(
            needs,
            "kms:Decrypt",
            format!("{function} KmsKeyArn (encrypted environment)"),
        );
    }
    // Lambda writes the function's logs as the function's role.
    let log_group = logical_id(&properties["LoggingConfig"]["LogGroup"])
        .filter(|group| template["Resources"][*group]["Type"] == "AWS::Logs::LogGroup");
    for action in ["logs:CreateLogStream", "logs:PutLogEvents"] {
        need(needs, action, format!("{function} logs"));
    }
    if log_group.is_none() {
        need(
            needs,
            "logs:CreateLogGroup",
            format!("{function} logs (no log group in the template)"),
        );
    }
    let mut targets = vec![(
        properties["DeadLetterConfig"]["TargetArn"].clone(),
        "DeadLetterConfig",
    )];
    for (_, config) in template::resources(template).filter(|(_, r)| {
        r["Type"] == "AWS::Lambda::EventInvokeConfig"
            && logical_id(&r["Properties"]["FunctionName"]) == Some(function)
    }) {
        let destinations = &config["Properties"]["DestinationConfig"];
        targets.push((
            destinations["OnFailure"]["Destination"].clone(),
            "OnFailure",
        ));
        targets.push((
            destinations["OnSuccess"]["Destination"].clone(),
            "OnSuccess",
        ));
    }
    for (target, what) in targets {
        let Some(target) = logical_id(&target) else {
            continue;
        };
        let resource = &template["Resources"][target];
        let why = format!("{function} {what} {target}");
        let (send, key) = match resource["Type"].as_str() {
            Some("AWS::SQS::Queue") => {
                ("sqs:SendMessage", &resource["Properties"]["KmsMasterKeyId"])
            }
            Some("AWS::SNS::Topic") => ("sns:Publish", &resource["Properties"]["KmsMasterKeyId"]),
            Some("AWS::Lambda::Function") => ("lambda:InvokeFunction", &Value::Null),
            Some("AWS::Events::EventBus") => ("events:PutEvents", &Value::Null),
            _ => continue,
        };
        need(needs, send, why.clone());
        // Sending to a KMS-encrypted queue or topic encrypts with a data key of its key.
        if !key.is_null() {
            need(needs, "kms:GenerateDataKey", format!("{why} (encrypted)"));
            need(needs, "kms:Decrypt", format!("{why} (encrypted)"));
        }
    }
}

/// The actions `principal` is allowed (lowercase, to the spelling in the template): its
/// inline policies, the template's managed policies attached to it, `AWS::IAM::Policy`
/// resources naming it, and for a user its groups' policies.
fn allowed_actions(template: &Value, principal: &str) -> Result<BTreeMap<String, String>, String> {
    let resource = &template["Resources"][principal];
    let mut documents: Vec<&Value> = resource["Properties"]["Policies"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|policy| &policy["PolicyDocument"])
        .collect();
    for arn in resource["Properties"]["ManagedPolicyArns"]
        .as_array()
        .into_iter()
        .flatten()
    {
        match logical_id(arn).map(|id| &template["Resources"][id]) {
            Some(policy) if policy["Type"] == "AWS::IAM::ManagedPolicy" => {
                documents.push(&policy["Properties"]["PolicyDocument"]);
            }
            _ => {
                return Err(format!(
                    "{principal} attaches managed policy {arn}, whose actions this check cannot see: write them in the template"
                ));
            }
        }
    }
    let attached_by_name = |list: &str| {
        template::resources(template)
            .filter(|(_, r)| {
                matches!(
                    r["Type"].as_str(),
                    Some("AWS::IAM::Policy" | "AWS::IAM::ManagedPolicy")
                )
            })
            .filter(move |(_, r)| {
                r["Properties"][list]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|item| logical_id(item) == Some(principal))
            })
            .map(|(_, r)| &r["Properties"]["PolicyDocument"])
            .collect::<Vec<_>>()
    };
    let lists = match resource["Type"].as_str() {
        Some("AWS::IAM::Role") => "Roles",
        Some("AWS::IAM::User") => "Users",
        _ => "Groups",
    };
    documents.extend(attached_by_name(lists));
    let mut allowed = BTreeMap::new();
    for document in documents {
        allowed.extend(allowed_in(principal, document)?);
    }
    for group in resource["Properties"]["Groups"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let group = logical_id(group).ok_or_else(|| {
            format!("{principal} is in group {group}, which is not in the template")
        })?;
        allowed.extend(allowed_actions(template, group)?);
    }
    Ok(allowed)
}

/// The actions a policy document allows.
fn allowed_in(principal: &str, document: &Value) -> Result<BTreeMap<String, String>, String> {
    let statements = match &document["Statement"] {
        Value::Array(statements) => statements.iter().collect(),
        statement @ Value::Object(_) => vec![statement],
        other => {
            return Err(format!(
                "{principal}: a policy's Statement is {other}, not statements"
            ));
        }
    };
    let mut allowed = BTreeMap::new();
    for statement in statements {
        if statement["Effect"] != "Allow" {
            continue;
        }
        if !statement["NotAction"].is_null() {
            return Err(format!(
                "{principal}: NotAction allows everything not listed; name the actions instead"
            ));
        }
        let actions = match &statement["Action"] {
            Value::String(action) => vec![action.as_str()],
            Value::Array(actions) => actions.iter().filter_map(Value::as_str).collect(),
            other => {
                return Err(format!(
                    "{principal}: Action {other} is not a list of actions"
                ));
            }
        };
        for action in actions {
            allowed.insert(action.to_ascii_lowercase(), action.to_string());
        }
    }
    Ok(allowed)
}

/// Whether a role's trust policy lets `service` assume it.
fn assumed_by(role: &Value, service: &str) -> bool {
    role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|statement| match &statement["Principal"]["Service"] {
            Value::String(s) => s == service,
            Value::Array(services) => services.iter().any(|s| s == service),
            _ => false,
        })
}

/// The logical id that `{"Ref": id}` or `{"Fn::GetAtt": [id, …]}` points at.
fn logical_id(value: &Value) -> Option<&str> {
    value["Ref"]
        .as_str()
        .or_else(|| value["Fn::GetAtt"][0].as_str())
        .or_else(|| value["Fn::GetAtt"].as_str()?.split('.').next())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn file(path: &str, text: &str) -> (String, String) {
        (path.to_string(), text.to_string())
    }

    fn actions(needs: &Needs) -> Vec<&str> {
        needs.keys().map(String::as_str).collect()
    }

    #[test]
    fn reads_s3_requests_and_mediaconvert_calls_outside_tests_and_comments() {
        let needs = needs_of_code(&[file(
            "src/a.rs",
            r#"
            // S3Request::PutObject in a comment is no call
            let head = S3Request::HeadObject { bucket, key };
            let copy = S3Request::UploadPartCopy { bucket, key };
            let job = self
                .client
                .create_job()
                .role(&role);
            self.transcoder.probe(&source);
            #[cfg(test)]
            mod tests { fn t() { S3Request::DeleteObjects { bucket }; client.get_job(); } }
            "#,
        )])
        .unwrap();
        assert_eq!(
            actions(&needs),
            [
                "iam:passrole",
                "mediaconvert:createjob",
                "s3:getobject",
                "s3:listbucket",
                "s3:putobject"
            ]
        );
        assert!(needs["s3:listbucket"].contains("S3Request::HeadObject in src/a.rs"));
    }

    #[test]
    fn an_s3_request_without_known_actions_is_an_error() {
        let error =
            needs_of_code(&[file("src/b.rs", "S3Request::HeadBucket { bucket }")]).unwrap_err();
        assert!(
            error.contains("S3Request::HeadBucket in src/b.rs"),
            "{error}"
        );
    }

    #[test]
    fn every_s3_request_variant_has_actions() {
        // The variants of signer::s3::S3Request, and the copies the origin is adding.
        for variant in [
            "PutObject",
            "CreateMultipartUpload",
            "UploadPart",
            "ListParts",
            "CompleteMultipartUpload",
            "AbortMultipartUpload",
            "GetObject",
            "HeadObject",
            "DeleteObject",
            "DeleteObjects",
            "ListObjectsV2",
            "CopyObject",
            "UploadPartCopy",
        ] {
            let code = format!("S3Request::{variant} {{}}");
            assert!(needs_of_code(&[file("x.rs", &code)]).is_ok(), "{variant}");
        }
        assert_eq!(
            mediaconvert_action("get_jobs_query_results"),
            "mediaconvert:GetJobsQueryResults"
        );
    }

    /// A Lambda with tracing, an encrypted DLQ and env key, whose role lacks X-Ray and grants
    /// GetJob: the template shape that failed the first stack create.
    fn lambda_template(role_actions: Value) -> Value {
        json!({"Resources": {
            "Key": {"Type": "AWS::KMS::Key"},
            "Dlq": {"Type": "AWS::SQS::Queue", "Properties": {"KmsMasterKeyId": {"Ref": "Key"}}},
            "Logs": {"Type": "AWS::Logs::LogGroup"},
            "Role": {"Type": "AWS::IAM::Role", "Properties": {
                "AssumeRolePolicyDocument": {"Statement": [{"Principal": {"Service": "lambda.amazonaws.com"}}]},
                "Policies": [{"PolicyDocument": {"Statement": [
                    {"Effect": "Allow", "Action": role_actions},
                    {"Effect": "Deny", "Action": "s3:*"},
                ]}}],
            }},
            "Fn": {"Type": "AWS::Lambda::Function", "Properties": {
                "Role": {"Fn::GetAtt": ["Role", "Arn"]},
                "TracingConfig": {"Mode": "Active"},
                "KmsKeyArn": {"Fn::GetAtt": ["Key", "Arn"]},
                "DeadLetterConfig": {"TargetArn": {"Fn::GetAtt": ["Dlq", "Arn"]}},
                "LoggingConfig": {"LogGroup": {"Ref": "Logs"}},
            }},
        }})
    }

    fn origin_code() -> Needs {
        needs_of_code(&[file(
            "origin/src/mediaconvert/mod.rs",
            "self.client.create_job(); S3Request::GetObject {}",
        )])
        .unwrap()
    }

    #[test]
    fn missing_x_ray_and_an_unused_get_job_are_both_reported() {
        let template = lambda_template(json!([
            "logs:CreateLogStream",
            "logs:PutLogEvents",
            "s3:GetObject",
            "mediaconvert:CreateJob",
            "mediaconvert:GetJob",
            "iam:PassRole",
            "sqs:SendMessage",
            "kms:Decrypt",
            "kms:GenerateDataKey",
        ]));
        let report = compare(&template, &origin_code(), &Needs::new()).unwrap();
        assert_eq!(report.problems.len(), 2, "{:?}", report.problems);
        assert!(
            report.problems[0].starts_with("Role does not allow what is needed: xray:puttelemetryrecords (Fn TracingConfig Active), xray:puttracesegments"),
            "{}",
            report.problems[0]
        );
        assert_eq!(
            report.problems[1],
            "Role allows what nothing needs: mediaconvert:GetJob (nothing calls it)"
        );
    }

    #[test]
    fn a_role_that_allows_exactly_the_needs_passes() {
        let template = lambda_template(json!([
            "logs:CreateLogStream",
            "logs:PutLogEvents",
            "xray:PutTraceSegments",
            "xray:PutTelemetryRecords",
            "s3:GetObject",
            "mediaconvert:CreateJob",
            "iam:PassRole",
            "sqs:SendMessage",
            "kms:Decrypt",
            "kms:GenerateDataKey",
        ]));
        let report = compare(&template, &origin_code(), &Needs::new()).unwrap();
        assert!(report.problems.is_empty(), "{:?}", report.problems);
    }

    #[test]
    fn a_users_group_policies_count_and_an_unknown_principal_is_reported() {
        let template = json!({"Resources": {
            "Policy": {"Type": "AWS::IAM::ManagedPolicy", "Properties": {"PolicyDocument": {
                "Statement": {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"]},
            }}},
            "Group": {"Type": "AWS::IAM::Group", "Properties": {"ManagedPolicyArns": [{"Ref": "Policy"}]}},
            "User": {"Type": "AWS::IAM::User", "Properties": {"Groups": [{"Ref": "Group"}]}},
            "Key": {"Type": "AWS::IAM::AccessKey", "Properties": {"UserName": {"Ref": "User"}}},
            "Stray": {"Type": "AWS::IAM::Role", "Properties": {
                "AssumeRolePolicyDocument": {"Statement": [{"Principal": {"Service": "ec2.amazonaws.com"}}]},
            }},
        }});
        let edge =
            needs_of_code(&[file("edge/src/playback.rs", "S3Request::HeadObject {}")]).unwrap();
        let report = compare(&template, &Needs::new(), &edge).unwrap();
        assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
        assert!(report.problems[0].starts_with("Stray: no rule says what it needs"));
    }

    #[test]
    fn the_committed_template_allows_exactly_what_the_code_calls() {
        check().unwrap();
    }
}
