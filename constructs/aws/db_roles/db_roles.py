"""Lambda that creates the app's database role on deploy: runs the one-off ECS task, waits.

Satisfies: DEPLOY-6, IAM-1

Terraform invokes it (`aws_lambda_invocation`) once the database exists and before the app's
service starts. It starts the `db-roles` Fargate task (psql in the public postgres image,
signed in as the master user with the password ECS injects from Secrets Manager), waits for
the task to stop and fails the apply unless psql exited 0. The Lambda runtime has boto3 but no
PostgreSQL driver, which is why the SQL runs in a container. The ECS client is a parameter of
`run`, so tests drive it with a fake; only `lambda_handler` builds a real one.
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger()
logger.setLevel(logging.INFO)

POLL_SECONDS = 10
MAX_POLLS = 80  # 800 s, inside the function's 900 s timeout


class RoleSetupError(RuntimeError):
    """The role task could not start, or psql did not succeed."""


def run(event: dict[str, Any], ecs: Any) -> dict[str, Any]:
    """Start the task described by `event`, wait until it stops, and check its exit code."""
    cluster = event["cluster"]
    started = ecs.run_task(
        cluster=cluster,
        taskDefinition=event["taskDefinition"],
        launchType="FARGATE",
        count=1,
        startedBy="groundwork-db-roles",
        networkConfiguration={
            "awsvpcConfiguration": {
                "subnets": event["subnets"],
                "securityGroups": event["securityGroups"],
                "assignPublicIp": "DISABLED",
            }
        },
    )
    if started.get("failures") or not started.get("tasks"):
        raise RoleSetupError(f"the role task did not start: {started.get('failures')}")
    task_arn = started["tasks"][0]["taskArn"]
    logger.info("started %s", task_arn)
    ecs.get_waiter("tasks_stopped").wait(
        cluster=cluster,
        tasks=[task_arn],
        WaiterConfig={"Delay": POLL_SECONDS, "MaxAttempts": MAX_POLLS},
    )
    task = ecs.describe_tasks(cluster=cluster, tasks=[task_arn])["tasks"][0]
    codes = {c["name"]: c.get("exitCode") for c in task.get("containers", [])}
    if not codes or any(code != 0 for code in codes.values()):
        raise RoleSetupError(
            f"the role task {task_arn} failed: exit codes {codes}, {task.get('stoppedReason')}"
        )
    logger.info("the role task %s succeeded", task_arn)
    return {"task": task_arn, "exitCodes": codes}


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    import boto3  # only in Lambda, whose runtime provides it

    return run(event, boto3.client("ecs"))
