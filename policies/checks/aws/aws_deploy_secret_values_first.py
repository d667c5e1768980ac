"""Builds CKV_GW_DEPLOY_21: every secret a service injects has a value before the service
starts (DEPLOY-5, DEPLOY-6).

ECS reads each `secrets[].valueFrom` at task start; a secret without an AWSCURRENT version
fails the task (ResourceInitializationError). A value exists when the service depends on an
`aws_secretsmanager_secret_version` of that secret, or on an `aws_lambda_invocation` that
waits for its first version (a rotation with `rotate_immediately` only starts one,
asynchronously: RotateSecret, https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_RotateSecret.html).
An external secret (`secret-kind: external`, SEC-5) has no value in the stack by design; who
may read it is CKV_GW_DEPLOY_38's rule (only a release image, after the operator's
put-secret-value), so this policy leaves it to that one.
"""

import json
import re
from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, combine

from synth.aws_app import SECRET_KIND_TAG

SECRET = re.compile(r"\$\{(aws_secretsmanager_secret\.[A-Za-z0-9_-]+)\.")


class SecretValuesFirst(GroundworkCheck):
    id = "CKV_GW_DEPLOY_21"
    name = "Services start only after every secret they inject has a value"
    requirement = "DEPLOY-5"
    severity = "CRITICAL"
    resource_types = ("aws_ecs_service",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        graph = stack.graph
        task = address_of(body.get("task_definition"))
        if task is None or task not in graph.bodies:
            return Verdict.unknown("the task definition is not in this stack")
        containers = json.loads(str(graph.bodies[task].get("container_definitions", "[]")))
        before = graph.prerequisites(self.address)
        verdicts = []
        for container in containers:
            for secret in container.get("secrets") or []:
                match = SECRET.match(str(secret.get("valueFrom")))
                if not match:
                    verdicts.append(Verdict.unknown(f"{secret.get('name')}: not a secret here"))
                    continue
                target = match.group(1)
                tags = (graph.bodies.get(target) or {}).get("tags") or {}
                if tags.get(SECRET_KIND_TAG) == "external":
                    verdicts.append(
                        Verdict.passed(f"{secret.get('name')}: external (CKV_GW_DEPLOY_38)")
                    )
                    continue
                valued = [
                    a
                    for a in before
                    if (
                        a.startswith("aws_secretsmanager_secret_version.")
                        and address_of(graph.bodies[a].get("secret_id")) == target
                    )
                    or (
                        a.startswith("aws_lambda_invocation.")
                        and f"{target}." in str(graph.bodies[a].get("input", ""))
                    )
                ]
                if valued:
                    verdicts.append(Verdict.passed(f"{secret.get('name')} has a value first"))
                else:
                    verdicts.append(
                        Verdict.failed(
                            f"{secret.get('name')} ({target}) may have no value when tasks start"
                        )
                    )
        return combine(verdicts) if verdicts else Verdict.passed("injects no secrets")


check = SecretValuesFirst()
