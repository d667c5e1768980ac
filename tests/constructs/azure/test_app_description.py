"""The app description switches what the Azure stack builds (APP-7, SEC-5), one test per switch:
three services (two routed by path, one internal worker) with their own environment and
secrets; the cache and the bucket only when a service uses them; a generated secret's rotation
slots; external secrets read only once the operator has set them; and the whole cloud passing
the gate with the three-service description (tests/constructs/azure/environments/apps.yaml)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from cdktf import Testing as CdktfTesting
from matrix import gate_report, requirement_statuses, resources_of, start_synth, wait_all

from stacks import stack_class
from synth.app import unset_external_secrets
from synth.config import ConfigError, EnvironmentConfig, parse_environment

APPS = Path(__file__).resolve().parent / "environments" / "apps.yaml"


def described(**changes: Any) -> dict[str, Any]:
    """apps.yaml's data with top-level keys replaced; `api` / `worker` / `web` replace a service."""
    data = yaml.safe_load(APPS.read_text())
    for key, value in changes.items():
        if key in ("web", "api", "worker"):
            data["services"] = [value if s["name"] == key else s for s in data["services"]]
        else:
            data[key] = value
    return data


def synth(data: dict[str, Any]) -> tuple[EnvironmentConfig, dict[str, Any]]:
    config = parse_environment("apps", data, source=str(APPS), cloud="azure")
    return config, json.loads(CdktfTesting.synth(stack_class("azure")(CdktfTesting.app(), config)))


@pytest.fixture(scope="module")
def apps() -> tuple[EnvironmentConfig, dict[str, Any]]:
    return synth(described())


def by_service(stack: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        a["tags"]["groundwork-service"]: a for a in resources_of(stack, "azurerm_container_app")
    }


def env_of(app: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in app["template"]["container"][0]["env"]}


def test_three_services_two_routes_and_an_unrouted_worker_app_7(apps) -> None:
    _, stack = apps
    services = by_service(stack)
    assert sorted(services) == ["api", "web", "worker"]
    assert services["web"]["name"] == "ca-web-groundwork-apps-fc5cec"
    (gateway,) = resources_of(stack, "azurerm_application_gateway")
    pools = {p["name"]: p["fqdns"] for p in gateway["backend_address_pool"]}
    assert sorted(pools) == ["svc-api", "svc-web"]  # the worker is no backend
    assert pools["svc-api"] == ["${azurerm_container_app.service_api_app_2AFC8EE7.ingress[0].fqdn}"]
    (path_map,) = gateway["url_path_map"]
    assert path_map["default_backend_address_pool_name"] == "svc-web"  # `/` on the domain
    (rule,) = path_map["path_rule"]
    assert (rule["backend_address_pool_name"], rule["paths"]) == ("svc-api", ["/api", "/api/*"])
    https = next(r for r in gateway["request_routing_rule"] if r["name"] == "https-to-app")
    assert (https["rule_type"], https["url_path_map_name"]) == ("PathBasedRouting", "paths")
    # Each backend is probed on its own service's health path.
    assert sorted(p["path"] for p in gateway["probe"]) == ["/api/health", "/healthz"]
    # Routed services admit the gateway's subnet; the worker has no VNet-facing ingress.
    assert services["web"]["ingress"]["external_enabled"] is True
    assert services["worker"]["ingress"]["external_enabled"] is False
    assert "ip_security_restriction" not in services["worker"]["ingress"]


