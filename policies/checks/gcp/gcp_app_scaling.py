"""Builds CKV_GW_APP_40: each Cloud Run service scales between its described replica bounds
(synth/app.py; the `service:` block's by default), with the production floor on the minimum
(APP-1).

Cloud Run's autoscaler itself reacts to CPU (60 %) and request concurrency; it has no per-service
CPU or memory target to compare with `scale_cpu_percent`, so only the bounds are checked.
"""

from typing import Any

from gcp_app_services import described
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
    name = "Each Cloud Run service scales between its described min and max replicas"
    requirement = "APP-1"
    severity = "HIGH"
    resource_types = ("google_cloud_run_v2_service",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        service = described(stack.config, body)
        if service is None:
            return Verdict.failed(f"{body.get('name')!r} is no described service (APP-7)")
        scaling = next(iter(s for t in blocks(body, "template") for s in blocks(t, "scaling")), {})
        low, high = scaling.get("min_instance_count"), scaling.get("max_instance_count")
        return combine(
            [
                expect_equal("min_instance_count", low, service.min_replicas,
                             f"services.{service.name}.min_replicas"),
                expect_equal("max_instance_count", high, service.max_replicas,
                             f"services.{service.name}.max_replicas"),
                *floor_verdicts(stack, "APP-1", "service.min_replicas", low),
            ]
        )  # fmt: skip


check = AppScaling()
