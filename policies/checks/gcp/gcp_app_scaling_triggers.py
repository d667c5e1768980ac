"""Builds CKV_GW_APP_46: every Cloud Run service that autoscales honours APP-1's triggers,
CPU above its described `scale_cpu_percent` and memory above its `scale_memory_percent`.

Cloud Run's autoscaler is not configurable by metric: it adds instances to keep CPU near
60 % of the allocated CPU and request concurrency below the configured maximum
(https://cloud.google.com/run/docs/about-instance-autoscaling). So a CPU trigger at or
above 60 % is met (the platform scales earlier), a lower one is not, and a memory trigger
never is: memory is not an autoscaling signal on Cloud Run. That fails on every service
that autoscales, and the service construct waives it with that reason, so the gate reports
APP-1 as waived rather than passed. A service pinned to one instance count (min = max) has
no trigger to honour.
"""

from typing import Any

from gcp_app_services import described
from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks, combine

CLOUD_RUN_CPU_TARGET = 60  # percent, fixed by the platform


class AppScalingTriggers(GroundworkCheck):
    id = "CKV_GW_APP_46"
    name = "Cloud Run autoscales on APP-1's CPU and memory triggers"
    requirement = "APP-1"
    severity = "MEDIUM"
    resource_types = ("google_cloud_run_v2_service",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        service = described(stack.config, body)
        if service is None:
            return Verdict.failed(f"{body.get('name')!r} is no described service (APP-7)")
        scaling = next(iter(s for t in blocks(body, "template") for s in blocks(t, "scaling")), {})
        low, high = scaling.get("min_instance_count"), scaling.get("max_instance_count")
        if low is not None and low == high:
            return Verdict.passed(f"a fixed {low} instances: no autoscaling trigger applies")
        verdicts = []
        if service.scale_cpu_percent >= CLOUD_RUN_CPU_TARGET:
            verdicts.append(
                Verdict.passed(
                    f"Cloud Run scales at ~{CLOUD_RUN_CPU_TARGET} % CPU, within the "
                    f"{service.scale_cpu_percent} % trigger"
                )
            )
        else:
            verdicts.append(
                Verdict.failed(
                    f"CPU trigger {service.scale_cpu_percent} % is below Cloud Run's fixed "
                    f"~{CLOUD_RUN_CPU_TARGET} % target"
                )
            )
        verdicts.append(
            Verdict.failed(
                f"memory > {service.scale_memory_percent} % cannot trigger scaling: memory is "
                "not an autoscaling signal on Cloud Run"
            )
        )
        return combine(verdicts)


check = AppScalingTriggers()
