"""Builds CKV_GW_STATE_3: the Terraform state storage account is versioned, encrypted with a
customer-managed key (and infrastructure encryption) and private: no public blobs, no
shared keys, HTTPS only (STATE-2).

The state account is every storage account of a bootstrap stack (the stack's config has
`role: bootstrap`), and any account named like one (`sttfstate...`) wherever it is. Other
accounts are not state storage: the check reports nothing on them (Checkov drops an UNKNOWN
result), so a workload stack's STATE-2 coverage stays as it was.
"""

from typing import Any

from checkov.common.models.enums import CheckResult
from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks, combine, stack_for

STATE_ACCOUNT_PREFIX = "sttfstate"  # constructs/azure/state.py


class StateStorage(GroundworkCheck):
    id = "CKV_GW_STATE_3"
    name = "Terraform state storage account is versioned, CMK-encrypted and private"
    requirement = "STATE-2"
    severity = "HIGH"
    resource_types = ("azurerm_storage_account",)

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        stack = stack_for(self._scanned_file)
        config = stack.config if stack else None
        if config is not None and config.role != "bootstrap":
            body = (
                stack.resources("azurerm_storage_account").get(self._address[1], {})
                if stack
                else {}
            )
            if not str(body.get("name", "")).startswith(STATE_ACCOUNT_PREFIX):
                return CheckResult.UNKNOWN  # not state storage: no result
        return self._decide()

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        verdicts = []
        if not any(b.get("versioning_enabled") is True for b in blocks(body, "blob_properties")):
            verdicts.append(Verdict.failed("blob versioning is not enabled"))
        if not any(k.get("key_vault_key_id") for k in blocks(body, "customer_managed_key")):
            verdicts.append(Verdict.failed("no customer-managed key"))
        if body.get("infrastructure_encryption_enabled") is not True:
            verdicts.append(Verdict.failed("infrastructure encryption is off"))
        # The provider defaults of these are the unsafe values: they must be explicit.
        for setting, wanted in (
            ("allow_nested_items_to_be_public", False),
            ("shared_access_key_enabled", False),
            ("https_traffic_only_enabled", True),
        ):
            if body.get(setting) is not wanted:
                verdicts.append(Verdict.failed(f"{setting} is {body.get(setting)}, want {wanted}"))
        return combine(verdicts or [Verdict.passed("versioned, CMK-encrypted, private")])


check = StateStorage()
