"""Builds CKV_GW_APP_72: deployments roll with zero downtime (APP-3). In single-revision mode
Container Apps keeps the old revision serving until the new one's replicas pass their readiness
probe, then shifts all traffic; that needs the single mode, a readiness probe and all traffic
on the latest revision."""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks, combine, expect_equal


class AzureAppRolling(GroundworkCheck):
    id = "CKV_GW_APP_72"
    name = "Container App rolls out single revisions gated by a readiness probe"
    requirement = "APP-3"
    severity = "MEDIUM"
    resource_types = ("azurerm_container_app",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        verdicts = [expect_equal("revision_mode", body.get("revision_mode"), "Single", "APP-3")]
        containers = blocks((blocks(body, "template") or [{}])[0], "container")
        if not containers or not all(blocks(c, "readiness_probe") for c in containers):
            verdicts.append(
                Verdict.failed("a container has no readiness probe to gate the rollout")
            )
        weights = [
            weight
            for ingress in blocks(body, "ingress")
            for weight in blocks(ingress, "traffic_weight")
        ]
        if not any(
            w.get("latest_revision") is True and w.get("percentage") == 100 for w in weights
        ):
            verdicts.append(Verdict.failed("traffic is not 100 % on the latest (ready) revision"))
        return combine(verdicts)


check = AzureAppRolling()
