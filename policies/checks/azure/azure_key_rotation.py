"""Builds CKV_GW_SEC_73: every customer-managed Key Vault key rotates automatically, at most
every 90 days (SEC-4)."""

import re
from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks

MAX_DAYS = 90


def days(duration: Any) -> int | None:
    """ISO 8601 durations as Key Vault writes them: P90D, P3M, P1Y."""
    match = re.fullmatch(r"P([0-9]+)([DMY])", str(duration))
    if not match:
        return None
    return int(match.group(1)) * {"D": 1, "M": 30, "Y": 365}[match.group(2)]


class AzureKeyRotation(GroundworkCheck):
    id = "CKV_GW_SEC_73"
    name = "Key Vault keys rotate automatically at least every 90 days"
    requirement = "SEC-4"
    severity = "HIGH"
    resource_types = ("azurerm_key_vault_key",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        automatic = [
            auto
            for policy in blocks(body, "rotation_policy")
            for auto in blocks(policy, "automatic")
        ]
        if not automatic:
            return Verdict.failed("no automatic rotation policy")
        after = days(automatic[0].get("time_after_creation"))
        if after is None or after > MAX_DAYS:
            return Verdict.failed(
                f"rotates after {automatic[0].get('time_after_creation')}, want <= P{MAX_DAYS}D"
            )
        return Verdict.passed(f"rotates every {after} days")


check = AzureKeyRotation()
