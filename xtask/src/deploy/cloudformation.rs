//! The AWS CloudFormation and Secrets Manager calls of a deploy, through the AWS CLI: what a
//! stack is now, deploying a template, reading a secret from stdout.

use std::collections::BTreeMap;

use super::release::Parameters;
use crate::run::{capture, cmd};

/// A stack as `describe-stacks` reports it.
pub(super) struct Stack {
    pub(super) status: String,
    pub(super) parameters: Parameters,
    pub(super) outputs: BTreeMap<String, String>,
}

impl Stack {
    pub(super) fn from_json(text: &str) -> Result<Option<Stack>, String> {
        let json: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("describe-stacks as JSON: {e}"))?;
        let Some(stack) = json["Stacks"].get(0) else {
            return Ok(None);
        };
        let pairs = |list: &str, key: &str, value: &str| -> BTreeMap<String, String> {
            stack[list]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|item| {
                    Some((
                        item[key].as_str()?.to_string(),
                        item[value].as_str()?.to_string(),
                    ))
                })
                .collect()
        };
        let status = stack["StackStatus"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        // A stack in review was never created: `aws cloudformation deploy` creates it anew.
        if status == "REVIEW_IN_PROGRESS" {
            return Ok(None);
        }
        Ok(Some(Stack {
            status,
            parameters: pairs("Parameters", "ParameterKey", "ParameterValue"),
            outputs: pairs("Outputs", "OutputKey", "OutputValue"),
        }))
    }

    /// Refuses the states an update cannot start from, with what to do.
    pub(super) fn refuse_unless_deployable(&self, name: &str) -> Result<(), String> {
        let status = self.status.as_str();
        if status == "ROLLBACK_COMPLETE" || status == "ROLLBACK_FAILED" {
            Err(format!(
                "stack {name} is {status}: its first create failed and CloudFormation cannot update it. Nothing in it is kept (the media bucket is only retained once created successfully): `aws cloudformation delete-stack --stack-name {name}`, `aws cloudformation wait stack-delete-complete --stack-name {name}`, then deploy again"
            ))
        } else if status.ends_with("_IN_PROGRESS") {
            Err(format!(
                "stack {name} is {status}: wait for that operation to end (`aws cloudformation describe-stacks --stack-name {name}`)"
            ))
        } else if status.ends_with("_FAILED") {
            Err(format!(
                "stack {name} is {status}: see its events (`aws cloudformation describe-stack-events --stack-name {name}`) and recover it first (docs/OPERATIONS.md)"
            ))
        } else {
            Ok(())
        }
    }
}

/// The stack, or None if it does not exist.
pub(super) fn describe_stack(name: &str) -> Result<Option<Stack>, String> {
    match capture(cmd("aws").args([
        "cloudformation",
        "describe-stacks",
        "--stack-name",
        name,
        "--output",
        "json",
    ])) {
        Ok(text) => Stack::from_json(&text),
        Err(e) if e.contains("does not exist") => Ok(None),
        Err(e) => Err(e),
    }
}

/// A Secrets Manager secret's value, read from the CLI's stdout.
pub(super) fn secret_value(arn: &str) -> Result<String, String> {
    let value = capture(cmd("aws").args([
        "secretsmanager",
        "get-secret-value",
        "--secret-id",
        arn,
        "--query",
        "SecretString",
        "--output",
        "text",
    ]))?;
    Ok(value.trim_end_matches(['\r', '\n']).to_string())
}

pub(super) fn cloudformation_deploy(
    stack: &str,
    template: &str,
    parameters: &Parameters,
    template_bucket: Option<&str>,
) -> Result<(), String> {
    let mut deploy = cmd("aws");
    deploy.args([
        "cloudformation",
        "deploy",
        "--stack-name",
        stack,
        "--template-file",
        template,
        "--capabilities",
        "CAPABILITY_IAM",
        "--no-fail-on-empty-changeset",
    ]);
    // Through S3 a template may be up to 1 MB; inline only 51,200 bytes.
    if let Some(bucket) = template_bucket {
        deploy.args(["--s3-bucket", bucket, "--s3-prefix", "templates"]);
    }
    if !parameters.is_empty() {
        deploy.arg("--parameter-overrides").args(
            parameters
                .iter()
                .map(|(name, value)| format!("{name}={value}")),
        );
    }
    let names: Vec<&str> = parameters.keys().map(String::as_str).collect();
    println!(
        "$ aws cloudformation deploy --stack-name {stack} --template-file {template} (parameters: {})",
        names.join(", ")
    );
    let exit = deploy
        .status()
        .map_err(|e| format!("cannot start aws: {e}"))?;
    if exit.success() {
        Ok(())
    } else {
        Err(format!("deploying stack {stack} failed ({exit})"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_describe_stacks_and_refuses_what_cannot_be_updated() {
        let text = r#"{"Stacks": [{"StackStatus": "ROLLBACK_COMPLETE",
            "Parameters": [{"ParameterKey": "ActiveWebhookSecret", "ParameterValue": "green"}],
            "Outputs": [{"OutputKey": "WebhookSecretArn", "OutputValue": "arn:x"}]}]}"#;
        let stack = Stack::from_json(text).unwrap().unwrap();
        assert_eq!(stack.parameters["ActiveWebhookSecret"], "green");
        assert_eq!(stack.outputs["WebhookSecretArn"], "arn:x");
        let refusal = stack.refuse_unless_deployable("edgevid").unwrap_err();
        assert!(refusal.contains("aws cloudformation delete-stack --stack-name edgevid"));
        for (status, ok) in [
            ("CREATE_COMPLETE", true),
            ("UPDATE_ROLLBACK_COMPLETE", true),
            ("UPDATE_IN_PROGRESS", false),
            ("UPDATE_ROLLBACK_FAILED", false),
        ] {
            let stack = Stack {
                status: status.into(),
                parameters: Parameters::new(),
                outputs: BTreeMap::new(),
            };
            assert_eq!(stack.refuse_unless_deployable("s").is_ok(), ok, "{status}");
        }
        let review = r#"{"Stacks": [{"StackStatus": "REVIEW_IN_PROGRESS"}]}"#;
        assert!(Stack::from_json(review).unwrap().is_none());
    }
}