def test_each_service_has_its_port_health_size_env_and_secrets_app_7_sec_5(apps) -> None:
    _, stack = apps
    services = by_service(stack)
    api, web, worker = services["api"], services["web"], services["worker"]
    assert api["ingress"]["target_port"] == 8080 and web["ingress"]["target_port"] == 3000
    assert (api["template"]["min_replicas"], api["template"]["max_replicas"]) == (1, 4)
    probe = web["template"]["container"][0]["readiness_probe"][0]
    assert (probe["path"], probe["interval_seconds"], probe["timeout"]) == ("/healthz", 5, 4)
    assert env_of(api)["LOG_LEVEL"]["value"] == "info"
    assert env_of(web)["NEXT_PUBLIC_API"]["value"] == "/api"
    assert env_of(worker)["QUEUE_CONCURRENCY"]["value"] == "4"
    secret_env = {
        name: sorted(n for n, e in env_of(app).items() if "secret_name" in e)
        for name, app in services.items()
    }
    assert secret_env == {
        "web": ["SESSION_SECRET", "SESSION_SECRET_NEXT", "SESSION_SECRET_PREVIOUS"],
        "api": [
            "CACHE_URL",
            "DATABASE_URL",
            "JWT_SECRET",
            "JWT_SECRET_NEXT",
            "JWT_SECRET_PREVIOUS",
        ],
        "worker": ["DATABASE_DIRECT_URL"],
    }
    # IAM-1: each identity may read exactly the secrets its service lists.
    grants = [
        g for g in resources_of(stack, "azurerm_role_assignment")
        if g.get("role_definition_name") == "Key Vault Secrets User"
    ]  # fmt: skip
    worker_reads = [g for g in grants if "service_worker_identity" in g["principal_id"]]
    assert [g["scope"].split(".")[1].split("_")[1] for g in worker_reads] == ["database-direct-url"]


def test_derived_urls_and_release_images_follow_the_catalog_sec_5(apps) -> None:
    _, stack = apps
    found = {s["name"]: s for s in resources_of(stack, "azurerm_key_vault_secret")}
    assert found["database-direct-url"]["value"].split("}:")[1].startswith("5432/")
    assert found["cache-url"]["value"].startswith("rediss://${azurerm_managed_redis.")
    assert found["cache-url"]["tags"]["groundwork-secret-kind"] == "derived"
    assert stack["output"]["release_image_api"]["value"].endswith("/api:1.4.2")
    # One database-role job creates the role of every service that uses the database.
    jobs = {j["name"]: j for j in resources_of(stack, "azurerm_container_app_job")}
    assert sorted(n for n in jobs if n.startswith("caj-role")) == [
        "caj-role-groundwork-apps-fc5cec"
    ]


def test_a_reader_url_points_at_the_read_replica_sec_5() -> None:
    worker = {
        **next(s for s in described()["services"] if s["name"] == "worker"),
        "secrets": ["DATABASE_DIRECT_URL", "DATABASE_READER_URL"],
    }
    catalog = {
        **described()["secrets"]["catalog"],
        "DATABASE_READER_URL": {"kind": "derived", "source": "database_reader_url"},
    }
    data = described(worker=worker, secrets={"catalog": catalog})
    data["database"] = {"read_replicas": 1}
    _, stack = synth(data)
    found = {s["name"]: s for s in resources_of(stack, "azurerm_key_vault_secret")}
    reader = found["database-reader-url"]["value"]
    replica = next(
        name
        for name, server in stack["resource"]["azurerm_postgresql_flexible_server"].items()
        if server.get("create_mode") == "Replica"
    )
    assert reader.startswith(
        f"postgresql://${{azurerm_postgresql_flexible_server.{replica}.fqdn}}:5432/"
    )
    assert "@" not in reader and reader.endswith("?sslmode=verify-full")


def test_a_generated_secret_gets_current_previous_next_and_rotation_sec_5(apps) -> None:
    _, stack = apps
    found = {s["name"]: s for s in resources_of(stack, "azurerm_key_vault_secret")}
    for name in ("session-secret", "session-secret-previous", "session-secret-next"):
        # bits: 256 -> one SHA-256 of two uuid() results; write-only, expiring.
        assert found[name]["value_wo"] == '${sha256(join("", [uuid(), uuid()]))}'
        assert "value" not in found[name]
        assert found[name]["expiration_date"] == '${timeadd(timestamp(), "2160h")}'
        assert found[name]["tags"]["groundwork-secret"] == "SESSION_SECRET"
    (rotation,) = [
        j
        for j in resources_of(stack, "azurerm_container_app_job")
        if j["name"].startswith("caj-rotate")
    ]
    env = {e["name"]: e["value"] for e in rotation["template"]["container"][0]["env"]}
    assert json.loads(env["GENERATED"])["session-secret"] == [
        "session-secret-previous",
        "session-secret-next",
    ]
    assert json.loads(env["GENERATED_BYTES"]) == {"jwt-secret": 48, "session-secret": 32}
    # Both readers of generated secrets are restarted after a shift; the worker reads none.
    assert "service_web_app_" in env["APP_NAMES"] and "service_api_app_" in env["APP_NAMES"]
    assert "service_worker_app_" not in env["APP_NAMES"]


