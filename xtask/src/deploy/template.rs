//! The CloudFormation templates, read by cfn-lint's own loader (it knows the short-form
//! intrinsic functions, `!Ref` and friends) and handed over as JSON.

use crate::run::{capture, cmd, venv_tool};

pub const TEMPLATES: [&str; 2] = ["infra/artifacts.yaml", "infra/template.yaml"];
pub const MAIN: &str = "infra/template.yaml";

/// The template at `relative` (from the workspace root) as JSON; intrinsic functions appear
/// in their long form (`{"Ref": …}`, `{"Fn::Sub": …}`).
pub fn load(relative: &str) -> Result<serde_json::Value, String> {
    let script = "import json, sys\n\
        from cfnlint.decode import decode\n\
        template, problems = decode(sys.argv[1])\n\
        if problems: sys.exit('; '.join(str(p) for p in problems))\n\
        print(json.dumps(template, default=str))";
    let text = capture(cmd(venv_tool("python3")).args(["-c", script, relative]))?;
    serde_json::from_str(&text).map_err(|e| format!("{relative} as JSON: {e}"))
}

/// The resources of a template, by logical id.
pub fn resources(
    template: &serde_json::Value,
) -> impl Iterator<Item = (&String, &serde_json::Value)> {
    template["Resources"]
        .as_object()
        .into_iter()
        .flat_map(|resources| resources.iter())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};
    use std::collections::BTreeSet;

    /// Every `MetricName` under `value`, however deep (plain alarms and metric math alike).
    fn metric_names(value: &Value, names: &mut BTreeSet<String>) {
        match value {
            Value::Object(map) => {
                for (key, inner) in map {
                    match (key.as_str(), inner) {
                        ("MetricName", Value::String(name)) => {
                            names.insert(name.clone());
                        }
                        _ => metric_names(inner, names),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|item| metric_names(item, names)),
            _ => {}
        }
    }

    fn depends_on(resource: &Value) -> Vec<&str> {
        match &resource["DependsOn"] {
            Value::String(one) => vec![one.as_str()],
            Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        }
    }

    /// The review's findings on the template (a first create that rolled back, a media bucket
    /// lost with its stack, TLS, concurrency, alarms), each held here.
    #[test]
    fn the_committed_template_creates_cleanly_keeps_media_and_watches_the_origin() {
        let template = load(MAIN).unwrap();
        let resource = |id: &str| &template["Resources"][id];

        // S3 checks that it may write the access logs when logging is turned on: a bucket
        // that logs must wait for the logs bucket's policy.
        let logging: Vec<_> = resources(&template)
            .filter(|(_, r)| r["Properties"]["LoggingConfiguration"].is_object())
            .collect();
        assert!(logging.len() >= 2, "the incoming and media buckets log");
        for (id, bucket) in logging {
            assert!(
                depends_on(bucket).contains(&"LogsBucketPolicy"),
                "{id} logs before the logs bucket allows it"
            );
        }

        let media = resource("MediaBucket");
        assert_eq!(media["DeletionPolicy"], "RetainExceptOnCreate");
        assert_eq!(media["UpdateReplacePolicy"], "Retain");

        // With a custom domain, viewers need TLS 1.2 or newer.
        let certificate = &resource("Distribution")["Properties"]["DistributionConfig"]["ViewerCertificate"]
            ["Fn::If"];
        assert_eq!(certificate[0], "HasPlaybackDomain");
        let minimum = certificate[1]["MinimumProtocolVersion"].as_str().unwrap();
        assert!(minimum.starts_with("TLSv1.2"), "{minimum}");

        // Reserved concurrency is off at 0 (accounts at the default quota cannot reserve).
        assert_eq!(
            resource("OriginFunction")["Properties"]["ReservedConcurrentExecutions"],
            json!({"Fn::If": ["ReservesConcurrency",
                {"Ref": "OriginReservedConcurrency"}, {"Ref": "AWS::NoValue"}]})
        );
        assert_eq!(
            template["Conditions"]["ReservesConcurrency"],
            json!({"Fn::Not": [{"Fn::Equals": [{"Ref": "OriginReservedConcurrency"}, "0"]}]})
        );
        assert_eq!(
            resource("MediaConvertQueue")["Properties"]["ConcurrentJobs"],
            json!({"Ref": "MediaConvertConcurrentJobs"})
        );

        let mut watched = BTreeSet::new();
        for (_, alarm) in
            resources(&template).filter(|(_, r)| r["Type"] == "AWS::CloudWatch::Alarm")
        {
            metric_names(&alarm["Properties"], &mut watched);
        }
        for metric in [
            "Errors",
            "Throttles",
            "AsyncEventAge",
            "AsyncEventsDropped",
            "ApproximateNumberOfMessagesVisible",
        ] {
            assert!(
                watched.contains(metric),
                "no alarm on {metric}: {watched:?}"
            );
        }
    }
}
