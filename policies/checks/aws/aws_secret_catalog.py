"""Builds CKV_GW_SEC_5: every Secrets Manager secret of the stack is an entry of the
environment's secret catalog or documented platform wiring, carries its kind, and is treated
as its kind says (SEC-5):

- its name is `<prefix>/<NAME>` with NAME in `secrets.catalog`, tagged `secret-kind` with the
  entry's kind; or platform wiring (`PLATFORM_SECRETS`: the database's master credential,
  synth/aws_app.py), tagged `secret-kind: platform`, which no service reads;
- generated: a rotation of it runs within `secrets.rotation_days`, its `secret-bits` tag is the
  entry's `bits` (the rotation function's key length), and no version in the JSON gives it a
  value (the function generates every key inside AWS);
- derived: a version of it is written by the stack (its value comes from the components);
- external: no version of it exists in the JSON (`secret_string` and `secret_string_wo`
  alike): its value is set outside Terraform (README, AWS external secrets), so it is never in
  the JSON or the state;
- no service reads a secret it did not list: every task definition of a described service
  that injects it, and every IAM policy of such a task's roles that names it, belongs to a
  service whose `secrets` list it (IAM-1).
"""

import json
import re
from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, combine

from synth.aws_app import (
    PLATFORM_SECRET_KIND,
    SECRET_BITS_TAG,
    SECRET_KIND_TAG,
    secret_name,
    service_by_resource_name,
)

# Secrets the platform itself keeps (not the app's): the database master credential, written
# and rotated by the database construct (constructs/aws/database.py).
PLATFORM_SECRETS = ("DATABASE_PASSWORD",)
RATE = re.compile(r"^rate\((\d+) days?\)$")


def _rotation_days(body: dict[str, Any]) -> int | None:
    rules = body.get("rotation_rules") or {}
    rules = rules[0] if isinstance(rules, list) and rules else rules
    days = rules.get("automatically_after_days")
    if days is None:
        match = RATE.match(str(rules.get("schedule_expression") or ""))
        days = match.group(1) if match else None
    return int(days) if days is not None else None


class SecretCatalog(GroundworkCheck):
    id = "CKV_GW_SEC_5"
    name = (
        "Every secret is a catalog entry (or platform wiring) carrying its kind; generated ones "
        "rotate, external ones hold no value, and only the services listing one read it"
    )
    requirement = "SEC-5"
    severity = "HIGH"
    resource_types = ("aws_secretsmanager_secret",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        config = stack.config
        assert config is not None
        name = str(body.get("name", ""))
        tags = body.get("tags") or {}
        kind = tags.get(SECRET_KIND_TAG)
        prefix = f"{config.prefix}/"
        short = name[len(prefix) :] if name.startswith(prefix) else None
        graph = stack.graph
        reference = f"${{{self.address}."
        versions = [
            address
            for address in graph.of_type("aws_secretsmanager_secret_version")
            if address_of(graph.bodies[address].get("secret_id")) == self.address
        ]
        verdicts: list[Verdict] = []
        if short in PLATFORM_SECRETS and short not in config.secrets.catalog:
            verdicts.append(
                Verdict.passed(f"{name} is platform wiring")
                if kind == PLATFORM_SECRET_KIND
                else Verdict.failed(f"{name} is platform wiring but is tagged kind {kind!r}")
            )
            listed: set[str] = set()
        elif short is None or short not in config.secrets.catalog:
            return Verdict.failed(
                f"{name} is neither in secrets.catalog ({', '.join(config.secrets.catalog)}) "
                f"nor platform wiring ({', '.join(PLATFORM_SECRETS)})"
            )
        else:
            entry = config.secrets.catalog[short]
            if name != secret_name(config, short):
                verdicts.append(Verdict.failed(f"{name} is not {secret_name(config, short)}"))
            if kind != entry.kind:
                verdicts.append(
                    Verdict.failed(f"{name} is tagged kind {kind!r}; the catalog says {entry.kind}")
                )
            if entry.kind == "generated":
                verdicts += self._generated(stack, name, entry.bits, tags, versions)
            elif entry.kind == "derived":
                if not versions:
                    verdicts.append(Verdict.failed(f"derived {name} has no value in the stack"))
            elif versions:
                verdicts.append(
                    Verdict.failed(
                        f"external {name} gets a value from {versions[0]}: its value must "
                        "never be in the Terraform JSON or state"
                    )
                )
            listed = {s.name for s in config.services if short in s.secrets}
        verdicts += self._readers(stack, name, reference, listed)
        return combine(verdicts) if verdicts else Verdict.passed(f"{name}: {kind}")

    def _generated(
        self,
        stack: Stack,
        name: str,
        bits: int,
        tags: dict[str, Any],
        versions: list[str],
    ) -> list[Verdict]:
        assert stack.config is not None
        verdicts = []
        if versions:
            verdicts.append(
                Verdict.failed(f"generated {name} gets a value from {versions[0]} in the JSON")
            )
        if str(tags.get(SECRET_BITS_TAG)) != str(bits):
            verdicts.append(
                Verdict.failed(f"{name}: tag {SECRET_BITS_TAG} is {tags.get(SECRET_BITS_TAG)!r}, "
                               f"the catalog says {bits}")
            )  # fmt: skip
        wanted = stack.config.secrets.rotation_days
        rotations = [
            _rotation_days(body)
            for body in stack.resources("aws_secretsmanager_secret_rotation").values()
            if address_of(body.get("secret_id")) == self.address
        ]
        if not any(days is not None and days <= wanted for days in rotations):
            verdicts.append(
                Verdict.failed(f"generated {name} has no rotation within {wanted} days")
            )
        return verdicts

    def _readers(self, stack: Stack, name: str, reference: str, listed: set[str]) -> list[Verdict]:
        """Task definitions and their roles' policies that name the secret belong to services
        that list it."""
        assert stack.config is not None
        config = stack.config
        verdicts = []
        roles: dict[str, str] = {}  # role address -> the family of a task using it
        for body in stack.resources("aws_ecs_task_definition").values():
            family = str(body.get("family"))
            service = service_by_resource_name(config, family)
            for key in ("execution_role_arn", "task_role_arn"):
                role = address_of(body.get(key))
                if role and service is not None:
                    roles[role] = family
            if service is None:
                continue  # a one-off task (the database roles); the app's services are judged
            containers = json.loads(str(body.get("container_definitions") or "[]"))
            reads = any(
                str(secret.get("valueFrom", "")).startswith(reference)
                for container in containers
                for secret in container.get("secrets") or []
            )
            if reads and service.name not in listed:
                verdicts.append(
                    Verdict.failed(f"service {service.name} reads {name} but does not list it")
                )
        for body in stack.resources("aws_iam_role_policy").values():
            role = address_of(body.get("role"))
            if role not in roles or reference not in str(body.get("policy", "")):
                continue
            service = service_by_resource_name(config, roles[role])
            if service is not None and service.name not in listed:
                verdicts.append(
                    Verdict.failed(f"a role of service {service.name} may read {name}, "
                                   "which it does not list")
                )  # fmt: skip
        return verdicts


check = SecretCatalog()
