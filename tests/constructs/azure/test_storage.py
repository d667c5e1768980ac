"""Storage: private, CMK, versioned, logged; geo-redundant in production (OBJ-1..6)."""

from __future__ import annotations

from typing import Any

import pytest
from matrix import resources_of, shipped_stack


def synth(env: str) -> dict[str, Any]:
    return shipped_stack("azure", env).document()


@pytest.fixture(scope="module")
def dev() -> dict[str, Any]:
    return synth("dev")


def app_account(stack: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    (item,) = [
        (k, v)
        for k, v in stack["resource"]["azurerm_storage_account"].items()
        if not v["name"].startswith("stlog")
    ]
    return item


def test_every_account_blocks_public_and_key_access_and_requires_tls_obj_1_obj_5(dev) -> None:
    for account in resources_of(dev, "azurerm_storage_account"):
        assert account["allow_nested_items_to_be_public"] is False
        assert account["shared_access_key_enabled"] is False
        assert account["https_traffic_only_enabled"] is True
        assert account["min_tls_version"] == "TLS1_2"
        assert account["network_rules"]["default_action"] == "Deny"
        # DEPLOY-3: reachable by the deploy runner's ranges only (plus trusted services).
        assert account["public_network_access_enabled"] is True
        assert account["network_rules"]["ip_rules"] == ["198.51.100.0/24"]
    (container,) = resources_of(dev, "azurerm_storage_container")
    assert container["container_access_type"] == "private"
    blob = [
        e
        for e in resources_of(dev, "azurerm_private_endpoint")
        if e["private_service_connection"]["subresource_names"] == ["blob"]
    ]
    assert len(blob) == 1


def test_accounts_use_infrastructure_encryption_and_the_storage_cmk_obj_2(dev) -> None:
    for account in resources_of(dev, "azurerm_storage_account"):
        assert account["infrastructure_encryption_enabled"] is True
        assert "keys_storage-key" in account["customer_managed_key"]["key_vault_key_id"]
        assert account["customer_managed_key"]["key_vault_key_id"].endswith(".versionless_id}")


def test_versioning_soft_delete_and_noncurrent_expiry_after_90_days_obj_3(dev) -> None:
    _, app = app_account(dev)
    assert app["blob_properties"]["versioning_enabled"] is True
    assert app["blob_properties"]["delete_retention_policy"] == {"days": 7}
    (policy,) = resources_of(dev, "azurerm_storage_management_policy")
    (rule,) = policy["rule"]
    assert rule["actions"]["version"] == {"delete_after_days_since_creation": 90}


@pytest.mark.parametrize(("env", "replication"), [("dev", "LRS"), ("production", "RAGRS")])
def test_production_storage_is_geo_redundant_obj_4(env: str, replication: str) -> None:
    _, app = app_account(synth(env))
    assert app["account_replication_type"] == replication


def test_blob_reads_writes_and_deletes_are_logged_obj_6(dev) -> None:
    key, _ = app_account(dev)
    settings = [
        s
        for s in resources_of(dev, "azurerm_monitor_diagnostic_setting")
        if s["target_resource_id"] == f"${{azurerm_storage_account.{key}.id}}/blobServices/default"
    ]
    assert len(settings) == 1
    categories = {log["category"] for log in settings[0]["enabled_log"]}
    assert categories == {"StorageRead", "StorageWrite", "StorageDelete"}
    assert "azurerm_log_analytics_workspace" in settings[0]["log_analytics_workspace_id"]


def test_a_single_runner_address_is_written_without_its_prefix() -> None:
    from constructs.azure.storage import storage_ip_rules

    assert storage_ip_rules(["203.0.113.7/32", "198.51.100.0/24"]) == [
        "203.0.113.7",
        "198.51.100.0/24",
    ]
