"""Builds CKV_GW_SEC_42: no secret value is written into the synthesized configuration or the
state (SEC-3).

- A secret version's data is an expression resolved at apply time (a value the stack
  computes) or a connection string without a password; a literal value fails.
- A value the stack computes goes in the write-only `secret_data_wo` (hashicorp/google 6.x,
  Terraform >= 1.11, which CKV_GW_DEPLOY_2 requires of any `*_wo` argument), never in
  `secret_data`, which Terraform keeps in the state in clear text ("Although sensitive
  attributes do not appear in `terraform plan`, they are still stored in the Terraform
  state", GoogleCloudPlatform/magic-modules#13135, the provider's write-only guide).
- `secret_data_wo` is sent only when `secret_data_wo_version` changes, so it must be set
  (the provider requires the pair, GoogleCloudPlatform/magic-modules#18023).
"""

import re
from typing import Any

from groundwork_policy import GroundworkCheck, Outcome, Stack, Verdict, is_reference

PASSWORD_IN_URL = re.compile(r"://[^/@:\s]+:[^/@\s]+@")


def judge(attribute: str, text: str) -> Verdict:
    if PASSWORD_IN_URL.search(text):
        return Verdict.failed(f"{attribute} is a URL with a password in it")
    if not is_reference(text):
        return Verdict.failed(f"{attribute} is a literal value in the configuration")
    if "://" not in text and re.sub(r"\$\{[^}]+\}", "", text).strip():
        return Verdict.failed(f"{attribute} mixes a literal with an expression")
    return Verdict.passed(f"{attribute}: resolved at apply time")


class SecretValues(GroundworkCheck):
    id = "CKV_GW_SEC_42"
    name = "Secret versions hold no literal secret, and computed values are write-only"
    requirement = "SEC-3"
    severity = "CRITICAL"
    resource_types = ("google_secret_manager_secret_version",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        stored, write_only = body.get("secret_data"), body.get("secret_data_wo")
        if stored is not None:
            verdict = judge("secret_data", str(stored))
            if verdict.outcome is not Outcome.PASS:
                return verdict
            return Verdict.failed(
                "secret_data holds a value the stack computes, so the state keeps it: "
                "use secret_data_wo with secret_data_wo_version"
            )
        if write_only is None:
            return Verdict.passed("no data in the configuration (written outside Terraform)")
        if body.get("secret_data_wo_version") is None:
            return Verdict.failed("secret_data_wo without secret_data_wo_version is never resent")
        verdict = judge("secret_data_wo", str(write_only))
        if verdict.outcome is not Outcome.PASS:
            return verdict
        return Verdict.passed("computed value, write-only: neither in the JSON nor the state")


check = SecretValues()
