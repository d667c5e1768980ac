"""Service: ECS Fargate sized and scaled per config, zero-downtime, secrets by reference,
least-privilege roles (APP-1..5, EDGE-4)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cdktf import TerraformStack
from cdktf import Testing as CdktfTesting
from cdktf_cdktf_provider_aws.ecs_service import EcsService
from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs.aws.edge import Edge
from constructs.aws.network import Network
from constructs.aws.registry import Registry
from constructs.aws.service import (
    Service,
    cdktf_logical_id,
    container_insights_cluster,
    fargate_task_size,
)
from matrix import resources_of

from synth.config import load_environment

ROOT = Path(__file__).resolve().parents[3]
ACCOUNT = "arn:aws:secretsmanager:eu-west-1:111122223333:secret"
SECRETS = {
    "JWT_SECRET": f"{ACCOUNT}:groundwork-dev/jwt-AbCdEf",
    "DATABASE_URL": f"{ACCOUNT}:groundwork-dev/database-url-AbCdEf",
    "DATABASE_PASSWORD": f"{ACCOUNT}:groundwork-dev/database-password-AbCdEf",
}
BUCKET = "arn:aws:s3:::groundwork-dev-app-111122223333"
CACHE = ["arn:aws:elasticache:eu-west-1:111122223333:user:groundwork-dev-app"]
DATABASE_USER = "arn:aws:rds-db:eu-west-1:111122223333:dbuser:prx-0/groundwork_app"
DATA_KEY = "arn:aws:kms:eu-west-1:111122223333:key/data"
LOG_KEY = "arn:aws:kms:eu-west-1:111122223333:key/logs"


def synth(env: str, **aws: Any) -> dict[str, Any]:
    config = load_environment(ROOT / "environments" / f"{env}.yaml")
    config = config.model_copy(update={"aws": config.aws.model_copy(update=aws)})
    stack = TerraformStack(CdktfTesting.app(), "test")
    AwsProvider(stack, "aws", region=config.aws.region)
    network = Network(stack, "network", config=config, log_kms_key_arn=LOG_KEY)
    edge = Edge(stack, "edge", config=config, network=network, log_kms_key_arn=LOG_KEY)
    registry = Registry(stack, "registry", config=config, kms_key_arn=DATA_KEY)
    Service(
        stack,
        "service",
        config=config,
        service=config.services[0],
        network=network,
        edge=edge,
        repository_url=registry.repository_url,
        repository_arn=registry.repository_arn,
        repository_name=registry.repository_name,
        kms_key_arn=DATA_KEY,
        log_kms_key_arn=LOG_KEY,
        cluster=container_insights_cluster(stack, "cluster", config.prefix, config, LOG_KEY),
        secret_arns=SECRETS,
        bucket_arn=BUCKET,
        cache_connect_arns=CACHE,
        wiring={
            "database": {"DATABASE_HOST": "proxy.internal", "DATABASE_USER": "groundwork_app"},
            "cache": {
                "REDIS_HOST": "cache.internal",
                "REDIS_PORT": "6379",
                "REDIS_TLS": "true",
                "REDIS_USERNAME": "groundwork-dev-app",
                "REDIS_CACHE_NAME": "groundwork-dev-redis",
            },
            "object_storage": {"BUCKET_NAME": "groundwork-dev-app-111122223333"},
        },
        database_connect_arns=[DATABASE_USER],
    )
    return {"config": config, "json": CdktfTesting.synth(stack)}


@pytest.fixture(scope="module")
def dev() -> dict[str, Any]:
    return synth("dev")


def stack_of(synthesized: dict[str, Any]) -> dict[str, Any]:
    return json.loads(synthesized["json"])


def containers(synthesized: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The task's containers by name: the app's and the liveness sidecar."""
    [task] = resources_of(stack_of(synthesized), "aws_ecs_task_definition")
    return {c["name"]: c for c in json.loads(task["container_definitions"])}


def container(synthesized: dict[str, Any]) -> dict[str, Any]:
    found = containers(synthesized)
    assert set(found) == {"app", "liveness-probe"}
    return found["app"]