def test_without_a_cache_user_there_is_no_cache_and_no_cache_variable() -> None:
    api = {
        **next(s for s in described()["services"] if s["name"] == "api"),
        "secrets": ["JWT_SECRET", "DATABASE_URL"],
        "uses": ["database", "object_storage"],
    }
    catalog = described()["secrets"]["catalog"]
    catalog.pop("CACHE_URL")
    config, stack = synth(described(api=api, secrets={"catalog": catalog}))
    assert not config.uses_cache
    assert resources_of(stack, "azurerm_managed_redis") == []
    assert not [j for j in resources_of(stack, "azurerm_container_app_job") if "cache" in j["name"]]
    assert not [
        r for r in resources_of(stack, "azurerm_network_security_rule") if "redis" in r["name"]
    ]
    for app in resources_of(stack, "azurerm_container_app"):
        assert not {"REDIS_HOST", "REDIS_PORT", "REDIS_USERNAME"} & set(env_of(app))


def test_without_a_bucket_user_there_is_no_bucket() -> None:
    api = {
        **next(s for s in described()["services"] if s["name"] == "api"),
        "uses": ["database", "cache"],
    }
    config, stack = synth(described(api=api))
    assert not config.uses_object_storage
    assert resources_of(stack, "azurerm_storage_container") == []
    accounts = [a["name"] for a in resources_of(stack, "azurerm_storage_account")]
    assert all(name.startswith("stlog") for name in accounts)  # flow logs and the rotation queue
    for app in resources_of(stack, "azurerm_container_app"):
        assert not {"STORAGE_BLOB_ENDPOINT", "STORAGE_CONTAINER"} & set(env_of(app))
    assert not [
        g for g in resources_of(stack, "azurerm_role_assignment")
        if g.get("role_definition_name") == "Storage Blob Data Contributor"
    ]  # fmt: skip


CACHE_PATH = ("azurerm_private_endpoint.cache_endpoint_", "privatelink-redis-azure-net-link_")
BLOB_PATH = (
    "azurerm_private_endpoint.storage_blob-endpoint_",
    "privatelink-blob-core-windows-net-link_",
)


def waits_for(resource: dict[str, Any], path: tuple[str, str]) -> bool:
    """Whether `resource` lists both the endpoint and the DNS link of `path` in `depends_on`."""
    return all(any(part in d for d in resource["depends_on"]) for part in path)


def test_a_service_waits_for_the_private_path_of_what_it_uses_deploy_2(apps) -> None:
    """The first revision connects to the cache and the bucket as it starts, so each app that
    uses one waits for its private endpoint and DNS link (CKV_GW_DEPLOY_83); the others do not."""
    services = by_service(apps[1])
    assert waits_for(services["api"], CACHE_PATH) and waits_for(services["api"], BLOB_PATH)
    for name in ("web", "worker"):
        assert not any(
            part in d for d in services[name]["depends_on"] for part in CACHE_PATH + BLOB_PATH
        ), name


def test_without_a_cache_or_bucket_nothing_waits_for_their_paths_deploy_2() -> None:
    _, stack = synth(without_cache_and_bucket())
    addresses = {f"{rtype}.{name}" for rtype, named in stack["resource"].items() for name in named}
    assert not [e for e in addresses if "cache_endpoint" in e or "blob-endpoint" in e]
    for rtype in ("azurerm_container_app", "azurerm_container_app_job"):
        for resource in resources_of(stack, rtype):
            # No dangling wait: every entry names a resource of the stack.
            assert set(resource["depends_on"]) <= addresses, resource["name"]
            assert not waits_for(resource, CACHE_PATH) and not waits_for(resource, BLOB_PATH)


def with_external_secrets() -> dict[str, Any]:
    """apps.yaml where the api also reads two external secrets: STRIPE_API_KEY, which nobody
    has set yet (`value_set` left at false), and MAPS_KEY, which the operator has set."""
    api = {
        **next(s for s in described()["services"] if s["name"] == "api"),
        "secrets": ["JWT_SECRET", "DATABASE_URL", "CACHE_URL", "STRIPE_API_KEY", "MAPS_KEY"],
    }
    catalog = {
        **described()["secrets"]["catalog"],
        "STRIPE_API_KEY": {"kind": "external", "description": "Stripe live key, dashboard"},
        "MAPS_KEY": {"kind": "external", "description": "Maps key, console", "value_set": True},
    }
    return described(api=api, secrets={"catalog": catalog})


