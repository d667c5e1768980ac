"""Builds CKV_GW_SEC_41: every secret has a rotation period of at most the environment's
`secrets.rotation_days` (90 at most) and a Pub/Sub topic that gets the rotation event (SEC-2)."""

import re
from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks, combine, is_reference


class SecretRotation(GroundworkCheck):
    id = "CKV_GW_SEC_41"
    name = "Secret rotates at most every secrets.rotation_days and notifies a topic"
    requirement = "SEC-2"
    severity = "MEDIUM"
    resource_types = ("google_secret_manager_secret",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        days = stack.config.secrets.rotation_days
        rotation = (blocks(body, "rotation") or [None])[0]
        if rotation is None:
            return Verdict.failed("no rotation")
        period = rotation.get("rotation_period")
        if is_reference(period):
            return Verdict.unknown(f"rotation_period is {period}")
        match = re.fullmatch(r"(\d+)s", str(period))
        verdicts = []
        if not match:
            verdicts.append(Verdict.failed(f"rotation_period is {period!r}"))
        elif int(match.group(1)) > days * 86400:
            verdicts.append(
                Verdict.failed(f"rotation every {int(match.group(1)) // 86400} days > {days}")
            )
        if not blocks(body, "topics"):
            verdicts.append(Verdict.failed("no topic receives the rotation event"))
        return combine(verdicts or [Verdict.passed(f"rotates within {days} days")])


check = SecretRotation()