def app_tasks(stack: dict[str, Any], env: str) -> list[dict[str, Any]]:
    """The app's task definitions (family `<prefix>`), not the one-off role task's."""
    tasks = resources_of(stack, "aws_ecs_task_definition")
    return [task for task in tasks if task["family"] == f"groundwork-{env}"]


def role_policy(stack: dict[str, Any], role_name: str) -> list[dict[str, Any]]:
    roles = stack["resource"]["aws_iam_role"]
    [key] = [key for key, role in roles.items() if role["name"] == role_name]
    [policy] = [
        p
        for p in resources_of(stack, "aws_iam_role_policy")
        if p["role"] == f"${{aws_iam_role.{key}.id}}"
    ]
    return json.loads(policy["policy"])["Statement"]


@pytest.mark.parametrize(
    ("cpu", "memory", "expected"),
    [
        (0.5, 512, (512, 1024)),
        (1.0, 512, (1024, 2048)),
        (0.25, 512, (256, 512)),
        (1.0, 3000, (1024, 3072)),
    ],
)
def test_fargate_size_is_the_smallest_valid_pair_at_or_above_the_limits_app_2(
    cpu: float, memory: int, expected: tuple[int, int]
) -> None:
    assert fargate_task_size(cpu, memory) == expected


def test_container_keeps_the_configured_request_and_limit_app_2(dev: dict[str, Any]) -> None:
    [task] = resources_of(stack_of(dev), "aws_ecs_task_definition")
    assert (task["cpu"], task["memory"]) == ("512", "1024")  # dev: 0.5 vCPU / 512 MiB
    app = container(dev)
    assert (app["cpu"], app["memoryReservation"], app["memory"]) == (256, 256, 512)
    assert app["readonlyRootFilesystem"] is True


def test_deploy_5_first_apply_runs_a_public_placeholder_that_serves_health(
    dev: dict[str, Any],
) -> None:
    app = container(dev)
    port = dev["config"].service.port
    assert app["image"] == "public.ecr.aws/docker/library/busybox:1.37"
    assert app["entryPoint"] == ["sh", "-c"]
    (command,) = app["command"]
    assert "echo ok > /tmp/www/health" in command  # /tmp is the writable volume
    assert f"httpd -f -p {port} -h /tmp/www" in command
    assert "healthCheck" not in app  # liveness is the sidecar's (EDGE-4, DEPLOY-6)


def test_deploy_5_a_release_runs_the_registry_image_at_its_tag() -> None:
    released = synth("dev", release_image=True)
    app = container(released)
    assert app["image"].startswith("${aws_ecr_repository.")
    assert app["image"].endswith(f":{released['config'].service.image_tag}")
    assert "command" not in app and "entryPoint" not in app
    # Nothing runs in the release image but the app: it may have no shell, node or wget.
    assert "healthCheck" not in app
    assert containers(released)["liveness-probe"]["image"] == (
        "public.ecr.aws/docker/library/busybox:1.37"
    )


def test_deploy_5_a_release_task_definition_waits_for_its_image_in_the_registry() -> None:
    # CKV_GW_DEPLOY_104: a missing tag fails the lookup (plan, or apply before the task
    # definition), never a task definition whose tasks cannot pull.
    released = synth("dev", release_image=True)
    stack = stack_of(released)
    lookups = stack["data"]["aws_ecr_image"]
    [(address, lookup)] = lookups.items()
    assert lookup["repository_name"].startswith("${aws_ecr_repository.")
    assert lookup["repository_name"].endswith(".name}")
    assert lookup["image_tag"] == released["config"].service.image_tag
    [task] = resources_of(stack, "aws_ecs_task_definition")
    assert f"data.aws_ecr_image.{address}" in task["depends_on"]
    # Before a release there is nothing to look up.
    assert "aws_ecr_image" not in stack_of(synth("dev")).get("data", {})


def test_obs_1_deploy_2_container_insights_log_group_exists_before_the_cluster(
    dev: dict[str, Any],
) -> None:
    stack = stack_of(dev)
    groups = stack["resource"]["aws_cloudwatch_log_group"]
    name = "/aws/ecs/containerinsights/groundwork-dev/performance"
    [(address, group)] = [(a, g) for a, g in groups.items() if g["name"] == name]
    assert group["kms_key_id"] == LOG_KEY
    assert group["retention_in_days"] == dev["config"].logs.retention_days
    [cluster] = resources_of(stack, "aws_ecs_cluster")
    assert cluster["depends_on"] == [f"aws_cloudwatch_log_group.{address}"]


