"""Builds CKV_GW_SEC_72: no secret value lands in the synthesized JSON or Terraform state:
generated secrets use the write-only `value_wo` (computed at apply time; CKV_GW_DEPLOY_81 refuses
literal placeholders), and a plain `value` is allowed only for a connection string that carries
no password (SEC-3)."""

import re
from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, is_reference

# user:password@ in a URL
PASSWORD_IN_URL = re.compile(r"://[^/@:]+:[^/@]+@")


class AzureSecretValues(GroundworkCheck):
    id = "CKV_GW_SEC_72"
    name = "Key Vault secrets keep values out of the JSON and the state (value_wo)"
    requirement = "SEC-3"
    severity = "CRITICAL"
    resource_types = ("azurerm_key_vault_secret",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        if "value" not in body:
            if "value_wo" in body:
                return Verdict.passed("write-only value")
            return Verdict.failed("neither value_wo nor value is set")
        value = str(body["value"])
        if PASSWORD_IN_URL.search(value):
            return Verdict.failed("value is a URL with a password in it")
        if "://" in value and is_reference(value):
            return Verdict.passed("connection string without a password")
        return Verdict.failed("value is stored in the configuration and the state; use value_wo")


check = AzureSecretValues()
