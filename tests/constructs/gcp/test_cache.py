"""Cache: private Memorystore with AUTH, TLS and CMEK, HA in production (CACHE-1..3)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cdktf import TerraformStack
from cdktf import Testing as CdktfTesting
from cdktf_cdktf_provider_google.provider import GoogleProvider
from conftest import resources_of
from constructs.gcp.cache import Cache
from constructs.gcp.database import Database
from constructs.gcp.keys import Keys
from constructs.gcp.network import Network
from constructs.gcp.secrets import Secrets

from synth.config import load_environment

ROOT = Path(__file__).resolve().parents[3]


def synth(env: str) -> dict[str, Any]:
    config = load_environment(ROOT / "environments" / f"{env}.yaml", cloud="gcp")
    stack = TerraformStack(CdktfTesting.app(), "test")
    GoogleProvider(stack, "google", project=config.gcp.project, region=config.gcp.region)
    keys = Keys(stack, "keys", config=config)
    network = Network(stack, "network", config=config, agents=keys.agents)
    database = Database(stack, "database", config=config, keys=keys, network=network)
    secrets = Secrets(stack, "secrets", config=config, keys=keys, database=database)
    Cache(stack, "cache", config=config, keys=keys, network=network, secrets=secrets)
    return json.loads(CdktfTesting.synth(stack))


@pytest.fixture(scope="module")
def stacks() -> dict[str, dict[str, Any]]:
    return {env: synth(env) for env in ("dev", "production")}


def test_auth_tls_and_cmek_on_every_instance_cache_1(stacks: dict[str, dict[str, Any]]) -> None:
    for stack in stacks.values():
        [redis] = resources_of(stack, "google_redis_instance")
        assert redis["auth_enabled"] is True
        assert redis["transit_encryption_mode"] == "SERVER_AUTHENTICATION"
        assert "google_kms_crypto_key.keys_cache" in redis["customer_managed_key"]


def test_size_eviction_and_production_failover_cache_2(
    stacks: dict[str, dict[str, Any]],
) -> None:
    [dev] = resources_of(stacks["dev"], "google_redis_instance")
    [prod] = resources_of(stacks["production"], "google_redis_instance")
    assert (dev["tier"], dev["memory_size_gb"]) == ("BASIC", 1)  # 0.5 GB rounds up to 1
    assert (prod["tier"], prod["memory_size_gb"]) == ("STANDARD_HA", 1)
    for redis in (dev, prod):
        assert redis["redis_configs"] == {"maxmemory-policy": "allkeys-lru"}


def test_private_service_access_only_cache_3(stacks: dict[str, dict[str, Any]]) -> None:
    [redis] = resources_of(stacks["dev"], "google_redis_instance")
    assert redis["connect_mode"] == "PRIVATE_SERVICE_ACCESS"
    assert "google_compute_network" in redis["authorized_network"]
    assert "psa-range" in redis["reserved_ip_range"]


def test_auth_string_reaches_secret_manager_only_by_reference_sec_3(
    stacks: dict[str, dict[str, Any]],
) -> None:
    stack = stacks["dev"]
    ids = {s["secret_id"] for s in resources_of(stack, "google_secret_manager_secret")}
    assert "groundwork-dev-redis-auth" in ids
    versions = resources_of(stack, "google_secret_manager_secret_version")
    [auth] = [v for v in versions if "auth_string" in v["secret_data_wo"]]
    # write-only: the value is sent at apply time and kept neither in the JSON nor the state
    assert "secret_data" not in auth
    assert auth["secret_data_wo"].startswith("${google_redis_instance.")
    assert auth["secret_data_wo_version"] == (
        "${parseint(substr(sha256(google_redis_instance.cache_instance_"
        + auth["secret_data_wo"].split("cache_instance_")[1].split(".")[0]
        + ".auth_string), 0, 12), 16)}"
    )


def test_the_app_gets_every_ca_of_a_rotation_deploy_6(stacks: dict[str, dict[str, Any]]) -> None:
    for stack in stacks.values():
        [version] = [
            v
            for name, v in stack["resource"]["google_secret_manager_secret_version"].items()
            if name.startswith("secrets_redis_ca_cert-version")
        ]
        data = version["secret_data_wo"]
        assert data.startswith('${join("\\n", google_redis_instance.cache_instance_')
        assert data.endswith(".server_ca_certs[*].cert)}")
        # a new CA bundle changes the version number, so Terraform sends the new value
        assert version["secret_data_wo_version"] == (
            "${parseint(substr(sha256(" + data[2:-1] + "), 0, 12), 16)}"
        )
