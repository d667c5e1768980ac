"""DEPLOY-1: every cloud synthesized at the schema's longest app and environment names keeps
every resource name within its cloud's limits (the table in synth/names.py).

The environments are the shipped ones (one per tier) with `app` and the file name stretched
to `APP_MAX_LENGTH` and `ENVIRONMENT_MAX_LENGTH`, hyphens included, so a name that only fits
today's short names fails here. The bootstrap stacks come along, as main.py builds them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from matrix import CLOUDS, ENVIRONMENTS, ROOT, start_synth, synthesize_clouds, wait_all

from synth.config import APP_MAX_LENGTH, ENVIRONMENT_MAX_LENGTH, GcpConfig
from synth.names import name_problems

LONGEST_APP = "longest-app-name"[: APP_MAX_LENGTH - 1] + "z"
# GCP project IDs are 6-30 characters (the GcpConfig pattern): names that embed the project
# (an IAM database user is `<account>@<project>.iam`) are measured at the longest.
GCP_PROJECT_MAX_LENGTH = 30


def longest_environment(tier: str) -> str:
    """`<tier>-xxx...` stretched to ENVIRONMENT_MAX_LENGTH characters."""
    return f"{tier}-{'x' * ENVIRONMENT_MAX_LENGTH}"[:ENVIRONMENT_MAX_LENGTH]


def longest_gcp_project(tier: str) -> str:
    """`<tier>-xxx...` stretched to GCP_PROJECT_MAX_LENGTH characters (one per tier)."""
    return f"{tier}-{'x' * GCP_PROJECT_MAX_LENGTH}"[:GCP_PROJECT_MAX_LENGTH]


@pytest.fixture(scope="module")
def longest_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("longest")
    environments = root / "environments"
    environments.mkdir()
    for tier in ENVIRONMENTS:
        data = yaml.safe_load((ROOT / "environments" / f"{tier}.yaml").read_text())
        data["app"] = LONGEST_APP
        data["gcp"]["project"] = longest_gcp_project(tier)  # the other clouds ignore it
        (environments / f"{longest_environment(tier)}.yaml").write_text(yaml.safe_dump(data))
    return synthesize_clouds(root / "out", extra_env={"GROUNDWORK_ENVIRONMENTS": str(environments)})


def test_the_names_are_the_longest_the_schema_admits() -> None:
    assert len(LONGEST_APP) == APP_MAX_LENGTH
    assert {len(longest_environment(tier)) for tier in ENVIRONMENTS} == {ENVIRONMENT_MAX_LENGTH}


def test_the_gcp_projects_are_the_longest_the_schema_admits() -> None:
    """30 characters and valid: one more is refused by the GcpConfig pattern."""
    field = GcpConfig.model_fields["project"]
    pattern = next(m.pattern for m in field.metadata if getattr(m, "pattern", None))
    for tier in ENVIRONMENTS:
        project = longest_gcp_project(tier)
        assert len(project) == GCP_PROJECT_MAX_LENGTH
        assert re.fullmatch(pattern, project)
        assert not re.fullmatch(pattern, project + "x")


@pytest.mark.parametrize("cloud", CLOUDS)
def test_every_name_fits_at_the_longest_names(longest_dir: Path, cloud: str) -> None:
    stacks = sorted((longest_dir / cloud / "stacks").glob("*/cdk.tf.json"))
    assert len(stacks) == len(ENVIRONMENTS) + 1  # and the bootstrap stack
    problems = [
        f"{path.parent.name}: {problem.address}: {problem.message}"
        for path in stacks
        for problem in name_problems(json.loads(path.read_text()))
    ]
    assert problems == []


def test_azure_every_name_fits_with_eight_services_at_the_longest_names() -> None:
    """APP-7 on Azure: every service beyond the default adds names with its own name
    (`ca-<service>-...`, `caj-role-<service>-...`, `id-<prefix>-app-<service>`); the schema's
    most services, each with the longest service name, fit every limit at the longest app and
    environment names."""
    from cdktf import Testing as CdktfTesting

    from stacks import stack_class
    from synth.app import MAX_SERVICES
    from synth.config import parse_environment

    data = yaml.safe_load(
        (ROOT / "tests" / "constructs" / "azure" / "environments" / "apps.yaml").read_text()
    )
    data["app"] = LONGEST_APP
    names = [f"service{n}" for n in range(1, MAX_SERVICES)] + ["frontend"]
    assert {len(name) for name in names} == {8}
    data["services"] = [
        {
            "name": name,
            "image": {"tag": "1.0.0"},
            "port": 8080,
            "secrets": ["DATABASE_URL"] if n % 2 else ["JWT_SECRET", "CACHE_URL"],
            "uses": ["database", "cache", "object_storage"],
            "route": {"path_prefix": "/" if name == "frontend" else f"/{name}"} if n < 6 else None,
            # Under its route: Azure's availability test reaches it there (OBS-4).
            "health": {"path": "/health" if name == "frontend" or n >= 6 else f"/{name}/health"},
        }
        for n, name in enumerate(names)
    ]
    data["services"][-1]["route"] = {"path_prefix": "/"}
    data["secrets"] = {
        "catalog": {
            "JWT_SECRET": {"kind": "generated"},
            "DATABASE_URL": {"kind": "derived", "source": "database_url"},
            "CACHE_URL": {"kind": "derived", "source": "cache_url"},
        }
    }
    config = parse_environment(longest_environment("dev"), data, source="longest", cloud="azure")
    assert len(config.services) == MAX_SERVICES
    stack = json.loads(CdktfTesting.synth(stack_class("azure")(CdktfTesting.app(), config)))
    apps = stack["resource"]["azurerm_container_app"]
    assert len(apps) == MAX_SERVICES
    assert [p.message for p in name_problems(stack)] == []


def test_gcp_services_fit_at_the_longest_names(tmp_path: Path) -> None:
    """APP-7 on GCP: additional services are named `<prefix>-<service>` (Cloud Run service,
    NEG, backend, service account, secrets, alerts), so three services with 8-character names
    (the schema's longest) at the longest app, environment and project names fit every limit."""
    fixture = ROOT / "tests" / "constructs" / "gcp" / "environments" / "described.yaml"
    data = yaml.safe_load(fixture.read_text())
    data["app"] = LONGEST_APP
    data["gcp"]["project"] = longest_gcp_project("dev")
    for service, name in zip(data["services"], ("frontend", "backends", "workerzz"), strict=True):
        service["name"] = name
    environments = tmp_path / "environments"
    environments.mkdir()
    (environments / f"{longest_environment('dev')}.yaml").write_text(yaml.safe_dump(data))
    out = tmp_path / "out"
    wait_all(
        {"gcp": start_synth("gcp", out, extra_env={"GROUNDWORK_ENVIRONMENTS": str(environments)})}
    )
    path = out / "stacks" / longest_environment("dev") / "cdk.tf.json"
    stack = json.loads(path.read_text())
    names = {b["name"] for b in stack["resource"]["google_cloud_run_v2_service"].values()}
    assert len(names) == 3
    assert [f"{p.address}: {p.message}" for p in name_problems(stack)] == []


def test_aws_every_name_fits_with_described_services_at_the_longest_names(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """APP-7 on AWS: additional services are named `<prefix>-<service>` (at most 8 characters),
    with routes, an internal worker and a host; every name still fits at the longest app and
    environment names."""
    from matrix import start_synth, wait_all

    described = Path(__file__).resolve().parents[1] / "constructs/aws/environments/described.yaml"
    root = tmp_path_factory.mktemp("longest-described")
    environments = root / "environments"
    environments.mkdir()
    data = yaml.safe_load(described.read_text())
    data["app"] = LONGEST_APP
    name = longest_environment("staging")
    domain = f"{name}.example.com"
    data["domain"] = domain
    # The longest service names, routed by path and by host.
    data["services"][0]["name"] = "webfront"
    data["services"][1]["name"] = "apiserve"
    data["services"][1]["route"] = {"host": f"api.{domain}", "path_prefix": "/api/v1"}
    data["services"][2]["name"] = "workerxx"
    data["services"][2]["uses"] = ["cache"]  # the cache's names too
    (environments / f"{name}.yaml").write_text(yaml.safe_dump(data))
    out = root / "out"
    extra = {"GROUNDWORK_ENVIRONMENTS": str(environments), "GROUNDWORK_STACKS": name}
    wait_all({"aws": start_synth("aws", out, extra_env=extra)})
    [path] = sorted((out / "stacks").glob(f"{name}/cdk.tf.json"))
    stack = json.loads(path.read_text())
    services = sorted(b["name"] for b in stack["resource"]["aws_ecs_service"].values())
    assert services == [f"{LONGEST_APP}-{name}-{s}" for s in ("apiserve", "webfront", "workerxx")]
    problems = [f"{p.address}: {p.message}" for p in name_problems(stack)]
    assert problems == []
