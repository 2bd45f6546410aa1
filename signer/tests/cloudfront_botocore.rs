//! CloudFront signed URLs and cookies against botocore's `CloudFrontSigner` (SHA-1, the
//! variant botocore implements): identical bytes for the same RSA key and expiry. The SHA-256
//! variant (which botocore lacks) is checked with `cryptography`: the signature verifies under
//! the public key over the same policy, and the URL carries the right parameters.

mod common;

use serde_json::{Value, json};
use signer::playback::{CloudFrontHash, CloudFrontSigner};

const PKCS1_PEM: &str = include_str!("fixtures/cloudfront_test_key_pkcs1.pem");
const PKCS8_PEM: &str = include_str!("fixtures/cloudfront_test_key_pkcs8.pem");
const KEY_PAIR_ID: &str = "K2JCJMDEHXQW5F";

const URLS: [(&str, u64); 4] = [
    (
        "https://d111111abcdef8.cloudfront.net/videos/0190/video.mp4",
        1_767_225_600,
    ),
    (
        "https://d111111abcdef8.cloudfront.net/image.jpg?size=large&x=%20y",
        1_357_034_400,
    ),
    ("http://media.example.com/a%C3%BC/b~c.m3u8", 4_102_444_800),
    ("https://d111111abcdef8.cloudfront.net/", 1),
];
const WILDCARDS: [(&str, u64); 2] = [
    (
        "https://d111111abcdef8.cloudfront.net/videos/0190/*",
        1_767_225_600,
    ),
    ("https://*.example.com/hls/*.ts", 1_800_000_000),
];

/// `name=value` pairs after the first `?` that signer appended to `url`.
fn params_after<'a>(signed: &'a str, url: &str) -> Vec<(&'a str, &'a str)> {
    signed[url.len() + 1..]
        .split('&')
        .map(|pair| pair.split_once('=').unwrap())
        .collect()
}

#[test]
fn matches_botocore_cloudfront_signer() {
    let pkcs1 = CloudFrontSigner::new(KEY_PAIR_ID, PKCS1_PEM, CloudFrontHash::Sha1).unwrap();
    let pkcs8 = CloudFrontSigner::new(KEY_PAIR_ID, PKCS8_PEM, CloudFrontHash::Sha1).unwrap();
    let sha256 = CloudFrontSigner::new(KEY_PAIR_ID, PKCS8_PEM, CloudFrontHash::Sha256).unwrap();

    let sha256_urls: Vec<String> = URLS
        .iter()
        .map(|(url, expires)| sha256.signed_url(url, expiry(*expires)).unwrap())
        .collect();
    let sha256_cases: Vec<Value> = URLS
        .iter()
        .zip(&sha256_urls)
        .map(|((url, expires), signed)| {
            let params = params_after(signed, url);
            let signature = params
                .iter()
                .find(|(name, _)| *name == "Signature")
                .unwrap()
                .1;
            json!({"policy": policy(url, *expires), "signature": signature})
        })
        .collect();

    let oracle = common::run_oracle(
        "cloudfront.py",
        &json!({
            "private_key_pem": PKCS8_PEM,
            "key_pair_id": KEY_PAIR_ID,
            "urls": URLS.iter().map(|(url, expires)| json!({"url": url, "expires": expires})).collect::<Vec<_>>(),
            "policies": WILDCARDS.iter().map(|(resource, expires)| json!({"resource": resource, "expires": expires})).collect::<Vec<_>>(),
            "sha256": sha256_cases,
        }),
    );

    for (i, (url, expires)) in URLS.iter().enumerate() {
        let theirs = oracle["urls"][i].as_str().unwrap();
        assert_eq!(
            oracle["canned_policies"][i].as_str().unwrap(),
            policy(url, *expires)
        );
        assert_eq!(
            pkcs1.signed_url(url, expiry(*expires)).unwrap(),
            theirs,
            "{url}"
        );
        assert_eq!(
            pkcs8.signed_url(url, expiry(*expires)).unwrap(),
            theirs,
            "{url}"
        );
        // Canned-policy cookies carry exactly the URL's parameters.
        let cookies = pkcs8.signed_cookies(url, expiry(*expires)).unwrap();
        let expected: Vec<(String, String)> = params_after(theirs, url)
            .into_iter()
            .map(|(name, value)| (format!("CloudFront-{name}"), value.to_string()))
            .collect();
        assert_eq!(cookies, expected, "cookies for {url}");

        // SHA-256: a valid signature under the public key, announced in the URL.
        assert!(
            oracle["sha256_valid"][i].as_bool().unwrap(),
            "SHA-256 signature for {url}"
        );
        let names: Vec<&str> = params_after(&sha256_urls[i], url)
            .iter()
            .map(|(n, _)| *n)
            .collect();
        assert_eq!(
            names,
            ["Expires", "Signature", "Key-Pair-Id", "Hash-Algorithm"]
        );
        assert!(sha256_urls[i].contains(&format!("Expires={expires}&")));
        assert!(
            sha256_urls[i].ends_with(&format!("&Key-Pair-Id={KEY_PAIR_ID}&Hash-Algorithm=SHA256"))
        );
    }

    // Wildcard resources: the custom-policy query string (appended to every segment URI of a
    // playlist) and cookies equal botocore's custom-policy parameters.
    for (i, (resource, expires)) in WILDCARDS.iter().enumerate() {
        let theirs = oracle["policies"][i].as_str().unwrap();
        assert_eq!(
            pkcs1.signed_query(resource, expiry(*expires)).unwrap(),
            theirs[resource.len() + 1..],
            "{resource}"
        );
        let expected: Vec<(String, String)> = params_after(theirs, resource)
            .into_iter()
            .map(|(name, value)| (format!("CloudFront-{name}"), value.to_string()))
            .collect();
        assert_eq!(
            pkcs1.signed_cookies(resource, expiry(*expires)).unwrap(),
            expected,
            "{resource}"
        );
    }
}

/// The canned policy as CloudFront documents it (the oracle checks botocore writes the same).
fn expiry(unix: u64) -> model::Timestamp {
    model::Timestamp::from_unix_secs(unix as i64)
}

fn policy(resource: &str, expires: u64) -> String {
    format!(
        r#"{{"Statement":[{{"Resource":"{resource}","Condition":{{"DateLessThan":{{"AWS:EpochTime":{expires}}}}}}}]}}"#
    )
}
