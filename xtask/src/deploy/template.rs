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
