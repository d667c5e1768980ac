"""Builds CKV_GW_APP_40: Cloud Run scales between the environment's replica bounds, with the
production floor on the minimum (APP-1).

Cloud Run's autoscaler itself reacts to CPU (60 %) and request concurrency; it has no per-service
CPU or memory target to compare with `scale_cpu_percent`, so only the bounds are checked.
"""

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


class AppScaling(GroundworkCheck):
    id = "CKV_GW_APP_40"
    name = "Cloud Run scales between the environment's min and max replicas"
    requirement = "APP-1"
    severity = "HIGH"
    resource_types = ("google_cloud_run_v2_service",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        service = stack.config.service
        scaling = next(iter(s for t in blocks(body, "template") for s in blocks(t, "scaling")), {})
        low, high = scaling.get("min_instance_count"), scaling.get("max_instance_count")
        return combine(
            [
                expect_equal("min_instance_count", low, service.min_replicas,
                             "service.min_replicas"),
                expect_equal("max_instance_count", high, service.max_replicas,
                             "service.max_replicas"),
                *floor_verdicts(stack, "APP-1", "service.min_replicas", low),
            ]
        )  # fmt: skip


check = AppScaling()
