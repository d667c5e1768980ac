"""Cache: Azure Cache for Redis, TLS-only, Entra auth, private, sized per config (CACHE-1..3)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cdktf import Testing as CdktfTesting
from constructs.azure.cache import cache_sku
from matrix import resources_of

from stacks import stack_class
from synth.config import load_environment

ROOT = Path(__file__).resolve().parents[3]


def synth(env: str) -> str:
    config = load_environment(ROOT / "environments" / f"{env}.yaml", cloud="azure")
    return CdktfTesting.synth(stack_class("azure")(CdktfTesting.app(), config))


@pytest.fixture(scope="module")
def dev() -> str:
    return synth("dev")


def test_sku_is_the_nearest_size_at_or_above_the_config_cache_2() -> None:
    assert cache_sku(0.5, 0) == ("Basic", "C", 1)
    assert cache_sku(1, 0) == ("Basic", "C", 1)
    assert cache_sku(1, 1) == ("Standard", "C", 1)
    assert cache_sku(2, 1) == ("Standard", "C", 2)
    assert cache_sku(1, 2) == ("Premium", "P", 1)


def test_cache_is_tls_only_with_entra_auth_and_lru_eviction_cache_1_cache_2(dev: str) -> None:
    assert CdktfTesting.to_have_resource_with_properties(
        dev,
        "azurerm_redis_cache",
        {
            "non_ssl_port_enabled": False,
            "minimum_tls_version": "1.2",
            "access_keys_authentication_enabled": False,
            "redis_configuration": {
                "active_directory_authentication_enabled": True,
                "maxmemory_policy": "allkeys-lru",
            },
        },
    )


def test_cache_is_reachable_only_through_a_private_endpoint_cache_3_net_2(dev: str) -> None:
    stack: dict[str, Any] = json.loads(dev)
    (redis,) = resources_of(stack, "azurerm_redis_cache")
    assert redis["public_network_access_enabled"] is False
    assert "subnet_id" not in redis
    endpoints = [
        e
        for e in resources_of(stack, "azurerm_private_endpoint")
        if e["private_service_connection"]["subresource_names"] == ["redisCache"]
    ]
    assert len(endpoints) == 1


def test_production_cache_replicates_with_failover_cache_2() -> None:
    (redis,) = resources_of(json.loads(synth("production")), "azurerm_redis_cache")
    assert (redis["sku_name"], redis["family"], redis["capacity"]) == ("Standard", "C", 1)