@pytest.fixture(scope="module")
def externals() -> tuple[EnvironmentConfig, dict[str, Any]]:
    return synth(with_external_secrets())


def test_an_external_secret_loads_on_azure_sec_5() -> None:
    """Azure builds external secrets: the description loads, and `value_set` says which ones
    the operator has set."""
    config = parse_environment("apps", with_external_secrets(), source=str(APPS), cloud="azure")
    assert config.secrets.catalog["STRIPE_API_KEY"].kind == "external"
    assert unset_external_secrets(config) == {"STRIPE_API_KEY"}


def test_an_external_secret_is_created_empty_and_write_only_sec_3_sec_5(externals) -> None:
    """Nothing of an external secret's value is in the JSON or the state: the write-only value
    is the empty string, written once (`value_wo_version` 1, so no later apply writes over the
    operator's version), and the tag tells the gate whether the operator has set it."""
    _, stack = externals
    found = {s["name"]: s for s in resources_of(stack, "azurerm_key_vault_secret")}
    for name, value_set in (("stripe-api-key", "false"), ("maps-key", "true")):
        secret = found[name]
        assert (secret["value_wo"], secret["value_wo_version"]) == ("", 1)
        assert "value" not in secret
        assert secret["tags"]["groundwork-secret-kind"] == "external"
        assert secret["tags"]["groundwork-value-set"] == value_set
        assert secret["depends_on"] == ["time_sleep.keys_deployer-roles-propagated_48E86B44"]


def test_a_service_reads_an_external_secret_only_once_it_is_set_deploy_6(externals) -> None:
    """value_set false: no reference, no variable and no grant, so the revision starts without
    it; value_set true: a versionless Key Vault reference with the service's identity, and
    Key Vault Secrets User on that one secret, which the revision waits for (propagated)."""
    _, stack = externals
    api = by_service(stack)["api"]
    references = {s["name"]: s for s in api["secret"]}
    assert "stripe-api-key" not in references and "STRIPE_API_KEY" not in env_of(api)
    maps = references["maps-key"]
    assert maps["key_vault_secret_id"].startswith("${azurerm_key_vault_secret.secrets_maps-key_")
    assert maps["key_vault_secret_id"].endswith(".versionless_id}")
    assert maps["identity"] == api["identity"]["identity_ids"][0]
    assert env_of(api)["MAPS_KEY"] == {"name": "MAPS_KEY", "secret_name": "maps-key"}
    grants = {
        k: g
        for k, g in stack["resource"]["azurerm_role_assignment"].items()
        if g.get("role_definition_name") == "Key Vault Secrets User"
    }
    scopes = {g["scope"].split(".")[1].split("_")[1] for g in grants.values()}
    assert "maps-key" in scopes and "stripe-api-key" not in scopes
    (maps_grant,) = [k for k, g in grants.items() if "maps-key" in g["scope"]]
    sleeps = stack["resource"]["time_sleep"]
    (wait,) = [d for d in api["depends_on"] if d.startswith("time_sleep.service_api_grants")]
    assert (
        f"${{azurerm_role_assignment.{maps_grant}.id}}"
        in sleeps[wait.split(".")[1]]["triggers"].values()
    )


def test_a_reader_of_a_set_external_secret_waits_for_the_step_that_checks_it_deploy_6(
    externals,
) -> None:
    """value_set is the operator's word: in a fresh subscription the secret is created empty
    in the same apply, so the api (which reads MAPS_KEY, marked set) depends on a step that
    checks the secret's latest value is not empty, and that step is replaced (runs again) when
    the secret, the reference or the reader changes. STRIPE_API_KEY (unset) gets no step."""
    _, stack = externals
    api = by_service(stack)["api"]
    steps = {
        name: step
        for name, step in stack["resource"]["terraform_data"].items()
        if "checks" in step["input"]
    }
    (name,) = steps
    step = steps[name]
    assert name.startswith("service_api_checks-maps-key_")
    assert f"terraform_data.{name}" in api["depends_on"]
    assert step["input"]["checks"].startswith("${azurerm_key_vault_secret.secrets_maps-key_")
    assert step["input"]["checks"].endswith(".id}")
    assert step["input"]["role"] == "Key Vault Secrets Officer"
    triggers = step["triggers_replace"]
    assert triggers["secret"] == step["input"]["checks"]
    assert triggers["reference"].endswith(".versionless_id}")
    assert triggers["identity"] == api["identity"]["identity_ids"][0]
    (local,) = step["provisioner"]
    environment = local["local-exec"]["environment"]
    assert environment["ENTRY"] == "MAPS_KEY"
    assert environment["SECRET"].startswith("${azurerm_key_vault_secret.secrets_maps-key_")
    assert environment["VAULT"].startswith("${azurerm_key_vault.keys_vault_")
    # The command it prints writes the tags and content type the construct writes (a new
    # version inherits neither: Azure/AzureKeyVault #17).
    (secret,) = [
        s for s in resources_of(stack, "azurerm_key_vault_secret") if s["name"] == "maps-key"
    ]
    command = environment["SET_COMMAND"]
    assert f"--content-type '{secret['content_type']}'" in command
    tags = dict(t.split("=", 1) for t in command.split("--tags ", 1)[1].split())
    assert tags == {**secret["tags"], "groundwork-value-set": "true"}


