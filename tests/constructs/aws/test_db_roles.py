"""Tests the first-deploy role function (DEPLOY-6) against a fake ECS client."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from constructs.aws.db_roles.db_roles import RoleSetupError, run

FAMILY = "groundwork-dev-db-roles"
EVENT = {
    "cluster": "arn:aws:ecs:eu-west-1:111122223333:cluster/groundwork-dev-db-roles",
    "taskDefinition": f"arn:aws:ecs:eu-west-1:111122223333:task-definition/{FAMILY}:3",
    "subnets": ["subnet-0app1", "subnet-0app2"],
    "securityGroups": ["sg-0app"],
    "scriptSha256": hashlib.sha256(b"GRANT rds_iam TO groundwork_app;").hexdigest(),
}
TASK = "arn:aws:ecs:eu-west-1:111122223333:task/groundwork-dev-db-roles/0123"


class FakeEcs:
    def __init__(self, exit_code: int | None = 0, failures: list[Any] | None = None) -> None:
        self.exit_code = exit_code
        self.failures = failures or []
        self.run_args: dict[str, Any] = {}
        self.waited: dict[str, Any] = {}

    def run_task(self, **kwargs: Any) -> dict[str, Any]:
        self.run_args = kwargs
        if self.failures:
            return {"tasks": [], "failures": self.failures}
        return {"tasks": [{"taskArn": TASK}], "failures": []}

    def get_waiter(self, name: str) -> Any:
        assert name == "tasks_stopped"
        fake = self

        class Waiter:
            def wait(self, **kwargs: Any) -> None:
                fake.waited = kwargs

        return Waiter()

    def describe_tasks(self, cluster: str, tasks: list[str]) -> dict[str, Any]:
        return {
            "tasks": [
                {
                    "taskArn": tasks[0],
                    "stoppedReason": "Essential container in task exited",
                    "containers": [{"name": "psql", "exitCode": self.exit_code}],
                }
            ]
        }


def test_runs_the_role_task_privately_and_waits_until_it_stops() -> None:
    ecs = FakeEcs()
    assert run(EVENT, ecs) == {"task": TASK, "exitCodes": {"psql": 0}}
    network = ecs.run_args["networkConfiguration"]["awsvpcConfiguration"]
    assert network == {
        "subnets": EVENT["subnets"],
        "securityGroups": EVENT["securityGroups"],
        "assignPublicIp": "DISABLED",
    }
    assert ecs.run_args["launchType"] == "FARGATE"
    assert ecs.waited["tasks"] == [TASK]
    assert ecs.waited["WaiterConfig"]["Delay"] * ecs.waited["WaiterConfig"]["MaxAttempts"] < 900


@pytest.mark.parametrize("exit_code", [1, None])
def test_a_failed_or_killed_psql_fails_the_apply(exit_code: int | None) -> None:
    with pytest.raises(RoleSetupError, match="failed"):
        run(EVENT, FakeEcs(exit_code=exit_code))


def test_a_task_that_cannot_start_fails_the_apply() -> None:
    with pytest.raises(RoleSetupError, match="did not start"):
        run(EVENT, FakeEcs(failures=[{"reason": "RESOURCE:ENI"}]))
