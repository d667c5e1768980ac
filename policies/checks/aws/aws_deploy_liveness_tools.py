"""Builds CKV_GW_DEPLOY_39: every ECS service's liveness check GETs its described health path on
its port with tools the stack knows are there, never with a tool its app image is not promised
to contain (DEPLOY-6, EDGE-4, APP-7).

A described service, a worker (`route: null`) included, promises one thing about itself: an
HTTP answer to GET `health.path` on `port` (synth/app.py, `HealthCheck`). An ECS container
`healthCheck` runs its command INSIDE that container ("HealthCheck",
https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_HealthCheck.html: the command
is run in the container, `CMD` or `CMD-SHELL`), so `node -e fetch(...)`, `curl` or `wget`
there fails in every image without that tool (distroless has no shell at all), the container
turns UNHEALTHY, and the service scheduler stops and replaces each task forever: the app never
stays up after its first release. Hence, per task definition:
- no container defines a `healthCheck` unless it runs `aws.liveness_probe_image` or
  `aws.placeholder_image` (busybox, whose `sh` and `wget` the stack chose; synth/config.py);
- a task an ECS service runs has the liveness sidecar (`LIVENESS_CONTAINER`, synth/aws_app.py):
  essential, running `aws.liveness_probe_image`, with a container `healthCheck` that GETs
  exactly its service's `liveness_url` with busybox's wget. The health check, not an exit of
  the sidecar, is what makes a failed release roll back: an essential container's failed
  health check makes the task UNHEALTHY ("HealthCheck", above), and once tasks run, the
  deployment circuit breaker counts only tasks replaced for failed health checks (load
  balancer, Cloud Map or container ones; stage 2 of
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-circuit-breaker.html).
  A worker has no load balancer: without the container health check a bad release of it
  restarts forever and never rolls back (APP-3).
"""

import json
import re
from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, combine, is_reference, one_off_task

from synth.aws_app import LIVENESS_CONTAINER, liveness_url, service_by_resource_name


class LivenessTools(GroundworkCheck):
    id = "CKV_GW_DEPLOY_39"
    name = "ECS liveness GETs the service's health path with tools the stack put in the task"
    requirement = "DEPLOY-6"
    severity = "HIGH"
    resource_types = ("aws_ecs_task_definition",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        config = stack.config
        assert config is not None
        text = body.get("container_definitions")
        if not isinstance(text, str) or (is_reference(text) and not text.lstrip().startswith("[")):
            return Verdict.unknown("container_definitions is an expression")
        containers = json.loads(text)
        known = {config.aws.liveness_probe_image, config.aws.placeholder_image}
        verdicts = [
            Verdict.failed(
                f"container {c.get('name')!r} runs {c.get('healthCheck', {}).get('command')} "
                f"inside {c.get('image')}, whose tools the stack does not know (a service "
                "promises only HTTP on its port): probe from the liveness sidecar instead"
            )
            for c in containers
            if c.get("healthCheck") and c.get("image") not in known
        ]
        if one_off_task(stack, self.address):
            return combine(verdicts) if verdicts else Verdict.passed("a one-off task, no liveness")
        service = service_by_resource_name(config, str(body.get("family")))
        if service is None:
            return Verdict.failed(f"family {body.get('family')!r} is not a described service")
        probes = [c for c in containers if c.get("name") == LIVENESS_CONTAINER]
        url = liveness_url(service)
        if len(probes) != 1:
            verdicts.append(
                Verdict.failed(
                    f"{len(probes)} {LIVENESS_CONTAINER} containers, not one: nothing GETs {url}"
                )
            )
        else:
            (probe,) = probes
            check = probe.get("healthCheck") or {}
            command = " ".join(str(part) for part in check.get("command") or [])
            if probe.get("image") != config.aws.liveness_probe_image:
                verdicts.append(
                    Verdict.failed(
                        f"{LIVENESS_CONTAINER} runs {probe.get('image')}, not "
                        f"aws.liveness_probe_image ({config.aws.liveness_probe_image})"
                    )
                )
            if probe.get("essential") is not True:
                verdicts.append(
                    Verdict.failed(f"{LIVENESS_CONTAINER} is not essential: its exit stops no task")
                )
            if not re.fullmatch(
                rf"CMD-SHELL wget -q -O /dev/null -T \d+ {re.escape(url)} \|\| exit 1", command
            ):
                verdicts.append(
                    Verdict.failed(
                        f"{LIVENESS_CONTAINER}'s healthCheck does not GET {url} "
                        f"(services[{service.name}]): no task turns UNHEALTHY, so a failed "
                        "release never trips the deployment circuit breaker"
                    )
                )
        return (
            combine(verdicts)
            if verdicts
            else Verdict.passed(
                f"busybox's health check GETs {url}; no check runs in the app's image"
            )
        )


check = LivenessTools()
