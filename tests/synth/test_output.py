"""Staged output: the output directory changes only when synthesis succeeds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from synth.output import (
    cdktf_cli_runs,
    reuse_stacks,
    stable_stringify,
    staged_outdir,
    write_manifest,
)


def test_success_replaces_the_previous_output(tmp_path: Path) -> None:
    target = tmp_path / "cdktf.out"
    (target / "stacks" / "dev").mkdir(parents=True)
    (target / "stacks" / "dev" / "cdk.tf.json").write_text("old")
    (target / "manifest.json").write_text("old")
    with staged_outdir(target) as staging:
        (staging / "stacks" / "dev").mkdir(parents=True)
        (staging / "stacks" / "dev" / "cdk.tf.json").write_text("new")
        (staging / "manifest.json").write_text("new")
    assert (target / "stacks" / "dev" / "cdk.tf.json").read_text() == "new"
    assert (target / "manifest.json").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cdktf.out"]


def test_terraform_working_files_survive_a_resynth(tmp_path: Path) -> None:
    """`.terraform/` and the lock file stay with their stack, as with cdktf's own output."""
    target = tmp_path / "cdktf.out"
    old = target / "stacks" / "production"
    (old / ".terraform" / "providers").mkdir(parents=True)
    (old / ".terraform.lock.hcl").write_text("lock")
    (old / "cdk.tf.json").write_text("old")
    with staged_outdir(target) as staging:
        (staging / "stacks" / "production").mkdir(parents=True)
        (staging / "stacks" / "production" / "cdk.tf.json").write_text("new")
    stack = target / "stacks" / "production"
    assert (stack / ".terraform" / "providers").is_dir()
    assert (stack / ".terraform.lock.hcl").read_text() == "lock"
    assert (stack / "cdk.tf.json").read_text() == "new"


@pytest.mark.parametrize("cli", [True, False])
def test_a_stack_no_longer_written_is_an_empty_folder_only_under_the_cli(
    tmp_path: Path, cli: bool
) -> None:
    """cdktf's CLI deletes the folders of stacks the app stopped writing, and fails if one
    is already gone (switching CLOUD renames the bootstrap stack); without it (`make synth`)
    nothing would remove an empty folder, so none is left."""
    target = tmp_path / "cdktf.out"
    (target / "stacks" / "bootstrap-aws").mkdir(parents=True)
    (target / "stacks" / "bootstrap-aws" / "cdk.tf.json").write_text("aws")
    with staged_outdir(target, cli=cli) as staging:
        (staging / "stacks" / "bootstrap-gcp").mkdir(parents=True)
        (staging / "stacks" / "bootstrap-gcp" / "cdk.tf.json").write_text("gcp")
    left = sorted(path.name for path in (target / "stacks").iterdir())
    assert left == (["bootstrap-aws", "bootstrap-gcp"] if cli else ["bootstrap-gcp"])
    if cli:
        assert list((target / "stacks" / "bootstrap-aws").iterdir()) == []
    assert (target / "stacks" / "bootstrap-gcp" / "cdk.tf.json").read_text() == "gcp"


def test_the_cli_is_recognized_by_the_context_it_hands_the_app() -> None:
    assert cdktf_cli_runs({"CDKTF_CONTEXT_JSON": "{}", "CDKTF_OUTDIR": "out"})
    assert not cdktf_cli_runs({"CDKTF_OUTDIR": "out"})  # make synth sets only the folder


def test_failure_leaves_the_previous_output_and_no_debris(tmp_path: Path) -> None:
    target = tmp_path / "cdktf.out"
    target.mkdir()
    (target / "manifest.json").write_text("previous")
    with pytest.raises(RuntimeError), staged_outdir(target) as staging:
        (staging / "half-written.json").write_text("{")
        raise RuntimeError("synth failed")
    assert (target / "manifest.json").read_text() == "previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cdktf.out"]


def test_manifests_are_written_as_cdktf_writes_them(matrix_dir: Path) -> None:
    """cdktf's own manifests (json-stable-stringify), read and written again, byte for byte."""
    manifests = sorted(matrix_dir.glob("*/manifest.json"))
    assert len(manifests) == 3
    for manifest in manifests:
        text = manifest.read_text(encoding="utf-8")
        assert stable_stringify(json.loads(text)) == text
    assert stable_stringify({"b": [], "a": {}, "c": ["x", 1, None]}) == (
        '{\n  "a": {\n  },\n  "b": [\n  ],\n  "c": [\n    "x",\n    1,\n    null\n  ]\n}'
    )


def test_reused_stacks_join_the_manifest_without_terraform_working_files(
    tmp_path: Path, matrix_dir: Path
) -> None:
    previous = tmp_path / "previous"
    previous.mkdir()
    for name in ("manifest.json", "stacks/dev/cdk.tf.json", "stacks/staging/cdk.tf.json"):
        (previous / name).parent.mkdir(parents=True, exist_ok=True)
        (previous / name).write_bytes((matrix_dir / "azure" / name).read_bytes())
    (previous / "stacks" / "dev" / ".terraform" / "providers").mkdir(parents=True)
    staged = tmp_path / "staged"
    (staged / "stacks" / "staging").mkdir(parents=True)
    only_staging = json.loads((previous / "manifest.json").read_text())
    only_staging["stacks"] = {"staging": only_staging["stacks"]["staging"]}
    (staged / "manifest.json").write_text(stable_stringify(only_staging))
    reuse_stacks(previous, staged, ["dev"])
    write_manifest(previous, staged, ["dev"])
    manifest = json.loads((staged / "manifest.json").read_text())
    assert sorted(manifest["stacks"]) == ["dev", "staging"]
    assert (
        manifest["stacks"]["dev"]
        == json.loads((previous / "manifest.json").read_text())["stacks"]["dev"]
    )
    assert (staged / "stacks" / "dev" / "cdk.tf.json").read_bytes() == (
        previous / "stacks" / "dev" / "cdk.tf.json"
    ).read_bytes()
    assert not (staged / "stacks" / "dev" / ".terraform").exists()
    # Nothing synthesized now: the previous manifest of only the reused stacks.
    alone = tmp_path / "alone"
    alone.mkdir()
    write_manifest(previous, alone, ["staging"])
    written = json.loads((alone / "manifest.json").read_text())
    assert sorted(written["stacks"]) == ["staging"]
    assert written["version"] == only_staging["version"]
