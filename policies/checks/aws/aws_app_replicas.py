"""Builds CKV_GW_APP_1: each ECS service scales between its described service's replica
bounds (APP-7), on CPU and memory (APP-1)."""

from typing import Any

from groundwork_policy import (
    GroundworkCheck,
    Stack,
    Verdict,
    combine,
    ecs_service_of,
    expect_equal,
    floor_verdicts,
    references_to,
)

from synth.aws_app import service_of_ecs_address

METRICS = ("ECSServiceAverageCPUUtilization", "ECSServiceAverageMemoryUtilization")


class AppReplicaBounds(GroundworkCheck):
    id = "CKV_GW_APP_1"
    name = "ECS service autoscaling uses the environment's min/max replicas on CPU and memory"
    requirement = "APP-1"
    severity = "HIGH"
    resource_types = ("aws_appautoscaling_target",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        if body.get("service_namespace") != "ecs":
            return Verdict.passed("not an ECS scaling target")
        assert stack.config is not None
        service = service_of_ecs_address(
            stack.config, stack.graph.bodies, ecs_service_of(stack, body.get("resource_id"))
        )
        if service is None:
            return Verdict.failed("scales an ECS service that is not a described service")
        where = f"services[{service.name}]"
        minimum = body.get("min_capacity")
        policies = references_to(stack, "aws_appautoscaling_policy", "resource_id", self.address)
        metrics = {
            stack.resources("aws_appautoscaling_policy")[name]
            .get("target_tracking_scaling_policy_configuration", {})
            .get("predefined_metric_specification", {})
            .get("predefined_metric_type")
            for name in policies
        }
        verdicts = [
            expect_equal("min_capacity", minimum, service.min_replicas, f"{where}.min_replicas"),
            *floor_verdicts(stack, "APP-1", "service.min_replicas", minimum),
            expect_equal("max_capacity", body.get("max_capacity"), service.max_replicas,
                         f"{where}.max_replicas"),
        ]  # fmt: skip
        verdicts += [
            Verdict.failed(f"no target-tracking policy on {metric}")
            for metric in METRICS
            if metric not in metrics
        ]
        return combine(verdicts)


check = AppReplicaBounds()
