"""Secrets: three vault secrets, no value in the JSON, expiry and rotation events (SEC-1..3)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cdktf import Testing as CdktfTesting
from matrix import resources_of

from stacks import stack_class
from synth.config import load_environment

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def dev() -> dict[str, Any]:
    config = load_environment(ROOT / "environments" / "dev.yaml", cloud="azure")
    return json.loads(CdktfTesting.synth(stack_class("azure")(CdktfTesting.app(), config)))


def secrets(stack: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in resources_of(stack, "azurerm_key_vault_secret")}


def test_the_three_secrets_live_in_the_vault_sec_1(dev) -> None:
    found = secrets(dev)
    assert set(found) == {"jwt-secret", "database-url", "database-password"}
    for secret in found.values():
        assert secret["key_vault_id"].startswith("${azurerm_key_vault.")
        assert secret["content_type"]


def test_secret_values_are_write_only_markers_or_hold_no_secret_sec_3_db_9(dev) -> None:
    found = secrets(dev)
    assert found["jwt-secret"]["value_wo"] == "pending-rotation"
    assert found["database-password"]["value_wo"] == "entra-id-token"
    assert "value" not in found["jwt-secret"]
    assert "value" not in found["database-password"]
    url = found["database-url"]["value"]
    assert url.startswith("postgresql://id-groundwork-dev-app@")
    assert url.endswith("?sslmode=require")
    assert ":" not in url.removeprefix("postgresql://").split("@")[0]  # no password


def test_secrets_expire_within_the_rotation_period_sec_2(dev) -> None:
    for secret in secrets(dev).values():
        assert secret["expiration_date"] == '${timeadd(timestamp(), "2160h")}'
        assert secret["lifecycle"]["ignore_changes"] == ["expiration_date"]


def test_near_expiry_events_reach_the_rotation_queue_sec_2(dev) -> None:
    (topic,) = resources_of(dev, "azurerm_eventgrid_system_topic")
    assert topic["topic_type"] == "Microsoft.KeyVault.vaults"
    (subscription,) = resources_of(dev, "azurerm_eventgrid_system_topic_event_subscription")
    assert "Microsoft.KeyVault.SecretNearExpiry" in subscription["included_event_types"]
    assert subscription["storage_queue_endpoint"]["queue_name"].endswith(".name}")
    assert subscription["delivery_identity"] == {"type": "SystemAssigned"}


def test_rotation_job_reads_the_queue_through_a_private_endpoint_sec_2(dev) -> None:
    endpoints = [
        e
        for e in resources_of(dev, "azurerm_private_endpoint")
        if e["private_service_connection"]["subresource_names"] == ["queue"]
    ]
    assert len(endpoints) == 1
