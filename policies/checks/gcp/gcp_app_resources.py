"""Builds CKV_GW_APP_41: each Cloud Run service's container CPU and memory limits are its
described ones (APP-2, synth/app.py). Cloud Run has limits only; the request is what an
idle instance is billed for."""

from typing import Any

from gcp_app_services import described
from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks, combine, is_reference


class AppResources(GroundworkCheck):
    id = "CKV_GW_APP_41"
    name = "Each Cloud Run container's CPU and memory limits match its described service"
    requirement = "APP-2"
    severity = "MEDIUM"
    resource_types = ("google_cloud_run_v2_service",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        service = described(stack.config, body)
        if service is None:
            return Verdict.failed(f"{body.get('name')!r} is no described service (APP-7)")
        # The serving container is the one with a port; sidecars (the Cloud SQL Auth Proxy)
        # take no traffic and are sized and probed for their own job.
        containers = [
            c
            for t in blocks(body, "template")
            for c in blocks(t, "containers")
            if blocks(c, "ports") or len(blocks(t, "containers")) == 1
        ]
        if not containers:
            return Verdict.failed("no container in the template")
        verdicts = []
        for container in containers:
            limits = next(iter(r.get("limits") for r in blocks(container, "resources")), None)
            if not limits:
                verdicts.append(Verdict.failed("resources.limits is not set"))
                continue
            cpu, memory = limits.get("cpu"), limits.get("memory")
            if is_reference(cpu) or is_reference(memory):
                verdicts.append(Verdict.unknown(f"limits are expressions: {limits}"))
                continue
            cpu_value = float(cpu[:-1]) / 1000 if str(cpu).endswith("m") else float(cpu)
            if cpu_value < service.cpu_limit:
                verdicts.append(Verdict.failed(f"cpu {cpu}; want {service.cpu_limit}"))
            wanted = f"{service.memory_limit_mib}Mi"
            if memory != wanted:
                verdicts.append(Verdict.failed(f"memory {memory}; want {wanted}"))
        return combine(verdicts or [Verdict.passed("limits match service config")])


check = AppResources()
