"""Database: private, TLS-only, CMEK Cloud SQL sized per environment (DB-1..9, NET-2)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cdktf import TerraformStack
from cdktf import Testing as CdktfTesting
from cdktf_cdktf_provider_google.provider import GoogleProvider
from conftest import resources_of
from constructs.gcp.database import Database, pool_size
from constructs.gcp.keys import Keys
from constructs.gcp.network import Network

from synth.config import load_environment

ROOT = Path(__file__).resolve().parents[3]


def synth(env: str) -> dict[str, Any]:
    config = load_environment(ROOT / "environments" / f"{env}.yaml", cloud="gcp")
    stack = TerraformStack(CdktfTesting.app(), "test")
    GoogleProvider(stack, "google", project=config.gcp.project, region=config.gcp.region)
    keys = Keys(stack, "keys", config=config)
    network = Network(stack, "network", config=config, agents=keys.agents)
    Database(stack, "database", config=config, keys=keys, network=network)
    return json.loads(CdktfTesting.synth(stack))


@pytest.fixture(scope="module")
def stacks() -> dict[str, dict[str, Any]]:
    return {env: synth(env) for env in ("dev", "staging", "production")}


def primary(stack: dict[str, Any]) -> dict[str, Any]:
    [instance] = [
        i
        for i in resources_of(stack, "google_sql_database_instance")
        if "master_instance_name" not in i
    ]
    return instance


def test_private_ip_only_strict_tls_and_cmek_db_1_db_2_db_3_net_2(
    stacks: dict[str, dict[str, Any]],
) -> None:
    for stack in stacks.values():
        for instance in resources_of(stack, "google_sql_database_instance"):
            assert instance["database_version"] == "POSTGRES_16"
            assert "google_kms_crypto_key.keys_database" in instance["encryption_key_name"]
            ip = instance["settings"]["ip_configuration"]
            assert ip["ipv4_enabled"] is False
            assert ip["ssl_mode"] == "TRUSTED_CLIENT_CERTIFICATE_REQUIRED"
            assert "google_compute_network" in ip["private_network"]
            # DEPLOY-2: created only once the Cloud SQL agent's key grant has propagated.
            [sleep] = [d for d in instance["depends_on"] if d.startswith("time_sleep.")]
            body = stack["resource"]["time_sleep"][sleep.split(".", 1)[1]]
            assert body["create_duration"] == "7m"
            assert "google_kms_crypto_key_iam_member.keys_database-agent" in str(body["triggers"])


def test_every_instance_carries_the_tag_1_labels_itself(stacks: dict[str, dict[str, Any]]) -> None:
    """Provider default_labels do not reach Cloud SQL (terraform-provider-google#16375)."""
    for env, stack in stacks.items():
        config = load_environment(ROOT / "environments" / f"{env}.yaml", cloud="gcp")
        for instance in resources_of(stack, "google_sql_database_instance"):
            assert instance["settings"]["user_labels"] == config.tags


def test_backups_and_pitr_follow_the_config_db_4(stacks: dict[str, dict[str, Any]]) -> None:
    dev = primary(stacks["dev"])["settings"]["backup_configuration"]
    assert dev["enabled"] is True and dev["point_in_time_recovery_enabled"] is False
    assert dev["backup_retention_settings"]["retained_backups"] == 1
    # set even without PITR: Cloud SQL's 7-day default exceeds the one backup kept
    # (terraform-google-sql-db#785), which it refuses
    assert dev["transaction_log_retention_days"] == 1
    prod = primary(stacks["production"])["settings"]["backup_configuration"]
    assert prod["point_in_time_recovery_enabled"] is True
    assert prod["backup_retention_settings"]["retained_backups"] == 7
    assert prod["transaction_log_retention_days"] == 7


def test_production_is_regional_with_one_read_replica_db_5(
    stacks: dict[str, dict[str, Any]],
) -> None:
    assert primary(stacks["dev"])["settings"]["availability_type"] == "ZONAL"
    assert primary(stacks["production"])["settings"]["availability_type"] == "REGIONAL"
    replicas = [
        i
        for i in resources_of(stacks["production"], "google_sql_database_instance")
        if "master_instance_name" in i
    ]
    assert len(replicas) == 1
    assert replicas[0]["settings"]["ip_configuration"]["ipv4_enabled"] is False
    assert len(resources_of(stacks["dev"], "google_sql_database_instance")) == 1


def test_sizing_disk_and_autoresize_limit_per_environment(
    stacks: dict[str, dict[str, Any]],
) -> None:
    sizes = {
        env: (
            primary(s)["settings"]["tier"],
            primary(s)["settings"]["disk_size"],
            primary(s)["settings"]["disk_autoresize"],
            primary(s)["settings"]["disk_autoresize_limit"],
        )
        for env, s in stacks.items()
    }
    assert sizes == {
        "dev": ("db-g1-small", 20, False, 0),
        "staging": ("db-custom-2-3840", 50, False, 0),
        "production": ("db-custom-2-4096", 100, True, 500),
    }


def test_deletion_protection_and_prevent_destroy_from_staging_on_db_7(
    stacks: dict[str, dict[str, Any]],
) -> None:
    dev = primary(stacks["dev"])
    assert dev["deletion_protection"] is False and "lifecycle" not in dev
    for env in ("staging", "production"):
        instance = primary(stacks[env])
        assert instance["deletion_protection"] is True
        assert instance["settings"]["deletion_protection_enabled"] is True
        assert instance["settings"]["retain_backups_on_delete"] is True
        assert instance["lifecycle"]["prevent_destroy"] is True


def test_connection_and_slow_query_logging_and_insights_db_8(
    stacks: dict[str, dict[str, Any]],
) -> None:
    settings = primary(stacks["dev"])["settings"]
    flags = {f["name"]: f["value"] for f in settings["database_flags"]}
    assert flags["log_connections"] == "on"
    assert flags["log_disconnections"] == "on"
    assert flags["log_min_duration_statement"] == "1000"
    assert settings["insights_config"]["query_insights_enabled"] is True


def test_iam_authentication_and_no_password_anywhere_db_9_sec_3(
    stacks: dict[str, dict[str, Any]],
) -> None:
    for stack in stacks.values():
        flags = {f["name"]: f["value"] for f in primary(stack)["settings"]["database_flags"]}
        assert flags["cloudsql.iam_authentication"] == "on"
        text = json.dumps(stack)
        assert "root_password" not in text and '"password"' not in text
        assert not resources_of(stack, "google_sql_user")


def test_pool_budget_fits_max_connections_at_max_replicas_db_6() -> None:
    for env in ("dev", "staging", "production"):
        config = load_environment(ROOT / "environments" / f"{env}.yaml", cloud="gcp")
        assert pool_size(config) * config.service.max_replicas <= 100 - 20
        assert pool_size(config) >= 1


def test_postgres_replicas_set_no_mysql_replica_configuration_deploy_4(
    stacks: dict[str, dict[str, Any]],
) -> None:
    replicas = [
        i
        for i in resources_of(stacks["production"], "google_sql_database_instance")
        if "master_instance_name" in i
    ]
    assert replicas
    for replica in replicas:
        assert "replica_configuration" not in replica


def final_backup_waivers(env: str) -> dict[bool, list[dict[str, Any]]]:
    """`{is replica: CKV_GW_DB_48 waivers}` of the environment's Cloud SQL instances."""
    from cdktf_cdktf_provider_google.sql_database_instance import SqlDatabaseInstance

    config = load_environment(ROOT / "environments" / f"{env}.yaml", cloud="gcp")
    stack = TerraformStack(CdktfTesting.app(), "test")
    GoogleProvider(stack, "google", project=config.gcp.project, region=config.gcp.region)
    keys = Keys(stack, "keys", config=config)
    network = Network(stack, "network", config=config, agents=keys.agents)
    database = Database(stack, "database", config=config, keys=keys, network=network)
    found: dict[bool, list[dict[str, Any]]] = {False: [], True: []}
    for node in stack.node.find_all():
        if isinstance(node, SqlDatabaseInstance):
            found[node is not database.instance].extend(
                w for w in getattr(node, "_groundwork_waivers", []) if w["check"] == "CKV_GW_DB_48"
            )
    return found


def test_protected_primary_declares_the_missing_final_backup_db_7() -> None:
    """Provider 6.50 has no final_backup_config: the protected primary says what stands in."""
    for env in ("staging", "production"):
        found = final_backup_waivers(env)
        [waiver] = found[False]
        assert "no final_backup_config" in waiver["reason"]
        assert "retain_backups_on_delete" in waiver["reason"] and "7.5" in waiver["reason"]
        assert found[True] == []  # replicas have no backups of their own
    assert final_backup_waivers("dev") == {False: [], True: []}  # nothing asked there
