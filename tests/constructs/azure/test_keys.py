"""Keys: RBAC Key Vault, soft delete, purge protection, runner-only firewall, key rotation (SEC-4,
DEPLOY-2, DEPLOY-3)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cdktf import Testing as CdktfTesting
from matrix import resources_of, shipped_stack


def synth(env: str) -> str:
    return shipped_stack("azure", env).text


@pytest.fixture(scope="module")
def dev() -> str:
    return synth("dev")


def parsed(synthesized: str) -> dict[str, Any]:
    return json.loads(synthesized)


def test_vault_has_rbac_soft_delete_purge_protection_and_admits_only_the_runner(dev: str) -> None:
    assert CdktfTesting.to_have_resource_with_properties(
        dev,
        "azurerm_key_vault",
        {
            "sku_name": "premium",
            "rbac_authorization_enabled": True,
            "soft_delete_retention_days": 90,
            "purge_protection_enabled": True,
            # DEPLOY-3: the runner writes keys, secrets and the certificate from outside.
            "public_network_access_enabled": True,
            "network_acls": {
                "default_action": "Deny",
                "bypass": "AzureServices",
                "ip_rules": ["198.51.100.0/24"],
            },
        },
    )
    endpoints = resources_of(parsed(dev), "azurerm_private_endpoint")
    vault = [
        e for e in endpoints if e["private_service_connection"]["subresource_names"] == ["vault"]
    ]
    assert len(vault) == 1


def test_vault_name_is_deterministic_and_fits_24_characters(dev: str) -> None:
    (vault,) = resources_of(parsed(dev), "azurerm_key_vault")
    assert vault["name"].startswith("kv-groundwork-dev-")
    assert len(vault["name"]) <= 24
    assert vault["name"] == resources_of(parsed(synth("dev")), "azurerm_key_vault")[0]["name"]


def test_every_key_is_hsm_backed_and_rotates_within_90_days_sec_4(dev: str) -> None:
    keys = resources_of(parsed(dev), "azurerm_key_vault_key")
    assert {k["name"] for k in keys} == {
        "groundwork-dev-storage",
        "groundwork-dev-database",
    }
    for key in keys:
        assert key["key_type"] == "RSA-HSM"
        policy = key["rotation_policy"]
        assert policy["automatic"]["time_after_creation"] == "P90D"
        assert policy["expire_after"] == "P180D"


def test_each_key_has_its_own_identity_limited_to_that_key_iam_1(dev: str) -> None:
    stack = parsed(dev)
    assignments = [
        a
        for a in resources_of(stack, "azurerm_role_assignment")
        if a.get("role_definition_name") == "Key Vault Crypto Service Encryption User"
    ]
    assert len(assignments) == 2
    for assignment in assignments:
        assert assignment["scope"].endswith(".resource_versionless_id}")
        assert "azurerm_user_assigned_identity." in assignment["principal_id"]
    roles = {a.get("role_definition_name") for a in resources_of(stack, "azurerm_role_assignment")}
    assert not {"Owner", "Contributor", "Key Vault Administrator"} & roles


def test_first_key_versions_expire_and_later_ones_follow_the_policy_sec_4(dev: str) -> None:
    for key in resources_of(parsed(dev), "azurerm_key_vault_key"):
        assert key["expiration_date"] == '${timeadd(timestamp(), "4320h")}'
        assert key["lifecycle"]["ignore_changes"] == ["expiration_date"]


def test_paired_region_vault_exists_only_for_geo_redundant_backups(dev: str) -> None:
    assert [v["name"][:3] for v in resources_of(parsed(dev), "azurerm_key_vault")] == ["kv-"]
    production = parsed(synth("production"))
    geo = [
        v for v in resources_of(production, "azurerm_key_vault") if v["name"].startswith("kvgeo")
    ]
    assert len(geo) == 1
    assert geo[0]["purge_protection_enabled"] is True
    assert geo[0]["network_acls"]["default_action"] == "Deny"
    endpoints = [
        e
        for e in resources_of(production, "azurerm_private_endpoint")
        if e["private_service_connection"]["subresource_names"] == ["vault"]
    ]
    assert len(endpoints) == 2


def test_deployer_holds_one_officer_role_per_object_kind_and_writes_wait_deploy_2_3(
    dev: str,
) -> None:
    stack = parsed(dev)
    officers = {
        a.get("role_definition_name"): name
        for name, a in stack["resource"]["azurerm_role_assignment"].items()
        if a["principal_id"] == "${data.azurerm_client_config.client.object_id}"
    }
    assert set(officers) == {
        "Key Vault Crypto Officer",
        "Key Vault Secrets Officer",
        "Key Vault Certificates Officer",
    }
    # Writes wait for the officer roles through their propagation wait (DEPLOY-2).
    (wait_name,) = [n for n in stack["resource"]["time_sleep"] if "deployer-roles-propagated" in n]
    triggers = stack["resource"]["time_sleep"][wait_name]["triggers"].values()
    assert sorted(triggers) == sorted(
        f"${{azurerm_role_assignment.{name}.id}}" for name in officers.values()
    )
    for key in resources_of(stack, "azurerm_key_vault_key"):
        assert key["depends_on"] == [f"time_sleep.{wait_name}"]
    (certificate,) = resources_of(stack, "azurerm_key_vault_certificate")
    assert certificate["depends_on"] == [f"time_sleep.{wait_name}"]


def test_paired_vault_deployer_gets_crypto_officer_only() -> None:
    production = parsed(synth("production"))
    geo_roles = [
        a.get("role_definition_name")
        for a in resources_of(production, "azurerm_role_assignment")
        if "azurerm_key_vault.keys_geovault" in a["scope"]
    ]
    assert geo_roles == ["Key Vault Crypto Officer"]


def test_every_vault_write_waits_ten_minutes_after_the_deployer_roles_deploy_2(dev: str) -> None:
    stack = parsed(dev)
    sleeps = stack["resource"]["time_sleep"]
    (wait,) = [s for name, s in sleeps.items() if name.startswith("keys_deployer-roles-propagated")]
    assert wait["create_duration"] == "10m"
    assert sorted(wait["triggers"]) == [
        "deployer-certificates",
        "deployer-crypto",
        "deployer-secrets",
    ]
    for key in resources_of(stack, "azurerm_key_vault_key"):
        assert any(
            d.startswith("time_sleep.keys_deployer-roles-propagated") for d in key["depends_on"]
        )
    for account in resources_of(stack, "azurerm_storage_account"):
        assert any("-key-user-propagated" in d for d in account.get("depends_on", [])), account[
            "name"
        ]
    assert stack["terraform"]["required_providers"]["time"]["source"] == "hashicorp/time"