def test_sizes_differ_between_dev_and_production_app_1_app_2(
    matrix: dict[tuple[str, str], Any],
) -> None:
    sizes = {}
    for env in ("dev", "production"):
        [task] = app_tasks(matrix["aws", env], env)
        [target] = resources_of(matrix["aws", env], "aws_appautoscaling_target")
        sizes[env] = (task["cpu"], target["min_capacity"], target["max_capacity"])
    assert sizes == {"dev": ("512", 1, 2), "production": ("1024", 2, 10)}


def test_autoscaling_tracks_cpu_and_memory_within_the_replica_bounds_app_1(
    dev: dict[str, Any],
) -> None:
    stack = stack_of(dev)
    [target] = resources_of(stack, "aws_appautoscaling_target")
    assert (target["min_capacity"], target["max_capacity"]) == (1, 2)
    targets = {
        p["target_tracking_scaling_policy_configuration"]["predefined_metric_specification"][
            "predefined_metric_type"
        ]: p["target_tracking_scaling_policy_configuration"]["target_value"]
        for p in resources_of(stack, "aws_appautoscaling_policy")
    }
    assert targets == {
        "ECSServiceAverageCPUUtilization": 70,
        # 80 % of the container's 512 MiB limit, as a share of the 1024 MiB dev task's memory,
        # which is what ECS measures MemoryUtilization against.
        "ECSServiceAverageMemoryUtilization": 80 * 512 / 1024,
    }


def test_rolling_deployment_with_circuit_breaker_in_private_subnets_app_3(
    dev: dict[str, Any],
) -> None:
    assert CdktfTesting.to_have_resource_with_properties(
        dev["json"],
        EcsService.TF_RESOURCE_TYPE,
        {
            "launch_type": "FARGATE",
            "desired_count": 1,
            "deployment_minimum_healthy_percent": 100,
            "deployment_maximum_percent": 200,
            "deployment_circuit_breaker": {"enable": True, "rollback": True},
            "network_configuration": {"assign_public_ip": False},
            "load_balancer": [{"container_name": "app", "container_port": 3001}],
        },
    )


def test_secrets_arrive_by_reference_only_app_4(dev: dict[str, Any]) -> None:
    app = container(dev)
    assert {s["name"]: s["valueFrom"] for s in app["secrets"]} == SECRETS
    names = {variable["name"] for variable in app["environment"]}
    assert names == {
        "PORT",
        "NODE_ENV",
        "REDIS_HOST",
        "REDIS_PORT",
        "REDIS_TLS",
        "REDIS_USERNAME",
        "REDIS_CACHE_NAME",
        "DATABASE_HOST",
        "DATABASE_USER",
        "BUCKET_NAME",
    }
    environment = {variable["name"]: variable["value"] for variable in app["environment"]}
    # The IAM auth token is signed for the replication group id (ElastiCache auth-iam docs).
    assert environment["REDIS_CACHE_NAME"] == "groundwork-dev-redis"
    assert not names & set(SECRETS)


def test_execution_role_reads_exactly_the_given_secrets_app_4_iam_1(dev: dict[str, Any]) -> None:
    statements = {s["Sid"]: s for s in role_policy(stack_of(dev), "groundwork-dev-ecs-execution")}
    assert sorted(statements["ReadTheAppSecrets"]["Resource"]) == sorted(SECRETS.values())
    assert statements["PullTheAppImage"]["Resource"].startswith("${aws_ecr_repository.")
    for statement in statements.values():
        assert all("*" not in action for action in statement["Action"])


