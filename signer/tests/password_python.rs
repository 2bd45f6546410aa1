//! Password hashes interoperate with Python's reference libraries: bcrypt hashes from
//! `bcrypt` (`$2a$`, `$2b$`, `$2y$`) and argon2id hashes from `argon2-cffi` verify here, and
//! ours verify in `argon2-cffi`. Wrong passwords are refused on both sides.

mod common;

use serde_json::{Value, json};
use signer::password::{Argon2Params, hash_password, needs_rehash, verify_password};

/// bcrypt takes at most 72 bytes; every password here fits.
const PASSWORDS: [&str; 5] = [
    "correct horse battery staple",
    "pässwörd ü",
    "",
    "emoji 🎬 and spaces",
    "0123456789012345678901234567890123456789012345678901234567890123456789ab",
];

#[test]
fn interoperates_with_python_bcrypt_and_argon2_cffi() {
    let cheap = Argon2Params {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };
    let mut ours: Vec<Value> = PASSWORDS
        .iter()
        .enumerate()
        .map(|(i, password)| {
            let salt = [i as u8 + 1; 16];
            json!({"password": password, "hash": hash_password(password, &salt, &cheap).unwrap()})
        })
        .collect();
    let default_hash =
        hash_password(PASSWORDS[0], b"0123456789abcdef", &Argon2Params::default()).unwrap();
    ours.push(json!({"password": PASSWORDS[0], "hash": default_hash}));

    let oracle = common::run_oracle(
        "passwords.py",
        &json!({"passwords": PASSWORDS, "ours": ours}),
    );

    for (case, verdict) in ours.iter().zip(oracle["ours_verified"].as_array().unwrap()) {
        assert_eq!(
            verdict,
            &json!({"right": true, "wrong": false}),
            "argon2-cffi on {case}"
        );
    }

    let bcrypt_hashes = oracle["bcrypt"].as_array().unwrap();
    assert_eq!(bcrypt_hashes.len(), 3 * PASSWORDS.len());
    for prefix in ["$2a$", "$2b$", "$2y$"] {
        assert!(
            bcrypt_hashes
                .iter()
                .any(|c| c["hash"].as_str().unwrap().starts_with(prefix))
        );
    }
    let argon2_hashes = oracle["argon2"].as_array().unwrap();
    for case in bcrypt_hashes.iter().chain(argon2_hashes) {
        let (password, hash) = (
            case["password"].as_str().unwrap(),
            case["hash"].as_str().unwrap(),
        );
        assert!(
            verify_password(password, hash).unwrap(),
            "{hash} with {password:?}"
        );
        // A prefix, not a suffix: bcrypt ignores bytes past the 72nd.
        assert!(
            !verify_password(&format!("x{password}"), hash).unwrap(),
            "{hash} with a wrong password"
        );
    }

    // bcrypt and cheap argon2 want an upgrade; argon2-cffi's defaults (64 MiB, t=3, p=4)
    // exceed ours in every dimension, so they do not.
    assert!(
        bcrypt_hashes
            .iter()
            .all(|c| needs_rehash(c["hash"].as_str().unwrap(), &Argon2Params::default()))
    );
    let (cheap_hashes, default_hashes) = argon2_hashes.split_at(PASSWORDS.len());
    assert!(
        cheap_hashes
            .iter()
            .all(|c| needs_rehash(c["hash"].as_str().unwrap(), &Argon2Params::default()))
    );
    assert!(!needs_rehash(
        default_hashes[0]["hash"].as_str().unwrap(),
        &Argon2Params::default()
    ));
}
