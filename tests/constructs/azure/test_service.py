"""Service: internal Container Apps environment and app, sized, scaled, probed, least privilege.

Covers APP-1, APP-2, APP-3, APP-4, APP-5 and EDGE-4.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from constructs.azure.service import container_size
from matrix import resources_of, shipped_stack

from synth.config import EnvironmentConfig


def synth(env: str) -> tuple[EnvironmentConfig, dict[str, Any]]:
    shipped = shipped_stack("azure", env)
    return shipped.config, shipped.document()


@pytest.fixture(scope="module")
def dev() -> tuple[EnvironmentConfig, dict[str, Any]]:
    return synth("dev")


def app_of(stack: dict[str, Any]) -> dict[str, Any]:
    (app,) = resources_of(stack, "azurerm_container_app")
    return app


def test_container_size_is_the_nearest_allowed_pair_app_2() -> None:
    assert container_size(0.5, 512) == (0.5, "1Gi")
    assert container_size(1.0, 512) == (1.0, "2Gi")
    assert container_size(0.25, 256) == (0.25, "0.5Gi")
    assert container_size(0.25, 1536) == (0.75, "1.5Gi")


@pytest.mark.parametrize(("env", "cpu", "memory"), [("dev", 0.5, "1Gi"), ("production", 1, "2Gi")])
def test_replicas_and_size_follow_the_config_app_1_app_2(env: str, cpu: float, memory: str) -> None:
    config, stack = synth(env)
    template = app_of(stack)["template"]
    assert template["min_replicas"] == config.service.min_replicas
    assert template["max_replicas"] == config.service.max_replicas
    (container,) = template["container"]
    assert (container["cpu"], container["memory"]) == (cpu, memory)


def test_scales_on_cpu_70_and_memory_80_app_1(dev) -> None:
    template = app_of(dev[1])["template"]
    rules = {r["name"]: r for r in template["custom_scale_rule"]}
    assert rules["cpu"]["metadata"] == {"type": "Utilization", "value": "70"}
    assert rules["memory"]["metadata"] == {"type": "Utilization", "value": "80"}
    # Next to the CPU and memory scalers an HTTP rule is ignored (azure-container-apps #468).
    assert "http_scale_rule" not in template


def test_single_revision_mode_rolls_over_without_downtime_app_3(dev) -> None:
    assert app_of(dev[1])["revision_mode"] == "Single"


def test_probes_and_grace_period_edge_4(dev) -> None:
    template = app_of(dev[1])["template"]
    (container,) = template["container"]
    (readiness,) = container["readiness_probe"]
    (liveness,) = container["liveness_probe"]
    assert (readiness["path"], readiness["interval_seconds"]) == ("/health", 10)
    assert (liveness["path"], liveness["interval_seconds"]) == ("/health", 30)
    assert template["termination_grace_period_seconds"] == 30


def test_secrets_are_key_vault_references_never_values_app_4(dev) -> None:
    app = app_of(dev[1])
    assert {s["name"] for s in app["secret"]} == {
        "jwt-secret",
        "jwt-secret-previous",
        "jwt-secret-next",
        "database-url",
    }
    for secret in app["secret"]:
        assert "value" not in secret
        assert secret["key_vault_secret_id"].endswith(".versionless_id}")
        assert "azurerm_user_assigned_identity.service_identity" in secret["identity"]
    env = {e["name"]: e for e in app["template"]["container"][0]["env"]}
    # Rotated-secrets contract: current, previous and next, each its own vault secret.
    for name in ("JWT_SECRET", "JWT_SECRET_PREVIOUS", "JWT_SECRET_NEXT", "DATABASE_URL"):
        assert "value" not in env[name] and env[name]["secret_name"]
    # Entra-only database: a token of the app's identity is the password (DB-9).
    assert "DATABASE_PASSWORD" not in env
    assert env["DATABASE_AUTH"]["value"] == "entra-token"


def test_app_identity_reaches_only_its_own_secrets_container_cache_and_registry_app_5(dev) -> None:
    stack = dev[1]
    mine = [
        a
        for a in resources_of(stack, "azurerm_role_assignment")
        if "service_identity" in a["principal_id"]
    ]
    scopes = sorted((a.get("role_definition_name"), a["scope"].split(".")[0]) for a in mine)
    assert scopes == [
        ("AcrPull", "${azurerm_container_registry"),
        ("Key Vault Secrets User", "${azurerm_key_vault_secret"),
        ("Key Vault Secrets User", "${azurerm_key_vault_secret"),
        ("Key Vault Secrets User", "${azurerm_key_vault_secret"),
        ("Key Vault Secrets User", "${azurerm_key_vault_secret"),
        ("Storage Blob Data Contributor", "${azurerm_storage_container"),
    ]
    # The cache's access policy comes from the cache-access job (see test_cache.py).
    assert resources_of(stack, "azurerm_redis_cache_access_policy_assignment") == []


def test_environment_is_internal_in_the_app_subnet_and_ingress_admits_the_gateway(dev) -> None:
    config, stack = dev
    (environment,) = resources_of(stack, "azurerm_container_app_environment")
    assert environment["internal_load_balancer_enabled"] is True
    assert "network_app-subnet" in environment["infrastructure_subnet_id"]
    # DEPLOY-6: the workspace refuses shared keys, so logs go through Azure Monitor.
    assert environment["logs_destination"] == "azure-monitor"
    assert "log_analytics_workspace_id" not in environment
    (setting,) = [
        d
        for d in resources_of(stack, "azurerm_monitor_diagnostic_setting")
        if "azurerm_container_app_environment." in d["target_resource_id"]
    ]
    assert setting["log_analytics_destination_type"] == "Dedicated"
    assert setting["enabled_log"] == [{"category_group": "allLogs"}]
    ingress = app_of(stack)["ingress"]
    assert ingress["allow_insecure_connections"] is False
    assert ingress["target_port"] == config.service.port
    (restriction,) = ingress["ip_security_restriction"]
    assert restriction["action"] == "Allow"
    assert restriction["ip_address_range"].endswith("/20")


def test_first_revision_runs_a_public_image_and_waits_for_its_paths_deploy_2_5(dev) -> None:
    config, stack = dev
    (app,) = resources_of(stack, "azurerm_container_app")
    (container,) = app["template"]["container"]
    # Not Docker Hub: its anonymous pull limit per NAT address (R1).
    assert container["image"] == "public.ecr.aws/docker/library/busybox:1.37"
    assert "command" not in container  # the release's `--replace-args` must leave its own
    assert container["args"][:2] == ["sh", "-c"]
    assert f"httpd -f -p {config.service.port}" in container["args"][2]
    assert "/tmp/www/health" in container["args"][2]
    assert app["lifecycle"]["ignore_changes"] == [
        "template[0].container[0].image",
        "template[0].container[0].args",
    ]
    waits = " ".join(app["depends_on"])
    assert "azurerm_private_endpoint.keys_vault-endpoint" in waits
    assert "azurerm_private_endpoint.registry_endpoint" in waits
    # The cache and the blob storage it connects to as it starts (CKV_GW_DEPLOY_83).
    assert "azurerm_private_endpoint.cache_endpoint_" in waits
    assert "azurerm_private_endpoint.storage_blob-endpoint_" in waits
    links = {
        zone: f"azurerm_private_dns_zone_virtual_network_link.network_zone-{zone}-link_"
        for zone in (
            "privatelink-vaultcore-azure-net",
            "privatelink-azurecr-io",
            "privatelink-redis-azure-net",
            "privatelink-blob-core-windows-net",
        )
    }
    assert {zone for zone, link in links.items() if link in waits} == set(links)


def test_database_role_job_creates_the_app_role_as_the_entra_admin_deploy_6(dev) -> None:
    config, stack = dev
    (job,) = [j for j in resources_of(stack, "azurerm_container_app_job") if "role" in j["name"]]
    assert "database_admin" in job["identity"]["identity_ids"][0]
    (container,) = job["template"]["container"]
    # The server's major version; ECR Public, not Docker Hub (R1); libpq 16+ for sslrootcert=system.
    major = max(config.database.engine_version, 16)
    assert container["image"] == f"public.ecr.aws/docker/library/postgres:{major}-alpine"
    # No schedule: the apply starts it once (below) instead of every 15 minutes.
    assert "schedule_trigger_config" not in job
    assert job["manual_trigger_config"] == {"parallelism": 1, "replica_completion_count": 1}
    script = container["command"][2]
    assert "for pair in $APP_ROLES; do" in script
    assert "pgaadauth_create_principal_with_oid" in script
    assert "GRANT ALL PRIVILEGES ON DATABASE" in script
    # PostgreSQL 15+: CREATE on schema public, granted in a session on the app's database (R5).
    schema_session = script.split("psql")[-1]
    assert "dbname=$APP_DATABASE" in schema_session
    assert 'GRANT USAGE, CREATE ON SCHEMA public TO :"role";' in schema_session
    # A GRANT without the right only warns, so the session verifies it and fails otherwise.
    assert "has_schema_privilege(app, 'public', 'CREATE')" in schema_session
    assert "RAISE EXCEPTION" in schema_session
    env = {e["name"]: e["value"] for e in container["env"]}
    identity = re.fullmatch(
        r"\$\{(azurerm_user_assigned_identity\.service_identity_\w+)\.name\}="
        r"\$\{(azurerm_user_assigned_identity\.service_identity_\w+)\.principal_id\}",
        env["APP_ROLES"],
    )
    assert identity and identity.group(1) == identity.group(2)
    assert identity.group(1).split(".")[1] in app_of(stack)["identity"]["identity_ids"][0]
    assert any("entra-admin" in d for d in job["depends_on"])


def test_the_apply_creates_the_roles_before_the_app_starts_deploy_6(dev) -> None:
    """A terraform_data step starts the role job on the runner and waits for its execution
    to succeed; the app depends on that step, so it can sign in when the apply ends."""
    _, stack = dev
    (step,) = [
        (name, body)
        for name, body in stack["resource"]["terraform_data"].items()
        if name.startswith("jobs_database-role-run_")
    ]
    name, body = step
    (job_name,) = [
        n
        for n in stack["resource"]["azurerm_container_app_job"]
        if n.startswith("jobs_database-role_")
    ]
    assert body["input"]["starts"] == f"${{azurerm_container_app_job.{job_name}.id}}"
    (local,) = [p["local-exec"] for p in body["provisioner"]]
    assert local["environment"]["JOB"] == f"${{azurerm_container_app_job.{job_name}.name}}"
    assert "az containerapp job start" in local["command"]
    assert "az containerapp job execution show" in local["command"]
    assert "Succeeded) " in local["command"] and "exit 1" in local["command"]
    # Runs again when the roles (a new service) or the script change.
    assert set(body["triggers_replace"]) == {"job", "roles", "database", "script"}
    assert f"terraform_data.{name}" in app_of(stack)["depends_on"]
