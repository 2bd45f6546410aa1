"""PyJWT as the oracle for signer's session JWTs (tests/jwt_pyjwt.rs).

stdin: {"seed_hex", "other_seed_hex", "claims": {...}, "now", "issuer", "audience",
        "verify": [{"token", "now"}]}         tokens signer issued, for PyJWT to check
stdout: {"verdicts": [{"claims"|"error", "header"}],
         "tokens": {name: token}}             tokens PyJWT made, for signer to check
"""

import base64
import datetime
import json
import sys
from unittest import mock

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


def clock_at(unix):
    class FixedDatetime(datetime.datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime.datetime.fromtimestamp(unix, tz)

    return mock.patch("jwt.api_jwt.datetime", FixedDatetime)


def main():
    request = json.load(sys.stdin)
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(request["seed_hex"]))
    other = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(request["other_seed_hex"]))
    public_raw = key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )

    verdicts = []
    for case in request["verify"]:
        with clock_at(case["now"]):
            try:
                claims = jwt.decode(
                    case["token"],
                    key.public_key(),
                    algorithms=["EdDSA"],
                    issuer=request["issuer"],
                    audience=request["audience"],
                    options={"require": ["exp", "iat", "sub", "jti", "iss", "aud"]},
                )
                verdicts.append(
                    {"claims": claims, "header": jwt.get_unverified_header(case["token"])}
                )
            except jwt.PyJWTError as error:
                verdicts.append({"error": type(error).__name__})

    claims = request["claims"]
    now = request["now"]
    tokens = {
        "valid": jwt.encode(claims, key, algorithm="EdDSA"),
        "expired": jwt.encode({**claims, "iat": now - 7200, "exp": now - 3600}, key, algorithm="EdDSA"),
        "not_yet_valid": jwt.encode({**claims, "nbf": now + 3600}, key, algorithm="EdDSA"),
        "issued_in_future": jwt.encode({**claims, "iat": now + 3600}, key, algorithm="EdDSA"),
        "no_exp": jwt.encode({k: v for k, v in claims.items() if k != "exp"}, key, algorithm="EdDSA"),
        "other_key": jwt.encode(claims, other, algorithm="EdDSA"),
        "other_issuer": jwt.encode({**claims, "iss": "someone-else"}, key, algorithm="EdDSA"),
        "other_audience": jwt.encode({**claims, "aud": "another-api"}, key, algorithm="EdDSA"),
        "no_audience": jwt.encode({k: v for k, v in claims.items() if k != "aud"}, key, algorithm="EdDSA"),
        "alg_none": jwt.encode(claims, None, algorithm="none"),
        # Algorithm confusion: an HMAC "signature" keyed with our public key, in the forms a
        # verifier might hold it (raw bytes, base64 text).
        "hs256_public_raw": jwt.encode(claims, public_raw, algorithm="HS256"),
        "hs256_public_base64": jwt.encode(
            claims, base64.b64encode(public_raw), algorithm="HS256"
        ),
    }
    json.dump({"verdicts": verdicts, "tokens": tokens}, sys.stdout)


if __name__ == "__main__":
    main()
