"""Builds CKV_GW_OBJ_1: bucket lifecycles expire noncurrent versions within 90 days and abort
incomplete uploads within 7 (OBJ-3)."""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks, combine

NONCURRENT_DAYS = 90
ABORT_DAYS = 7


class BucketLifecycle(GroundworkCheck):
    id = "CKV_GW_OBJ_1"
    name = "Bucket lifecycle expires noncurrent versions by 90 days and aborts uploads by 7"
    requirement = "OBJ-3"
    severity = "LOW"
    resource_types = ("aws_s3_bucket_lifecycle_configuration",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        rules = [r for r in blocks(body, "rule") if r.get("status") == "Enabled"]
        noncurrent = [
            int(n.get("noncurrent_days", 10**6))
            for r in rules
            for n in blocks(r, "noncurrent_version_expiration")
        ]
        aborts = [
            int(a.get("days_after_initiation", 10**6))
            for r in rules
            for a in blocks(r, "abort_incomplete_multipart_upload")
        ]
        verdicts = []
        if not noncurrent or min(noncurrent) > NONCURRENT_DAYS:
            verdicts.append(Verdict.failed(f"noncurrent versions not expired by {NONCURRENT_DAYS}"))
        if not aborts or min(aborts) > ABORT_DAYS:
            verdicts.append(Verdict.failed(f"incomplete uploads not aborted by {ABORT_DAYS}"))
        return combine(verdicts or [Verdict.passed("lifecycle within OBJ-3")])


check = BucketLifecycle()
