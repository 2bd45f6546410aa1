//! `edge/openapi.yaml` is a valid OpenAPI 3.1 document, it is served, it and the router agree
//! in both directions, its error codes are the router's, and the answers the app gives to a
//! walk through every operation match the document's response schemas.

mod common;

use common::{Exchange, TestApp, id_of};
use edge::error::ErrorCode;
use edge::routes::{self, ROUTES};
use http::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeSet;

fn document_path() -> String {
    testkit::workspace_root()
        .join("edge/openapi.yaml")
        .to_str()
        .expect("UTF-8 path")
        .to_string()
}

/// The document, validated by openapi-spec-validator, as JSON.
fn document() -> Value {
    let script = r#"
import json, sys, yaml
from openapi_spec_validator import validate
doc = yaml.safe_load(open(sys.argv[1]))
validate(doc)
print(json.dumps(doc))
"#;
    serde_json::from_str(&testkit::python_output(script, &[&document_path()])).unwrap()
}

#[test]
fn every_route_is_documented_and_every_documented_operation_routes() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .filter(|m| ["get", "put", "post", "delete", "patch", "head"].contains(&m.as_str()))
                .map(|m| (m.to_uppercase(), path.clone()))
                .collect::<Vec<_>>()
        })
        .collect();
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
            routes::find(&method, &concrete).is_ok(),
            "{method} {concrete} does not route"
        );
    }
}

#[test]
fn the_documented_error_codes_are_the_routers() {
    let doc = document();
    let documented: BTreeSet<&str> = doc["components"]["schemas"]["Failure"]["properties"]["error"]
        ["properties"]["code"]["enum"]
        .as_array()
        .expect("Failure.error.code lists its values")
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let ours: BTreeSet<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(
        ours, documented,
        "ErrorCode (left) and openapi.yaml (right)"
    );
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
    assert_eq!(answer.body, edge::dispatch::OPENAPI_YAML.as_bytes());
    assert_eq!(answer.header("cache-control"), Some("public, max-age=300"));
}

/// Checks each exchange against the document: the status is one the operation declares (or
/// 405 for a method the path lacks), the content type is the declared one, and a JSON body
/// validates against the declared schema. Returns the problems found.
fn check_against_document(exchanges: &[Exchange]) -> Vec<String> {
    let script = r#"
import json, re, sys, yaml
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012
doc = yaml.safe_load(open(sys.argv[1]))
exchanges = json.loads(sys.stdin.read())
registry = Registry().with_resource("urn:doc", DRAFT202012.create_resource(doc))
def pointer(*parts):
    return "/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in parts)
def template_of(path):
    for template in doc["paths"]:
        pattern = re.sub(r"\{key\}", ".+", re.sub(r"\{(id|token)\}", "[^/]+", template))
        if re.fullmatch(pattern, path):
            return template
def validate(where, body):
    validator = Draft202012Validator({"$ref": "urn:doc#" + where}, registry=registry)
    return [f"{e.json_path}: {e.message}" for e in validator.iter_errors(body)]
problems = []
for ex in exchanges:
    path = ex["path"].split("?")[0]
    what = f'{ex["method"]} {ex["path"]} -> {ex["status"]}'
    template = template_of(path)
    if template is None:
        problems.append(f"{what}: no documented path")
        continue
    method = ex["method"].lower()
    item = doc["paths"][template]
    # HEAD is answered wherever GET is (without the body).
    operation = item.get(method) or (item.get("get") if method == "head" else None)
    ctype = (ex["content_type"] or "").split(";")[0].strip()
    if operation is None:
        if ex["status"] != 405:
            problems.append(f"{what}: undocumented method answered")
        elif ctype == "application/json":
            problems += [f"{what}: {p}" for p in validate(pointer("components", "schemas", "Failure"), json.loads(ex["body"]))]
        continue
    status = str(ex["status"])
    if status not in operation["responses"]:
        problems.append(f"{what}: status not documented")
        continue
    where = pointer("paths", template, method, "responses", status)
    response = operation["responses"][status]
    if "$ref" in response:
        where = response["$ref"][1:]
        response = doc["components"]["responses"][where.split("/")[-1]]
    content = response.get("content", {})
    if method == "head" or not content:
        continue
    if ctype not in content:
        problems.append(f"{what}: content type {ctype!r}, documented {sorted(content)}")
        continue
    if ctype == "application/json":
        body = json.loads(ex["body"])
        problems += [f"{what}: {p}" for p in validate(where + pointer("content", ctype, "schema"), body)]
print(json.dumps(problems))
"#;
    let input = serde_json::to_string(exchanges).unwrap();
    let out = testkit::python_output_with_input(script, &[&document_path()], &input);
    serde_json::from_str(&out).unwrap()
}

