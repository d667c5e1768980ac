"""The app entry point: one stack per environment file and a bootstrap stack per cloud;
bad input writes nothing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from matrix import ENVIRONMENTS, ROOT, bootstrap_stack


def run_main(tmp_path: Path, environments: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "main.py"],
        cwd=ROOT,
        env={
            **os.environ,
            "GROUNDWORK_ENVIRONMENTS": str(environments),
            "CDKTF_OUTDIR": str(tmp_path / "out"),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def copy_environments(tmp_path: Path) -> Path:
    target = tmp_path / "environments"
    shutil.copytree(ROOT / "environments", target)
    return target


def test_manifest_has_one_stack_per_environment_named_after_its_file(matrix_dir: Path) -> None:
    for cloud in ("aws", "gcp", "azure"):
        manifest = json.loads((matrix_dir / cloud / "manifest.json").read_text())
        stacks = [*ENVIRONMENTS, bootstrap_stack(cloud)]  # STATE-2: one bootstrap per cloud
        assert sorted(manifest["stacks"]) == sorted(stacks)
        for name in stacks:
            assert manifest["stacks"][name]["synthesizedStackPath"] == f"stacks/{name}/cdk.tf.json"


def test_bad_config_exits_2_with_file_and_field_and_writes_nothing(tmp_path: Path) -> None:
    environments = copy_environments(tmp_path)
    production = yaml.safe_load((environments / "production.yaml").read_text())
    production["service"]["min_replicas"] = 1
    (environments / "production.yaml").write_text(yaml.safe_dump(production))
    previous = tmp_path / "out" / "manifest.json"
    previous.parent.mkdir()
    previous.write_text("previous output")

    result = run_main(tmp_path, environments)

    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == (
        f"{environments / 'production.yaml'}: service.min_replicas: 1 is below the production "
        "floor of 2 (APP-1); fix it, or add a waiver: {requirement: APP-1, reason: ...}. "
        "APP-1: Replica bounds and autoscale triggers per environment. (guide 000)"
    )
    assert previous.read_text() == "previous output"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["environments", "out"]


def test_missing_environments_directory_exits_2(tmp_path: Path) -> None:
    result = run_main(tmp_path, tmp_path / "nowhere")
    assert result.returncode == 2
    assert result.stderr.strip() == f"{tmp_path / 'nowhere'}: environments directory not found"
    assert not (tmp_path / "out").exists()


def test_unknown_cloud_override_exits_2(tmp_path: Path) -> None:
    result = run_main(tmp_path, ROOT / "environments", CLOUD="oracle")
    assert result.returncode == 2
    assert result.stderr.strip() == "CLOUD=oracle: expected one of aws, gcp, azure"


def test_cdktf_cli_lists_every_environment_and_the_bootstrap_through_cdktf_json(
    tmp_path: Path,
) -> None:
    """`cdktf list` runs the app the way cdktf.json says (pipenv run python main.py)."""
    result = subprocess.run(
        ["npx", "--no-install", "cdktf", "list", "--output", str(tmp_path / "out")],
        cwd=ROOT,
        env={**os.environ, "CI": "true", "CLOUD": "gcp"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    rows = [line.split() for line in result.stdout.splitlines() if line.strip()]
    header = next(i for i, row in enumerate(rows) if row[:2] == ["Stack", "name"])
    stacks = [*ENVIRONMENTS, bootstrap_stack("gcp")]
    assert sorted(row[0] for row in rows[header + 1 :] if row[0] in stacks) == sorted(stacks)
    stack = json.loads((tmp_path / "out" / "stacks" / "production" / "cdk.tf.json").read_text())
    assert "google" in stack["provider"]


def test_cdktf_synth_can_switch_cloud_over_an_existing_output(tmp_path: Path) -> None:
    """Switching CLOUD renames the bootstrap stack; cdktf's CLI then removes the old one."""
    out = tmp_path / "out"
    first = run_main(tmp_path, ROOT / "environments", CLOUD="aws")
    assert first.returncode == 0, first.stderr
    assert (out / "stacks" / "bootstrap-aws" / "cdk.tf.json").exists()
    result = subprocess.run(
        ["npx", "--no-install", "cdktf", "synth", "--output", str(out)],
        cwd=ROOT,
        env={**os.environ, "CI": "true", "CLOUD": "gcp"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(p.name for p in (out / "stacks").iterdir()) == sorted(
        [*ENVIRONMENTS, "bootstrap-gcp"]
    )
