"""The platform wiring of each Azure service is exactly Azure's row of PLATFORM_ENVIRONMENT
(synth/app.py): the variables set for what the service uses, nothing else (APP-7)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cdktf import Testing as CdktfTesting
from matrix import resources_of, shipped_stack

from stacks import stack_class
from synth.app import PLATFORM_ENVIRONMENT, secret_variables
from synth.config import EnvironmentConfig, load_environment

APPS = Path(__file__).resolve().parent / "environments" / "apps.yaml"


def synth(path: Path) -> tuple[EnvironmentConfig, dict[str, Any]]:
    config = load_environment(path, cloud="azure")
    return config, json.loads(CdktfTesting.synth(stack_class("azure")(CdktfTesting.app(), config)))


@pytest.fixture(scope="module", params=["dev", "apps"])
def synthesized(request: pytest.FixtureRequest) -> tuple[EnvironmentConfig, dict[str, Any]]:
    if request.param == "apps":
        return synth(APPS)
    shipped = shipped_stack("azure", request.param)
    return shipped.config, shipped.document()


def test_each_service_gets_exactly_its_rows_of_platform_environment(synthesized) -> None:
    config, stack = synthesized
    row = PLATFORM_ENVIRONMENT["azure"]
    apps = {
        a["tags"]["groundwork-service"]: a for a in resources_of(stack, "azurerm_container_app")
    }
    assert sorted(apps) == sorted(s.name for s in config.services)
    for service in config.services:
        uses = config.service_uses(service)
        wanted = {v for key, names in row.items() if key == "always" or key in uses for v in names}
        env = apps[service.name]["template"]["container"][0]["env"]
        secret_vars = {
            v
            for name in service.secrets
            for v in secret_variables(name, config.secrets.catalog[name])
        }
        plain = {e["name"] for e in env if "secret_name" not in e}
        assert plain - set(service.environment) == wanted, service.name
        assert {e["name"] for e in env if "secret_name" in e} == secret_vars, service.name


def test_the_three_services_cover_every_component_row() -> None:
    """apps.yaml exercises every row: web uses nothing, api everything, the worker the database."""
    config, stack = synth(APPS)
    used = {key for s in config.services for key in config.service_uses(s)}
    assert used == set(PLATFORM_ENVIRONMENT["azure"]) - {"always"}
    envs = {
        a["tags"]["groundwork-service"]: {
            e["name"]: e for e in a["template"]["container"][0]["env"]
        }
        for a in resources_of(stack, "azurerm_container_app")
    }
    # The values the wiring gives: each service signs in as its own identity (PGUSER is the
    # role the database-role job creates for it), the cache over TLS on 10000.
    assert envs["api"]["PGUSER"]["value"].startswith(
        "${azurerm_user_assigned_identity.service_api_identity_"
    )
    assert envs["worker"]["PGUSER"]["value"].startswith(
        "${azurerm_user_assigned_identity.service_worker_identity_"
    )
    assert envs["api"]["REDIS_PORT"]["value"] == "10000"
    assert "PGUSER" not in envs["web"] and "REDIS_HOST" not in envs["worker"]
