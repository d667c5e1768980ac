"""Tests the AWS Cache construct (CACHE-1..3, NET-2, OBS-1) per environment.

Each environment's real config drives a small test stack holding only the cache.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

# cdktf's Testing is aliased: pytest would try to collect a class named `Test*`.
from cdktf import TerraformOutput, TerraformStack
from cdktf import Testing as CdktfTesting
from cdktf_cdktf_provider_aws.elasticache_replication_group import (
    ElasticacheReplicationGroup,
)
from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs.aws.cache import Cache, node_type

from synth.config import load_environment

ROOT = Path(__file__).resolve().parents[3]
KEY = "arn:aws:kms:eu-west-1:111122223333:key/00000000-0000-0000-0000-000000000001"
LOG_KEY = "arn:aws:kms:eu-west-1:111122223333:key/00000000-0000-0000-0000-000000000002"
SUBNETS = ["subnet-0data1", "subnet-0data2"]
ENVS = ("dev", "staging", "production")


class Synthesized:
    def __init__(self, env: str) -> None:
        self.config = load_environment(ROOT / "environments" / f"{env}.yaml", cloud="aws")
        stack = TerraformStack(CdktfTesting.app(), "test")
        AwsProvider(stack, "aws", region=self.config.aws.region)
        self.cache = Cache(
            stack,
            "cache",
            config=self.config,
            subnet_ids=SUBNETS,
            security_group_id="sg-0cache",
            kms_key_arn=KEY,
            log_kms_key_arn=LOG_KEY,
        )
        TerraformOutput(stack, "endpoint", value=self.cache.endpoint)
        TerraformOutput(stack, "connect", value=self.cache.connect_arns)
        TerraformOutput(stack, "cache_name", value=self.cache.cache_name)
        self.text = CdktfTesting.synth(stack)
        self.json = json.loads(self.text)

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        found = self.json.get("resource", {}).get(resource_type, {})
        return {f"{resource_type}.{name}": body for name, body in found.items()}

    def one(self, resource_type: str) -> tuple[str, dict[str, Any]]:
        (found,) = self.resources(resource_type).items()
        return found

    def group(self) -> dict[str, Any]:
        return self.one("aws_elasticache_replication_group")[1]

    def output(self, name: str) -> Any:
        return self.json["output"][name]["value"]


@pytest.fixture(scope="module")
def stacks() -> dict[str, Synthesized]:
    return {env: Synthesized(env) for env in ENVS}


@pytest.mark.parametrize(
    ("memory_gb", "expected"),
    [
        (0.25, "cache.t4g.micro"),
        (0.5, "cache.t4g.micro"),
        (1, "cache.t4g.small"),
        (1.37, "cache.t4g.small"),
        (2, "cache.t4g.medium"),
        (4, "cache.m7g.large"),
        (64, "cache.r7g.4xlarge"),
    ],
)
def test_cache_2_node_type_is_the_smallest_with_enough_memory(
    memory_gb: float, expected: str
) -> None:
    assert node_type(memory_gb) == expected


def test_cache_2_node_type_refuses_a_size_no_node_has() -> None:
    with pytest.raises(ValueError, match="no ElastiCache node type"):
        node_type(200)


@pytest.mark.parametrize(
    ("env", "node", "clusters"),
    [
        ("dev", "cache.t4g.micro", 1),
        ("staging", "cache.t4g.small", 1),
        ("production", "cache.t4g.small", 2),
    ],
)
def test_cache_2_size_and_replication_per_environment(
    stacks: dict[str, Synthesized], env: str, node: str, clusters: int
) -> None:
    synthesized = stacks[env]
    replicated = synthesized.config.cache.replicas > 0
    assert CdktfTesting.to_have_resource_with_properties(
        synthesized.text,
        ElasticacheReplicationGroup.TF_RESOURCE_TYPE,
        {
            "replication_group_id": f"groundwork-{env}-redis",
            "engine": "redis",
            "node_type": node,
            "num_cache_clusters": clusters,
            "automatic_failover_enabled": replicated,
            "multi_az_enabled": replicated,
            "port": 6379,
        },
    )
    assert replicated == (env == "production")
    assert synthesized.cache.port == 6379


@pytest.mark.parametrize("env", ENVS)
def test_cache_2_eviction_policy_from_config(stacks: dict[str, Synthesized], env: str) -> None:
    synthesized = stacks[env]
    address, parameters = synthesized.one("aws_elasticache_parameter_group")
    assert parameters["family"] == "redis7"
    assert parameters["parameter"] == [{"name": "maxmemory-policy", "value": "allkeys-lru"}]
    assert synthesized.group()["parameter_group_name"] == f"${{{address}.name}}"
    assert synthesized.group()["engine_version"].startswith("7.")


@pytest.mark.parametrize("env", ENVS)
def test_cache_1_encrypted_in_transit_and_at_rest(stacks: dict[str, Synthesized], env: str) -> None:
    group = stacks[env].group()
    assert group["transit_encryption_enabled"] is True
    assert group["transit_encryption_mode"] == "required"
    assert group["at_rest_encryption_enabled"] == "true"
    assert group["kms_key_id"] == KEY


@pytest.mark.parametrize("env", ENVS)
def test_cache_1_authentication_is_iam_with_the_default_user_disabled(
    stacks: dict[str, Synthesized], env: str
) -> None:
    synthesized = stacks[env]
    assert "auth_token" not in synthesized.group()
    users = {
        body["user_name"]: (address, body)
        for address, body in synthesized.resources("aws_elasticache_user").items()
    }
    assert set(users) == {"default", f"groundwork-{env}-app"}
    app_address, app = users[f"groundwork-{env}-app"]
    assert app["user_id"] == app["user_name"]  # ElastiCache requires it for IAM users
    assert app["authentication_mode"] == {"type": "iam"}
    assert app["access_string"].startswith("on ")
    default_address, default = users["default"]
    assert default["user_id"] != "default"  # the built-in user cannot be changed
    assert default["access_string"].startswith("off ")
    assert default["authentication_mode"] == {"type": "no-password-required"}
    for _, body in users.values():
        assert "passwords" not in body
        assert "passwords" not in body["authentication_mode"]
    group_address, user_group = synthesized.one("aws_elasticache_user_group")
    assert sorted(user_group["user_ids"]) == sorted(
        [f"${{{default_address}.user_id}}", f"${{{app_address}.user_id}}"]
    )
    assert synthesized.group()["user_group_ids"] == [f"${{{group_address}.user_group_id}}"]
    replication_group, _ = synthesized.one("aws_elasticache_replication_group")
    assert synthesized.output("connect") == [
        f"${{{replication_group}.arn}}",
        f"${{{app_address}.arn}}",
    ]
    assert synthesized.cache.username == f"groundwork-{env}-app"


@pytest.mark.parametrize("env", ENVS)
def test_cache_3_net_2_private_subnets_and_security_group_only(
    stacks: dict[str, Synthesized], env: str
) -> None:
    synthesized = stacks[env]
    address, subnet_group = synthesized.one("aws_elasticache_subnet_group")
    assert subnet_group["subnet_ids"] == SUBNETS
    group = synthesized.group()
    assert group["subnet_group_name"] == f"${{{address}.name}}"
    assert group["security_group_ids"] == ["sg-0cache"]
    assert synthesized.output("endpoint").endswith(".primary_endpoint_address}")
    # The app's REDIS_CACHE_NAME: the id its IAM auth token is signed for.
    assert synthesized.output("cache_name").endswith(".replication_group_id}")
    assert group["replication_group_id"] == f"groundwork-{env}-redis"


@pytest.mark.parametrize(("env", "snapshots"), [("dev", 1), ("staging", 7), ("production", 7)])
def test_snapshots_and_minor_upgrades(
    stacks: dict[str, Synthesized], env: str, snapshots: int
) -> None:
    group = stacks[env].group()
    assert group["snapshot_retention_limit"] == snapshots >= 1
    assert group["auto_minor_version_upgrade"] == "true"


@pytest.mark.parametrize("env", ENVS)
def test_obs_1_slow_and_engine_logs_go_to_encrypted_log_groups(
    stacks: dict[str, Synthesized], env: str
) -> None:
    synthesized = stacks[env]
    groups = synthesized.resources("aws_cloudwatch_log_group")
    by_name = {body["name"]: address for address, body in groups.items()}
    assert set(by_name) == {
        f"/aws/elasticache/groundwork-{env}-redis/slow-log",
        f"/aws/elasticache/groundwork-{env}-redis/engine-log",
    }
    for body in groups.values():
        assert body["kms_key_id"] == LOG_KEY
        assert body["retention_in_days"] == synthesized.config.logs.retention_days
    deliveries = synthesized.group()["log_delivery_configuration"]
    assert {d["log_type"]: d["destination"] for d in deliveries} == {
        "slow-log": f"${{{by_name[f'/aws/elasticache/groundwork-{env}-redis/slow-log']}.name}}",
        "engine-log": f"${{{by_name[f'/aws/elasticache/groundwork-{env}-redis/engine-log']}.name}}",
    }
    assert {d["destination_type"] for d in deliveries} == {"cloudwatch-logs"}
