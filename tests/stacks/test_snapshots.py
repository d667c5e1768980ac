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
from matrix import CLOUDS, ENVIRONMENTS, ROOT, bootstrap_stack
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from synth.config import DEFAULT_ROOT_FROM_STACK, root_from_stack


def normalized(stack: Any, replacements: dict[str, str]) -> Any:
    """The stack with machine- and run-specific strings replaced by placeholders."""
    text = json.dumps(stack, sort_keys=True)
    for value, placeholder in replacements.items():
        text = text.replace(json.dumps(value)[1:-1], placeholder)
    return json.loads(text)


def replacements(outdir: Path) -> dict[str, str]:
    """Placeholders for what depends on the machine or the output folder. The local state
    path is relative to the stack's folder: shown as it is from the default cdktf.out."""
    return {
        f"{root_from_stack(outdir)}/": f"{DEFAULT_ROOT_FROM_STACK}/",
        str(outdir.parent): "<outdir>",
        str(ROOT): "<project>",
        str(Path.home()): "<home>",
    }


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
    assert normalized(matrix[cloud, env], replacements(matrix_dir / cloud)) == snapshot_json


@pytest.mark.parametrize("cloud", CLOUDS)
def test_bootstrap_stack_snapshot(
    matrix_dir: Path, snapshot_json: SnapshotAssertion, cloud: str
) -> None:
    """STATE-2: each cloud's bootstrap stack (the state storage)."""
    name = bootstrap_stack(cloud)
    stack = json.loads((matrix_dir / cloud / "stacks" / name / "cdk.tf.json").read_text())
    assert normalized(stack, replacements(matrix_dir / cloud)) == snapshot_json


def test_normalization_removes_machine_paths() -> None:
    stack = {"terraform": {"backend": {"local": {"path": "/home/me/project/terraform.tfstate"}}}}
    assert normalized(stack, {"/home/me/project": "<project>"}) == {
        "terraform": {"backend": {"local": {"path": "<project>/terraform.tfstate"}}}
    }