/// A walk through every operation, answered well and badly, checked against the document.
#[tokio::test]
async fn every_answer_matches_the_documented_schema() {
    let app = TestApp::new();
    app.call(Method::GET, "/api/health", None, None).await;
    app.call(Method::HEAD, "/api/health", None, None).await;
    app.call(Method::GET, "/api/openapi.yaml", None, None).await;
    let admin = app.admin().await;
    app.call(
        Method::POST,
        "/api/auth",
        None,
        Some(json!({"email": "admin@localhost", "password": "wrong"})),
    )
    .await
    .expect(StatusCode::UNAUTHORIZED);
    app.call(Method::POST, "/api/auth", None, Some(json!({"email": 1})))
        .await
        .expect(StatusCode::BAD_REQUEST);
    app.call(Method::GET, "/api/videos", None, None)
        .await
        .expect(StatusCode::UNAUTHORIZED);
    app.call(Method::PUT, "/api/videos", Some(&admin), None)
        .await
        .expect(StatusCode::METHOD_NOT_ALLOWED);

    // Users.
    let user = json!({"email": "walk@example.com", "password": "walk-password", "role": "member"});
    app.call(Method::POST, "/api/users", Some(&admin), Some(user.clone()))
        .await
        .expect(StatusCode::CREATED);
    app.call(Method::POST, "/api/users", Some(&admin), Some(user))
        .await
        .expect(StatusCode::CONFLICT);
    let member = app.sign_in("walk@example.com", "walk-password").await;
    app.call(
        Method::POST,
        "/api/users",
        Some(&member),
        Some(json!({"email": "x@example.com", "password": "12345678"})),
    )
    .await
    .expect(StatusCode::FORBIDDEN);

    // Uploads, single and multipart, and their failures.
    let single = app.create_video(&admin, "walk.mp4", 10).await;
    let single_id = id_of(&single);
    let multipart = app.create_video(&admin, "walk.mkv", 60 * 1024 * 1024).await;
    let multipart_id = id_of(&multipart);
    app.call(
        Method::POST,
        "/api/videos",
        Some(&admin),
        Some(json!({"fileName": "notes.txt", "fileSize": 1, "fileType": "text/plain"})),
    )
    .await
    .expect(StatusCode::BAD_REQUEST);
    app.complete(&admin, &single_id, None)
        .await
        .expect(StatusCode::BAD_REQUEST);
    let claim = json!({"videoId": single_id, "key": single["key"], "size": 10, "token": "ab"});
    app.claim(&claim).await.expect(StatusCode::OK);
    app.claim(&json!({"videoId": single_id}))
        .await
        .expect(StatusCode::BAD_REQUEST);
    let parts = format!("/api/videos/{multipart_id}/parts");
    app.call(
        Method::POST,
        &parts,
        Some(&admin),
        Some(json!({"partNumbers": [1, 2]})),
    )
    .await
    .expect(StatusCode::OK);
    app.call(Method::GET, &parts, Some(&admin), None)
        .await
        .expect(StatusCode::OK);
    app.call(
        Method::POST,
        &format!("/api/videos/{single_id}/parts"),
        Some(&admin),
        Some(json!({"partNumbers": [1]})),
    )
    .await
    .expect(StatusCode::CONFLICT);
    app.call(Method::GET, &parts, Some(&member), None)
        .await
        .expect(StatusCode::NOT_FOUND);
    app.call(
        Method::DELETE,
        &format!("/api/videos/{multipart_id}/upload"),
        Some(&admin),
        None,
    )
    .await
    .expect(StatusCode::OK);

    // A finished video: list, get, playback, events, delete.
    let id = app.uploaded_video(&admin, vec![7; 10]).await;
    let playback = format!("/api/videos/{id}/playback");
    app.call(Method::GET, &playback, Some(&admin), None)
        .await
        .expect(StatusCode::CONFLICT);
    app.job_event(
        &json!({"eventId": "walk-1", "videoId": id, "status": "processing", "progress": 50}),
    )
    .await
    .expect(StatusCode::OK);
    app.job_event(&json!({"eventId": "walk-2", "videoId": id, "status": "exploded"}))
        .await
        .expect(StatusCode::BAD_REQUEST);
    app.job_event_signed("wrong", app.now_secs(), &json!({}))
        .await
        .expect(StatusCode::UNAUTHORIZED);
    app.finish_conversion(&id, b"mp4 bytes").await;
    app.call(Method::GET, &playback, Some(&admin), None)
        .await
        .expect(StatusCode::OK);
    // With a ladder: the playlists and the poster's redirect (s3 mode).
    let laddered = app.uploaded_video(&admin, vec![8; 10]).await;
    app.finish_ladder(&laddered).await;
    let urls = app
        .call(
            Method::GET,
            &format!("/api/videos/{laddered}/playback"),
            Some(&admin),
            None,
        )
        .await
        .expect(StatusCode::OK)
        .json();
    for (name, status) in [
        ("hls", StatusCode::OK),
        ("storyboard", StatusCode::OK),
        ("poster", StatusCode::FOUND),
    ] {
        let url = urls[name].as_str().unwrap();
        let path = url.strip_prefix(common::BASE).unwrap();
        app.request(Method::GET, path, &[], Vec::new())
            .await
            .expect(status);
    }
    app.call(Method::GET, "/api/videos?limit=1", Some(&admin), None)
        .await
        .expect(StatusCode::OK);
    app.call(Method::GET, "/api/videos?limit=0", Some(&admin), None)
        .await
        .expect(StatusCode::BAD_REQUEST);
    app.call(Method::GET, "/api/videos?cursor=nope", Some(&admin), None)
        .await
        .expect(StatusCode::BAD_REQUEST);
    app.call(
        Method::GET,
        &format!("/api/videos/{id}"),
        Some(&admin),
        None,
    )
    .await
    .expect(StatusCode::OK);
    app.call(
        Method::GET,
        &format!("/api/videos/{id}"),
        Some(&member),
        None,
    )
    .await
    .expect(StatusCode::NOT_FOUND);
    app.call(
        Method::DELETE,
        &format!("/api/videos/{id}"),
        Some(&admin),
        None,
    )
    .await
    .expect(StatusCode::OK);
    app.call(Method::DELETE, "/api/videos/not-an-id", Some(&admin), None)
        .await
        .expect(StatusCode::NOT_FOUND);

    let problems = check_against_document(&app.exchanges.borrow());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The edge playback stream and its failures, in edge mode.
#[tokio::test]
async fn media_answers_match_the_documented_schema() {
    let app = TestApp::with(|s| {
        s.insert("PLAYBACK_MODE".into(), "edge".into());
    });
    let admin = app.admin().await;
    let id = app.uploaded_video(&admin, vec![7; 10]).await;
    app.finish_conversion(&id, b"0123456789").await;
    let url = app.playback_url(&admin, &id).await;
    let path = url.strip_prefix(common::BASE).unwrap();
    app.request(Method::GET, path, &[], Vec::new())
        .await
        .expect(StatusCode::OK);
    app.request(Method::GET, path, &[("range", "bytes=0-3")], Vec::new())
        .await
        .expect(StatusCode::PARTIAL_CONTENT);
    app.request(Method::HEAD, path, &[], Vec::new())
        .await
        .expect(StatusCode::OK);
    let forged = path.replacen("/media/", "/media/1.AAAA", 1);
    app.request(Method::GET, &forged, &[], Vec::new())
        .await
        .expect(StatusCode::FORBIDDEN);
    let problems = check_against_document(&app.exchanges.borrow());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Sessions and accounts, answered well and badly, checked against the document.
#[tokio::test]
async fn account_answers_match_the_documented_schema() {
    let app = TestApp::with(|s| {
        s.insert("QUOTA_VIDEOS".into(), "1".into());
    });
    let admin = app.admin().await;
    let signed_in = app
        .call(
            Method::POST,
            "/api/auth",
            None,
            Some(
                json!({"email": "admin@localhost", "password": "admin", "refreshDelivery": "body"}),
            ),
        )
        .await
        .expect(StatusCode::OK)
        .json();
    let refresh_token = signed_in["refreshToken"].as_str().unwrap();
    let renewed = app
        .call(
            Method::POST,
            "/api/auth/refresh",
            None,
            Some(json!({"refreshToken": refresh_token})),
        )
        .await
        .expect(StatusCode::OK)
        .json();
    app.call(
        Method::POST,
        "/api/auth/refresh",
        None,
        Some(json!({"refreshToken": refresh_token})),
    )
    .await
    .expect(StatusCode::UNAUTHORIZED);
    app.call(
        Method::POST,
        "/api/auth/logout",
        None,
        Some(json!({"refreshToken": renewed["refreshToken"]})),
    )
    .await
    .expect(StatusCode::OK);
    let created = app
        .call(
            Method::POST,
            "/api/users",
            Some(&admin),
            Some(json!({"email": "walk@example.com", "password": "member-password"})),
        )
        .await
        .expect(StatusCode::CREATED)
        .json();
    let id = created["user"]["id"].as_str().unwrap();
    app.call(Method::GET, "/api/users?limit=1", Some(&admin), None)
        .await
        .expect(StatusCode::OK);
    app.call(Method::GET, "/api/users?cursor=%20", Some(&admin), None)
        .await
        .expect(StatusCode::BAD_REQUEST);
    let user = format!("/api/users/{id}");
    app.call(
        Method::PATCH,
        &user,
        Some(&admin),
        Some(json!({"quota": {"videos": 2, "bytes": null}})),
    )
    .await
    .expect(StatusCode::OK);
    app.call(
        Method::PATCH,
        &user,
        Some(&admin),
        Some(json!({"colour": "red"})),
    )
    .await
    .expect(StatusCode::BAD_REQUEST);
    app.call(
        Method::POST,
        &format!("{user}/password"),
        Some(&admin),
        Some(json!({"password": "reset-password"})),
    )
    .await
    .expect(StatusCode::OK);
    let member = app.sign_in("walk@example.com", "reset-password").await;
    app.call(
        Method::POST,
        "/api/auth/password",
        Some(&member),
        Some(json!({"currentPassword": "reset-password", "newPassword": "own-password"})),
    )
    .await
    .expect(StatusCode::OK);
    app.call(Method::GET, "/api/users", Some(&member), None)
        .await
        .expect(StatusCode::FORBIDDEN);
    let admin_id = app
        .call(Method::GET, "/api/users", Some(&admin), None)
        .await
        .json()["users"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.call(
        Method::PATCH,
        &format!("/api/users/{admin_id}"),
        Some(&admin),
        Some(json!({"disabled": true})),
    )
    .await
    .expect(StatusCode::CONFLICT);
    // Quotas: the admin may hold one video.
    app.create_video(&admin, "a.mp4", 10).await;
    app.call(
        Method::POST,
        "/api/videos",
        Some(&admin),
        Some(json!({"fileName": "b.mp4", "fileSize": 10, "fileType": "video/mp4"})),
    )
    .await
    .expect(StatusCode::FORBIDDEN);
    app.call(Method::DELETE, &user, Some(&admin), None)
        .await
        .expect(StatusCode::OK);
    app.call(
        Method::PATCH,
        &user,
        Some(&admin),
        Some(json!({"disabled": true})),
    )
    .await
    .expect(StatusCode::NOT_FOUND);
    let problems = check_against_document(&app.exchanges.borrow());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Whether the document's request body schema of `method path` (a template) accepts each
/// body.
fn document_accepts(cases: &[(&str, &str, Value)]) -> Vec<bool> {
    let script = r#"
import json, sys, yaml
from jsonschema import Draft202012Validator
doc = yaml.safe_load(open(sys.argv[1]))
for method, path, body in json.loads(sys.stdin.read()):
    schema = doc["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
    print(json.dumps(Draft202012Validator(schema).is_valid(body)))
"#;
    let input = serde_json::to_string(
        &cases
            .iter()
            .map(|(method, path, body)| json!([method, path, body]))
            .collect::<Vec<_>>(),
    )
    .unwrap();
    testkit::python_output_with_input(script, &[&document_path()], &input)
        .lines()
        .map(|line| line == "true")
        .collect()
}

/// What the contract fuzzer (`cargo xtask test`, schemathesis) found the document and the
/// API disagreeing on: bodies the document called valid that the API refused (an empty file
/// name or event id, a UUID that is not v7, `958.0` for an integer), and ones it called
/// invalid that the API took (`null` for an optional field, an array of the fields for an
/// object). Each now gets the same word from both.
#[tokio::test]
async fn the_document_and_the_api_agree_on_what_is_valid() {
    let app = TestApp::new();
    let admin = app.admin().await;
    let member = app
        .call(
            Method::POST,
            "/api/users",
            Some(&admin),
            Some(json!({"email": "agree@example.com", "password": "member-password"})),
        )
        .await
        .expect(StatusCode::CREATED)
        .json();
    let user = format!("/api/users/{}", member["user"]["id"].as_str().unwrap());
    let multipart = id_of(&app.create_video(&admin, "big.mkv", 60 * 1024 * 1024).await);
    let parts = format!("/api/videos/{multipart}/parts");
    let complete = format!("/api/videos/{multipart}/complete");
    let video = |file_name: &str, file_type: &str, title: Value| json!({"fileName": file_name, "fileSize": 10, "fileType": file_type, "title": title});
    let largest_quota = 9_007_199_254_740_991_u64;
    let other_uuid = "e3e70682-c209-1cac-a29f-6fbed82c07cd";
    // (method, documented path, path, body, the API's answer)
    let cases = [
        (
            "post",
            "/api/videos",
            "",
            video("", "video/mp4", json!("t")),
            400,
        ),
        (
            "post",
            "/api/videos",
            "",
            video("a.txt", "video/mp4", json!("t")),
            400,
        ),
        (
            "post",
            "/api/videos",
            "",
            video("a.mp4", "text/plain", json!("t")),
            400,
        ),
        (
            "post",
            "/api/videos",
            "",
            video("a.mp4", "video/mp4", json!("\u{7}")),
            400,
        ),
        (
            "post",
            "/api/videos",
            "",
            video("a.mp4", "video/mp4", json!("  ")),
            201,
        ),
        (
            "post",
            "/api/videos",
            "",
            video("a.mp4", "video/mp4", Value::Null),
            201,
        ),
        (
            "post",
            "/api/videos",
            "",
            video("a.mp4", "video/mp4", json!("\t")),
            201,
        ),
        (
            "post",
            "/api/videos",
            "",
            video("a.mp4", "video/x%y", json!("t")),
            400,
        ),
        (
            "post",
            "/api/videos",
            "",
            video(" B.MP4 ", "Video/MP4; codecs=avc1", json!("b")),
            201,
        ),
        (
            "post",
            "/api/videos",
            "",
            json!({"fileName": "c.mp4", "fileSize": 10.0, "fileType": "video/mp4"}),
            201,
        ),
        (
            "post",
            "/api/videos/{id}/parts",
            &parts,
            json!({"partNumbers": [1.0, 2]}),
            200,
        ),
        (
            "post",
            "/api/videos/{id}/complete",
            &complete,
            json!({"parts": [{"partNumber": 0, "etag": "x"}]}),
            400,
        ),
        (
            "post",
            "/api/auth/logout",
            "",
            json!({"refreshToken": null}),
            200,
        ),
        ("post", "/api/auth/logout", "", json!([null]), 400),
        (
            "post",
            "/api/videos",
            "",
            json!(["a.mp4", 10, "video/mp4"]),
            400,
        ),
        (
            "post",
            "/api/auth/refresh",
            "",
            json!({"refreshToken": null}),
            401,
        ),
        (
            "post",
            "/api/users",
            "",
            json!({"email": "null-role@example.com", "password": "member-password", "role": null}),
            201,
        ),
        (
            "patch",
            "/api/users/{id}",
            &user,
            json!({"quota": {"uploads": largest_quota + 1}}),
            400,
        ),
        (
            "patch",
            "/api/users/{id}",
            &user,
            json!({"quota": {"uploads": largest_quota}}),
            200,
        ),
        (
            "post",
            "/api/internal/jobs",
            "",
            json!({"eventId": "", "videoId": "x", "status": "processing"}),
            400,
        ),
        (
            "post",
            "/api/internal/claims",
            "",
            json!({"videoId": other_uuid, "key": "k", "size": 0, "token": "ab"}),
            400,
        ),
        (
            "post",
            "/api/internal/claims",
            "",
            json!({"videoId": multipart, "key": "", "size": 0, "token": "ab"}),
            400,
        ),
        (
            "post",
            "/api/internal/claims",
            "",
            json!({"videoId": multipart, "key": "a\u{1}", "size": 0, "token": "ab"}),
            400,
        ),
        (
            "post",
            "/api/internal/claims",
            "",
            json!({"videoId": multipart, "key": "k", "size": 0, "token": "ab", "jobId": ""}),
            400,
        ),
        (
            "post",
            "/api/internal/claims",
            "",
            json!({"videoId": multipart, "key": "k", "size": u64::MAX, "token": "ab"}),
            200,
        ),
        (
            "post",
            "/api/internal/claims",
            "",
            json!({"videoId": multipart, "key": "k", "size": 1e19, "token": "ab"}),
            200,
        ),
        (
            "post",
            "/api/internal/claims",
            "",
            json!({"videoId": multipart, "key": "k", "size": 1e20, "token": "ab"}),
            400,
        ),
        (
            "post",
            "/api/internal/jobs",
            "",
            json!({"eventId": "e", "videoId": multipart, "status": "processing", "width": -1}),
            400,
        ),
        (
            "post",
            "/api/internal/claims",
            "",
            json!({"videoId": multipart, "key": "k", "size": 0, "token": "ab", "jobId": null}),
            200,
        ),
    ];
    let accepted = document_accepts(
        &cases
            .iter()
            .map(|(method, template, _, body, _)| (*method, *template, body.clone()))
            .collect::<Vec<_>>(),
    );
    for ((method, template, path, body, status), document_accepts) in cases.iter().zip(accepted) {
        let answer = match *template {
            "/api/internal/jobs" => app.job_event(body).await,
            "/api/internal/claims" => app.claim(body).await,
            _ => {
                let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                let path = if path.is_empty() { template } else { path };
                app.call(method, path, Some(&admin), Some(body.clone()))
                    .await
            }
        };
        assert_eq!(
            answer.status.as_u16(),
            *status,
            "{method} {template} {body}"
        );
        // Whatever else may fail (a missing cookie is 401), only 400 says "malformed".
        assert_eq!(
            document_accepts,
            answer.status != StatusCode::BAD_REQUEST,
            "the document and the API differ on {method} {template} {body}"
        );
    }
}
