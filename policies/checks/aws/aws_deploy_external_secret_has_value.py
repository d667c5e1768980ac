"""Builds CKV_GW_DEPLOY_103: every ECS task definition that reads an external secret tagged
`value-set` true depends on a check that THAT secret has a version labelled AWSCURRENT
(DEPLOY-6).

CKV_GW_DEPLOY_38 lets a task read an external secret once its catalog entry says
`value_set: true` (tag `value-set` on the secret). That is the operator's word, not a fact:
in a fresh account, a copied environment file, after the secret was re-created, or when the
operator forgot `aws secretsmanager put-secret-value` (README, "External secrets: setting
their values"), the secret the same apply creates or keeps has no version. ECS resolves
`valueFrom` when a task starts and fails it ("ResourceNotFoundException ... can't find the
specified secret value for staging label: AWSCURRENT"; "Pass Secrets Manager secrets through
Amazon ECS environment variables",
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html),
so the deployment never becomes stable or the circuit breaker rolls it back.

The fix that works in Terraform alone: a `data "aws_secretsmanager_secret_versions"` of the
secret (ListSecretVersionIds: version IDs and staging labels, never the value;
https://registry.terraform.io/providers/hashicorp/aws/6.25.0/docs/data-sources/secretsmanager_secret_versions)
with a `lifecycle.postcondition` that some version's `version_stages` contains AWSCURRENT.
Terraform checks it right after the read ("Custom Conditions",
https://developer.hashicorp.com/terraform/language/expressions/custom-conditions#postconditions):
in the plan when the secret exists unchanged, in the apply otherwise, and, because the task
definition depends on the data source (reference or `depends_on`), before that task
definition is created or replaced. A check of another secret, a check without that
postcondition, or one the task definition does not wait for, fails.
"""

import re
from typing import Any

from aws_deploy_external_secrets_unread import external_secrets, injected
from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks, combine

VERSIONS = "data.aws_secretsmanager_secret_versions"
# The postcondition's test: AWSCURRENT among the listed versions' staging labels, read from
# `self` (the data source just read). An `!`/`==` negation would invert it, so the condition
# must be exactly a `contains(...)` call over `self.versions` and the string "AWSCURRENT".
CURRENT_TEST = re.compile(
    r"\$\{\s*contains\(\s*flatten\(\s*self\.versions\[\*\]\.version_stages\s*\)\s*,"
    r'\s*"AWSCURRENT"\s*\)\s*\}'
)


def tests_current(body: dict[str, Any]) -> bool:
    """Whether a versions data source has a postcondition that wants an AWSCURRENT version."""
    return any(
        CURRENT_TEST.fullmatch(str(condition.get("condition", "")).strip()) is not None
        for lifecycle in blocks(body, "lifecycle")
        for condition in blocks(lifecycle, "postcondition")
    )


class ExternalSecretHasValue(GroundworkCheck):
    id = "CKV_GW_DEPLOY_103"
    name = (
        "Every ECS task definition reading an external secret marked set waits for a check "
        "that the secret has an AWSCURRENT version"
    )
    requirement = "DEPLOY-6"
    severity = "CRITICAL"
    resource_types = ("aws_ecs_task_definition",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        graph = stack.graph
        marked = {
            address for address, marker in external_secrets(stack).items() if marker == "true"
        }
        checks = graph.of_type(VERSIONS)
        verdicts = []
        for container, variable, secret in injected(body):
            if secret not in marked:
                continue
            of_secret = [
                address
                for address, check in checks.items()
                if graph.refers_to(address, secret)
                and str(check.get("secret_id", "")).startswith(f"${{{secret}.")
            ]
            testing = [address for address in of_secret if tests_current(checks[address])]
            awaited = [address for address in testing if graph.needs(self.address, address)]
            where = f"container {container} reads {variable} ({secret}, tagged value-set true)"
            if awaited:
                verdicts.append(Verdict.passed(f"{where} after {awaited[0]}"))
            elif testing:
                verdicts.append(
                    Verdict.failed(
                        f"{where}, but the task definition does not depend on {testing[0]}: "
                        "it is registered whether or not the secret has a value, and its tasks "
                        "fail to start on a secret without an AWSCURRENT version"
                    )
                )
            else:
                verdicts.append(
                    Verdict.failed(
                        f"{where}, and no {VERSIONS} of that secret has a postcondition that a "
                        "version is labelled AWSCURRENT: a secret the operator never set "
                        "(fresh account, copied environment file, forgotten put-secret-value) "
                        "passes the plan and its tasks cannot start"
                    )
                )
        if not verdicts:
            return Verdict.passed("reads no external secret marked value-set true")
        return combine(verdicts)


check = ExternalSecretHasValue()