def run_check(tmp_path: Path, length: str, *, fails: bool = False) -> tuple[int, str, str]:
    """Runs the external-secret check step's script with a stand-in `az` that answers
    `length(value)` with `length` (or fails)."""
    from constructs.azure.steps import CHECK_VALUE

    assert "${" not in CHECK_VALUE  # Terraform would read it as an interpolation
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls"
    (bin_dir / "az").write_text(
        f'#!/bin/sh\necho "az $*" >> {calls}\n'
        + ("echo 'ERROR: Forbidden' >&2; exit 1\n" if fails else f"echo '{length}'\n")
    )
    (bin_dir / "az").chmod(0o755)
    env = {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "VAULT": "kv-apps-1a2b3c",
        "SECRET": "maps-key",
        "ENTRY": "MAPS_KEY",
        "SET_COMMAND": "az keyvault secret set --vault-name kv-apps-1a2b3c --name maps-key",
    }
    result = subprocess.run(
        ["/bin/sh", "-c", CHECK_VALUE], env=env, capture_output=True, text=True, timeout=60
    )
    return result.returncode, result.stderr, calls.read_text()


def test_the_check_step_passes_a_secret_with_a_value_and_never_prints_it(tmp_path) -> None:
    code, stderr, calls = run_check(tmp_path, "32")
    assert code == 0, stderr
    assert calls.strip() == (
        "az keyvault secret show --vault-name kv-apps-1a2b3c --name maps-key "
        "--query length(value) -o tsv"
    )


@pytest.mark.parametrize("length", ["0", "", "None"])
def test_the_check_step_fails_an_empty_secret_saying_what_to_do(tmp_path, length) -> None:
    code, stderr, _ = run_check(tmp_path, length)
    assert code == 1
    assert "secrets.catalog.MAPS_KEY says value_set: true" in stderr
    assert "az keyvault secret set --vault-name kv-apps-1a2b3c --name maps-key" in stderr
    assert 'README, "Azure: setting an external secret"' in stderr
    assert "or set value_set: false on MAPS_KEY" in stderr


def test_the_check_step_fails_when_it_cannot_read_the_secret(tmp_path) -> None:
    code, stderr, _ = run_check(tmp_path, "", fails=True)
    assert code == 1
    assert "MAPS_KEY: could not read Key Vault secret maps-key in kv-apps-1a2b3c" in stderr


def test_an_external_secret_waives_rotation_for_its_issuer_sec_2(externals) -> None:
    """Nothing in the stack rotates an external secret (its expiry is on the empty first
    version; the rotation job drops its events), so CKV_GW_SEC_71 is waived on it with that
    reason rather than passed by its expiry; a generated secret declares no such waiver."""
    config, _ = externals
    stack = stack_class("azure")(CdktfTesting.app(), config)
    declared = {
        node.node.path.split("/", 1)[1]: {w["check"]: w for w in node._groundwork_waivers}
        for node in stack.node.find_all()
        if getattr(node, "_groundwork_waivers", None)
    }
    for name in ("maps-key", "stripe-api-key"):
        assert "issuer rotates it" in declared[f"secrets/{name}"]["CKV_GW_SEC_71"]["reason"]
    assert "CKV_GW_SEC_71" not in declared["secrets/jwt-secret"]


