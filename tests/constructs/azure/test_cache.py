"""Cache: Azure Managed Redis, TLS-only, Entra auth, private, sized per config (CACHE-1..3)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cdktf import Testing as CdktfTesting
from constructs.azure.cache import cache_sku
from matrix import resources_of, shipped_stack

from synth.graph import Graph


def synth(env: str) -> str:
    return shipped_stack("azure", env).text


@pytest.fixture(scope="module")
def dev() -> str:
    return synth("dev")


def test_sku_is_the_nearest_size_at_or_above_the_config_cache_2() -> None:
    assert cache_sku(0.5, 0) == ("Balanced_B0", False)
    assert cache_sku(1, 0) == ("Balanced_B1", False)
    assert cache_sku(1, 1) == ("Balanced_B1", True)
    assert cache_sku(2, 1) == ("Balanced_B3", True)
    with pytest.raises(ValueError, match=r"cache\.replicas"):
        cache_sku(1, 2)


def test_no_azure_cache_for_redis_which_new_subscriptions_cannot_create_deploy_4(dev: str) -> None:
    stack: dict[str, Any] = json.loads(dev)
    assert resources_of(stack, "azurerm_redis_cache") == []
    assert len(resources_of(stack, "azurerm_managed_redis")) == 1


def test_cache_is_tls_only_with_entra_auth_and_lru_eviction_cache_1_cache_2(dev: str) -> None:
    assert CdktfTesting.to_have_resource_with_properties(
        dev,
        "azurerm_managed_redis",
        {
            "sku_name": "Balanced_B0",
            "high_availability_enabled": False,
            "default_database": {
                "access_keys_authentication_enabled": False,
                "client_protocol": "Encrypted",
                "clustering_policy": "EnterpriseCluster",
                "eviction_policy": "AllKeysLRU",
            },
        },
    )


def test_cache_is_reachable_only_through_a_private_endpoint_cache_3_net_2(dev: str) -> None:
    stack: dict[str, Any] = json.loads(dev)
    (redis,) = resources_of(stack, "azurerm_managed_redis")
    assert redis["public_network_access"] == "Disabled"
    endpoints = [
        e
        for e in resources_of(stack, "azurerm_private_endpoint")
        if e["private_service_connection"]["subresource_names"] == ["redisEnterprise"]
    ]
    assert len(endpoints) == 1
    zones = {z["name"] for z in resources_of(stack, "azurerm_private_dns_zone")}
    assert "privatelink.redis.azure.net" in zones


def test_app_identity_gets_the_cache_access_policy_through_the_cache_access_job(dev: str) -> None:
    stack: dict[str, Any] = json.loads(dev)
    (job,) = [j for j in resources_of(stack, "azurerm_container_app_job")
              if j["template"]["container"][0]["name"] == "cache-access"]  # fmt: skip
    env = {e["name"]: e["value"] for e in job["template"]["container"][0]["env"]}
    assert env["DATABASE_ID"].startswith("${azurerm_managed_redis.")
    assert env["DATABASE_ID"].endswith(".id}/databases/default")
    assert env["APP_OBJECT_ID"].startswith("${azurerm_user_assigned_identity.service_identity_")
    assert env["API_VERSION"] == "2025-04-01"
    # Started by the apply, which waits for it; the app waits for that step (DEPLOY-6).
    assert "schedule_trigger_config" not in job
    (run_name,) = [
        n for n in stack["resource"]["terraform_data"] if n.startswith("jobs_cache-access-run_")
    ]
    run = stack["resource"]["terraform_data"][run_name]
    assert run["input"]["starts"].startswith("${azurerm_container_app_job.jobs_cache-access_")
    (app,) = resources_of(stack, "azurerm_container_app")
    assert f"terraform_data.{run_name}" in app["depends_on"]
    (grant,) = [a for a in resources_of(stack, "azurerm_role_assignment")
                if a["scope"].startswith("${azurerm_managed_redis.")]  # fmt: skip
    assert grant["scope"].endswith(".id}")  # the one cache
    name = grant["role_definition_id"].split(".")[1]
    role = stack["resource"]["azurerm_role_definition"][name]
    assert role["assignable_scopes"] == ["${azurerm_resource_group.resource-group.id}"]
    assert all("*" not in a for a in role["permissions"][0]["actions"])


def test_the_cache_access_role_is_assigned_only_after_its_definition_replicates_deploy_2(
    dev: str,
) -> None:
    # ARM replicates a new custom role asynchronously: RoleDefinitionDoesNotExist otherwise.
    graph = Graph.of(json.loads(dev))
    (grant,) = [b for a, b in graph.of_type("azurerm_role_assignment").items()
                if ".jobs_assigns-cache-access_" in a]  # fmt: skip
    definition = grant["role_definition_id"].removeprefix("${").rsplit(".", 1)[0]
    assert definition.startswith("azurerm_role_definition.jobs_cache-access-role_")
    (sleep,) = [s for s in grant["depends_on"] if s.startswith("time_sleep.")]
    assert graph.refers_to(sleep, definition)
    assert graph.bodies[sleep]["create_duration"] == "5m"


def test_production_cache_is_highly_available_cache_2() -> None:
    (redis,) = resources_of(json.loads(synth("production")), "azurerm_managed_redis")
    assert (redis["sku_name"], redis["high_availability_enabled"]) == ("Balanced_B1", True)
