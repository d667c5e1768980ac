"""Builds CKV_GW_APP_2: target-tracking thresholds are the CPU and memory triggers of the
described service scaled (APP-7; APP-1: CPU > 70 %, memory > 80 % by default).

Memory is judged as a percentage of the container's hard limit: ECS reports
`ECSServiceAverageMemoryUtilization` against the task's memory
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service_utilization.html), so a
target of 80 with a 512 MiB container in a 2048 MiB task waits for 1638 MiB the container is
killed long before; the effective trigger is target x task memory / container limit.
"""

from typing import Any

from groundwork_policy import (
    GroundworkCheck,
    Stack,
    Verdict,
    ecs_memory_share,
    ecs_service_of,
    expect_equal,
    is_reference,
)

from synth.aws_app import service_of_ecs_address

TOLERANCE = 0.05  # percentage points: the construct rounds the task-relative target to 0.01


class AppScalingTriggers(GroundworkCheck):
    id = "CKV_GW_APP_2"
    name = "ECS target-tracking policies use the environment's CPU and memory thresholds"
    requirement = "APP-1"
    severity = "MEDIUM"
    resource_types = ("aws_appautoscaling_policy",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        ecs_service = ecs_service_of(stack, body.get("resource_id"))
        service = service_of_ecs_address(stack.config, stack.graph.bodies, ecs_service)
        if service is None:
            return Verdict.failed("scales an ECS service that is not a described service")
        tracking = body.get("target_tracking_scaling_policy_configuration") or {}
        metric = (tracking.get("predefined_metric_specification") or {}).get(
            "predefined_metric_type"
        )
        value = tracking.get("target_value")
        if metric == "ECSServiceAverageCPUUtilization":
            return expect_equal(
                "target_value", value, service.scale_cpu_percent, "service.scale_cpu_percent"
            )
        if metric != "ECSServiceAverageMemoryUtilization":
            return Verdict.failed(f"not a CPU or memory target-tracking policy ({metric})")
        if value is None or is_reference(value):
            return Verdict.unknown(f"target_value {value!r} cannot be resolved")
        share = ecs_memory_share(stack, ecs_service)
        if share is None:
            return Verdict.unknown("the service's task definition is not in this stack")
        effective = float(value) / share
        wanted = service.scale_memory_percent
        if abs(effective - wanted) > TOLERANCE:
            return Verdict.failed(
                f"target_value {value} % of task memory is {effective:.1f} % of the container's"
                f" limit; service.scale_memory_percent is {wanted}"
                f" (target {round(wanted * share, 2)})"
            )
        return Verdict.passed(f"memory target {value} % of the task = {wanted} % of the limit")


check = AppScalingTriggers()
