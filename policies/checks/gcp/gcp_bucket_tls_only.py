"""Builds CKV_GW_OBJ_44: a Cloud Storage bucket refuses requests that do not use TLS (OBJ-5).

No bucket can meet this. The JSON API endpoints accept HTTPS only, but the XML API endpoints
(`storage.googleapis.com/BUCKET/OBJECT`, `BUCKET.storage.googleapis.com/OBJECT`) accept HTTP
or HTTPS ("XML API endpoints support Secure Sockets Layer (SSL) encryption, which means you
can use either HTTP or HTTPS": https://cloud.google.com/storage/docs/request-endpoints), and
neither the bucket resource nor IAM has a condition that refuses plain HTTP (there is no
counterpart of S3's `aws:SecureTransport`). So the check fails every bucket, and the
construct that creates one declares the gap as a waiver with what mitigates it
(constructs/gcp/waivers.py, `plain_http_xml_api`): the gate reports OBJ-5 as waived, never
as a pass it is not. CKV_GW_OBJ_43 still judges what a bucket can set towards it (uniform
access, public access prevention), so the waiver of this platform limit hides neither.
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict


class BucketTlsOnly(GroundworkCheck):
    id = "CKV_GW_OBJ_44"
    name = "Cloud Storage bucket refuses requests without TLS"
    requirement = "OBJ-5"
    severity = "MEDIUM"
    resource_types = ("google_storage_bucket",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        return Verdict.failed(
            f"{body.get('name')}: Cloud Storage's XML API accepts plain HTTP and no bucket "
            "setting or IAM condition refuses it"
        )


check = BucketTlsOnly()
