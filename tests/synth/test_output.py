"""Staged output: the output directory changes only when synthesis succeeds."""

from __future__ import annotations

from pathlib import Path

import pytest

from synth.output import staged_outdir


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


def test_a_stack_no_longer_written_is_left_as_an_empty_folder(tmp_path: Path) -> None:
    """cdktf's CLI deletes the folders of stacks the app stopped writing, and fails if one
    is already gone (switching CLOUD renames the bootstrap stack)."""
    target = tmp_path / "cdktf.out"
    (target / "stacks" / "bootstrap-aws").mkdir(parents=True)
    (target / "stacks" / "bootstrap-aws" / "cdk.tf.json").write_text("aws")
    with staged_outdir(target) as staging:
        (staging / "stacks" / "bootstrap-gcp").mkdir(parents=True)
        (staging / "stacks" / "bootstrap-gcp" / "cdk.tf.json").write_text("gcp")
    assert list((target / "stacks" / "bootstrap-aws").iterdir()) == []
    assert (target / "stacks" / "bootstrap-gcp" / "cdk.tf.json").read_text() == "gcp"


def test_failure_leaves_the_previous_output_and_no_debris(tmp_path: Path) -> None:
    target = tmp_path / "cdktf.out"
    target.mkdir()
    (target / "manifest.json").write_text("previous")
    with pytest.raises(RuntimeError), staged_outdir(target) as staging:
        (staging / "half-written.json").write_text("{")
        raise RuntimeError("synth failed")
    assert (target / "manifest.json").read_text() == "previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cdktf.out"]
