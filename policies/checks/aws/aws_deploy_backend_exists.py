"""Builds CKV_GW_DEPLOY_22: the state backend exists before `terraform init` (DEPLOY-5).

`init` needs the backend's bucket before anything is applied, so a stack cannot keep its
state in a bucket it creates itself (the bootstrap stack's state is local for that reason,
STATE-2): nobody would have created it yet. Judged on the stack's default `aws` provider,
once per stack.
"""

from typing import Any

from groundwork_policy import GroundworkProviderCheck, Stack, Verdict


class BackendExists(GroundworkProviderCheck):
    id = "CKV_GW_DEPLOY_22"
    name = "The state backend is not a bucket the same stack creates"
    requirement = "DEPLOY-5"
    severity = "HIGH"
    providers = ("aws",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        backend = stack.document.get("terraform", {}).get("backend", {})
        s3 = backend.get("s3")
        if not s3:
            return Verdict.passed(f"{next(iter(backend), 'no')} backend; no bucket to create")
        bucket = s3.get("bucket")
        mine = [
            name
            for name, b in stack.resources("aws_s3_bucket").items()
            if b.get("bucket") == bucket
        ]
        if mine:
            return Verdict.failed(f"state bucket {bucket} is created by this stack ({mine[0]})")
        return Verdict.passed(f"state bucket {bucket} exists before this stack")


check = BackendExists()
