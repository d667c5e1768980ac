"""Builds CKV_GW_DEPLOY_31: every generated secret a service reads is handed to it as current,
previous and next, and its rotator restarts the service after a rotation (DEPLOY-6, SEC-2).

ECS injects a secret once, when a task starts ("Pass Secrets Manager secrets through Amazon
ECS environment variables",
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html).
After a rotation, tasks started later sign with a key the older ones do not know. The
contract (the same on every cloud): for a rotated secret `X` the container receives `X`
(AWSCURRENT), `X_PREVIOUS` (AWSPREVIOUS) and `X_NEXT` (a custom staging label), as
`valueFrom` `<secret ARN>::<version-stage>:`; the secret's rotation function may
`ecs:UpdateService` that very service (`arn:...:service/<cluster>/<service>`), and the
secret's `restarts-ecs-service` tag names it (`<cluster>/<service>`, space separated when
several services read the secret), so the function forces a
new deployment after each rotation and live tasks are never more than one rotation apart.
A "generated secret" is one with an `aws_secretsmanager_secret_rotation` in the stack.
"""

from __future__ import annotations

import fnmatch
import json
import re
from typing import Any

from aws_policy_documents import statements
from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, combine

VALUE_FROM = re.compile(r"^\$\{(aws_secretsmanager_secret\.[A-Za-z0-9_-]+)\.arn\}(.*)$")
RESTART_TAG = "restarts-ecs-service"
CURRENT, PREVIOUS, PENDING = "AWSCURRENT", "AWSPREVIOUS", "AWSPENDING"


def _stage(suffix: str) -> str | None:
    """The version stage of a `valueFrom` suffix `:json-key:version-stage:version-id`; ""
    (AWSCURRENT) for none; None for a JSON key or a pinned version (not a rotating key)."""
    if not suffix:
        return ""
    parts = suffix.split(":")
    if len(parts) != 4 or parts[0] or parts[1] or parts[3]:
        return None
    return parts[2]


def _rotator_role(stack: Stack, secret: str) -> tuple[str | None, str | None]:
    """(rotation function address, its role address) of a secret's rotation, if any."""
    for body in stack.graph.of_type("aws_secretsmanager_secret_rotation").values():
        if address_of(body.get("secret_id")) != secret:
            continue
        function = address_of(body.get("rotation_lambda_arn"))
        role = address_of((stack.graph.bodies.get(function or "") or {}).get("role"))
        return function, role
    return None, None


def _may_update(stack: Stack, role: str, service_arn_tail: str) -> bool:
    """The role's inline policies allow ecs:UpdateService on `...:service/<cluster>/<name>`."""
    for body in stack.graph.of_type("aws_iam_role_policy").values():
        if address_of(body.get("role")) != role:
            continue
        for statement in statements(stack, body.get("policy")) or []:
            if statement.effect != "Allow":
                continue
            if not any(fnmatch.fnmatchcase("ecs:UpdateService", a) for a in statement.actions):
                continue
            if any(str(r).endswith(service_arn_tail) for r in statement.resources):
                return True
    return False


class RotatedSecretContract(GroundworkCheck):
    id = "CKV_GW_DEPLOY_31"
    name = "Rotated secrets reach the service as current, previous and next; rotation restarts it"
    requirement = "DEPLOY-6"
    severity = "HIGH"
    resource_types = ("aws_ecs_service",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        bodies = stack.graph.bodies
        service_name = body.get("name")
        cluster = bodies.get(address_of(body.get("cluster")) or "") or {}
        cluster_name = cluster.get("name")
        task = bodies.get(address_of(body.get("task_definition")) or "")
        if not task:
            return Verdict.unknown("its task definition is not in the stack")
        try:
            containers = json.loads(task.get("container_definitions") or "[]")
        except ValueError:
            return Verdict.unknown("container_definitions is not JSON")
        # secret address -> {stage: variable name}
        read: dict[str, dict[str, str]] = {}
        for container in containers:
            for entry in container.get("secrets") or []:
                match = VALUE_FROM.match(str(entry.get("valueFrom", "")))
                stage = _stage(match.group(2)) if match else None
                if match and stage is not None:
                    read.setdefault(match.group(1), {})[stage or CURRENT] = str(entry["name"])
        verdicts = []
        for secret, stages in sorted(read.items()):
            function, role = _rotator_role(stack, secret)
            if function is None:
                continue  # not generated here: no rotation to survive
            current = stages.get(CURRENT)
            if current is None:
                verdicts.append(Verdict.failed(f"reads {secret} without its AWSCURRENT key"))
                continue
            following = [
                name for stage, name in stages.items() if stage not in (CURRENT, PREVIOUS, PENDING)
            ]
            problems = []
            if stages.get(PREVIOUS) != f"{current}_PREVIOUS":
                problems.append(f"{current}_PREVIOUS is not {secret} at AWSPREVIOUS")
            if f"{current}_NEXT" not in following:
                problems.append(f"{current}_NEXT is not {secret} at a next-key label")
            if not (isinstance(service_name, str) and isinstance(cluster_name, str)):
                verdicts.append(Verdict.unknown("service or cluster name is an expression"))
                continue
            if role is None or not _may_update(
                stack, role, f":service/{cluster_name}/{service_name}"
            ):
                problems.append(
                    f"{function}'s role may not ecs:UpdateService {cluster_name}/{service_name}"
                    ": a rotation leaves tasks with keys of different ages"
                )
            tags = (bodies.get(secret) or {}).get("tags") or {}
            # Space-separated: every service reading the secret (APP-7).
            if f"{cluster_name}/{service_name}" not in str(tags.get(RESTART_TAG, "")).split():
                problems.append(
                    f"{secret} has no {RESTART_TAG} tag naming {cluster_name}/{service_name}"
                    ": its rotation function restarts nothing"
                )
            verdicts += [Verdict.failed(problem) for problem in problems] or [
                Verdict.passed(f"{current}: current, previous and next; rotation restarts it")
            ]
        return combine(verdicts) if verdicts else Verdict.passed("reads no rotated secret")


check = RotatedSecretContract()
