"""Builds CKV_GW_DEPLOY_38: nothing that starts during the apply reads a secret that has no
value (DEPLOY-6): an external secret (`secret-kind: external`, SEC-5) is created empty and
gets its value only from the operator's `aws secretsmanager put-secret-value` after the apply
that creates it (README, AWS external secrets).

ECS resolves every `secrets[].valueFrom` when a task starts; a secret without an AWSCURRENT
version fails the task with ResourceInitializationError ("Pass Secrets Manager secrets through
Amazon ECS environment variables",
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html),
so the first apply in a fresh account would leave a service that never starts. So:
- a service whose container runs an image not from this stack's registry (the public
  placeholder the first apply runs, `aws.placeholder_image`) injects no external secret;
- a one-off task (started by the apply itself, e.g. the database roles task) injects none.
A release image (`<this stack's repository>:<tag>`) may: the release step that switches to it
comes after the documented set command. CKV_GW_DEPLOY_21 judges every other secret.
"""

import json
from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, combine, one_off_task

from synth.aws_app import SECRET_KIND_TAG

REGISTRY = "${aws_ecr_repository."


def external_secrets(stack: Stack) -> set[str]:
    """Addresses of the stack's external (empty) secrets."""
    return {
        f"aws_secretsmanager_secret.{name}"
        for name, body in stack.resources("aws_secretsmanager_secret").items()
        if (body.get("tags") or {}).get(SECRET_KIND_TAG) == "external"
    }


def injected(definition: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(container image, variable, secret address) of every injected secret."""
    containers = json.loads(str(definition.get("container_definitions") or "[]"))
    return [
        (str(container.get("image", "")), str(secret.get("name")), address)
        for container in containers
        for secret in container.get("secrets") or []
        if (address := address_of(secret.get("valueFrom"))) is not None
    ]


class ExternalSecretsUnread(GroundworkCheck):
    id = "CKV_GW_DEPLOY_38"
    name = (
        "Nothing the apply starts (placeholder image, one-off task) reads an empty external secret"
    )
    requirement = "DEPLOY-6"
    severity = "CRITICAL"
    resource_types = ("aws_ecs_service", "aws_ecs_task_definition")
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        graph = stack.graph
        if self.address.startswith("aws_ecs_task_definition."):
            if not one_off_task(stack, self.address):
                return Verdict.passed("run by a service: judged on the service")
            definition, started = body, "the one-off task the apply starts"
        else:
            task = address_of(body.get("task_definition"))
            if task is None or task not in graph.bodies:
                return Verdict.unknown("the task definition is not in this stack")
            definition, started = graph.bodies[task], "the service's first tasks"
        empty = external_secrets(stack)
        verdicts = []
        for image, variable, secret in injected(definition):
            if secret not in empty:
                continue
            if image.startswith(REGISTRY) and started == "the service's first tasks":
                verdicts.append(
                    Verdict.passed(f"{variable}: read by the release image, after put-secret-value")
                )
            else:
                verdicts.append(
                    Verdict.failed(
                        f"{variable} ({secret}) is an external secret, empty until the operator "
                        f"sets it, and {started} ({image}) read it: the task cannot start"
                    )
                )
        return combine(verdicts) if verdicts else Verdict.passed("reads no external secret")


check = ExternalSecretsUnread()
