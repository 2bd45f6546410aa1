"""Python's hmac as the oracle for signer's webhook signatures (tests/webhook_python.rs).

stdin: [{"secret_hex", "timestamp", "body_hex"}]
stdout: ["t=<timestamp>,v1=<hex hmac-sha256(secret, "<timestamp>." + body)>", ...]
"""

import hashlib
import hmac
import json
import sys


def header(case):
    message = f"{case['timestamp']}.".encode() + bytes.fromhex(case["body_hex"])
    digest = hmac.new(bytes.fromhex(case["secret_hex"]), message, hashlib.sha256).hexdigest()
    return f"t={case['timestamp']},v1={digest}"


json.dump([header(case) for case in json.load(sys.stdin)], sys.stdout)
