"""The platform wiring variables the AWS constructs set are exactly AWS's row of
PLATFORM_ENVIRONMENT in synth/app.py, component by component (APP-7): a service gets the
`always` names plus those of each component it uses, and nothing of one it does not use."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from cdktf import Testing as CdktfTesting

from stacks.aws import AwsStack
from synth.app import COMPONENTS, PLATFORM_ENVIRONMENT
from synth.aws_app import WIRING, wiring_variables
from synth.config import load_environment

DESCRIBED = Path(__file__).resolve().parent / "environments" / "described.yaml"
PREFIX = "groundwork-described"


@pytest.fixture(scope="module")
def environments(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, str]]:
    """Service name -> its container's environment, with a service using each component
    alone, one using all of them, and one using none."""
    data = yaml.safe_load(DESCRIBED.read_text())
    base = data["services"][2]  # the worker: internal, no secrets of its own below
    services = [data["services"][0]]  # web, at /, uses nothing
    for name, uses in (("db", ["database"]), ("cache", ["cache"]), ("store", ["object_storage"]),
                       ("all", list(COMPONENTS))):  # fmt: skip
        services.append({**base, "name": name, "uses": uses, "secrets": [], "environment": {}})
    services[0] = {**services[0], "environment": {}}
    data["services"] = services
    data["secrets"]["catalog"] = {"SESSION_SECRET": {"kind": "generated"}}
    path = tmp_path_factory.mktemp("wiring") / "described.yaml"
    path.write_text(yaml.safe_dump(data))
    stack = json.loads(CdktfTesting.synth(AwsStack(CdktfTesting.app(), load_environment(path))))
    found = {}
    for body in stack["resource"]["aws_ecs_task_definition"].values():
        # The app's container; the liveness sidecar (LIVENESS_CONTAINER) gets no wiring.
        [container] = [
            c for c in json.loads(body["container_definitions"]) if c["name"] != "liveness-probe"
        ]
        found[container["name"]] = {e["name"]: e["value"] for e in container["environment"]}
    return found


def test_the_aws_table_is_synth_app_s_row() -> None:
    assert WIRING is PLATFORM_ENVIRONMENT["aws"]
    assert set(WIRING) == {"always", *COMPONENTS}


@pytest.mark.parametrize(
    ("service", "uses"),
    [
        ("web", ()),
        ("db", ("database",)),
        ("cache", ("cache",)),
        ("store", ("object_storage",)),
        ("all", COMPONENTS),
    ],
)
def test_a_service_gets_exactly_the_rows_of_what_it_uses(
    environments: dict[str, dict[str, str]], service: str, uses: tuple[str, ...]
) -> None:
    expected = set(PLATFORM_ENVIRONMENT["aws"]["always"])
    for component in uses:
        expected |= set(PLATFORM_ENVIRONMENT["aws"][component])
    assert set(environments[service]) == expected
    assert set(wiring_variables(frozenset(uses))) == expected


def test_the_wiring_values_point_at_the_stack_s_components(
    environments: dict[str, dict[str, str]],
) -> None:
    everything: dict[str, Any] = environments["all"]
    assert everything["DATABASE_HOST"].startswith("${aws_db_proxy.")
    assert everything["DATABASE_USER"] == "groundwork_app"
    assert everything["REDIS_HOST"].startswith("${aws_elasticache_replication_group.")
    assert everything["REDIS_CACHE_NAME"].endswith(".replication_group_id}")
    assert everything["REDIS_USERNAME"] == f"{PREFIX}-app"
    assert everything["BUCKET_NAME"].startswith("${aws_s3_bucket.")
    assert everything["PORT"] == "9090"
