"""Database: private Flexible Server, Entra-only auth, TLS, logging, HA and replicas (DB-1..9)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cdktf import Testing as CdktfTesting
from constructs.azure.database import storage_mb
from matrix import resources_of, shipped_stack

from synth.config import EnvironmentConfig


def synth(env: str) -> tuple[EnvironmentConfig, str]:
    shipped = shipped_stack("azure", env)
    return shipped.config, shipped.text


def declared_waivers(env: str) -> dict[str, set[str]]:
    """`{construct path: waived check IDs}` as the constructs declared them (`waive`)."""
    stack = shipped_stack("azure", env).stack
    return {
        node.node.path.split("/", 1)[1]: {w["check"] for w in node._groundwork_waivers}
        for node in stack.node.find_all()
        if getattr(node, "_groundwork_waivers", None)
    }


@pytest.fixture(scope="module")
def dev() -> tuple[EnvironmentConfig, str]:
    return synth("dev")


@pytest.fixture(scope="module")
def production() -> tuple[EnvironmentConfig, str]:
    return synth("production")


def servers(synthesized: tuple[EnvironmentConfig, str]) -> list[dict[str, Any]]:
    return resources_of(json.loads(synthesized[1]), "azurerm_postgresql_flexible_server")


def parameters(synthesized: tuple[EnvironmentConfig, str], server: str) -> dict[str, str]:
    stack = json.loads(synthesized[1])
    return {
        p["name"]: p["value"]
        for p in resources_of(stack, "azurerm_postgresql_flexible_server_configuration")
        if p["server_id"] == f"${{azurerm_postgresql_flexible_server.{server}.id}}"
    }


def primary_key(synthesized: tuple[EnvironmentConfig, str]) -> str:
    stack = json.loads(synthesized[1])
    return next(
        k
        for k, v in stack["resource"]["azurerm_postgresql_flexible_server"].items()
        if "create_mode" not in v
    )


def test_storage_rounds_up_to_an_allowed_flexible_server_size() -> None:
    assert [storage_mb(gb) for gb in (20, 32, 50, 100, 500)] == [
        32768,
        32768,
        65536,
        131072,
        524288,
    ]


def test_server_is_private_and_entra_only_with_no_password_net_2_db_9(dev) -> None:
    assert CdktfTesting.to_have_resource_with_properties(
        dev[1],
        "azurerm_postgresql_flexible_server",
        {
            "version": "16",
            "public_network_access_enabled": False,
            "authentication": {
                "active_directory_auth_enabled": True,
                "password_auth_enabled": False,
            },
        },
    )
    for server in servers(dev):
        assert "administrator_password" not in server
        assert "administrator_login" not in server
        assert "azurerm_subnet.network_data-subnet" in server["delegated_subnet_id"]
        assert ".private.postgres.database.azure.com" in json.dumps(server["depends_on"]) or (
            server["private_dns_zone_id"].startswith("${azurerm_private_dns_zone.")
        )
    assert "password" not in json.dumps(servers(dev)).replace("password_auth_enabled", "")


def test_every_server_uses_the_database_cmk_db_2(production) -> None:
    for server in servers(production):
        assert "keys_database-key" in server["customer_managed_key"]["key_vault_key_id"]
        assert server["identity"]["type"] == "UserAssigned"


@pytest.mark.parametrize("env", ["dev", "production"])
def test_tls_and_logging_parameters_are_set_db_3_db_8(env: str) -> None:
    synthesized = synth(env)
    params = parameters(synthesized, primary_key(synthesized))
    assert params["require_secure_transport"] == "on"
    assert params["ssl_min_protocol_version"] == "TLSv1.2"
    assert params["log_connections"] == "on"
    assert params["log_disconnections"] == "on"
    assert params["log_min_duration_statement"] == "1000"


def test_query_store_runs_only_off_burstable_skus_db_8(dev, production) -> None:
    # Microsoft advises against Query Store on Burstable servers (concepts-query-store).
    dev_params = parameters(dev, primary_key(dev))
    assert dev[0].database.instance.azure.startswith("B_")
    assert "pg_qs.query_capture_mode" not in dev_params
    assert "pgms_wait_sampling.query_capture_mode" not in dev_params
    assert "CKV_GW_DB_77" in declared_waivers("dev")["database/server"]
    prod_params = parameters(production, primary_key(production))
    assert prod_params["pg_qs.query_capture_mode"] == "TOP"
    assert prod_params["pgms_wait_sampling.query_capture_mode"] == "ALL"


def test_protected_servers_waive_the_missing_final_snapshot_db_7() -> None:
    production = declared_waivers("production")
    assert "CKV_GW_DB_80" in production["database/server"]
    assert "CKV_GW_DB_80" in production["database/replica-1"]
    # dev asks for no deletion protection: nothing to waive
    assert "CKV_GW_DB_80" not in declared_waivers("dev").get("database/server", set())


def test_servers_wait_for_the_data_subnets_associations_and_rules_deploy_2(production) -> None:
    stack = json.loads(production[1])
    needed = {
        f"azurerm_subnet_network_security_group_association.{k}"
        for k in stack["resource"]["azurerm_subnet_network_security_group_association"]
        if k.startswith("network_data-")
    } | {
        f"azurerm_network_security_rule.{k}"
        for k in stack["resource"]["azurerm_network_security_rule"]
        if k.startswith("network_data-")
    }
    assert len(needed) >= 5
    for server in servers(production):
        assert needed <= set(server["depends_on"])


def test_pgbouncer_runs_where_the_tier_allows_it_db_6(dev, production) -> None:
    assert "pgbouncer.enabled" not in parameters(dev, primary_key(dev))  # Burstable
    assert parameters(production, primary_key(production))["pgbouncer.enabled"] == "true"


def test_backups_keep_at_least_azures_minimum_of_7_days_db_4(dev) -> None:
    (server,) = servers(dev)
    assert dev[0].database.backup_retention_days == 1
    assert server["backup_retention_days"] == 7


def test_production_is_zone_redundant_with_one_replica_db_5(production) -> None:
    primary, *replicas = sorted(servers(production), key=lambda s: "create_mode" in s)
    assert primary["high_availability"] == {
        "mode": "ZoneRedundant",
        "standby_availability_zone": "2",
    }
    assert primary["zone"] == "1"
    assert len(replicas) == production[0].database.read_replicas == 1
    assert replicas[0]["create_mode"] == "Replica"
    assert replicas[0]["zone"] == "3"
    assert replicas[0]["source_server_id"].endswith(f"{primary_key(production)}.id}}")


def test_an_ha_primary_keeps_the_zones_a_failover_gave_it_db_5(dev, production) -> None:
    """After an automatic failover the primary's `zone` and the standby's zone are swapped;
    an apply that planned them back would fail the server over again mid-deploy
    (hashicorp/terraform-provider-azurerm #25538), so the HA primary ignores both and keeps
    prevent_destroy; a replica and a server without HA ignore nothing."""
    primary, *replicas = sorted(servers(production), key=lambda s: "create_mode" in s)
    assert primary["lifecycle"] == {
        "ignore_changes": ["zone", "high_availability[0].standby_availability_zone"],
        "prevent_destroy": True,
    }
    assert all("ignore_changes" not in r["lifecycle"] for r in replicas)
    (server,) = servers(dev)
    assert "ignore_changes" not in server["lifecycle"]


def test_dev_has_no_ha_no_replica_and_no_lock_db_7(dev) -> None:
    (server,) = servers(dev)
    assert "high_availability" not in server
    assert server["lifecycle"]["prevent_destroy"] is False
    assert resources_of(json.loads(dev[1]), "azurerm_management_lock") == []


def test_protected_servers_have_prevent_destroy_and_a_delete_lock_db_7(production) -> None:
    stack = json.loads(production[1])
    assert all(s["lifecycle"]["prevent_destroy"] is True for s in servers(production))
    locks = resources_of(stack, "azurerm_management_lock")
    assert len(locks) == len(servers(production))
    assert {lock["lock_level"] for lock in locks} == {"CanNotDelete"}


def test_entra_administrator_is_a_dedicated_identity_db_9(dev) -> None:
    stack = json.loads(dev[1])
    (admin,) = resources_of(
        stack, "azurerm_postgresql_flexible_server_active_directory_administrator"
    )
    assert admin["principal_type"] == "ServicePrincipal"
    assert "azurerm_user_assigned_identity.database_admin" in admin["object_id"]


def test_ha_servers_keep_geo_backups_under_a_key_in_the_paired_region_db_2_db_4(
    production, dev
) -> None:
    primary = next(s for s in servers(production) if "create_mode" not in s)
    assert primary["geo_redundant_backup_enabled"] is True
    cmk = primary["customer_managed_key"]
    assert "keys_database-geo-key" in cmk["geo_backup_key_vault_key_id"]
    assert "keys_database-geo-identity" in cmk["geo_backup_user_assigned_identity_id"]
    vaults = resources_of(json.loads(production[1]), "azurerm_key_vault")
    assert {v["location"] for v in vaults if v["name"].startswith("kvgeo-")} == {"northeurope"}
    (dev_server,) = servers(dev)
    assert dev_server["geo_redundant_backup_enabled"] is False


@pytest.mark.parametrize("env", ["dev", "production"])
def test_each_servers_settings_are_written_one_after_another_deploy_2(env: str) -> None:
    _, synthesized = synth(env)
    settings = json.loads(synthesized)["resource"][
        "azurerm_postgresql_flexible_server_configuration"
    ]
    by_server: dict[str, list[str]] = {}
    for name, body in settings.items():
        by_server.setdefault(body["server_id"], []).append(name)
    for names in by_server.values():
        # A chain: one first setting, every other depends on exactly one earlier setting.
        firsts = [n for n in names if "depends_on" not in settings[n]]
        assert len(firsts) == 1
        order = [firsts[0]]
        while len(order) < len(names):
            (after,) = [
                n
                for n in names
                if settings[n].get("depends_on")
                == [f"azurerm_postgresql_flexible_server_configuration.{order[-1]}"]
            ]
            order.append(after)
        assert sorted(order) == sorted(names)


def test_storage_grows_only_where_the_config_allows_it(dev, production) -> None:
    for synthesized in (dev, production):
        config, _ = synthesized
        for server in servers(synthesized):
            wanted = config.database.max_storage_gb > config.database.storage_gb
            assert server["auto_grow_enabled"] is wanted
    assert production[0].database.max_storage_gb > production[0].database.storage_gb


def test_production_warns_before_storage_passes_its_ceiling(dev, production) -> None:
    def ceiling(synthesized):
        return [
            a
            for a in resources_of(json.loads(synthesized[1]), "azurerm_monitor_metric_alert")
            if a["name"].endswith("-database-storage-ceiling")
        ]

    assert ceiling(dev) == []
    (alert,) = ceiling(production)
    (criteria,) = alert["criteria"]
    assert criteria["metric_name"] == "storage_used"
    assert criteria["threshold"] == 0.9 * production[0].database.max_storage_gb * 1000**3
