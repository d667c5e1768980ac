"""Builds CKV_GW_SEC_43: every secret of the stack holds a value after the apply: a
`google_secret_manager_secret_version` of it, or a Cloud Run job
that writes its versions (the rotator, constructs/gcp/rotation.py). A secret with no version
is stored in name only; reading it fails (`latest` of a secret without a version,
terraform-provider-google#10846), so SEC-1 is not met by its existence. The GCP stack's
DATABASE_PASSWORD is such a break-glass secret (the app logs in with IAM, DB-9): it fails
here and its construct waives it with that reason, so the gate says waived, never pass.
"""

import re
from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of


def strings(value: Any) -> list[str]:
    """Every string inside a (nested) body, e.g. a job's container commands."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


def written_by_job(stack: Stack, address: str, secret_id: str) -> bool:
    target = rf"(\$\{{{re.escape(address)}\.secret_id\}}|{re.escape(secret_id)})"
    pattern = re.compile(rf"versions add '?{target}'?(\s|$)")
    for job in stack.graph.of_type("google_cloud_run_v2_job").values():
        if any(pattern.search(text) for text in strings(job.get("template"))):
            return True
    return False


class SecretHasValue(GroundworkCheck):
    id = "CKV_GW_SEC_43"
    name = "Every Secret Manager secret holds a value after the apply"
    requirement = "SEC-1"
    severity = "HIGH"
    resource_types = ("google_secret_manager_secret",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        secret_id = str(body.get("secret_id", ""))
        versions = [
            a
            for a, v in stack.graph.of_type("google_secret_manager_secret_version").items()
            if address_of(v.get("secret")) == self.address
        ]
        if versions:
            return Verdict.passed(f"holds the value of {versions[0]}")
        if written_by_job(stack, self.address, secret_id):
            return Verdict.passed("a Cloud Run job writes its versions")
        return Verdict.failed(f"{secret_id} has no version and nothing writes one: no value")


check = SecretHasValue()
