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

mod code;
mod principals;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::template;
use code::{EDGE_WORKER, ORIGIN_LAMBDA, scan};
use principals::{allowed_actions, needs_of_principal};

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

#[cfg(test)]
mod tests {
    use super::code::{mediaconvert_action, needs_of_code};
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
