"""Builds CKV_GW_DEPLOY_105: every ECS service makes the apply wait until it runs the task
definition the apply registered (DEPLOY-6).

Without `wait_for_steady_state` the provider returns as soon as CreateService/UpdateService
returns, so an apply whose tasks never start (a missing secret, an image that cannot run, a
health check that never passes) reports success and serves nothing. With it the provider
waits until the service has one deployment and as many running tasks as desired
(`waitServiceStable`, internal/service/ecs/service.go). That is still satisfied after the
deployment circuit breaker rolled a failed release back to the previous task definition
(hashicorp/terraform-provider-aws#20858, open; terraform-aws-modules/terraform-aws-ecs#325),
so the service also needs a postcondition comparing `self.task_definition` with the task
definition it sets: after a rollback they differ and the apply fails.

Judged on `aws_ecs_service`: `wait_for_steady_state` is true and a `lifecycle.postcondition`
condition compares `self.task_definition` (==) with the expression of its `task_definition`.
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks, is_reference


class ApplyWaitsForRollout(GroundworkCheck):
    id = "CKV_GW_DEPLOY_105"
    name = "Every ECS service's apply waits until it runs the task definition it registered"
    requirement = "DEPLOY-6"
    severity = "HIGH"
    resource_types = ("aws_ecs_service",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        if body.get("wait_for_steady_state") is not True:
            return Verdict.failed(
                "wait_for_steady_state is not true: the apply reports success before (or "
                "whether or not) any task of the new task definition runs"
            )
        wanted = body.get("task_definition")
        if not is_reference(wanted):
            return Verdict.unknown(f"task_definition {wanted!r} is not a reference to compare")
        expression = str(wanted).strip()[2:-1]  # `${aws_ecs_task_definition.x.arn}`
        conditions = [
            str(condition.get("condition", ""))
            for lifecycle in blocks(body, "lifecycle")
            for condition in blocks(lifecycle, "postcondition")
        ]
        compares = [
            c for c in conditions if "self.task_definition" in c and expression in c and "==" in c
        ]
        if not compares:
            return Verdict.failed(
                f"no postcondition compares self.task_definition with {expression}: after the "
                "circuit breaker rolls a failed release back, the service is steady on the "
                "previous task definition and the apply reports success"
            )
        return Verdict.passed(f"waits for steady state and checks {compares[0]}")


check = ApplyWaitsForRollout()
