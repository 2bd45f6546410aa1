//! `edge/openapi.yaml` is a valid OpenAPI 3.1 document, it is served, and it and the router
//! agree in both directions: every route is documented and every documented operation routes.

mod common;

use common::TestApp;
use edge::routes::{self, Match, ROUTES};
use http::{Method, StatusCode};
use std::collections::BTreeSet;

/// (METHOD, path) of every operation in the document, as validated by openapi-spec-validator.
fn documented() -> BTreeSet<(String, String)> {
    let script = r#"
import json, sys, yaml
from openapi_spec_validator import validate
doc = yaml.safe_load(open(sys.argv[1]))
validate(doc)
ops = [[m.upper(), p] for p, item in doc["paths"].items() for m in item
       if m in ("get", "put", "post", "delete", "patch", "head", "options")]
print(json.dumps({"openapi": doc["openapi"], "ops": ops}))
"#;
    let path = testkit::workspace_root().join("edge/openapi.yaml");
    let out = testkit::python_output(script, &[path.to_str().expect("UTF-8 path")]);
    let parsed: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(parsed["openapi"], "3.1.0");
    parsed["ops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|op| {
            (
                op[0].as_str().unwrap().to_string(),
                op[1].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn every_route_is_documented_and_every_documented_operation_routes() {
    let documented = documented();
    let routed: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|r| (r.method.to_string(), r.path.replace("{*", "{")))
        .collect();
    assert_eq!(
        routed, documented,
        "router (left) and openapi.yaml (right) differ"
    );

    for (method, path) in &documented {
        let concrete = path
            .replace("{id}", "0193a5b0-0000-7000-8000-000000000001")
            .replace("{token}", "t")
            .replace("{key}", "videos/x/video.mp4");
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        assert!(
            matches!(routes::find(&method, &concrete), Match::Found { .. }),
            "{method} {concrete} does not route"
        );
    }
}

#[tokio::test]
async fn the_document_is_served() {
    let app = TestApp::new();
    let answer = app.call(Method::GET, "/api/openapi.yaml", None, None).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(
        answer
            .header("content-type")
            .unwrap()
            .starts_with("application/yaml")
    );
    assert_eq!(answer.body, edge::app::OPENAPI_YAML.as_bytes());
    assert_eq!(answer.header("cache-control"), Some("public, max-age=300"));
}