def test_the_rotation_job_leaves_an_external_secret_alone_sec_2(externals, tmp_path) -> None:
    """Its issuer rotates an external secret: the rotation job gets no role on it and does not
    know its name, so a near-expiry event of it is taken off the queue and nothing is written.
    Runs the job's script against a stand-in `az` that records every call."""
    _, stack = externals
    (job,) = [
        j
        for j in resources_of(stack, "azurerm_container_app_job")
        if j["name"].startswith("caj-rotate")
    ]
    env = {e["name"]: e["value"] for e in job["template"]["container"][0]["env"]}
    assert "maps-key" not in env["ROTATED"].split(",")
    assert "stripe-api-key" not in env["ROTATED"].split(",")
    officer_scopes = [
        g["scope"]
        for g in resources_of(stack, "azurerm_role_assignment")
        if g.get("role_definition_name") == "Key Vault Secrets Officer"
    ]
    assert not [s for s in officer_scopes if "maps-key" in s or "stripe-api-key" in s]

    calls = tmp_path / "calls.jsonl"
    (tmp_path / "az").write_text(FAKE_AZ.format(calls=calls))
    (tmp_path / "az").chmod(0o755)
    event = {"subject": "maps-key", "data": {"ObjectName": "maps-key"}}
    run_env = {
        **env,
        "PATH": f"{tmp_path}:{os.environ['PATH']}",
        "FAKE_MESSAGE": json.dumps(event),
        "FAKE_STATE": str(tmp_path / "drained"),
    }
    command = job["template"]["container"][0]["command"]
    subprocess.run([sys.executable, *command[1:]], env=run_env, check=True, timeout=60)
    made = [json.loads(line) for line in calls.read_text().splitlines()]
    assert [c[:3] for c in made if c[0] == "storage"] == [
        ["storage", "message", "get"],
        ["storage", "message", "delete"],
        ["storage", "message", "get"],
    ]
    assert not [c for c in made if c[0] == "keyvault" or c[0] == "containerapp"]


# A stand-in for the Azure CLI: records each call, hands out one queue message, then none.
FAKE_AZ = """#!/usr/bin/env python3
import json, os, sys
args = sys.argv[1:]
with open("{calls}", "a") as calls:
    calls.write(json.dumps(args) + "\\n")
if args[:3] == ["storage", "message", "get"]:
    if os.path.exists(os.environ["FAKE_STATE"]):
        print("[]")
    else:
        open(os.environ["FAKE_STATE"], "w").close()
        print(json.dumps([{{"id": "1", "popReceipt": "r", "content": os.environ["FAKE_MESSAGE"]}}]))
else:
    print("null")
"""


@pytest.mark.parametrize("interval", [11, 15, 300])
def test_a_readiness_interval_that_breaks_edge_4_is_refused_with_its_field(interval) -> None:
    """EDGE-4 probes readiness every 10 s; on Azure the described interval is the readiness
    probe's period, so a longer one is refused (a shorter one keeps the requirement)."""
    web = {
        **next(s for s in described()["services"] if s["name"] == "web"),
        "health": {"path": "/healthz", "interval_seconds": interval, "timeout_seconds": 5},
    }
    with pytest.raises(ConfigError) as refused:
        parse_environment("apps", described(web=web), source=str(APPS), cloud="azure")
    assert str(refused.value) == (
        f"{APPS}: services[0] (web).health.interval_seconds: {interval} is above 10: on Azure "
        "it is the Container App's readiness probe period, and EDGE-4 probes readiness every 10 s"
    )
    # The same description loads on a cloud whose readiness is not this interval.
    parse_environment("apps", described(web=web), source=str(APPS), cloud="gcp")


def api_on_its_own_host() -> dict[str, Any]:
    """apps.yaml with the API on `api.<domain>` instead of under `/api`."""
    api = {
        **next(s for s in described()["services"] if s["name"] == "api"),
        "route": {"host": "api.apps.groundwork.example.com", "path_prefix": "/"},
    }
    return described(api=api)


def api_under_a_path_of_its_own_host() -> dict[str, Any]:
    """apps.yaml with the API at `/v1` on `api.<domain>`, a host with no `/` service (its
    health path under `/v1`, where the gateway sends it: OBS-4)."""
    api = {
        **next(s for s in described()["services"] if s["name"] == "api"),
        "route": {"host": "api.apps.groundwork.example.com", "path_prefix": "/v1"},
        "health": {"path": "/v1/health"},
    }
    return described(api=api)


