"""Builds CKV_GW_SEC_1: secrets rotate at least every `secrets.rotation_days` (at most 90)
(SEC-2)."""

import re
from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict

RATE = re.compile(r"^rate\((\d+) days?\)$")


class SecretRotation(GroundworkCheck):
    id = "CKV_GW_SEC_1"
    name = "Secrets Manager rotation runs at least every secrets.rotation_days (90 at most)"
    requirement = "SEC-2"
    severity = "HIGH"
    resource_types = ("aws_secretsmanager_secret_rotation",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        wanted = stack.config.secrets.rotation_days
        rules = body.get("rotation_rules") or {}
        rules = rules[0] if isinstance(rules, list) and rules else rules
        days = rules.get("automatically_after_days")
        schedule = rules.get("schedule_expression")
        if days is None and schedule:
            match = RATE.match(str(schedule))
            if not match:
                return Verdict.unknown(f"schedule_expression {schedule} is not rate(N days)")
            days = int(match.group(1))
        if days is None:
            return Verdict.failed("rotation_rules sets no period")
        if int(days) > wanted:
            return Verdict.failed(f"rotates every {days} days; secrets.rotation_days is {wanted}")
        return Verdict.passed(f"rotates every {days} days")


check = SecretRotation()
