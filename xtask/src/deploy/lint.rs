//! cfn-lint and checkov over the templates; every checkov skip must say why.

use super::template::{self, TEMPLATES};
use crate::run::{cmd, root, status, venv_tool};

pub fn cfn_lint() -> Result<(), String> {
    status(cmd(venv_tool("cfn-lint")).args(TEMPLATES))
}

pub fn checkov() -> Result<(), String> {
    for path in TEMPLATES {
        let unexplained = skips_without_reason(&template::load(path)?);
        if !unexplained.is_empty() {
            return Err(format!(
                "{path}: checkov skips need a `comment:` with the reason: {}",
                unexplained.join(", ")
            ));
        }
    }
    // --skip-download: no calls home for check updates or guidelines (offline CI).
    status(cmd(root().join(".venv/checkov/bin/checkov")).args([
        "--directory",
        "infra",
        "--framework",
        "cloudformation",
        "--skip-download",
        "--compact",
        "--quiet",
    ]))
}

/// `resource: check id` for every `Metadata.checkov.skip` entry without a non-empty
/// `comment`.
fn skips_without_reason(template: &serde_json::Value) -> Vec<String> {
    template::resources(template)
        .flat_map(|(name, resource)| {
            resource["Metadata"]["checkov"]["skip"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|skip| {
                    skip["comment"]
                        .as_str()
                        .is_none_or(|reason| reason.trim().is_empty())
                })
                .map(move |skip| format!("{name}: {}", skip["id"].as_str().unwrap_or("?")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkov_skip_needs_a_reason() {
        let template = serde_json::json!({"Resources": {
            "Logs": {"Metadata": {"checkov": {"skip": [
                {"id": "CKV_AWS_18", "comment": "This is the log bucket."},
                {"id": "CKV_AWS_21", "comment": "  "},
                {"id": "CKV_AWS_117"},
            ]}}},
            "Other": {"Type": "AWS::S3::Bucket"},
        }});
        assert_eq!(
            skips_without_reason(&template),
            ["Logs: CKV_AWS_21", "Logs: CKV_AWS_117"]
        );
    }

    #[test]
    fn the_committed_templates_explain_every_skip() {
        for path in TEMPLATES {
            assert_eq!(
                skips_without_reason(&template::load(path).unwrap()),
                Vec::<String>::new()
            );
        }
    }
}
