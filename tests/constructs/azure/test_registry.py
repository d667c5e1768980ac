"""Registry: private ACR Premium with CMK, retention and Defender scanning (APP-6)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cdktf import Testing as CdktfTesting
from matrix import resources_of, shipped_stack


@pytest.fixture(scope="module")
def dev() -> str:
    return shipped_stack("azure", "dev").text


def test_registry_is_private_premium_without_admin_user_app_6(dev: str) -> None:
    assert CdktfTesting.to_have_resource_with_properties(
        dev,
        "azurerm_container_registry",
        {
            "sku": "Premium",
            "admin_enabled": False,
            "anonymous_pull_enabled": False,
            "export_policy_enabled": True,
            "retention_policy_in_days": 7,
        },
    )
    stack: dict[str, Any] = json.loads(dev)
    endpoints = [
        e
        for e in resources_of(stack, "azurerm_private_endpoint")
        if e["private_service_connection"]["subresource_names"] == ["registry"]
    ]
    assert len(endpoints) == 1


def test_registry_admits_only_the_deploy_runner_deploy_3() -> None:
    """The runner outside the VNet pushes releases; everyone else is denied (R2)."""
    shipped = shipped_stack("azure", "production")
    config, stack = shipped.config, shipped.document()
    (registry,) = resources_of(stack, "azurerm_container_registry")
    assert registry["public_network_access_enabled"] is True
    (rule_set,) = registry["network_rule_set"]
    assert rule_set["default_action"] == "Deny"
    assert [(r["action"], r["ip_range"]) for r in rule_set["ip_rule"]] == [
        ("Allow", ip_range) for ip_range in config.azure.deployer_ip_ranges
    ]


def test_registry_has_no_customer_key_in_the_firewalled_vault_deploy_4(dev: str) -> None:
    # ACR takes a customer key only at creation through a user-assigned identity, which a
    # vault that denies by default does not admit (constructs/azure/registry.py).
    (registry,) = resources_of(json.loads(dev), "azurerm_container_registry")
    assert "encryption" not in registry
    assert "identity" not in registry
    keys = {k["name"] for k in resources_of(json.loads(dev), "azurerm_key_vault_key")}
    assert not any(name.endswith("-registry") for name in keys)


def test_images_are_scanned_by_defender_for_containers_app_6(dev: str) -> None:
    (pricing,) = resources_of(json.loads(dev), "azurerm_security_center_subscription_pricing")
    assert pricing["resource_type"] == "Containers"
    assert pricing["tier"] == "Standard"
    names = [e["name"] for e in pricing["extension"]]
    assert "ContainerRegistriesVulnerabilityAssessments" in names
