"""Service and registry: Cloud Run sized per config, private ingress, secrets by reference,
least-privilege identity (APP-1..6, EDGE-4), and a CMEK, immutable, scanned registry."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cdktf import TerraformStack
from cdktf import Testing as CdktfTesting
from cdktf_cdktf_provider_google.provider import GoogleProvider
from conftest import resources_of
from constructs.gcp.apis import enable_apis
from constructs.gcp.cache import Cache
from constructs.gcp.database import Database, iam_user
from constructs.gcp.keys import Keys
from constructs.gcp.network import Network
from constructs.gcp.registry import Registry
from constructs.gcp.rotation import Rotation
from constructs.gcp.secrets import Secrets
from constructs.gcp.service import Service, cloud_run_cpu
from constructs.gcp.storage import Storage

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
    Service(
        stack,
        "service",
        config=config,
        network=network,
        database=database,
        cache=Cache(stack, "cache", config=config, keys=keys, network=network, secrets=secrets),
        storage=Storage(stack, "storage", config=config, keys=keys),
        secrets=secrets,
        rotation=Rotation(stack, "rotation", config=config, secrets=secrets),
    )
    Registry(stack, "registry", config=config, keys=keys)
    enable_apis(stack)
    return json.loads(CdktfTesting.synth(stack))


@pytest.fixture(scope="module")
def stacks() -> dict[str, dict[str, Any]]:
    return {env: synth(env) for env in ("dev", "production")}


def run(stack: dict[str, Any]) -> dict[str, Any]:
    [service] = resources_of(stack, "google_cloud_run_v2_service")
    return service


def test_replica_bounds_from_the_config_app_1(stacks: dict[str, dict[str, Any]]) -> None:
    assert run(stacks["dev"])["template"]["scaling"] == {
        "min_instance_count": 1,
        "max_instance_count": 2,
    }
    assert run(stacks["production"])["template"]["scaling"] == {
        "min_instance_count": 2,
        "max_instance_count": 10,
    }


def test_cpu_and_memory_use_the_nearest_cloud_run_values_app_2(
    stacks: dict[str, dict[str, Any]],
) -> None:
    assert cloud_run_cpu(0.5) == "1" and cloud_run_cpu(1.0) == "1" and cloud_run_cpu(1.5) == "2"
    limits = run(stacks["dev"])["template"]["containers"][0]["resources"]["limits"]
    assert limits == {"cpu": "1", "memory": "512Mi"}


def test_health_probes_every_10_and_30_seconds_edge_4(stacks: dict[str, dict[str, Any]]) -> None:
    container = run(stacks["dev"])["template"]["containers"][0]
    assert container["startup_probe"]["http_get"]["path"] == "/health"
    assert container["startup_probe"]["period_seconds"] == 10
    assert container["liveness_probe"]["http_get"]["path"] == "/health"
    assert container["liveness_probe"]["period_seconds"] == 30


def test_private_ingress_and_direct_vpc_egress_in_the_app_subnet_net_3(
    stacks: dict[str, dict[str, Any]],
) -> None:
    service = run(stacks["dev"])
    assert service["ingress"] == "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"
    vpc = service["template"]["vpc_access"]
    assert vpc["egress"] == "ALL_TRAFFIC"
    # The app tier's tag, and one per component it uses (the egress rules target those).
    assert vpc["network_interfaces"][0]["tags"] == ["app", "uses-postgres", "uses-redis"]
    assert "app-subnet" in vpc["network_interfaces"][0]["subnetwork"]


def test_secrets_only_by_reference_app_4(stacks: dict[str, dict[str, Any]]) -> None:
    env = {e["name"]: e for e in run(stacks["dev"])["template"]["containers"][0]["env"]}
    for name in ("JWT_SECRET", "DATABASE_URL", "REDIS_AUTH"):
        assert "value" not in env[name]
        assert env[name]["value_source"]["secret_key_ref"]["version"] == "latest"
    assert "DATABASE_PASSWORD" not in env


def test_own_identity_reads_only_its_secrets_bucket_and_database_app_5_iam_1(
    stacks: dict[str, dict[str, Any]],
) -> None:
    stack = stacks["dev"]
    accounts = {a["account_id"] for a in resources_of(stack, "google_service_account")}
    assert accounts == {"groundwork-dev-app", "groundwork-dev-rotate"}
    readers = [
        r
        for r in resources_of(stack, "google_secret_manager_secret_iam_member")
        if "service_identity" in r["member"]
    ]
    assert len(readers) == 6  # JWT_SECRET (+ _PREVIOUS, _NEXT), DATABASE_URL, REDIS_*
    assert {r["role"] for r in readers} == {"roles/secretmanager.secretAccessor"}
    [bucket] = [
        b
        for b in resources_of(stack, "google_storage_bucket_iam_member")
        if "objectUser" in b["role"]
    ]
    assert "google_service_account" in bucket["member"]
    # IAM-1: a custom role of connect, get and login, not roles/cloudsql.instanceUser
    # (which holds cloudsql.instances.executeSql, the Data API).
    roles = stack["resource"]["google_project_iam_custom_role"]
    [(role_name, role)] = [(n, r) for n, r in roles.items() if n.startswith("service_")]
    assert role["permissions"] == [
        "cloudsql.instances.connect",
        "cloudsql.instances.get",
        "cloudsql.instances.login",
    ]
    assert role["role_id"] == "groundwork_dev_app_database"
    app_grants = [
        g
        for g in resources_of(stack, "google_project_iam_member")
        if "service_identity" in g["member"]
    ]
    assert [g["role"] for g in app_grants] == [
        f"${{google_project_iam_custom_role.{role_name}.name}}"
    ]
    for grant in app_grants:
        assert "instances/groundwork-dev-pg" in grant["condition"]["expression"]
    [user] = resources_of(stack, "google_sql_user")
    assert user["type"] == "CLOUD_IAM_SERVICE_ACCOUNT" and "password" not in user
    assert any(d.startswith("google_service_account.service_identity") for d in user["depends_on"])


def test_registry_is_cmek_immutable_and_scanned_app_6(stacks: dict[str, dict[str, Any]]) -> None:
    stack = stacks["dev"]
    [repo] = resources_of(stack, "google_artifact_registry_repository")
    assert repo["format"] == "DOCKER"
    assert repo["docker_config"] == {"immutable_tags": True}
    assert repo["vulnerability_scanning_config"] == {"enablement_config": "INHERITED"}
    assert "google_kms_crypto_key.keys_registry" in repo["kms_key_name"]
    apis = {s["service"] for s in resources_of(stack, "google_project_service")}
    assert "containerscanning.googleapis.com" in apis
    assert any("containerscanning" in d for d in repo["depends_on"])


def test_first_revision_runs_a_public_image_the_pipeline_then_owns_deploy_5(
    stacks: dict[str, dict[str, Any]],
) -> None:
    service = run(stacks["dev"])
    app = service["template"]["containers"][0]
    assert app["image"] == "us-docker.pkg.dev/cloudrun/container/hello"
    assert "template[0].containers[0].image" in service["lifecycle"]["ignore_changes"]


def test_service_waits_for_every_secret_version_and_the_rotators_first_run_deploy_5(
    stacks: dict[str, dict[str, Any]],
) -> None:
    stack = stacks["dev"]
    waits = run(stack)["depends_on"]
    versions = stack["resource"]["google_secret_manager_secret_version"]
    assert {f"google_secret_manager_secret_version.{v}" for v in versions} <= set(waits)
    assert any(w.startswith("terraform_data.rotation_first-run") for w in waits)
    env = run(stack)["template"]["containers"][0]["env"]
    read = {e["name"] for e in env if "value_source" in e}
    assert read == {
        "JWT_SECRET",
        "JWT_SECRET_PREVIOUS",
        "JWT_SECRET_NEXT",
        "DATABASE_URL",
        "REDIS_AUTH",
        "REDIS_CA_CERT",
    }


def test_database_path_is_the_auth_proxy_sidecar_and_the_user_can_migrate_deploy_6(
    stacks: dict[str, dict[str, Any]],
) -> None:
    stack = stacks["dev"]
    app, proxy = run(stack)["template"]["containers"]
    assert app["depends_on"] == ["cloud-sql-proxy"]
    assert proxy["image"].startswith("gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.")
    assert {"--private-ip", "--auto-iam-authn", "--port=5432"} <= set(proxy["args"])
    assert "connection_name" in proxy["args"][-1]
    # The app waits for the proxy's own readiness endpoint, reachable by the prober.
    assert {"--health-check", "--http-address=0.0.0.0", "--http-port=9090"} <= set(proxy["args"])
    assert proxy["startup_probe"]["http_get"] == {"path": "/startup", "port": 9090}
    # F1: CPU only during requests (cpu_idle) starves a background refresh
    assert proxy["resources"]["cpu_idle"] is True and "--lazy-refresh" in proxy["args"]
    [step] = [
        s for s in resources_of(stack, "terraform_data") if "execute-sql" in s["input"]["gcloud"]
    ]
    [sql] = [a for a in step["input"]["gcloud"] if a.startswith("--sql=")]
    user = '"groundwork-dev-app@groundwork-dev.iam"'
    assert f"ON DATABASE app TO {user}" in sql and f"ON SCHEMA public TO {user}" in sql
    # IAM-1: no SQL names the admin role (REVOKE of a role needs ADMIN OPTION from
    # PostgreSQL 16); the Admin API takes every role from the app's user, then the step
    # checks that it is no member of cloudsqlsuperuser
    assert "cloudsqlsuperuser" not in sql
    assert any(d.startswith("google_sql_user.") for d in step["depends_on"])
    command = step["provisioner"][0]["local-exec"]["command"]
    revoke = command.index(
        "gcloud sql users assign-roles groundwork-dev-app@groundwork-dev.iam "
        "'--instance=${google_sql_database_instance."
    )
    assert "--type=CLOUD_IAM_SERVICE_ACCOUNT --revoke-existing-roles" in command[revoke:]
    assert "REVOKE" not in command
    check = command.index("pg_has_role(")
    assert revoke < check < command.index("*app-ready*) ;; *)")
    # DEPLOY-6: execute-sql exits 0 when its SQL fails, so the same query proves each grant
    # (one privilege per call: a list is true if ANY is held) and the pgaudit extension
    query = command[check : command.index("*app-ready*) ;; *)")]

    def quoted(text: str) -> str:  # as written inside the step's single-quoted --sql
        return text.replace("'", "'\"'\"'")

    user = "'groundwork-dev-app@groundwork-dev.iam'"
    for privilege in ("CONNECT", "CREATE", "TEMPORARY"):
        assert quoted(f"has_database_privilege({user}, 'app', '{privilege}')") in query
    for privilege in ("USAGE", "CREATE"):
        assert quoted(f"has_schema_privilege({user}, 'public', '{privilege}')") in query
    assert quoted("extname = 'pgaudit'") in query
    # the Data API is open only while the step runs, and the step ends by proving it closed
    assert "--data-api-access=ALLOW_DATA_API" in command
    assert "trap " in command and "--data-api-access=DISALLOW_DATA_API' EXIT" in command
    close = command.rindex("--data-api-access=DISALLOW_DATA_API")
    assert close < command.index("trap - EXIT") < command.index("settings.dataApiAccess")
    assert command.rstrip().endswith("exit 1; fi")
    # F4: it patches the primary, so it waits for every replica (HTTP 409 otherwise)
    production = stacks["production"]
    [step] = [
        s
        for s in resources_of(production, "terraform_data")
        if "execute-sql" in s["input"]["gcloud"]
    ]
    replicas = {
        f"google_sql_database_instance.{name}"
        for name in production["resource"]["google_sql_database_instance"]
        if name.startswith("database_replica-")
    }
    assert replicas and replicas <= set(step["depends_on"])


def test_service_starts_after_every_grant_to_its_account_deploy_2(
    stacks: dict[str, dict[str, Any]],
) -> None:
    for stack in stacks.values():
        waits = {w.rsplit("_", 1)[0] for w in run(stack)["depends_on"]}
        assert {
            "google_project_iam_member.service_database-login",
            "google_storage_bucket_iam_member.service_uses-bucket",
        } <= waits
        readers = {
            f"google_secret_manager_secret_iam_member.{name.rsplit('_', 1)[0]}"
            for name in stack["resource"]["google_secret_manager_secret_iam_member"]
            if name.startswith("service_reads-")
        }
        assert readers and readers <= waits


def test_iam_database_user_fits_postgres_63_at_the_longest_project_deploy_1() -> None:
    config = load_environment(ROOT / "environments" / "production.yaml", cloud="gcp")
    longest = config.model_copy(
        update={
            "app": "longest-appz",
            "name": "production-xxxxx",
            "gcp": config.gcp.model_copy(update={"project": "p" * 29 + "x"}),
        }
    )
    user = iam_user(longest)
    assert len(user) == 63
    assert user.endswith("@" + "p" * 29 + "x.iam")
    assert iam_user(longest) == user  # deterministic
    assert iam_user(config) == "groundwork-production-app@groundwork-production.iam"


def test_the_rotator_may_roll_this_service_only_deploy_6(
    stacks: dict[str, dict[str, Any]],
) -> None:
    stack = stacks["production"]
    [developer] = resources_of(stack, "google_cloud_run_v2_service_iam_member")
    # IAM-1: get and update, not roles/run.developer (which can delete the service)
    roles = stack["resource"]["google_project_iam_custom_role"]
    [(role_name, role)] = [(n, r) for n, r in roles.items() if n.startswith("rotation_")]
    assert role["permissions"] == ["run.revisions.get", "run.services.get", "run.services.update"]
    assert developer["role"] == f"${{google_project_iam_custom_role.{role_name}.name}}"
    assert developer["name"].startswith("${google_cloud_run_v2_service.service_")
    assert "rotation_identity" in developer["member"]
    [acts_as] = resources_of(stack, "google_service_account_iam_member")
    assert acts_as["role"] == "roles/iam.serviceAccountUser"
    assert acts_as["service_account_id"].startswith("${google_service_account.service_identity_")
