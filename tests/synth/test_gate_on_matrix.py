"""The verify gate passes on every synthesized stack of every cloud (the clean matrix): the
environments and each cloud's bootstrap stack, with every applicable requirement checked."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from matrix import CLOUDS, ENVIRONMENTS, ROOT, bootstrap_stack


@pytest.mark.parametrize("cloud", CLOUDS)
def test_gate_passes_and_evaluates_every_resource(
    matrix_dir: Path, tmp_path: Path, cloud: str
) -> None:
    report_path = tmp_path / "verify.json"
    command = [
        sys.executable,
        "-m",
        "synth",
        "verify",
        str(matrix_dir / cloud),
        "--require-coverage",
    ]
    result = subprocess.run(
        [*command, "--json", str(report_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.rstrip().endswith("verify: PASS")
    report = json.loads(report_path.read_text())
    stacks = {stack["stack"]: stack for stack in report["stacks"]}
    assert sorted(stacks) == sorted([*ENVIRONMENTS, bootstrap_stack(cloud)])
    for name, stack in stacks.items():
        assert stack["evaluated"] == stack["resources"], name
    unchecked = [r for r in report["requirements"] if r["status"] == "unchecked"]
    assert unchecked == []
