"""Builds CKV_GW_OBJ_41: buckets are versioned and their lifecycle deletes noncurrent versions
after 90 days and aborts incomplete multipart uploads after 7 (OBJ-3)."""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks, combine

NONCURRENT_DAYS = 90
ABORT_DAYS = 7


class BucketLifecycle(GroundworkCheck):
    id = "CKV_GW_OBJ_41"
    name = "Bucket is versioned; noncurrent versions expire at 90 days, uploads abort at 7"
    requirement = "OBJ-3"
    severity = "MEDIUM"
    resource_types = ("google_storage_bucket",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        verdicts = []
        if (blocks(body, "versioning") or [{}])[0].get("enabled") is not True:
            verdicts.append(Verdict.failed("versioning is off"))
        noncurrent = abort = False
        for rule in blocks(body, "lifecycle_rule"):
            action = (blocks(rule, "action") or [{}])[0].get("type")
            condition = (blocks(rule, "condition") or [{}])[0]
            if (
                action == "Delete"
                and condition.get("days_since_noncurrent_time") == NONCURRENT_DAYS
            ):
                noncurrent = True
            if action == "AbortIncompleteMultipartUpload" and condition.get("age") == ABORT_DAYS:
                abort = True
        if not noncurrent:
            verdicts.append(
                Verdict.failed(f"no rule deletes noncurrent versions at {NONCURRENT_DAYS} days")
            )
        if not abort:
            verdicts.append(
                Verdict.failed(f"no rule aborts incomplete uploads at {ABORT_DAYS} days")
            )
        return combine(verdicts or [Verdict.passed("versioned, 90-day noncurrent, 7-day abort")])


check = BucketLifecycle()