def test_task_role_reaches_only_its_bucket_and_cache_app_5_iam_1(dev: dict[str, Any]) -> None:
    statements = {s["Sid"]: s for s in role_policy(stack_of(dev), "groundwork-dev-app")}
    assert statements["ListTheAppBucket"]["Resource"] == BUCKET
    assert statements["ReadWriteTheAppObjects"]["Resource"] == f"{BUCKET}/*"
    assert statements["ConnectToTheCache"]["Resource"] == CACHE
    for statement in statements.values():
        assert all("*" not in action for action in statement["Action"])
        assert statement["Resource"] != "*"
    [task] = resources_of(stack_of(dev), "aws_ecs_task_definition")
    assert task["task_role_arn"] != task["execution_role_arn"]


def test_liveness_every_30_s_and_30_s_graceful_stop_edge_4(dev: dict[str, Any]) -> None:
    app = container(dev)
    assert app["stopTimeout"] == 30
    probe = containers(dev)["liveness-probe"]
    port = dev["config"].service.port
    # ECS runs busybox's wget in the sidecar every 30 s; three failures in a row after a 30 s
    # start period make the essential sidecar, so the task, UNHEALTHY: the service replaces
    # it, and the deployment circuit breaker counts it (APP-3, F9).
    assert probe["healthCheck"] == {
        "command": [
            "CMD-SHELL",
            f"wget -q -O /dev/null -T 5 http://127.0.0.1:{port}/health || exit 1",
        ],
        "interval": 30,
        "timeout": 6,
        "retries": 3,
        "startPeriod": 30,
    }
    assert probe["entryPoint"] == ["sh", "-c"] and probe["command"] == ["exec sleep 2147483647"]
    assert probe["essential"] is True
    assert probe["dependsOn"] == [{"containerName": "app", "condition": "START"}]
    assert "portMappings" not in probe
    assert probe["logConfiguration"]["options"]["awslogs-stream-prefix"] == "liveness-probe"


def test_the_task_has_room_for_the_liveness_sidecar_beside_the_app_limit() -> None:
    # 0.25 vCPU and 512 MiB would be the 256/512 pair alone; the sidecar's 32 MiB needs 1024.
    released = synth("dev", release_image=True)
    config = released["config"]
    service = config.services[0].model_copy(
        update={"cpu_limit": 0.25, "cpu_request": 0.25, "memory_limit_mib": 512}
    )
    assert fargate_task_size(service.cpu_limit, service.memory_limit_mib) == (256, 512)
    assert fargate_task_size(service.cpu_limit, service.memory_limit_mib + 32) == (256, 1024)


def test_logs_go_to_an_encrypted_group_with_the_retention_obs_1(dev: dict[str, Any]) -> None:
    groups = resources_of(stack_of(dev), "aws_cloudwatch_log_group")
    [app_logs] = [group for group in groups if group["name"] == "/ecs/groundwork-dev/app"]
    assert (app_logs["kms_key_id"], app_logs["retention_in_days"]) == (LOG_KEY, 30)
    [cluster] = resources_of(stack_of(dev), "aws_ecs_cluster")
    assert cluster["setting"] == [{"name": "containerInsights", "value": "enabled"}]


@pytest.mark.parametrize("env", ["dev", "production"])
def test_deploy_6_the_app_signs_in_as_its_own_role_and_never_gets_the_master_password(
    matrix: dict[tuple[str, str], Any], env: str
) -> None:
    stack = matrix["aws", env]
    [task] = app_tasks(stack, env)
    [app] = [c for c in json.loads(task["container_definitions"]) if c["name"] == "app"]
    value_from = {s["name"]: s["valueFrom"] for s in app["secrets"]}
    assert set(value_from) == {
        "JWT_SECRET",
        "JWT_SECRET_PREVIOUS",
        "JWT_SECRET_NEXT",
        "DATABASE_URL",
    }
    assert all(v.startswith("${aws_secretsmanager_secret.secrets_") for v in value_from.values())
    # The rotated-secret contract: one secret, its AWSCURRENT, AWSPREVIOUS and NEXT labels.
    jwt = value_from["JWT_SECRET"]
    assert jwt.endswith(".arn}")
    assert value_from["JWT_SECRET_PREVIOUS"] == f"{jwt}::AWSPREVIOUS:"
    assert value_from["JWT_SECRET_NEXT"] == f"{jwt}::NEXT:"
    environment = {e["name"]: e["value"] for e in app["environment"]}
    assert environment["DATABASE_USER"] == "groundwork_app"
    # The service starts after its database role and every secret value exist.
    [service] = resources_of(stack, "aws_ecs_service")
    waits = service["depends_on"]
    assert any(w.startswith("aws_lambda_invocation.database-roles_run_") for w in waits)
    assert any(w.startswith("aws_lambda_invocation.secrets_jwt-first-version_") for w in waits)
    assert any(
        w.startswith("aws_secretsmanager_secret_version.secrets_database-url") for w in waits
    )
    # Its task role may connect only as that role.
    [policy] = [
        p["policy"]
        for p in resources_of(stack, "aws_iam_role_policy")
        if "ConnectToTheDatabase" in p["policy"]
    ]
    assert "/groundwork_app" in policy and "groundwork_admin" not in policy


