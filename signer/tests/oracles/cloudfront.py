"""botocore's CloudFrontSigner (with `cryptography` as its RSA signer) as the oracle for
signer's CloudFront URLs and cookies (tests/cloudfront_botocore.rs).

stdin: {"private_key_pem", "key_pair_id",
        "urls": [{"url", "expires"}],          signed by botocore with a canned policy (SHA-1)
        "policies": [{"resource", "expires"}], signed by botocore with a custom policy (SHA-1)
        "sha256": [{"policy", "signature"}]}   signer's SHA-256 signatures to check
stdout: {"urls": [...], "policies": [...], "sha256_valid": [bool...]}
"""

import base64
import datetime
import json
import sys

from botocore.signers import CloudFrontSigner
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding


def main():
    request = json.load(sys.stdin)
    key = serialization.load_pem_private_key(request["private_key_pem"].encode(), password=None)

    def rsa_sha1(message):
        return key.sign(message, padding.PKCS1v15(), hashes.SHA1())

    signer = CloudFrontSigner(request["key_pair_id"], rsa_sha1)

    def when(unix):
        return datetime.datetime.fromtimestamp(unix, datetime.timezone.utc)

    urls = [
        signer.generate_presigned_url(case["url"], date_less_than=when(case["expires"]))
        for case in request["urls"]
    ]
    policies = [
        signer.generate_presigned_url(
            case["resource"],
            policy=signer.build_policy(case["resource"], when(case["expires"])),
        )
        for case in request["policies"]
    ]

    def unbase64(text):
        return base64.b64decode(text.replace("-", "+").replace("_", "=").replace("~", "/"))

    def valid_sha256(case):
        try:
            key.public_key().verify(
                unbase64(case["signature"]),
                case["policy"].encode(),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
            return True
        except InvalidSignature:
            return False

    json.dump(
        {
            "urls": urls,
            "policies": policies,
            "sha256_valid": [valid_sha256(case) for case in request["sha256"]],
            # botocore's canned policy text, to check that what signer signs is the same.
            "canned_policies": [
                signer.build_policy(case["url"], when(case["expires"])) for case in request["urls"]
            ],
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
