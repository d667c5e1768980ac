"""Builds CKV_GW_SEC_3: every secret a service reads (its catalog secrets, SEC-5) comes from a
Secrets Manager secret of this stack, each encrypted with a customer-managed key of this
stack, and so does DATABASE_PASSWORD (SEC-1).

Judged on the app's task definition, where the names meet their secrets: a secret is an
`aws_secretsmanager_secret` with `kms_key_id`, or the RDS-managed master secret
(`manage_master_user_password` with `master_user_secret_kms_key_id`). DATABASE_PASSWORD is
the master credential; an app that signs in with IAM tokens is not handed it (DEPLOY-6), and
then it must be a CMK-encrypted secret named `<prefix>/DATABASE_PASSWORD` in the stack.
"""

import json
import re
from typing import Any

from groundwork_policy import (
    GroundworkCheck,
    Stack,
    Verdict,
    address_of,
    combine,
    is_reference,
    one_off_task,
)

from synth.aws_app import expected_secret_variables, service_by_resource_name

# `${aws_x.name.attr...}` at the start of valueFrom, with an optional `:json-key::` suffix.
LEADING_REFERENCE = re.compile(r"^\$\{([A-Za-z0-9_]+)\.([A-Za-z0-9_-]+)\.([^}]*)\}")


def _customer_key(stack: Stack, key: Any, what: str) -> Verdict:
    if not key:
        return Verdict.failed(f"{what} uses the AWS-managed key")
    target = address_of(key)
    if target is None or not target.startswith("aws_kms_key."):
        return Verdict.unknown(f"{what}'s key {key} is not a key of this stack")
    if target.split(".", 1)[1] not in stack.resources("aws_kms_key"):
        return Verdict.unknown(f"{target} is not in this stack")
    return Verdict.passed(f"{what} under {target}")


def _secret_verdict(stack: Stack, name: str, value_from: Any) -> Verdict:
    match = LEADING_REFERENCE.match(str(value_from))
    if not match:
        return Verdict.unknown(f"{name} comes from {value_from}, not a secret of this stack")
    kind, resource, attribute = match.groups()
    body = stack.resources(kind).get(resource)
    if body is None:
        return Verdict.unknown(f"{name}: {kind}.{resource} is not in this stack")
    if kind == "aws_secretsmanager_secret":
        return _customer_key(stack, body.get("kms_key_id"), name)
    if kind == "aws_db_instance" and attribute.startswith("master_user_secret"):
        if body.get("manage_master_user_password") not in (True, "true"):
            return Verdict.failed(f"{name}: {kind}.{resource} does not manage its password")
        return _customer_key(stack, body.get("master_user_secret_kms_key_id"), name)
    return Verdict.failed(f"{name} comes from {kind}.{resource}, not Secrets Manager")


class AppSecretsStored(GroundworkCheck):
    id = "CKV_GW_SEC_3"
    name = (
        "Every secret a service reads, and DATABASE_PASSWORD, is a CMK-encrypted Secrets "
        "Manager secret"
    )
    requirement = "SEC-1"
    severity = "HIGH"
    resource_types = ("aws_ecs_task_definition",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        if one_off_task(stack, self.address):
            return Verdict.passed("a one-off task no service runs; SEC-1 judges the app's")
        text = body.get("container_definitions")
        if is_reference(text) and not str(text).lstrip().startswith("["):
            return Verdict.unknown("container_definitions is an expression")
        containers = json.loads(str(text))
        secrets = {
            str(secret.get("name")): secret.get("valueFrom")
            for container in containers
            for secret in container.get("secrets") or []
        }
        # What the described service must be given (synth/aws_app.py); without a config,
        # whatever the container injects.
        config = stack.config
        described = service_by_resource_name(config, str(body.get("family"))) if config else None
        if config is not None and described is None:
            return Verdict.failed(f"family {body.get('family')!r} is not a described service")
        wanted = (
            # The catalog names it lists; a generated one's _PREVIOUS and _NEXT are the same
            # secret (CKV_GW_APP_7 judges the variables).
            list(dict.fromkeys(expected_secret_variables(config, described).values()))
            if config is not None and described is not None
            else [name for name in secrets if name != "DATABASE_PASSWORD"]
        )
        verdicts = [
            _secret_verdict(stack, name, secrets[name])
            if name in secrets
            else Verdict.failed(f"{name} is not among the service's secrets")
            for name in wanted
        ]
        if "DATABASE_PASSWORD" in secrets:
            verdicts.append(
                _secret_verdict(stack, "DATABASE_PASSWORD", secrets["DATABASE_PASSWORD"])
            )
        else:
            stored = [
                name
                for name, secret in stack.resources("aws_secretsmanager_secret").items()
                if str(secret.get("name", "")).endswith("/DATABASE_PASSWORD")
            ]
            if not stored:
                verdicts.append(Verdict.failed("no DATABASE_PASSWORD secret in the stack"))
            for name in stored:
                verdicts.append(
                    _customer_key(
                        stack,
                        stack.resources("aws_secretsmanager_secret")[name].get("kms_key_id"),
                        "DATABASE_PASSWORD (not given to the app)",
                    )
                )
        return combine(verdicts)


check = AppSecretsStored()
