"""Builds CKV_GW_DEPLOY_48: every bucket accepts the overwrites and deletes its writers make
(DEPLOY-6).

The GCS backend writes a lock object per run and deletes it after, and overwrites the state
object (https://developer.hashicorp.com/terraform/language/backend/gcs); the app's objects
are replaced too. A retention policy or a default event-based hold makes those deletes fail
(https://cloud.google.com/storage/docs/bucket-lock, /object-holds), and requester pays
rejects callers without a billing project (https://cloud.google.com/storage/docs/
requester-pays). Versioning (OBJ-3) is how old data is kept instead.
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks, combine


class BucketsAcceptTheirWrites(GroundworkCheck):
    id = "CKV_GW_DEPLOY_48"
    name = "No bucket blocks its writers' deletes (retention, default hold, requester pays)"
    requirement = "DEPLOY-6"
    severity = "HIGH"
    resource_types = ("google_storage_bucket",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        verdicts = []
        if blocks(body, "retention_policy"):
            verdicts.append(Verdict.failed("a retention policy blocks lock and object deletes"))
        if body.get("default_event_based_hold") is True:
            verdicts.append(Verdict.failed("a default event-based hold blocks deletes"))
        if body.get("requester_pays") is True:
            verdicts.append(Verdict.failed("requester pays rejects callers without a project"))
        return combine(verdicts or [Verdict.passed("overwrites and deletes succeed")])


check = BucketsAcceptTheirWrites()
