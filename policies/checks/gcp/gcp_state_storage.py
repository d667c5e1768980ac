"""Builds CKV_GW_STATE_2: the Terraform state bucket is versioned, encrypted with a Cloud KMS
key and private (uniform access, public access prevention enforced) (STATE-2).

The state bucket is every Cloud Storage bucket of a bootstrap stack (the stack's config has
`role: bootstrap`), and any bucket named like one (`<project>-tfstate`) wherever it is.
Other buckets are not state storage: the check reports nothing on them (Checkov drops an
UNKNOWN result), so a workload stack's STATE-2 coverage stays as it was.
"""

from typing import Any

from checkov.common.models.enums import CheckResult
from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks, combine, stack_for


class StateStorage(GroundworkCheck):
    id = "CKV_GW_STATE_2"
    name = "Terraform state bucket is versioned, encrypted with a Cloud KMS key and private"
    requirement = "STATE-2"
    severity = "HIGH"
    resource_types = ("google_storage_bucket",)

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        stack = stack_for(self._scanned_file)
        config = stack.config if stack else None
        if config is not None and config.role != "bootstrap":
            body = (
                stack.resources("google_storage_bucket").get(self._address[1], {}) if stack else {}
            )
            if body.get("name") != f"{config.gcp.project}-tfstate":
                return CheckResult.UNKNOWN  # not state storage: no result
        return self._decide()

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        verdicts = []
        if not any(block.get("enabled") is True for block in blocks(body, "versioning")):
            verdicts.append(Verdict.failed("versioning is not enabled"))
        if not any(block.get("default_kms_key_name") for block in blocks(body, "encryption")):
            verdicts.append(Verdict.failed("no default Cloud KMS key (encryption)"))
        if body.get("public_access_prevention") != "enforced":
            verdicts.append(Verdict.failed("public_access_prevention is not enforced"))
        if body.get("uniform_bucket_level_access") is not True:
            verdicts.append(Verdict.failed("uniform_bucket_level_access is off (ACLs possible)"))
        return combine(verdicts or [Verdict.passed("versioned, KMS-encrypted, private")])


check = StateStorage()
