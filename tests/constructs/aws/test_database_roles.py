"""DatabaseRoles: the first-deploy step that creates the app's database role (DEPLOY-6),
read from the real production stack of the session matrix."""

from __future__ import annotations

import json
import re
from typing import Any

from matrix import resources_of


def _by_prefix(stack: dict[str, Any], rtype: str, prefix: str) -> dict[str, Any]:
    [(name, body)] = [(n, b) for n, b in stack["resource"][rtype].items() if n.startswith(prefix)]
    return {"address": f"{rtype}.{name}", **body}


def test_deploy_6_role_task_runs_psql_from_a_public_image_as_the_master_user(
    matrix: dict[tuple[str, str], Any],
) -> None:
    stack = matrix["aws", "production"]
    task = _by_prefix(stack, "aws_ecs_task_definition", "database-roles_task_")
    (container,) = json.loads(task["container_definitions"])
    assert container["image"] == "public.ecr.aws/docker/library/postgres:16-alpine"
    environment = {e["name"]: e["value"] for e in container["environment"]}
    assert environment["PGUSER"] == "groundwork_admin"
    assert environment["PGDATABASE"] == "groundwork"
    assert environment["PGHOST"].startswith("${aws_db_instance.database_primary_")
    (secret,) = container["secrets"]
    assert secret["name"] == "PGPASSWORD"
    assert secret["valueFrom"].startswith("${aws_secretsmanager_secret.database_master-secret_")
    assert secret["valueFrom"].endswith(":password::")
    (script,) = container["command"]
    assert "psql -v app=groundwork_app -v db=groundwork" in script
    sql = script.split("<<'SQL'\n", 1)[1]
    # F3: one transaction, serialized by an advisory lock, so a retried invocation running
    # a second task at the same time waits instead of failing or half-granting.
    statements = [
        "\\set ON_ERROR_STOP on",
        "BEGIN;",
        "SELECT pg_advisory_xact_lock(",
        "EXECUTE format('CREATE ROLE %I LOGIN', current_setting('groundwork.app'));",
        "EXCEPTION WHEN duplicate_object THEN",
        'GRANT rds_iam TO :"app";',
        'GRANT CONNECT, TEMPORARY ON DATABASE :"db" TO :"app";',
        'GRANT USAGE, CREATE ON SCHEMA public TO :"app";',
        "pg_has_role(app, 'rds_iam', 'MEMBER')",
        "has_database_privilege(app, db, 'CONNECT')",
        "has_database_privilege(app, db, 'TEMPORARY')",
        "has_schema_privilege(app, 'public', 'USAGE')",
        "has_schema_privilege(app, 'public', 'CREATE')",
        "RAISE EXCEPTION",
        "COMMIT;",
    ]
    positions = [sql.index(statement) for statement in statements]
    assert positions == sorted(positions)  # in this order, all inside the transaction
    assert sql.startswith("\\set ON_ERROR_STOP on\n")  # psql exits 3 on the first error
    assert "task_role_arn" not in task  # psql needs no AWS API


def test_deploy_2_deploy_6_the_invocation_waits_for_database_password_and_nat(
    matrix: dict[tuple[str, str], Any],
) -> None:
    stack = matrix["aws", "production"]
    invocation = _by_prefix(stack, "aws_lambda_invocation", "database-roles_run_")
    waits = invocation["depends_on"]
    assert any(w.startswith("aws_db_instance.database_primary_") for w in waits)
    assert any(
        w.startswith("aws_secretsmanager_secret_version.database_master-secret") for w in waits
    )
    assert sum(w.startswith("aws_route.network_app-default-") for w in waits) == 3
    assert sum(w.startswith("aws_route_table_association.network_app-") for w in waits) == 3
    # Terraform strips every group's default egress: the rules of both paths come first.
    for rule in (
        "aws_vpc_security_group_egress_rule.database-roles_function-egress-https_",
        "aws_vpc_security_group_egress_rule.network_app-out-443-internet_",
        "aws_vpc_security_group_egress_rule.network_app-out-5432-database_",
        "aws_vpc_security_group_ingress_rule.network_database-in-5432-app_",
    ):
        assert sum(w.startswith(rule) for w in waits) == 1, rule
    assert "database-roles_function_" in invocation["function_name"]
    assert "database-roles_task_" in invocation["input"]
    # F1: the SQL itself stays out of the jsonencode(...) expression (cdktf does not escape
    # its backslashes and quotes, hashicorp/terraform-cdk#1165); its digest re-runs the step.
    assert "ON_ERROR_STOP" not in invocation["input"]
    assert re.search(r'"?scriptSha256"? = "[0-9a-f]{64}"', invocation["input"])
    # A replaced primary (new DbiResourceId) changes the input, so the role is created again.
    assert re.search(
        r'"?database"? = aws_db_instance\.database_primary_[A-Za-z0-9]+\.resource_id',
        invocation["input"],
    ), invocation["input"]


def test_iam_1_the_function_may_run_only_the_role_task_and_pass_only_its_role(
    matrix: dict[tuple[str, str], Any],
) -> None:
    stack = matrix["aws", "production"]
    policy = _by_prefix(stack, "aws_iam_role_policy", "database-roles_function-policy_")
    statements = {s["Sid"]: s for s in json.loads(policy["policy"])["Statement"]}
    assert statements["RunTheRoleTask"]["Action"] == ["ecs:RunTask"]
    assert statements["RunTheRoleTask"]["Resource"].endswith(
        ":task-definition/groundwork-production-db-roles:*"
    )
    assert statements["HandTheExecutionRoleToEcs"]["Condition"] == {
        "StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}
    }
    [function] = [
        f
        for f in resources_of(stack, "aws_lambda_function")
        if f["function_name"] == "groundwork-production-db-roles"
    ]
    assert function["timeout"] == 900
    assert "reserved_concurrent_executions" not in function


def test_iam_1_the_function_manages_its_enis_and_writes_only_its_own_logs(
    matrix: dict[tuple[str, str], Any],
) -> None:
    """Not AWSLambdaVPCAccessExecutionRole (logs and ENI writes on `*`): an inline policy."""
    stack = matrix["aws", "production"]
    policy = _by_prefix(stack, "aws_iam_role_policy", "database-roles_function-vpc-access_")
    statements = {s["Sid"]: s for s in json.loads(policy["policy"])["Statement"]}
    assert statements["WriteTheFunctionLogs"]["Action"] == [
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    ]
    assert re.fullmatch(
        r"\$\{aws_cloudwatch_log_group\.database-roles_function-logs_[A-Za-z0-9]+\.arn\}:\*",
        statements["WriteTheFunctionLogs"]["Resource"],
    )
    # Describe* have no resource-level permissions; the ENI writes stay in account and region.
    assert statements["FindTheFunctionNetworkInterfaces"]["Resource"] == "*"
    assert statements["ManageTheFunctionNetworkInterfaces"]["Resource"].endswith(":*/*")
    assert not [
        a
        for a in resources_of(stack, "aws_iam_role_policy_attachment")
        if "AWSLambda" in a["policy_arn"]
    ]
