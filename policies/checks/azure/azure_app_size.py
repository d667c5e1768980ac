"""Builds CKV_GW_APP_71: each container gets at least its described service's CPU and memory
limits (APP-2). Container Apps only allows fixed CPU/memory pairs, so the construct picks the
nearest pair at or above the limits; anything below them fails."""

import re
from typing import Any

from azure_app_description import described
from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks, combine, is_reference

UNITS = {"Gi": 1024.0, "Mi": 1.0}


def mebibytes(value: Any) -> float | None:
    match = re.fullmatch(r"([0-9.]+)(Gi|Mi)", str(value))
    return float(match.group(1)) * UNITS[match.group(2)] if match else None


class AzureAppSize(GroundworkCheck):
    id = "CKV_GW_APP_71"
    name = "Container App CPU and memory are at least the environment's limits"
    requirement = "APP-2"
    severity = "MEDIUM"
    resource_types = ("azurerm_container_app",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        service = described(stack, body)
        if service is None:
            return Verdict.failed("the app runs no described service (groundwork-service tag)")
        containers = blocks((blocks(body, "template") or [{}])[0], "container")
        if not containers:
            return Verdict.failed("no container")
        verdicts = []
        for container in containers:
            name, cpu, memory = container.get("name"), container.get("cpu"), container.get("memory")
            if is_reference(cpu) or is_reference(memory):
                verdicts.append(Verdict.unknown(f"{name}: cpu {cpu} / memory {memory}"))
                continue
            mib = mebibytes(memory)
            if cpu is None or float(cpu) < service.cpu_limit:
                verdicts.append(
                    Verdict.failed(f"{name}: cpu {cpu} < cpu_limit {service.cpu_limit}")
                )
            if mib is None or mib < service.memory_limit_mib:
                verdicts.append(
                    Verdict.failed(
                        f"{name}: memory {memory} < memory_limit_mib {service.memory_limit_mib}"
                    )
                )
            else:
                verdicts.append(Verdict.passed(f"{name}: {cpu} vCPU / {memory}"))
        return combine(verdicts)


check = AzureAppSize()
