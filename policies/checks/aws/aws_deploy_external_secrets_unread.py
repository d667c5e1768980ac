"""Builds CKV_GW_DEPLOY_38: no ECS task reads an external secret that has no value yet
(DEPLOY-6). An external secret (`secret-kind: external`, SEC-5) is created empty and gets its
value only from the operator's `aws secretsmanager put-secret-value` after the apply that
creates it (README, "External secrets: setting their values"); the catalog entry then says
`value_set: true`, which the secret carries as its tag `value-set` (synth/aws_app.py,
SECRET_VALUE_SET_TAG; constructs/aws/secrets.py).

ECS resolves every `secrets[].valueFrom` when a task starts; a secret without an AWSCURRENT
version fails the task with ResourceInitializationError ("Pass Secrets Manager secrets through
Amazon ECS environment variables",
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html),
so a service (placeholder or release image alike) or a one-off task reading it would never
start, and the first apply would leave it failing. So every task definition reads an
external secret only when that secret's `value-set` tag says `true`; a missing or other tag
counts as not set (never a pass on an absent marker). CKV_GW_DEPLOY_21 judges every other
secret.
"""

import json
from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, combine

from synth.aws_app import SECRET_KIND_TAG, SECRET_VALUE_SET_TAG


def external_secrets(stack: Stack) -> dict[str, str | None]:
    """Address -> `value-set` tag (None when absent) of the stack's external secrets."""
    found = {}
    for name, body in stack.resources("aws_secretsmanager_secret").items():
        tags = body.get("tags") or {}
        if tags.get(SECRET_KIND_TAG) == "external":
            found[f"aws_secretsmanager_secret.{name}"] = tags.get(SECRET_VALUE_SET_TAG)
    return found


def injected(definition: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(container name, variable, secret address) of every injected secret."""
    containers = json.loads(str(definition.get("container_definitions") or "[]"))
    return [
        (str(container.get("name", "")), str(secret.get("name")), address)
        for container in containers
        for secret in container.get("secrets") or []
        if (address := address_of(secret.get("valueFrom"))) is not None
    ]


class ExternalSecretsUnread(GroundworkCheck):
    id = "CKV_GW_DEPLOY_38"
    name = "No ECS task reads an external secret before the operator has set its value"
    requirement = "DEPLOY-6"
    severity = "CRITICAL"
    resource_types = ("aws_ecs_task_definition",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        external = external_secrets(stack)
        verdicts = []
        for container, variable, secret in injected(body):
            if secret not in external:
                continue
            marker = external[secret]
            if marker == "true":
                verdicts.append(
                    Verdict.passed(f"{container}: {variable} ({secret}) is tagged value-set true")
                )
            else:
                verdicts.append(
                    Verdict.failed(
                        f"container {container} reads {variable} ({secret}), an external secret "
                        f"whose {SECRET_VALUE_SET_TAG} tag is {marker!r}, not 'true': it is empty "
                        "until the operator sets it, so the task cannot start (set the value, "
                        "then value_set: true)"
                    )
                )
        return combine(verdicts) if verdicts else Verdict.passed("reads no external secret")


check = ExternalSecretsUnread()