def test_cdktf_logical_id_is_the_address_cdktf_gives_a_nested_resource() -> None:
    """The `moved` blocks' old addresses (the cluster lived in the first service's construct)
    are computed, so the computation must be cdktf's own."""
    from constructs import Construct

    config = load_environment(ROOT / "environments" / "dev.yaml")
    stack = TerraformStack(CdktfTesting.app(), "test")
    AwsProvider(stack, "aws", region=config.aws.region)
    for scope_id in ("service", "service-web"):
        container_insights_cluster(Construct(stack, scope_id), "cluster", scope_id, config, LOG_KEY)
    synthesized = json.loads(CdktfTesting.synth(stack))
    assert set(synthesized["resource"]["aws_ecs_cluster"]) == {
        cdktf_logical_id("service", "cluster"),
        cdktf_logical_id("service-web", "cluster"),
    }
    assert (
        cdktf_logical_id("service", "cluster-insights-logs")
        in (synthesized["resource"]["aws_cloudwatch_log_group"])
    )


def test_the_shipped_environments_move_their_cluster_instead_of_replacing_it() -> None:
    """dev/staging/production had their cluster in the default service's construct."""
    from stacks.aws import AwsStack

    config = load_environment(ROOT / "environments" / "dev.yaml")
    built = AwsStack(CdktfTesting.app(), config)
    stack = json.loads(CdktfTesting.synth(built))
    moved = {m["to"]: m["from"] for m in stack["moved"]}
    assert moved["aws_ecs_cluster.cluster"] == (
        f"aws_ecs_cluster.{cdktf_logical_id('service', 'cluster')}"
    )
    assert moved["aws_cloudwatch_log_group.cluster-insights-logs"] == (
        f"aws_cloudwatch_log_group.{cdktf_logical_id('service', 'cluster-insights-logs')}"
    )
    # The stack's metadata names the moved resources, as cdktf's own moves record them.
    assert built.to_terraform()["//"]["metadata"]["moved"] == {
        "aws_cloudwatch_log_group": ["cluster-insights-logs"],
        "aws_ecs_cluster": ["cluster"],
    }
    # No resource carries a cdktf move: that would make cdktf run `terraform version` in a
    # shell on every synthesis (issue 13; constructs/aws/service.py `Moved`).
    assert not built.has_resource_move()
    hcl = built.to_hcl_terraform()["hcl"]
    old_cluster = cdktf_logical_id("service", "cluster")
    block = f"moved {{\nto = aws_ecs_cluster.cluster\nfrom = aws_ecs_cluster.{old_cluster}\n}}"
    assert block in hcl


def test_deploy_5_an_apply_succeeds_only_when_the_service_runs_its_new_task_definition(
    dev: dict[str, Any],
) -> None:
    # The provider waits for one deployment with every desired task running; after a
    # rollback the service runs the previous task definition and the postcondition fails.
    stack = stack_of(dev)
    [service] = resources_of(stack, "aws_ecs_service")
    [task_address] = stack["resource"]["aws_ecs_task_definition"]
    assert service["wait_for_steady_state"] is True
    [postcondition] = service["lifecycle"]["postcondition"]
    assert postcondition["condition"] == (
        f"${{(self.task_definition == aws_ecs_task_definition.{task_address}.arn)}}"
    )
    assert "rolled it back" in postcondition["error_message"]
    assert service["lifecycle"]["ignore_changes"] == ["desired_count"]