def test_a_host_without_a_root_service_falls_back_to_the_domains_app_7() -> None:
    _, stack = synth(api_under_a_path_of_its_own_host())
    (gateway,) = resources_of(stack, "azurerm_application_gateway")
    (path_map,) = gateway["url_path_map"]
    assert path_map["name"] == "paths-1"
    assert path_map["default_backend_address_pool_name"] == "svc-web"
    assert [r["paths"] for r in path_map["path_rule"]] == [["/v1", "/v1/*"]]


def test_a_host_route_gets_its_listener_redirect_and_certificate_name_app_7() -> None:
    _, stack = synth(api_on_its_own_host())
    (gateway,) = resources_of(stack, "azurerm_application_gateway")
    listeners = {item["name"]: item for item in gateway["http_listener"]}
    assert listeners["https"]["host_name"] == "apps.groundwork.example.com"
    assert listeners["https-1"]["host_name"] == "api.apps.groundwork.example.com"
    assert listeners["https-1"]["require_sni"] is True
    rules = {r["name"]: r for r in gateway["request_routing_rule"]}
    # Each host has only its `/` service: Basic rules, no path map.
    assert (rules["https-to-1"]["rule_type"], rules["https-to-1"]["backend_address_pool_name"]) == (
        "Basic",
        "svc-api",
    )
    assert rules["https-to-app"]["backend_address_pool_name"] == "svc-web"
    assert "url_path_map" not in gateway
    # Plain HTTP for the API's host redirects to the API's HTTPS listener, before the catch-all.
    redirect = next(r for r in gateway["redirect_configuration"] if r["name"] == "to-https-1")
    assert redirect["target_listener_name"] == "https-1"
    assert rules["http-to-https-1"]["priority"] < rules["http-to-https"]["priority"]
    # The self-signed certificate covers every route host (a key_vault one must, README).
    (certificate,) = resources_of(stack, "azurerm_key_vault_certificate")
    names = certificate["certificate_policy"]["x509_certificate_properties"][
        "subject_alternative_names"
    ]["dns_names"]
    assert names == ["apps.groundwork.example.com", "api.apps.groundwork.example.com"]


def without_cache_and_bucket() -> dict[str, Any]:
    """apps.yaml with no service using the cache or the bucket."""
    api = {
        **next(s for s in described()["services"] if s["name"] == "api"),
        "secrets": ["JWT_SECRET", "DATABASE_URL"],
        "uses": ["database"],
    }
    catalog = described()["secrets"]["catalog"]
    catalog.pop("CACHE_URL")
    return described(api=api, secrets={"catalog": catalog})


