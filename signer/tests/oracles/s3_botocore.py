"""botocore as the oracle for signer's S3 signing (tests/s3_botocore.rs).

Reads one JSON document on stdin:
  {"presign": [case...], "sign": [case...], "bodies": {...}}
and writes one JSON document on stdout with botocore's answers, in the same order.

A presign case names an operation and its inputs; botocore's generate_presigned_url produces
the URL. Parameters go into botocore's dict in the order signer lists them in the URL
(botocore writes query parameters in the order it is given them; the order changes the URL's
bytes, not the signature).

A sign case is a request exactly as signer would send it (method, URL, headers, body): the
signature headers come from botocore's S3SigV4Auth, the Content-MD5 (when asked for) from
hashlib.
"""

import base64
import datetime
import hashlib
import json
import sys
from unittest import mock

import botocore.auth
import botocore.serialize
import botocore.session
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

SESSION = botocore.session.get_session()
CLIENTS = {}


def client(case):
    cache_key = (
        case["endpoint"],
        case["region"],
        case["addressing"],
        case["access_key_id"],
        case["secret_access_key"],
        case.get("session_token"),
    )
    if cache_key not in CLIENTS:
        CLIENTS[cache_key] = SESSION.create_client(
            "s3",
            region_name=case["region"],
            endpoint_url=case["endpoint"],
            aws_access_key_id=case["access_key_id"],
            aws_secret_access_key=case["secret_access_key"],
            aws_session_token=case.get("session_token"),
            config=Config(
                signature_version="s3v4",
                s3={"addressing_style": "virtual" if case["addressing"] == "virtual" else "path"},
                # botocore >= 1.36 otherwise adds CRC32 checksum parameters/headers to some
                # operations by default ("flexible checksums"); signer binds no checksums, so
                # only the checksums an operation strictly requires would be comparable.
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            ),
        )
    return CLIENTS[cache_key]


def at(unix):
    """botocore reads the signing time from here; the tests fix it."""
    moment = datetime.datetime.fromtimestamp(unix, datetime.timezone.utc).replace(tzinfo=None)
    return mock.patch("botocore.auth.get_current_datetime", return_value=moment)


def presign_params(case):
    """(operation name, params) in signer's URL order."""
    op = case["op"]
    p = case["params"]
    params = {"Bucket": case["bucket"]}
    if "key" in case:
        params["Key"] = case["key"]
    if op == "PutObject":
        params["ContentLength"] = p["content_length"]
        params["ContentType"] = p["content_type"]
        if p.get("create_only"):
            params["IfNoneMatch"] = "*"
        return "put_object", params
    if op == "CreateMultipartUpload":
        if p.get("content_type") is not None:
            params["ContentType"] = p["content_type"]
        return "create_multipart_upload", params
    if op == "UploadPart":
        params["PartNumber"] = p["part_number"]
        params["UploadId"] = p["upload_id"]
        params["ContentLength"] = p["content_length"]
        return "upload_part", params
    if op == "ListParts":
        if p.get("part_number_marker") is not None:
            params["PartNumberMarker"] = p["part_number_marker"]
        params["UploadId"] = p["upload_id"]
        return "list_parts", params
    if op == "CompleteMultipartUpload":
        params["UploadId"] = p["upload_id"]
        if p.get("create_only"):
            params["IfNoneMatch"] = "*"
        return "complete_multipart_upload", params
    if op == "AbortMultipartUpload":
        params["UploadId"] = p["upload_id"]
        return "abort_multipart_upload", params
    if op == "GetObject":
        if p.get("response_content_disposition") is not None:
            params["ResponseContentDisposition"] = p["response_content_disposition"]
        if p.get("range") is not None:
            params["Range"] = p["range"]
        return "get_object", params
    if op == "HeadObject":
        return "head_object", params
    if op == "DeleteObject":
        return "delete_object", params
    if op == "ListObjectsV2":
        if p.get("continuation_token") is not None:
            params["ContinuationToken"] = p["continuation_token"]
        params["EncodingType"] = "url"
        if p.get("max_keys") is not None:
            params["MaxKeys"] = p["max_keys"]
        if p.get("prefix") is not None:
            params["Prefix"] = p["prefix"]
        return "list_objects_v2", params
    raise ValueError(f"botocore cannot presign {op}")


def presign(case):
    operation, params = presign_params(case)
    with at(case["now"]):
        return client(case).generate_presigned_url(
            operation, Params=params, ExpiresIn=case["expires_in"]
        )


def sign(case):
    body = base64.b64decode(case["body_base64"])
    headers = dict(case["headers"])
    if case["content_md5"]:
        headers["Content-MD5"] = base64.b64encode(hashlib.md5(body).digest()).decode()
    request = AWSRequest(method=case["method"], url=case["url"], headers=headers, data=body)
    request.context["client_config"] = Config(s3={"payload_signing_enabled": True})
    credentials = Credentials(
        case["access_key_id"], case["secret_access_key"], case.get("session_token")
    )
    with at(case["now"]):
        botocore.auth.S3SigV4Auth(credentials, "s3", case["region"]).add_auth(request)
    return {name.lower(): value for name, value in request.headers.items()}


def bodies(spec):
    """Request bodies as botocore's rest-xml serializer writes them."""
    model = SESSION.get_service_model("s3")
    serializer = botocore.serialize.create_serializer("rest-xml", include_validation=False)

    def body(operation, params):
        return serializer.serialize_to_request(params, model.operation_model(operation))[
            "body"
        ].decode()

    complete = [
        body(
            "CompleteMultipartUpload",
            {
                "Bucket": "b",
                "Key": "k",
                "UploadId": "u",
                "MultipartUpload": {
                    "Parts": [{"PartNumber": n, "ETag": etag} for n, etag in parts]
                },
            },
        )
        for parts in spec["complete"]
    ]
    delete = [
        body(
            "DeleteObjects",
            {
                "Bucket": "b",
                "Delete": {
                    "Objects": [
                        {"Key": k, "VersionId": v} if v is not None else {"Key": k}
                        for k, v in keys
                    ],
                    "Quiet": quiet,
                },
            },
        )
        for keys, quiet in spec["delete"]
    ]
    return {"complete": complete, "delete": delete}


def main():
    request = json.load(sys.stdin)
    json.dump(
        {
            "presign": [presign(case) for case in request["presign"]],
            "sign": [sign(case) for case in request["sign"]],
            "bodies": bodies(request["bodies"]),
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
