"""Snapshot of every synthesized stack (environments and bootstrap stacks), so every change
to the Terraform shows in review.

Update after an intended change with `make test PYTEST_ARGS=--snapshot-update` and review
the diff of tests/stacks/__snapshots__/.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from matrix import CLOUDS, ENVIRONMENTS, bootstrap_stack, normalized, normalized_stack
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension


@pytest.fixture
def snapshot_json(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(JSONSnapshotExtension)


@pytest.mark.parametrize("cloud", CLOUDS)
@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_stack_snapshot(
    matrix: dict[tuple[str, str], Any],
    matrix_dir: Path,
    snapshot_json: SnapshotAssertion,
    cloud: str,
    env: str,
) -> None:
    assert normalized_stack(matrix[cloud, env], matrix_dir / cloud) == snapshot_json


@pytest.mark.parametrize("cloud", CLOUDS)
def test_bootstrap_stack_snapshot(
    matrix_dir: Path, snapshot_json: SnapshotAssertion, cloud: str
) -> None:
    """STATE-2: each cloud's bootstrap stack (the state storage)."""
    name = bootstrap_stack(cloud)
    stack = json.loads((matrix_dir / cloud / "stacks" / name / "cdk.tf.json").read_text())
    assert normalized_stack(stack, matrix_dir / cloud) == snapshot_json


def test_normalization_removes_machine_paths() -> None:
    stack = {"terraform": {"backend": {"local": {"path": "/home/me/project/terraform.tfstate"}}}}
    assert normalized(stack, {"/home/me/project": "<project>"}) == {
        "terraform": {"backend": {"local": {"path": "<project>/terraform.tfstate"}}}
    }
