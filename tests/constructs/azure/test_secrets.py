"""Secrets: two vault secrets with real values kept out of the JSON, expiry, rotation events and the
job that rotates them (SEC-1..3, DEPLOY-6)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from matrix import resources_of, shipped_stack

from synth.graph import Graph


@pytest.fixture(scope="module")
def dev() -> dict[str, Any]:
    return shipped_stack("azure", "dev").document()


def secrets(stack: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in resources_of(stack, "azurerm_key_vault_secret")}


def test_the_secrets_live_in_the_vault_and_no_password_placeholder_exists_sec_1(dev) -> None:
    found = secrets(dev)
    # The server accepts Entra tokens only (DB-9): no password exists to store.
    assert set(found) == {"jwt-secret", "jwt-secret-previous", "jwt-secret-next", "database-url"}
    for secret in found.values():
        assert secret["key_vault_id"].startswith("${azurerm_key_vault.")
        assert secret["content_type"]


def test_jwt_secret_starts_with_the_catalog_bits_write_only_sec_1_sec_3_sec_5_deploy_6(dev) -> None:
    found = secrets(dev)
    # The default catalog's JWT_SECRET has 384 bits: two SHA-256s of two uuid() results (128
    # random bits each), cut to 96 hex characters; evaluated at apply time, write-only;
    # current, previous and next each get their own first value (rotated-secrets contract).
    one = 'sha256(join("", [uuid(), uuid()]))'
    for name in ("jwt-secret", "jwt-secret-previous", "jwt-secret-next"):
        assert found[name]["value_wo"] == f'${{substr(join("", [{one}, {one}]), 0, 96)}}'
        assert found[name]["value_wo_version"] == 1
        assert "value" not in found[name]
        assert found[name]["tags"]["groundwork-secret-kind"] == "generated"
    url = found["database-url"]["value"]
    # No user: each service signs in as its own role (PGUSER), so one URL serves every reader.
    assert url.startswith("postgresql://${azurerm_postgresql_flexible_server.")
    # Verified, and no sslrootcert=system, which node-postgres opens as a file (r2 review).
    assert url.endswith("?sslmode=verify-full")
    assert "@" not in url  # no user, no password


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


def test_rotation_job_reads_the_queue_through_a_private_endpoint_sec_2_deploy_2(dev) -> None:
    endpoints = [
        e
        for e in resources_of(dev, "azurerm_private_endpoint")
        if e["private_service_connection"]["subresource_names"] == ["queue"]
    ]
    assert len(endpoints) == 1
    # Its first run waits for that endpoint and for its zone's VNet link (CKV_GW_DEPLOY_83).
    (job,) = [j for j in resources_of(dev, "azurerm_container_app_job") if "rotate" in j["name"]]
    waits = " ".join(job["depends_on"])
    assert "azurerm_private_endpoint.secrets_rotation-queue-endpoint_" in waits
    assert "network_zone-privatelink-queue-core-windows-net-link_" in waits


def test_the_rotation_job_drains_the_queue_and_may_write_only_the_rotated_secrets_sec_2(
    dev,
) -> None:
    (job,) = [j for j in resources_of(dev, "azurerm_container_app_job") if "rotate" in j["name"]]
    assert job["schedule_trigger_config"]["cron_expression"] == "7 * * * *"
    (container,) = job["template"]["container"]
    # 2.73+: MSAL managed identity reads Container Apps' IDENTITY_ENDPOINT (r2 review).
    assert container["image"] == "mcr.microsoft.com/azure-cli:2.75.0"
    assert '"login", "--identity", "--client-id"' in container["command"][-1]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert json.loads(env["GENERATED"]) == {
        "jwt-secret": ["jwt-secret-previous", "jwt-secret-next"]
    }
    assert env["ROTATED"] == "database-url,jwt-secret,jwt-secret-next,jwt-secret-previous"
    # After a shift it waits for Container Apps' Key Vault refresh, then restarts the app.
    assert env["REFRESH_SECONDS"] == "2100"
    assert env["APP_NAMES"].startswith("${azurerm_container_app.service_app_")
    assert env["GENERATED_BYTES"] == '{"jwt-secret": 48}'
    assert 'revision", "restart' in container["command"][2]
    assert job["replica_timeout_in_seconds"] == 3000
    assert env["ROTATION_DAYS"] == "90"
    assert "token_hex(sizes[current])" in container["command"][2]
    identity = job["identity"]["identity_ids"][0].removesuffix(".id}").removeprefix("${")
    grants = [
        a
        for a in resources_of(dev, "azurerm_role_assignment")
        if a["principal_id"] == f"${{{identity}.principal_id}}"
    ]
    assert sorted(a.get("role_definition_name", "custom") for a in grants) == [
        "Key Vault Secrets Officer",
        "Key Vault Secrets Officer",
        "Key Vault Secrets Officer",
        "Key Vault Secrets Officer",
        "Storage Queue Data Message Processor",
        "custom",
    ]
    (restart,) = [a for a in grants if "role_definition_id" in a]
    assert restart["scope"].startswith("${azurerm_container_app.service_app_")
    role = dev["resource"]["azurerm_role_definition"][restart["role_definition_id"].split(".")[1]]
    assert role["assignable_scopes"] == ["${azurerm_resource_group.resource-group.id}"]
    assert role["permissions"][0]["actions"] == [
        "Microsoft.App/containerApps/read",
        "Microsoft.App/containerApps/revisions/read",
        "Microsoft.App/containerApps/revisions/restart/action",
    ]
    assert all("azurerm_key_vault." not in a["scope"] for a in grants)  # never the whole vault


def test_the_restart_role_is_assigned_only_after_its_definition_replicates_deploy_2(dev) -> None:
    # ARM replicates a new custom role asynchronously: RoleDefinitionDoesNotExist otherwise.
    graph = Graph.of(dev)
    restarts = {a: b for a, b in graph.of_type("azurerm_role_assignment").items()
                if ".jobs_restarts-app" in a}  # fmt: skip
    assert restarts
    for address, grant in restarts.items():
        definition = grant["role_definition_id"].removeprefix("${").rsplit(".", 1)[0]
        assert definition.startswith("azurerm_role_definition.jobs_restart-role_")
        (sleep,) = [s for s in grant["depends_on"] if s.startswith("time_sleep.")]
        assert graph.refers_to(sleep, definition), address
        assert graph.bodies[sleep]["create_duration"] == "5m"


def test_write_only_values_come_with_terraform_1_11_and_entra_storage_access_deploy_3_4(
    dev,
) -> None:
    assert dev["terraform"]["required_version"] == ">= 1.11.1, < 2.0.0"
    (provider,) = dev["provider"]["azurerm"]
    assert provider["storage_use_azuread"] is True
