"""The platform wiring GCP's constructs give a service is exactly GCP's row of
PLATFORM_ENVIRONMENT (synth/app.py), component by component: a service that uses one
component gets that component's variables and nothing else's."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from cdktf import Testing as CdktfTesting

from stacks.gcp import GcpStack
from synth.app import COMPONENTS, PLATFORM_ENVIRONMENT
from synth.config import EnvironmentConfig, parse_environment

ROOT = Path(__file__).resolve().parents[3]
ROW = PLATFORM_ENVIRONMENT["gcp"]


def config_using(uses: list[str]) -> EnvironmentConfig:
    """dev on GCP with one service that uses `uses` and reads no secret."""
    data: dict[str, Any] = copy.deepcopy(
        yaml.safe_load((ROOT / "environments" / "dev.yaml").read_text())
    )
    data["cloud"] = "gcp"
    data["services"] = [{"name": "web", "port": 3000, "uses": uses, "route": {"path_prefix": "/"}}]
    data["secrets"] = {"catalog": {}}
    return parse_environment("dev", data, source="dev.yaml")


def variables(uses: list[str]) -> tuple[set[str], int]:
    """(every env name of the service's app container, its container port)."""
    stack = json.loads(CdktfTesting.synth(GcpStack(CdktfTesting.app(), config_using(uses))))
    (service,) = stack["resource"]["google_cloud_run_v2_service"].values()
    container = next(c for c in service["template"]["containers"] if c.get("ports"))
    return {e["name"] for e in container.get("env", [])}, container["ports"]["container_port"]


def test_the_row_names_every_component() -> None:
    assert set(ROW) == {"always", *COMPONENTS}


def test_always_is_port_which_cloud_run_sets_from_the_container_port() -> None:
    """Cloud Run sets PORT to the container port and refuses it in env
    (https://cloud.google.com/run/docs/container-contract#env-vars)."""
    assert ROW["always"] == ("PORT",)
    names, port = variables([])
    assert names == set()  # nothing used, nothing wired
    assert port == 3000


@pytest.mark.parametrize("component", COMPONENTS)
def test_a_component_wires_exactly_its_row(component: str) -> None:
    names, _ = variables([component])
    assert names == set(ROW[component])
