//! CloudFront policies and signatures, and the edge token's rules.

use super::edge_token::{self, EdgeToken};
use super::*;
use model::{ObjectKey, VideoId};

const VIDEO: &str = "0195f0f2-7c1a-7000-8000-000000000001";

fn t(secs: i64) -> Timestamp {
    Timestamp::from_unix_secs(secs)
}

// A throwaway 2048-bit test key, in both PEM encodings.
const PKCS8_PEM: &str = include_str!("../../tests/fixtures/cloudfront_test_key_pkcs8.pem");
const PKCS1_PEM: &str = include_str!("../../tests/fixtures/cloudfront_test_key_pkcs1.pem");

#[test]
fn canned_policy_matches_the_documented_form() {
    assert_eq!(
        policy_statement(
            "https://d111111abcdef8.cloudfront.net/image.jpg",
            1357034400
        ),
        r#"{"Statement":[{"Resource":"https://d111111abcdef8.cloudfront.net/image.jpg","Condition":{"DateLessThan":{"AWS:EpochTime":1357034400}}}]}"#
    );
}

#[test]
fn both_pem_encodings_give_the_same_signatures() {
    let url = "https://d.example/v.mp4?x=1";
    let pkcs1 = CloudFrontSigner::new("K1", PKCS1_PEM, CloudFrontHash::Sha1).unwrap();
    let pkcs8 = CloudFrontSigner::new("K1", PKCS8_PEM, CloudFrontHash::Sha1).unwrap();
    let signed = pkcs1.signed_url(url, t(10)).unwrap();
    assert_eq!(signed, pkcs8.signed_url(url, t(10)).unwrap());
    assert!(signed.starts_with("https://d.example/v.mp4?x=1&Expires=10&Signature="));
    assert!(signed.ends_with("&Key-Pair-Id=K1"));
}

#[test]
fn sha256_announces_itself() {
    let signer = CloudFrontSigner::new("K1", PKCS8_PEM, CloudFrontHash::Sha256).unwrap();
    assert!(
        signer
            .signed_url("https://d.example/v.mp4", t(10))
            .unwrap()
            .ends_with("&Key-Pair-Id=K1&Hash-Algorithm=SHA256")
    );
    let cookies = signer
        .signed_cookies("https://d.example/videos/*", t(10))
        .unwrap();
    let names: Vec<_> = cookies.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        names,
        [
            "CloudFront-Policy",
            "CloudFront-Signature",
            "CloudFront-Key-Pair-Id",
            "CloudFront-Hash-Algorithm"
        ]
    );
}

#[test]
fn refuses_bad_keys() {
    for (id, pem) in [
        ("", PKCS8_PEM),
        ("K-1", PKCS8_PEM),
        ("K1", ""),
        (
            "K1",
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
        ),
        (
            "K1",
            "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----",
        ),
        (
            "K1",
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
        ),
    ] {
        assert!(
            matches!(
                CloudFrontSigner::new(id, pem, CloudFrontHash::Sha1),
                Err(Error::InvalidKey(_))
            ),
            "{id:?} {pem:?}"
        );
    }
}

#[test]
fn refuses_bad_urls() {
    let signer = CloudFrontSigner::new("K1", PKCS8_PEM, CloudFrontHash::Sha1).unwrap();
    for url in [
        "d.example/x",
        "ftp://d.example/x",
        "https://d.example/a b",
        "https://d.example/ü",
        "https://d.example/\"",
        "https://d.example/x#frag",
    ] {
        assert!(
            matches!(signer.signed_url(url, t(1)), Err(Error::InvalidUrl(_))),
            "{url:?}"
        );
        assert!(
            matches!(signer.signed_cookies(url, t(1)), Err(Error::InvalidUrl(_))),
            "{url:?}"
        );
    }
}

#[test]
fn edge_token_round_trip() {
    let video = VideoId::parse(VIDEO).unwrap();
    let key = ObjectKey::mp4(&video);
    let token = edge_token::sign(b"secret", &video, t(1000));
    assert!(!token.contains('/') && !token.contains('=') && !token.contains('+'));
    assert_eq!(EdgeToken::parse(&token).unwrap().expires_at(), t(1000));
    assert_eq!(
        edge_token::verify(b"secret", &token, &key, t(999)),
        Ok((video.clone(), t(1000)))
    );
    assert_eq!(
        edge_token::verify(b"secret", &token, &key, t(1000)),
        Err(Error::PlaybackTokenExpired)
    );
}

#[test]
fn edge_token_opens_every_output_of_its_video_and_nothing_else() {
    let video = VideoId::parse(VIDEO).unwrap();
    let token = edge_token::sign(b"secret", &video, t(1000));
    for key in [
        ObjectKey::hls_master(&video),
        ObjectKey::parse(&format!("videos/{VIDEO}/hls/720p/seg_001.m4s")).unwrap(),
        ObjectKey::storyboard(&video),
    ] {
        assert_eq!(
            edge_token::verify(b"secret", &token, &key, t(0)),
            Ok((video.clone(), t(1000))),
            "{key}"
        );
    }
    let invalid = Err(Error::PlaybackTokenInvalid);
    let other = VideoId::parse("0195f0f2-7c1a-7000-8000-000000000002").unwrap();
    for key in [
        ObjectKey::mp4(&other),
        ObjectKey::source(&video, model::VideoContainer::MP4),
        ObjectKey::parse(&format!("videos/{VIDEO}")).unwrap(),
        ObjectKey::parse("k").unwrap(),
    ] {
        assert_eq!(
            edge_token::verify(b"secret", &token, &key, t(0)),
            invalid,
            "{key}"
        );
    }
}

#[test]
fn edge_token_binds_expiry_and_secret() {
    let video = VideoId::parse(VIDEO).unwrap();
    let key = ObjectKey::mp4(&video);
    let token = edge_token::sign(b"secret", &video, t(1000));
    let (_, mac) = token.split_once('.').unwrap();
    let invalid = Err(Error::PlaybackTokenInvalid);
    assert_eq!(edge_token::verify(b"other", &token, &key, t(0)), invalid);
    assert_eq!(
        edge_token::verify(b"secret", &format!("2000.{mac}"), &key, t(0)),
        invalid
    );
    assert_eq!(
        edge_token::verify(b"", &token, &key, t(0)),
        Err(Error::InvalidKey("empty edge token secret".into()))
    );
}

#[test]
fn edge_token_malformed() {
    let video = VideoId::parse(VIDEO).unwrap();
    let key = ObjectKey::mp4(&video);
    let token = edge_token::sign(b"secret", &video, t(1000));
    let (_, mac) = token.split_once('.').unwrap();
    for bad in [
        String::new(),
        "1000".into(),
        format!(".{mac}"),
        format!("+1000.{mac}"),
        format!("-1.{mac}"),
        format!("99999999999999999999999.{mac}"),
        "1000.!!".into(),
        format!("1000.{}", &mac[..10]),
        format!("1000.{mac}AA"),
    ] {
        assert_eq!(
            edge_token::verify(b"secret", &bad, &key, t(0)),
            Err(Error::PlaybackTokenInvalid),
            "{bad:?}"
        );
    }
}
