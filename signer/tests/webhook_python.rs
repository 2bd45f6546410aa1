//! Webhook signature headers are identical to what Python's `hmac` computes for the same
//! secret, timestamp and body (binary bodies, empty bodies, long secrets, negative and large
//! timestamps), and each verifies.

mod common;

use serde_json::json;
use signer::webhook;

#[test]
fn matches_python_hmac() {
    let secrets: [&[u8]; 3] = [b"whsec_dev", &[0u8; 100], "ключ".as_bytes()];
    let bodies: [&[u8]; 4] = [
        b"",
        br#"{"id":"job-1","status":"COMPLETE"}"#,
        &[0, 159, 146, 150, 255],
        &[b'x'; 10_000],
    ];
    // The largest: the last second a millisecond Timestamp can hold.
    let timestamps = [0, 1_700_000_000, -1, i64::MAX / 1000];
    let mut cases = Vec::new();
    for secret in secrets {
        for body in bodies {
            for timestamp in timestamps {
                cases.push((secret, body, timestamp));
            }
        }
    }
    let input: Vec<_> = cases
        .iter()
        .map(|(secret, body, timestamp)| {
            json!({"secret_hex": hex::encode(secret), "timestamp": timestamp, "body_hex": hex::encode(body)})
        })
        .collect();
    let oracle = common::run_oracle("webhook_hmac.py", &json!(input));
    let expected = oracle.as_array().unwrap();
    assert_eq!(expected.len(), cases.len());
    for ((secret, body, timestamp), theirs) in cases.iter().zip(expected) {
        let at = model::Timestamp::from_unix_secs(*timestamp);
        let ours = webhook::sign(secret, at, body);
        assert_eq!(ours, theirs.as_str().unwrap());
        assert_eq!(
            webhook::verify(secret, &ours, body, at, std::time::Duration::ZERO),
            Ok(at)
        );
    }
}
