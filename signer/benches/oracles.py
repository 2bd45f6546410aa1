"""The Python reference points for signer's criterion benches (benches/signer.rs), measured on
the same machine with the same inputs:

- botocore `generate_presigned_url('upload_part', ...)` vs `presign_upload_part`
- PyJWT `decode` of an EdDSA token (with signature and exp checks) vs `verify_jwt_eddsa`

Prints one JSON line: {"botocore_presign_upload_part_ns": ..., "pyjwt_decode_eddsa_ns": ...},
each the median over several runs of the mean time per call, in nanoseconds.

Run: .venv/bin/python signer/benches/oracles.py   (needs requirements-dev.txt installed)
"""

import json
import statistics
import time
import timeit

import botocore.session
import jwt
from botocore.config import Config
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

RUNS = 7


def per_call_ns(function):
    timer = timeit.Timer(function)
    calls, _ = timer.autorange()  # enough calls for >= 0.2 s
    return statistics.median(timer.repeat(repeat=RUNS, number=calls)) / calls * 1e9


def botocore_presign_upload_part():
    s3 = botocore.session.get_session().create_client(
        "s3",
        region_name="us-east-1",
        endpoint_url="https://s3.us-east-1.amazonaws.com",
        aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
        aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "virtual"},
            request_checksum_calculation="when_required",
        ),
    )
    params = {
        "Bucket": "incoming",
        "Key": "uploads/018bcfe5-6800-7707-8707-070707070707/source.mp4",
        "PartNumber": 42,
        "UploadId": "2~iCw_lDY8VoiITF4LfjcgX3DjwbmmT6v",
        "ContentLength": 8 * 1024 * 1024,
    }
    return per_call_ns(
        lambda: s3.generate_presigned_url("upload_part", Params=params, ExpiresIn=3600)
    )


def pyjwt_decode_eddsa():
    key = Ed25519PrivateKey.from_private_bytes(bytes([7] * 32))
    now = int(time.time())
    claims = {
        "sub": "018bcfe5-6800-7101-8101-010101010101",
        "email": "user@example.com",
        "role": "member",
        "iat": now,
        "exp": now + 3600,
        "jti": "jti",
    }
    token = jwt.encode(claims, key, algorithm="EdDSA")
    public = key.public_key()
    return per_call_ns(lambda: jwt.decode(token, public, algorithms=["EdDSA"]))


if __name__ == "__main__":
    print(
        json.dumps(
            {
                "botocore_presign_upload_part_ns": round(botocore_presign_upload_part()),
                "pyjwt_decode_eddsa_ns": round(pyjwt_decode_eddsa()),
            }
        )
    )
