"""Builds CKV_GW_DEPLOY_36: a write-only secret copy of a write-only password is written after,
and replaced with, the resource that takes the password (DEPLOY-6).

A write-only argument (`*_wo`) reaches the provider only when the resource is created or its
`*_wo_version` changes (terraform-provider-aws #42582, PR #47904), and an ephemeral generator
(`aws_secretsmanager_random_password`) yields a new value on every run. When the same
ephemeral value goes to a resource (e.g. `aws_db_instance.password_wo`) and to a copy
(`aws_secretsmanager_secret_version.secret_string_wo`, `aws_ssm_parameter.value_wo`):
- a copy written before or beside the taker survives the taker's failed create, and the next
  run's new password reaches the re-created taker but not the copy;
- a taker replaced later (a changed identifier, a taint) is created with that run's password
  while the copy, unchanged, keeps the old one.
So every copy must depend on each taker and name it in `lifecycle.replace_triggered_by`.
Either way the copy stops matching what the resource accepts, and whoever reads it cannot
sign in.
"""

import re
from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, combine, strings_in

EPHEMERAL = re.compile(r"\bephemeral\.[A-Za-z0-9_]+\.[A-Za-z0-9_-]+")
# The write-only attribute that holds the copy, per resource type.
COPIES = {
    "aws_secretsmanager_secret_version": "secret_string_wo",
    "aws_ssm_parameter": "value_wo",
}


def _ephemerals(value: Any) -> set[str]:
    return {m for text in strings_in(value) for m in EPHEMERAL.findall(text)}


def _write_only(body: dict[str, Any]) -> dict[str, Any]:
    return {
        key: value
        for key, value in body.items()
        if key.endswith("_wo") and not key.endswith("_wo_version")
    }


class WriteOnlyCopies(GroundworkCheck):
    id = "CKV_GW_DEPLOY_36"
    name = "Write-only secret copies of a password follow the resource that takes it"
    requirement = "DEPLOY-6"
    severity = "HIGH"
    resource_types = tuple(sorted(COPIES))
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        copied = _ephemerals(body.get(COPIES[self._address[0]]))
        if not copied:
            return Verdict.passed("holds no ephemeral write-only value")
        graph = stack.graph
        takers = sorted(
            address
            for address, other in graph.bodies.items()
            if address != self.address
            and address.split(".", 1)[0] not in COPIES
            and copied & _ephemerals(_write_only(other))
        )
        if not takers:
            return Verdict.passed(f"{sorted(copied)} goes to no other write-only argument")
        lifecycle = body.get("lifecycle") or {}
        if isinstance(lifecycle, list):  # cdktf may render blocks as one-item lists
            lifecycle = lifecycle[0] if lifecycle else {}
        triggers = [str(t) for t in lifecycle.get("replace_triggered_by") or []]
        verdicts = []
        for taker in takers:
            if not graph.needs(self.address, taker):
                verdicts.append(
                    Verdict.failed(
                        f"written before or beside {taker}, which takes the same write-only "
                        "password: a failed create leaves the copy with a password it never took"
                    )
                )
            if not any(t == taker or t.startswith(f"{taker}.") for t in triggers):
                verdicts.append(
                    Verdict.failed(
                        f"not in replace_triggered_by of {taker}: a replaced {taker} takes the "
                        "next run's password while this copy keeps the old one"
                    )
                )
            else:
                verdicts.append(Verdict.passed(f"written after and replaced with {taker}"))
        return combine(verdicts)


check = WriteOnlyCopies()
