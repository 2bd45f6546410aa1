//! Hot paths of the edge: presigning an UploadPart URL, verifying a session JWT, and the
//! (deliberately slow) password hash at its default cost.
//!
//! Run: `cargo bench -p signer --bench signer` (HTML-free criterion; results under
//! `target/criterion/`). `cargo xtask bench` runs it next to `benches/oracles.py` and prints
//! the ratios against botocore and PyJWT.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use model::{BucketName, Email, ObjectKey, Role, Timestamp, UserId, VideoContainer, VideoId};
use signer::jwt::JwtIssuer;
use signer::password::{Argon2Params, hash_password, verify_password};
use signer::s3::{Addressing, Credentials, S3Config, S3Request};

fn presign_upload_part(c: &mut Criterion) {
    let s3 = S3Config {
        endpoint: "https://s3.us-east-1.amazonaws.com".into(),
        region: "us-east-1".into(),
        addressing: Addressing::VirtualHosted,
        credentials: Credentials {
            access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
            session_token: None,
        },
    };
    let bucket = BucketName::parse("incoming").unwrap();
    let video = VideoId::new(Timestamp::from_unix_ms(1_700_000_000_000), [7; 10]);
    let key = ObjectKey::source(&video, VideoContainer::MP4);
    let now = Timestamp::from_unix_secs(1_700_000_000);
    // Prepared once, as the edge keeps it.
    let s3 = s3.signer().unwrap();
    c.bench_function("presign_upload_part", |b| {
        b.iter(|| {
            let request = S3Request::UploadPart {
                bucket: &bucket,
                key: &key,
                upload_id: "2~iCw_lDY8VoiITF4LfjcgX3DjwbmmT6v",
                part_number: black_box(42),
                content_length: 8 * 1024 * 1024,
            };
            s3.presign(&request, now, Duration::from_secs(3600))
                .unwrap()
        })
    });
}

fn verify_jwt(c: &mut Criterion) {
    let issuer = JwtIssuer::from_seed(
        &[7; 32],
        signer::jwt::TokenScope {
            issuer: "edgevid".into(),
            audience: "edgevid-api".into(),
        },
    );
    let user = UserId::new(Timestamp::from_unix_ms(1_700_000_000_000), [1; 10]);
    let email = Email::parse("user@example.com").unwrap();
    let now = Timestamp::from_unix_secs(1_700_000_000);
    let (token, _) = issuer
        .issue(
            &user,
            &email,
            Role::Member,
            "jti",
            now,
            Duration::from_secs(3600),
        )
        .unwrap();
    let verifier = issuer.verifier();
    c.bench_function("verify_jwt_eddsa", |b| {
        b.iter(|| {
            verifier
                .verify(black_box(&token), now, Duration::ZERO)
                .unwrap()
        })
    });
}

fn password(c: &mut Criterion) {
    let params = Argon2Params::default();
    let salt = *b"0123456789abcdef";
    let hash = hash_password("correct horse battery staple", &salt, &params).unwrap();
    let mut group = c.benchmark_group("password_argon2id_default");
    group.sample_size(10);
    group.bench_function("hash", |b| {
        b.iter(|| hash_password(black_box("correct horse battery staple"), &salt, &params).unwrap())
    });
    group.bench_function("verify", |b| {
        b.iter(|| verify_password(black_box("correct horse battery staple"), &hash).unwrap())
    });
    group.finish();
}

criterion_group!(benches, presign_upload_part, verify_jwt, password);
criterion_main!(benches);
