"""Builds CKV_GW_APP_3: each service's container CPU and memory are its described service's
(APP-2, APP-7; the task family names the service, synth/aws_app.py).

Fargate sizes tasks in fixed pairs, so the task must be at least the limits and the
container's reservation and hard limit must be exactly the config's.
"""

import json
import math
from typing import Any

from groundwork_policy import (
    GroundworkCheck,
    Stack,
    Verdict,
    combine,
    expect_equal,
    one_off_task,
)

from synth.aws_app import app_containers, service_by_resource_name


class AppTaskSize(GroundworkCheck):
    id = "CKV_GW_APP_3"
    name = "ECS app container requests and limits CPU and memory as the environment says"
    requirement = "APP-2"
    severity = "MEDIUM"
    resource_types = ("aws_ecs_task_definition",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        if one_off_task(stack, self.address):
            return Verdict.passed("a one-off task no service runs; APP-2 sizes the app's")
        service = service_by_resource_name(stack.config, str(body.get("family")))
        if service is None:
            return Verdict.failed(f"family {body.get('family')!r} is not a described service")
        raw = body.get("container_definitions")
        if not isinstance(raw, str):
            return Verdict.unknown("container_definitions is not a JSON string")
        # The liveness sidecar (synth/aws_app.py) is not the app: CKV_GW_DEPLOY_39 judges it.
        containers = app_containers(json.loads(raw))
        if len(containers) != 1:
            return Verdict.failed(f"expected one app container, found {len(containers)}")
        (app,) = containers
        verdicts = [
            expect_equal("cpu", app.get("cpu"), math.ceil(service.cpu_request * 1024),
                         "service.cpu_request x 1024"),
            expect_equal("memoryReservation", app.get("memoryReservation"),
                         service.memory_request_mib, "service.memory_request_mib"),
            expect_equal("memory", app.get("memory"), service.memory_limit_mib,
                         "service.memory_limit_mib"),
        ]  # fmt: skip
        task_cpu, task_memory = body.get("cpu"), body.get("memory")
        if task_cpu is None or float(task_cpu) < service.cpu_limit * 1024:
            verdicts.append(Verdict.failed(f"task cpu {task_cpu} is below service.cpu_limit"))
        if task_memory is None or int(task_memory) < service.memory_limit_mib:
            verdicts.append(Verdict.failed(f"task memory {task_memory} is below the limit"))
        return combine(verdicts)


check = AppTaskSize()
