"""Builds CKV_GW_APP_2: target-tracking thresholds are the environment's CPU and memory
triggers (APP-1: CPU > 70 %, memory > 80 % by default)."""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, expect_equal


class AppScalingTriggers(GroundworkCheck):
    id = "CKV_GW_APP_2"
    name = "ECS target-tracking policies use the environment's CPU and memory thresholds"
    requirement = "APP-1"
    severity = "MEDIUM"
    resource_types = ("aws_appautoscaling_policy",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        service = stack.config.service
        tracking = body.get("target_tracking_scaling_policy_configuration") or {}
        metric = (tracking.get("predefined_metric_specification") or {}).get(
            "predefined_metric_type"
        )
        wanted = {
            "ECSServiceAverageCPUUtilization": (service.scale_cpu_percent, "scale_cpu_percent"),
            "ECSServiceAverageMemoryUtilization": (
                service.scale_memory_percent,
                "scale_memory_percent",
            ),
        }
        if metric not in wanted:
            return Verdict.failed(f"not a CPU or memory target-tracking policy ({metric})")
        value, field = wanted[metric]
        return expect_equal("target_value", tracking.get("target_value"), value, f"service.{field}")


check = AppScalingTriggers()
