"""Builds CKV_GW_SEC_42: no secret value is written into the synthesized configuration (SEC-3):
a secret version's data is either an expression resolved at apply time (a generated or managed
value) or a connection string without a password; a literal value fails."""

import re
from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, is_reference

PASSWORD_IN_URL = re.compile(r"://[^/@:\s]+:[^/@\s]+@")


class SecretValues(GroundworkCheck):
    id = "CKV_GW_SEC_42"
    name = "Secret versions hold no literal secret: apply-time values or password-free URLs only"
    requirement = "SEC-3"
    severity = "CRITICAL"
    resource_types = ("google_secret_manager_secret_version",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        data = body.get("secret_data")
        if data is None:
            return Verdict.passed("no secret_data in the configuration (write-only or external)")
        text = str(data)
        if PASSWORD_IN_URL.search(text):
            return Verdict.failed("secret_data is a URL with a password in it")
        if not is_reference(text):
            return Verdict.failed("secret_data is a literal value in the configuration")
        if "://" not in text and re.sub(r"\$\{[^}]+\}", "", text).strip():
            return Verdict.failed("secret_data mixes a literal with an expression")
        return Verdict.passed("secret value resolved at apply time")


check = SecretValues()
