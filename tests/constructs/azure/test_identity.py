"""Identity: AUTH-1 (Entra External ID) cannot be expressed with azurerm, so it fails loudly."""

from __future__ import annotations

from pathlib import Path

import pytest
from cdktf import Testing as CdktfTesting
from constructs.azure.identity import NotExpressible
from matrix import shipped_stack

from stacks import stack_class
from synth.config import FeaturesConfig, load_environment

ROOT = Path(__file__).resolve().parents[3]


def test_auth_1_enabled_refuses_to_synthesize_a_stack_without_it() -> None:
    config = load_environment(ROOT / "environments" / "dev.yaml", cloud="azure")
    config = config.model_copy(update={"features": FeaturesConfig(auth_enabled=True)})
    with pytest.raises(NotExpressible, match="AUTH-1"):
        stack_class("azure")(CdktfTesting.app(), config)


def test_auth_1_off_builds_no_identity_resources() -> None:
    shipped = shipped_stack("azure", "dev")
    assert shipped.config.features.auth_enabled is False
    synthesized = shipped.text
    assert "aadb2c" not in synthesized
