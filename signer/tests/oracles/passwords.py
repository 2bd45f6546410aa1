"""Python's `bcrypt` and `argon2-cffi` as the oracles for signer's password hashes
(tests/password_python.rs).

stdin: {"passwords": [...], "ours": [{"password", "hash"}]}
stdout: {"ours_verified": [{"right": bool, "wrong": bool}],   argon2-cffi on signer's hashes
         "bcrypt": [{"password", "hash"}],                     $2a$, $2b$, $2y$ per password
         "argon2": [{"password", "hash"}]}                     cheap and default parameters
"""

import json
import sys

import bcrypt
from argon2 import PasswordHasher
from argon2.exceptions import VerifyMismatchError

CHEAP = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
DEFAULT = PasswordHasher()


def verifies(hash_, password):
    try:
        return DEFAULT.verify(hash_, password)
    except VerifyMismatchError:
        return False


def main():
    request = json.load(sys.stdin)
    ours_verified = [
        {
            "right": verifies(case["hash"], case["password"]),
            "wrong": verifies(case["hash"], "x" + case["password"]),
        }
        for case in request["ours"]
    ]
    bcrypt_hashes = []
    for password in request["passwords"]:
        secret = password.encode()
        for prefix in (b"2a", b"2b"):
            hash_ = bcrypt.hashpw(secret, bcrypt.gensalt(rounds=4, prefix=prefix)).decode()
            bcrypt_hashes.append({"password": password, "hash": hash_})
        # $2y$ (PHP's name for the fixed algorithm) is $2b$ under another prefix; Python's
        # bcrypt verifies it, so it is a hash that circulates.
        hash_ = bcrypt.hashpw(secret, bcrypt.gensalt(rounds=5)).decode().replace("$2b$", "$2y$", 1)
        assert bcrypt.checkpw(secret, hash_.encode())
        bcrypt_hashes.append({"password": password, "hash": hash_})
    argon2_hashes = [{"password": p, "hash": CHEAP.hash(p)} for p in request["passwords"]]
    argon2_hashes.append({"password": request["passwords"][0], "hash": DEFAULT.hash(request["passwords"][0])})
    json.dump(
        {"ours_verified": ours_verified, "bcrypt": bcrypt_hashes, "argon2": argon2_hashes},
        sys.stdout,
    )


if __name__ == "__main__":
    main()
