//! What the template allows and configures: each principal's allowed actions (inline and
//! managed policies), and what a Lambda function's configuration or MediaConvert's handling of
//! a job's files needs besides the code.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{Needs, need};
use crate::deploy::template;

/// What a principal needs, by what it is: the role of a Lambda function (the origin's code and
/// the function's configuration), the role MediaConvert assumes, or a user with access keys
/// (the edge's code).
pub(super) fn needs_of_principal(
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
pub(super) fn allowed_actions(
    template: &Value,
    principal: &str,
) -> Result<BTreeMap<String, String>, String> {
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
