"""Builds CKV_GW_SEC_2: no secret value is written in the synthesized configuration (SEC-3).

A secret version may hold only values built from references (an endpoint, say) and never a
literal string, a literal binary or a URL with a password in it.
"""

import re
from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, is_reference

PASSWORD_IN_URL = re.compile(r"://[^/@\s:]+:[^/@\s]+@")


class NoSecretLiterals(GroundworkCheck):
    id = "CKV_GW_SEC_2"
    name = "Secrets Manager secret versions carry no literal secret value"
    requirement = "SEC-3"
    severity = "CRITICAL"
    resource_types = ("aws_secretsmanager_secret_version",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        if body.get("secret_binary") is not None:
            return Verdict.failed("secret_binary is set in the configuration")
        value = body.get("secret_string")
        if value is None:
            return Verdict.passed("no value in configuration")
        if not is_reference(value):
            return Verdict.failed("secret_string is a literal")
        if PASSWORD_IN_URL.search(str(value)):
            return Verdict.failed("secret_string is a URL with a password")
        return Verdict.passed("secret_string is built from references only")


check = NoSecretLiterals()