@pytest.mark.parametrize(
    "variant",
    [
        "three-services",
        "without-cache-and-bucket",
        "host-route",
        "host-without-root",
        "external-secrets",
    ],
)
def test_the_gate_passes_on_the_description(tmp_path: Path, variant: str) -> None:
    """The whole cloud (the stack and its bootstrap) passes the gate with every requirement
    checked; without a cache or bucket their requirements are n/a, never pass."""
    environments = tmp_path / "environments"
    environments.mkdir()
    data = {
        "three-services": described,
        "without-cache-and-bucket": without_cache_and_bucket,
        "host-route": api_on_its_own_host,
        "host-without-root": api_under_a_path_of_its_own_host,
        "external-secrets": with_external_secrets,
    }[variant]()
    (environments / "apps.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    outdir = tmp_path / "out"
    wait_all(
        {
            "azure": start_synth(
                "azure", outdir, extra_env={"GROUNDWORK_ENVIRONMENTS": str(environments)}
            )
        }
    )
    requirements = requirement_statuses(gate_report(outdir, environments, tmp_path / "verify.json"))
    assert requirements["apps", "APP-7"] == requirements["apps", "SEC-5"] == "pass"
    optional = "n/a" if variant == "without-cache-and-bucket" else "pass"
    assert requirements["apps", "CACHE-1"] == requirements["apps", "OBJ-3"] == optional


def test_a_nested_path_prefix_is_matched_before_the_prefix_it_nests_in_app_7() -> None:
    """Application Gateway takes the first matching path rule: `/api/admin` before `/api`,
    whatever order the file lists the services in."""
    data = described()
    worker = next(s for s in data["services"] if s["name"] == "worker")
    worker["route"] = {"path_prefix": "/api/admin"}
    worker["health"] = {"path": "/api/admin/ready"}  # under its route (OBS-4)
    _, stack = synth(data)
    # Each routed service's availability test reaches it through those rules.
    assert "https://apps.groundwork.example.com/api/admin/ready" in availability(stack)
    (gateway,) = resources_of(stack, "azurerm_application_gateway")
    (path_map,) = gateway["url_path_map"]
    assert [r["paths"] for r in path_map["path_rule"]] == [
        ["/api/admin", "/api/admin/*"],
        ["/api", "/api/*"],
    ]


def test_one_role_job_for_every_database_service_started_by_the_apply_deploy_6(apps) -> None:
    """One database-role job creates the api's and the worker's roles one after the other (no
    two GRANT at once) and pulls its image once per apply, not every 15 minutes per service;
    the apply starts it, and each database-using app waits for that step; the web service,
    which does not use the database, does not."""
    _, stack = apps
    (job,) = [
        j
        for j in resources_of(stack, "azurerm_container_app_job")
        if "database-role" in json.dumps(j["template"])
    ]
    assert "schedule_trigger_config" not in job
    env = {e["name"]: e["value"] for e in job["template"]["container"][0]["env"]}
    pairs = env["APP_ROLES"].split(" ")
    services = by_service(stack)
    for service in ("api", "worker"):
        (identity,) = services[service]["identity"]["identity_ids"]
        address = identity.removeprefix("${").removesuffix(".id}")
        assert f"${{{address}.name}}=${{{address}.principal_id}}" in pairs
    assert len(pairs) == 2
    (step,) = [n for n in stack["resource"]["terraform_data"] if "database-role-run" in n]
    assert f"terraform_data.{step}" in services["api"]["depends_on"]
    assert f"terraform_data.{step}" in services["worker"]["depends_on"]
    assert f"terraform_data.{step}" not in services["web"]["depends_on"]


def availability(stack: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """`{web test URL: (test address, alert name)}`: each test with the alert watching it."""
    tests = stack["resource"]["azurerm_application_insights_standard_web_test"]
    alerts = resources_of(stack, "azurerm_monitor_metric_alert")
    found = {}
    for name, test in tests.items():
        (alert,) = [
            a["name"]
            for a in alerts
            for c in [a.get("application_insights_web_test_location_availability_criteria") or {}]
            if c.get("web_test_id")
            == f"${{azurerm_application_insights_standard_web_test.{name}.id}}"
        ]
        found[test["request"]["url"]] = (name, alert)
    return found


def test_every_routed_service_has_an_alerting_availability_test_obs_4(apps) -> None:
    """web on `/` and api on `/api` each get a test of their health path through the gateway,
    with an alert; the internal worker, which nothing outside the VNet reaches, gets none."""
    _, stack = apps
    found = availability(stack)
    assert sorted(found) == [
        "https://apps.groundwork.example.com/api/health",
        "https://apps.groundwork.example.com/healthz",
    ]
    assert found["https://apps.groundwork.example.com/api/health"][1] == (
        "groundwork-apps-api-health-unavailable"
    )
    assert found["https://apps.groundwork.example.com/healthz"][1] == (
        "groundwork-apps-web-health-unavailable"
    )


def test_a_service_on_its_own_host_is_tested_on_that_host_obs_4() -> None:
    _, stack = synth(api_on_its_own_host())
    assert "https://api.apps.groundwork.example.com/api/health" in availability(stack)


def test_a_health_path_the_gateway_sends_elsewhere_is_refused_obs_4() -> None:
    """The gateway forwards paths unchanged, so api's `/health` outside its `/api` route would
    reach web: no availability test could watch api's health."""
    api = {
        **next(s for s in described()["services"] if s["name"] == "api"),
        "health": {"path": "/health"},
    }
    with pytest.raises(ConfigError) as refused:
        parse_environment("apps", described(api=api), source=str(APPS), cloud="azure")
    assert str(refused.value) == (
        f"{APPS}: services[1] (api).health.path: /health is not under its route "
        "(apps.groundwork.example.com, path_prefix /api): the gateway sends "
        "https://apps.groundwork.example.com/health to service web, so the availability test "
        "(OBS-4) cannot reach api's health; give it a health path under /api"
    )
