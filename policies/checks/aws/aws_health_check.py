"""Builds CKV_GW_EDGE_3: each target group probes GET <its service's health path> at the
service's described interval and timeout, at most every 10 s, and drains for 30 s (EDGE-4,
APP-7).

The target group's health check is what makes a target ready (an ALB routes only to healthy
targets), so its interval is EDGE-4's readiness period: "readiness probe every 10 s".

The service behind a target group is the ECS service whose `load_balancer` names it; its
described service (synth/aws_app.py) says the path and timings (`services[].health`,
defaults `/health` every 10 s with a 5 s timeout).
"""

from typing import Any

from groundwork_policy import (
    GroundworkCheck,
    Stack,
    Verdict,
    address_of,
    blocks,
    combine,
    expect_equal,
)

from synth.app import EDGE_4_READINESS_SECONDS
from synth.aws_app import service_by_resource_name

DRAINING_SECONDS = "30"  # EDGE-4


class TargetGroupHealth(GroundworkCheck):
    id = "CKV_GW_EDGE_3"
    name = "Target group health check is its service's GET health path and timings, 30 s draining"
    requirement = "EDGE-4"
    severity = "MEDIUM"
    resource_types = ("aws_lb_target_group",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        services = [
            service
            for ecs in stack.resources("aws_ecs_service").values()
            if any(
                address_of(block.get("target_group_arn")) == self.address
                for block in blocks(ecs, "load_balancer")
            )
            and (service := service_by_resource_name(stack.config, str(ecs.get("name"))))
        ]
        if len(services) != 1:
            return Verdict.failed(
                f"{len(services)} described services are behind this target group, not one"
            )
        (service,) = services
        health = (blocks(body, "health_check") or [{}])[0]
        where = f"services[{service.name}].health"
        interval = health.get("interval")
        if not isinstance(interval, int) or interval > EDGE_4_READINESS_SECONDS:
            return Verdict.failed(
                f"health_check.interval is {interval!r}: EDGE-4 probes readiness every "
                f"{EDGE_4_READINESS_SECONDS} s"
            )
        return combine(
            [
                expect_equal("health_check.path", health.get("path"), service.health.path,
                             f"{where}.path"),
                expect_equal("health_check.interval", health.get("interval"),
                             service.health.interval_seconds, f"{where}.interval_seconds"),
                expect_equal("health_check.timeout", health.get("timeout"),
                             service.health.timeout_seconds, f"{where}.timeout_seconds"),
                expect_equal("deregistration_delay", str(body.get("deregistration_delay")),
                             DRAINING_SECONDS, "EDGE-4"),
            ]
        )  # fmt: skip


check = TargetGroupHealth()
