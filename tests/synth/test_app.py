"""The app description (APP-7, SEC-5): services, the secret catalog and optional components."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from synth.app import GeneratedSecret, reserved_environment
from synth.config import ConfigError, EnvironmentConfig, parse_environment
from synth.coverage import applicable, load_requirement_map
from synth.requirements import describe

ROOT = Path(__file__).resolve().parents[2]


def shipped(name: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "environments" / f"{name}.yaml").read_text())
    return copy.deepcopy(data)


def parse(data: dict[str, Any], name: str = "dev") -> EnvironmentConfig:
    return parse_environment(name, data, source=f"{name}.yaml")


def refused(data: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as caught:
        parse(data)
    return str(caught.value)


WEB = {"name": "web", "port": 3000, "route": {"path_prefix": "/"}, "secrets": ["AUTH_SECRET"]}
API = {
    "name": "api",
    "port": 8080,
    "health": {"path": "/api/health"},
    "route": {"path_prefix": "/api"},
    "secrets": ["DATABASE_URL"],
    "environment": {"NODE_ENV": "development"},
}
CATALOG = {
    "AUTH_SECRET": {"kind": "generated"},
    "DATABASE_URL": {"kind": "derived", "source": "database_url"},
}


def described(*services: dict[str, Any], catalog: dict[str, Any] | None = None) -> dict[str, Any]:
    data = shipped("dev")
    data["services"] = [copy.deepcopy(s) for s in services]
    data["secrets"] = {"catalog": copy.deepcopy(CATALOG if catalog is None else catalog)}
    return data


def test_without_services_the_environment_runs_todays_single_service() -> None:
    config = parse(shipped("dev"))
    (service,) = config.services
    assert service.name == "app"
    assert service.port == 3001
    assert service.health.path == "/health"
    assert service.environment == {"NODE_ENV": "production"}
    assert service.secrets == ["JWT_SECRET", "DATABASE_URL"]
    assert service.route is not None and service.route.path_prefix == "/"
    assert service.image.tag == config.service.image_tag
    # Sizes come from the tier's `service:` block (dev: 1-2 replicas, 0.25/0.5 vCPU).
    assert (service.min_replicas, service.max_replicas) == (1, 2)
    assert (service.cpu_request, service.cpu_limit) == (0.25, 0.5)
    assert isinstance(config.secrets.catalog["JWT_SECRET"], GeneratedSecret)
    assert config.components == {"database", "cache", "object_storage"}


def test_services_inherit_the_service_block_and_override_it() -> None:
    data = described(WEB, {**API, "max_replicas": 4, "image": {"tag": "2.0.1"}})
    data["service"] = {"image_tag": "1.3.0"}
    web, api = parse(data).services
    assert (web.max_replicas, web.memory_limit_mib, web.image.tag) == (2, 512, "1.3.0")
    assert (api.max_replicas, api.image.tag, api.health.path) == (4, "2.0.1", "/api/health")
    assert api.environment == {"NODE_ENV": "development"}


def test_components_follow_what_the_services_use() -> None:
    config = parse(described(WEB, API))
    # DATABASE_URL is derived from the database; nothing reads the cache or a bucket.
    assert config.components == {"database"}
    assert not config.uses_cache and not config.uses_object_storage
    mapping = load_requirement_map(ROOT / "policies" / "requirements")
    assert not applicable("CACHE-1", config, mapping)
    assert not applicable("OBJ-3", config, mapping)
    assert applicable("DB-1", config, mapping)
    with_cache = parse(described(WEB, {**API, "uses": ["cache"]}))
    assert with_cache.components == {"database", "cache"}
    assert applicable("CACHE-2", with_cache, mapping)


def test_a_derived_secret_brings_its_component() -> None:
    catalog = {**CATALOG, "REDIS_URL": {"kind": "derived", "source": "cache_url"}}
    config = parse(
        described(WEB, {**API, "secrets": ["DATABASE_URL", "REDIS_URL"]}, catalog=catalog)
    )
    assert config.service_uses(config.services[1]) == {"database", "cache"}
    assert config.uses_cache


def test_a_worker_has_no_route_and_must_say_so() -> None:
    worker = {"name": "worker", "port": 9000, "route": None, "secrets": ["DATABASE_URL"]}
    config = parse(described(WEB, API, worker))
    assert config.services[2].internal
    missing = {k: v for k, v in worker.items() if k != "route"}
    assert "dev.yaml: services[2].route: required field is missing" in refused(
        described(WEB, API, missing)
    )


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (
            lambda d: d["services"][1]["secrets"].append("STRIPE_KEY"),
            "services[1] (api).secrets: 'STRIPE_KEY' is not in secrets.catalog "
            "(declared: AUTH_SECRET, DATABASE_URL)",
        ),
        (
            lambda d: d["secrets"]["catalog"].update(UNUSED={"kind": "generated"}),
            "secrets.catalog.UNUSED: no service reads it",
        ),
        (
            lambda d: d["services"][1]["route"].update(path_prefix="/"),
            "services[1] (api).route: dev.groundwork.example.com/ is already routed to "
            "service 'web'",
        ),
        (
            lambda d: d["services"][0]["route"].update(path_prefix="/app"),
            "services: no service is routed at path_prefix '/' on domain",
        ),
        (
            lambda d: d["services"][1]["route"].update(host="api.example.org"),
            "services[1] (api).route.host: 'api.example.org' is not domain "
            "(dev.groundwork.example.com) or a name under it",
        ),
        (
            lambda d: d["services"][1]["environment"].update(DATABASE_HOST="db"),
            "services[1] (api).environment.DATABASE_HOST: the platform sets this variable",
        ),
        (
            lambda d: (
                d["services"][0]["environment"].update(AUTH_SECRET_NEXT="x")
                if "environment" in d["services"][0]
                else d["services"][0].update(environment={"AUTH_SECRET_NEXT": "x"})
            ),
            "services[0] (web).environment.AUTH_SECRET_NEXT: the service already gets this "
            "variable from secret 'AUTH_SECRET'",
        ),
        (
            lambda d: d["secrets"]["catalog"].update(
                DATABASE_URL={"kind": "derived", "source": "database_reader_url"}
            ),
            "secrets.catalog.DATABASE_URL: source database_reader_url needs a read replica, "
            "but database.read_replicas is 0",
        ),
        (
            lambda d: d["services"][1].update(name="web"),
            "services: the name 'web' is used by more than one service",
        ),
        (
            lambda d: d["secrets"]["catalog"]["AUTH_SECRET"].update(bits=128),
            "secrets.catalog.AUTH_SECRET.generated.bits: Input should be greater than or "
            "equal to 256",
        ),
        (
            lambda d: d["services"][1]["health"].update(interval_seconds=5, timeout_seconds=5),
            "services[1].health: timeout_seconds (5) must be below interval_seconds (5)",
        ),
        (
            lambda d: d["services"][1].update(min_replicas=3, max_replicas=2),
            "services[1].max_replicas: is below min_replicas (3)",
        ),
        (
            lambda d: d["services"][0].update(name="Web-1"),
            "services[0].name: must be 1-8 lowercase letters and digits, starting with a letter "
            "(got 'Web-1')",
        ),
        (
            # A Container App secret name must end alphanumeric (`stripe-key-` is refused).
            lambda d: d["services"][0].update(secrets=["STRIPE_KEY_"]),
            "services[0].secrets[0]: must be an upper-case variable name: capitals, digits and "
            "underscores, starting with a capital and ending with a capital or digit, at most "
            "48 characters (got 'STRIPE_KEY_')",
        ),
        (
            # A typo inside one kind of secret lists that kind's keys (it said "none").
            lambda d: d["secrets"]["catalog"]["AUTH_SECRET"].update(value_set=True),
            "secrets.catalog.AUTH_SECRET.generated.value_set: unknown key; allowed keys here: "
            "bits, description, kind",
        ),
        (
            lambda d: d["secrets"]["catalog"].update(EXTRA={"kind": "external"}),
            "secrets.catalog.EXTRA.external.description: required field is missing",
        ),
    ],
)
def test_every_cross_reference_is_checked_with_file_field_and_value(
    change: Any, problem: str
) -> None:
    data = described(WEB, API)
    change(data)
    message = refused(data)
    assert problem in message, message
    assert all(line.startswith("dev.yaml: ") for line in message.splitlines())


def test_platform_names_are_reserved_on_every_cloud_by_use() -> None:
    # A file can switch cloud with CLOUD=, so a name one cloud sets is refused on all.
    assert {"PORT", "AZURE_CLIENT_ID"} <= reserved_environment(set())
    assert "CLOUD_SQL_INSTANCE" in reserved_environment({"database"})
    assert "REDIS_HOST" not in reserved_environment({"database"})
    assert "BUCKET_NAME" in reserved_environment({"object_storage"})


# Azure builds CDN-1 with conditions of its own (tests/constructs/azure/test_cdn.py).
@pytest.mark.parametrize(
    ("cloud", "feature", "built"),
    [
        ("aws", "cdn_enabled", True),
        ("gcp", "cdn_enabled", True),
        ("aws", "dns_enabled", True),
        ("gcp", "dns_enabled", True),
        ("aws", "auth_enabled", True),
        ("gcp", "auth_enabled", True),
        ("azure", "auth_enabled", False),
        ("azure", "dns_enabled", False),
    ],
)
def test_an_optional_component_a_cloud_does_not_build_is_refused(
    cloud: str, feature: str, built: bool
) -> None:
    data = shipped("dev")
    data["cloud"] = cloud
    data["features"] = {feature: True}
    if built:
        assert getattr(parse(data).features, feature)
        return
    message = refused(data)
    assert f"dev.yaml: features.{feature}: true, but {cloud} does not build this component" in (
        message
    )
    if (feature, cloud) == ("auth_enabled", "azure"):
        # What the operator does instead is part of the error.
        assert "Microsoft Entra admin center" in message
    if (feature, cloud) == ("dns_enabled", "azure"):
        # The managed certificate on an apex does not rotate; the operator's CNAME path does.
        assert "CNAME domain -> the stack output front_door_host" in message


def test_production_floors_on_the_service_block_hold_for_every_service() -> None:
    data = shipped("production")
    data["services"] = [
        {"name": "web", "route": {"path_prefix": "/"}, "secrets": ["AUTH_SECRET"]},
        {"name": "api", "route": {"path_prefix": "/api"}, "min_replicas": 1},
    ]
    data["secrets"] = {"catalog": {"AUTH_SECRET": {"kind": "generated"}}}
    with pytest.raises(ConfigError) as caught:
        parse(data, "production")
    problems = str(caught.value).splitlines()
    assert [p for p in problems if "min_replicas" in p] == [
        "production.yaml: services[1] (api).min_replicas: 1 is below the production floor of 2 "
        "(APP-1); fix it, or add a waiver: {requirement: APP-1, reason: ..., expires: "
        f"YYYY-MM-DD}}. {describe('APP-1')}"
    ]
    data["services"][1]["min_replicas"] = 2
    assert [s.min_replicas for s in parse(data, "production").services] == [2, 2]


def test_a_catalog_name_cannot_be_another_secrets_variable() -> None:
    # A generated AUTH_SECRET gives AUTH_SECRET_NEXT; a second entry of that name would take
    # its place in the reader's environment without a word.
    catalog = {**CATALOG, "AUTH_SECRET_NEXT": {"kind": "generated"}}
    web = {**WEB, "secrets": ["AUTH_SECRET", "AUTH_SECRET_NEXT"]}
    assert (
        "dev.yaml: secrets.catalog.AUTH_SECRET_NEXT: its variable AUTH_SECRET_NEXT is also what "
        "'AUTH_SECRET' gives its readers; rename one of them"
    ) in refused(described(web, API, catalog=catalog))


def test_aws_refuses_a_restart_list_longer_than_a_secrets_manager_tag() -> None:
    # Eight services at the longest app and environment names all read one generated secret:
    # `<prefix>/<prefix>-<service>` eight times is over the 256 characters of a tag value.
    data = described(WEB, API)
    data["app"] = "abcdefghijkl"
    data["services"] = [
        {
            "name": f"svc{n}",
            "port": 3000,
            "secrets": ["AUTH_SECRET"] + (["DATABASE_URL"] if n == 0 else []),
            "route": {"path_prefix": "/" if n == 0 else f"/p{n}"},
        }
        for n in range(8)
    ]
    with pytest.raises(ConfigError) as caught:
        parse_environment("abcdefghijklmnop", data, source="long.yaml", cloud="aws")
    assert (
        "long.yaml: secrets.catalog.AUTH_SECRET: 8 services read it, and the ECS services its "
        "rotation restarts (" in str(caught.value)
    )
    # Two readers fit, and the other clouds keep no such tag.
    data["services"] = data["services"][:2]
    parse_environment("abcdefghijklmnop", data, source="long.yaml", cloud="aws")
    data["services"] = data["services"] + [
        {"name": f"svc{n}", "port": 3000, "secrets": ["AUTH_SECRET"], "route": None}
        for n in range(2, 8)
    ]
    parse_environment("abcdefghijklmnop", data, source="long.yaml", cloud="gcp")


@pytest.mark.parametrize(
    ("cloud", "refused_because"),
    [
        ("aws", "on AWS it is the ALB target group's health check interval"),
        ("azure", "on Azure it is the Container App's readiness probe period"),
        ("gcp", None),
    ],
)
def test_a_readiness_interval_above_edge_4_is_refused_where_it_is_readiness(
    cloud: str, refused_because: str | None
) -> None:
    """EDGE-4 probes readiness every 10 s: where `health.interval_seconds` is the readiness
    period (AWS, Azure) 11 s is refused naming the field; on GCP it is the startup probe's."""
    data = described({**WEB, "health": {"interval_seconds": 11}}, API)
    data["cloud"] = cloud
    if refused_because is None:
        assert parse(data).services[0].health.interval_seconds == 11
        return
    assert (
        "dev.yaml: services[0] (web).health.interval_seconds: 11 is above 10: "
        f"{refused_because}, and EDGE-4 probes readiness every 10 s"
    ) in refused(data)
