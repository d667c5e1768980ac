"""Builds CKV_GW_APP_70: each Container App scales between its described service's replica bounds
on CPU and memory utilization at that service's triggers (APP-1; the production floor comes from
synth.config.FLOORS). An app that runs no described service is CKV_GW_APP_76's failure."""

from typing import Any

from azure_app_description import described
from groundwork_policy import (
    GroundworkCheck,
    Stack,
    Verdict,
    blocks,
    combine,
    expect_equal,
    floor_verdicts,
)


class AzureAppScaling(GroundworkCheck):
    id = "CKV_GW_APP_70"
    name = "Container App replica bounds and CPU/memory scale rules follow the config"
    requirement = "APP-1"
    severity = "HIGH"
    resource_types = ("azurerm_container_app",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        service = described(stack, body)
        if service is None:
            return Verdict.failed("the app runs no described service (groundwork-service tag)")
        template = (blocks(body, "template") or [{}])[0]
        low = template.get("min_replicas")
        verdicts = [
            expect_equal("min_replicas", low, service.min_replicas, "min_replicas"),
            expect_equal("max_replicas", template.get("max_replicas"), service.max_replicas,
                         "max_replicas"),
            *floor_verdicts(stack, "APP-1", "service.min_replicas", low),
        ]  # fmt: skip
        rules = {
            rule.get("custom_rule_type"): (blocks(rule, "metadata") or [{}])[0]
            for rule in blocks(template, "custom_scale_rule")
        }
        for kind, wanted, source in (
            ("cpu", service.scale_cpu_percent, "scale_cpu_percent"),
            ("memory", service.scale_memory_percent, "scale_memory_percent"),
        ):
            meta = rules.get(kind)
            if meta is None:
                verdicts.append(Verdict.failed(f"no {kind} scale rule"))
                continue
            verdicts += [
                expect_equal(f"{kind}.type", meta.get("type"), "Utilization", source),
                expect_equal(f"{kind}.value", meta.get("value"), str(wanted), source),
            ]
        return combine(verdicts)


check = AzureAppScaling()
