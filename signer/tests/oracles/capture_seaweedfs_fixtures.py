"""Captures real SeaweedFS S3 responses (raw XML bodies, through botocore) as the fixtures
tests/s3_xml_fixtures.rs parses. Not run by the test suite: rerun it by hand when SeaweedFS is
upgraded, against a `weed mini` started with testkit's identities and buckets, e.g.

    .venv/bin/python signer/tests/oracles/capture_seaweedfs_fixtures.py http://127.0.0.1:8333

It writes signer/tests/fixtures/seaweedfs/<name>.xml and prints the SeaweedFS version.
"""

import pathlib
import subprocess
import sys

import botocore.session
from botocore.config import Config
from botocore.exceptions import ClientError

ACCESS_KEY = "edgevid-dev-access-key"
SECRET_KEY = "edgevid-dev-secret-key"
OUT = pathlib.Path(__file__).resolve().parent.parent / "fixtures" / "seaweedfs"
MIB = 1024 * 1024


def main(endpoint):
    session = botocore.session.get_session()

    def client(secret=SECRET_KEY):
        return session.create_client(
            "s3",
            region_name="us-east-1",
            endpoint_url=endpoint,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=secret,
            config=Config(
                s3={"addressing_style": "path"},
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            ),
        )

    s3 = client()
    captured = {}
    state = {"name": None}

    def keep_body(response_dict, **_):
        if state["name"]:
            captured[state["name"]] = response_dict["body"]

    s3.meta.events.register("before-parse.s3.*", keep_body)

    def call(name, operation, **params):
        state["name"] = name
        try:
            return getattr(s3, operation)(**params)
        except ClientError:
            return None
        finally:
            state["name"] = None

    bucket, key = "incoming", "uploads/fixture video/source.mp4"
    upload = call("initiate_multipart_upload", "create_multipart_upload", Bucket=bucket, Key=key, ContentType="video/mp4")
    upload_id = upload["UploadId"]
    etags = []
    for number, size in ((1, 5 * MIB), (2, 5 * MIB), (3, 1234)):
        part = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=b"v" * size)
        etags.append(part["ETag"])
    call("list_parts", "list_parts", Bucket=bucket, Key=key, UploadId=upload_id)
    call("list_parts_truncated", "list_parts", Bucket=bucket, Key=key, UploadId=upload_id, MaxParts=1)
    call(
        "complete_multipart_upload",
        "complete_multipart_upload",
        Bucket=bucket,
        Key=key,
        UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in enumerate(etags, 1)]},
    )
    for extra in ("uploads/fixture video/a+b c.txt", "uploads/fixture video/ü%~.txt"):
        s3.put_object(Bucket=bucket, Key=extra, Body=b"x")
    call("list_objects_v2", "list_objects_v2", Bucket=bucket, Prefix="uploads/fixture video/", EncodingType="url")
    call("list_objects_v2_truncated", "list_objects_v2", Bucket=bucket, Prefix="uploads/", MaxKeys=1, EncodingType="url")
    call("list_objects_v2_empty", "list_objects_v2", Bucket=bucket, Prefix="nothing/here/", EncodingType="url")
    call(
        "delete_objects",
        "delete_objects",
        Bucket=bucket,
        Delete={"Objects": [{"Key": key}, {"Key": "uploads/fixture video/a+b c.txt"}, {"Key": "never/existed"}]},
    )
    call("error_no_such_upload", "list_parts", Bucket=bucket, Key=key, UploadId="no-such-upload")
    call("error_no_such_key", "get_object", Bucket=bucket, Key="never/existed")

    forged = client(secret="not-the-secret")
    forged.meta.events.register("before-parse.s3.*", keep_body)
    state["name"] = "error_signature_does_not_match"
    try:
        forged.list_objects_v2(Bucket=bucket)
    except ClientError:
        pass

    OUT.mkdir(parents=True, exist_ok=True)
    for name, body in sorted(captured.items()):
        (OUT / f"{name}.xml").write_bytes(body)
        print(f"{name}: {len(body)} bytes")
    version = subprocess.run(
        [str(pathlib.Path(sys.executable).parent / "weed"), "version"], capture_output=True, text=True
    ).stdout.strip()
    print(version)


if __name__ == "__main__":
    main(sys.argv[1])
