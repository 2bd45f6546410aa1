//! The native signer under criterion, beside botocore and PyJWT doing the same work.

use super::{criterion_ns, json_number};
use crate::run::{cmd, output, root, tee};

/// What the native signer measured, with its outside baselines.
pub(super) struct SignerFigures {
    pub(super) presign_ns: f64,
    pub(super) verify_ns: f64,
    pub(super) argon2_verify_ns: f64,
    pub(super) botocore_presign_ns: f64,
    pub(super) lines: Vec<String>,
}

pub(super) fn signer() -> Result<SignerFigures, String> {
    println!("==> signer: criterion (ours) and botocore / PyJWT (baselines)");
    let (result, criterion) = tee(cmd("cargo").args([
        "bench",
        "--locked",
        "--package",
        "signer",
        "--bench",
        "signer",
        "--",
        "--output-format",
        "bencher",
    ]));
    result?;
    let presign = criterion_ns(&criterion, "presign_upload_part")?;
    let verify = criterion_ns(&criterion, "verify_jwt_eddsa")?;
    let hash = criterion_ns(&criterion, "password_argon2id_default/hash")?;
    let argon2_verify = criterion_ns(&criterion, "password_argon2id_default/verify")?;
    let baselines =
        output(cmd(root().join(".venv/bin/python3")).arg(root().join("signer/benches/oracles.py")))
            .ok_or("signer/benches/oracles.py failed")?;
    let botocore = json_number(&baselines, "/botocore_presign_upload_part_ns")?;
    let pyjwt = json_number(&baselines, "/pyjwt_decode_eddsa_ns")?;
    let lines = vec![
        format!(
            "presign UploadPart: ours {:.1} µs, botocore {:.1} µs → {:.0}× faster",
            presign / 1e3,
            botocore / 1e3,
            botocore / presign
        ),
        format!(
            "verify JWT (EdDSA): ours {:.1} µs, PyJWT {:.1} µs → {:.1}× faster (goal ≥ 3×)",
            verify / 1e3,
            pyjwt / 1e3,
            pyjwt / verify
        ),
        format!(
            "argon2id (19 MiB, t=2, p=1), native: hash {:.1} ms, verify {:.1} ms",
            hash / 1e6,
            argon2_verify / 1e6
        ),
    ];
    Ok(SignerFigures {
        presign_ns: presign,
        verify_ns: verify,
        argon2_verify_ns: argon2_verify,
        botocore_presign_ns: botocore,
        lines,
    })
}
