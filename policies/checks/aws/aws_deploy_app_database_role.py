"""Builds CKV_GW_DEPLOY_23: the app reaches the database as its own role, created before it
starts, and is never handed the master credential (DEPLOY-6, IAM-1).

Judged on each `aws_ecs_service` whose task role may `rds-db:connect`:
- the `dbuser` it connects as is not the master `username` of a database of this stack;
- no injected secret is the master credential (an RDS-managed `master_user_secret`, or a
  secret a master password is written to), which RDS or the operator rotates under the app;
- the service waits for an `aws_lambda_invocation` (the first-deploy step that creates the
  role), or the role would not exist when the app first signs in.
"""

import json
import re
from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, combine

DBUSER = re.compile(r":dbuser:.*/([A-Za-z0-9_]+)$")


def _db_users(policy: str) -> set[str]:
    """The database users an IAM policy document lets its role `rds-db:connect` as."""
    try:
        statements = json.loads(policy).get("Statement", [])
    except ValueError:
        # `${...}` inside the document (HCL quotes) makes it JSON only after Terraform renders
        # it: read each dbuser ARN up to its closing quote on its own line.
        return set(re.findall(r'dbuser:[^\n]*/([A-Za-z0-9_]+)"', policy))
    users = set()
    for statement in statements if isinstance(statements, list) else [statements]:
        resources = statement.get("Resource", [])
        for resource in resources if isinstance(resources, list) else [resources]:
            match = DBUSER.search(str(resource))
            if match:
                users.add(match.group(1))
    return users


class AppDatabaseRole(GroundworkCheck):
    id = "CKV_GW_DEPLOY_23"
    name = "The app signs in to the database as its own role, never as the master user"
    requirement = "DEPLOY-6"
    severity = "CRITICAL"
    resource_types = ("aws_ecs_service",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        graph = stack.graph
        task = address_of(body.get("task_definition"))
        if task is None or task not in graph.bodies:
            return Verdict.unknown("the task definition is not in this stack")
        task_body = graph.bodies[task]
        role = address_of(task_body.get("task_role_arn"))
        policies = [
            str(b.get("policy", ""))
            for a, b in graph.of_type("aws_iam_role_policy").items()
            if role and address_of(b.get("role")) == role
        ]
        users = {u for text in policies for u in _db_users(text)}
        if not users:
            return Verdict.passed("the app has no database access")
        masters = {
            str(b.get("username"))
            for b in graph.of_type("aws_db_instance").values()
            if b.get("username")
        }
        master_secrets = {
            a
            for a, b in graph.of_type("aws_secretsmanager_secret_version").items()
            if "password" in str(b.get("secret_string_wo", ""))
        }
        master_secrets = {str(address_of(graph.bodies[a].get("secret_id"))) for a in master_secrets}
        verdicts = []
        for user in sorted(users & masters):
            verdicts.append(Verdict.failed(f"the app connects as the master user {user}"))
        containers = json.loads(str(task_body.get("container_definitions", "[]")))
        for container in containers:
            for secret in container.get("secrets") or []:
                source = str(secret.get("valueFrom"))
                if "master_user_secret" in source or any(f"{s}." in source for s in master_secrets):
                    verdicts.append(
                        Verdict.failed(f"{secret.get('name')} is the master credential")
                    )
        if not any(
            a.startswith("aws_lambda_invocation.") for a in graph.prerequisites(self.address)
        ):
            verdicts.append(
                Verdict.failed("nothing creates the app's role before the service starts")
            )
        if not verdicts:
            verdicts.append(Verdict.passed(f"connects as {sorted(users)}, created first"))
        return combine(verdicts)


check = AppDatabaseRole()
