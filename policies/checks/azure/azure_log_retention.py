"""Builds CKV_GW_OBS_70: the central Log Analytics workspace keeps logs for the environment's
retention (OBS-1; floor from synth.config.FLOORS) with local (key-based) auth off. Azure
encrypts workspace data at rest with Microsoft-managed keys; a dedicated cluster would be
needed for a customer key, which the sizing table does not ask for."""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, combine, expect_equal, floor_verdicts


class AzureLogRetention(GroundworkCheck):
    id = "CKV_GW_OBS_70"
    name = "Log Analytics workspace keeps the environment's log retention"
    requirement = "OBS-1"
    severity = "MEDIUM"
    resource_types = ("azurerm_log_analytics_workspace",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        # Absent is the provider's 30-day default: not necessarily the configured retention.
        retention = body.get("retention_in_days")
        return combine([
            expect_equal("retention_in_days", retention, stack.config.logs.retention_days,
                         "logs.retention_days"),
            *floor_verdicts(stack, "OBS-1", "logs.retention_days", retention),
            expect_equal("local_authentication_enabled", body.get("local_authentication_enabled"),
                         False, "OBS-1"),
        ])  # fmt: skip


check = AzureLogRetention()
