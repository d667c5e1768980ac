"""Builds CKV_GW_EDGE_73: each service is probed on GET of its described health path: readiness
every `health.interval_seconds` (10 s by default), liveness every 30 s (or the interval, if
longer), each timing out after `health.timeout_seconds`, and it gets 30 s to shut down
gracefully (EDGE-4, Container Apps; synth/app.py for the description)."""

from typing import Any

from azure_app_description import described
from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks, combine, expect_equal


class AzureHealthChecks(GroundworkCheck):
    id = "CKV_GW_EDGE_73"
    name = "Container App probes its health path (readiness, liveness 30 s) with 30 s grace"
    requirement = "EDGE-4"
    severity = "MEDIUM"
    resource_types = ("azurerm_container_app",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        service = described(stack, body)
        if service is None:
            return Verdict.failed("the app runs no described service (groundwork-service tag)")
        health = service.health
        intervals = (
            ("readiness_probe", health.interval_seconds),
            ("liveness_probe", max(30, health.interval_seconds)),
        )
        template = (blocks(body, "template") or [{}])[0]
        verdicts = [
            expect_equal("termination_grace_period_seconds",
                         template.get("termination_grace_period_seconds"), 30, "EDGE-4"),
        ]  # fmt: skip
        containers = blocks(template, "container")
        if not containers:
            verdicts.append(Verdict.failed("no container"))
        for container in containers:
            for kind, interval in intervals:
                probes = blocks(container, kind)
                if not probes:
                    verdicts.append(Verdict.failed(f"{container.get('name')}: no {kind}"))
                for probe in probes:
                    verdicts += [
                        expect_equal(f"{kind}.path", probe.get("path"), health.path,
                                     "health.path"),
                        expect_equal(f"{kind}.interval_seconds", probe.get("interval_seconds"),
                                     interval, "health.interval_seconds"),
                        expect_equal(f"{kind}.timeout", probe.get("timeout"),
                                     health.timeout_seconds, "health.timeout_seconds"),
                    ]  # fmt: skip
        return combine(verdicts)


check = AzureHealthChecks()
