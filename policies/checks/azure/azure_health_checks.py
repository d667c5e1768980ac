"""Builds CKV_GW_EDGE_73: the app is probed on GET /health: readiness every 10 s, liveness every
30 s, and it gets 30 s to shut down gracefully (EDGE-4, Container Apps)."""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks, combine, expect_equal


class AzureHealthChecks(GroundworkCheck):
    id = "CKV_GW_EDGE_73"
    name = "Container App probes /health (readiness 10 s, liveness 30 s) with 30 s grace"
    requirement = "EDGE-4"
    severity = "MEDIUM"
    resource_types = ("azurerm_container_app",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        template = (blocks(body, "template") or [{}])[0]
        verdicts = [
            expect_equal("termination_grace_period_seconds",
                         template.get("termination_grace_period_seconds"), 30, "EDGE-4"),
        ]  # fmt: skip
        containers = blocks(template, "container")
        if not containers:
            verdicts.append(Verdict.failed("no container"))
        for container in containers:
            for kind, interval in (("readiness_probe", 10), ("liveness_probe", 30)):
                probes = blocks(container, kind)
                if not probes:
                    verdicts.append(Verdict.failed(f"{container.get('name')}: no {kind}"))
                for probe in probes:
                    verdicts += [
                        expect_equal(f"{kind}.path", probe.get("path"), "/health", "EDGE-4"),
                        expect_equal(f"{kind}.interval_seconds", probe.get("interval_seconds"),
                                     interval, "EDGE-4"),
                    ]  # fmt: skip
        return combine(verdicts)


check = AzureHealthChecks()
