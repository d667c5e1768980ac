"""Builds CKV_GW_NET_72: the VNet flow log is on and keeps records for the environment's log
retention (NET-4; the production floor comes from synth.config.FLOORS)."""

from typing import Any

from groundwork_policy import (
    GroundworkCheck,
    Stack,
    Verdict,
    blocks,
    combine,
    expect_equal,
    floor_verdicts,
)


class AzureFlowLogs(GroundworkCheck):
    id = "CKV_GW_NET_72"
    name = "Network Watcher flow logs are on and kept for the environment's log retention"
    requirement = "NET-4"
    severity = "MEDIUM"
    resource_types = ("azurerm_network_watcher_flow_log",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        policy = (blocks(body, "retention_policy") or [{}])[0]
        days = policy.get("days") if policy.get("enabled") is True else 0
        verdicts = [
            expect_equal("enabled", body.get("enabled"), True, "NET-4"),
            expect_equal("retention_policy.days", days, stack.config.logs.retention_days,
                         "logs.retention_days"),
            *floor_verdicts(stack, "OBS-1", "logs.retention_days", days),  # the same field's floor
        ]  # fmt: skip
        return combine(verdicts)


check = AzureFlowLogs()
