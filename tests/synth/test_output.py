"""Staged output: the output directory changes only when synthesis succeeds."""

from __future__ import annotations

from pathlib import Path

import pytest

from synth.output import staged_outdir


def test_success_replaces_the_previous_output(tmp_path: Path) -> None:
    target = tmp_path / "cdktf.out"
    (target / "stacks" / "old").mkdir(parents=True)
    with staged_outdir(target) as staging:
        (staging / "manifest.json").write_text("{}")
    assert sorted(p.name for p in target.iterdir()) == ["manifest.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cdktf.out"]


def test_failure_leaves_the_previous_output_and_no_debris(tmp_path: Path) -> None:
    target = tmp_path / "cdktf.out"
    target.mkdir()
    (target / "manifest.json").write_text("previous")
    with pytest.raises(RuntimeError), staged_outdir(target) as staging:
        (staging / "half-written.json").write_text("{")
        raise RuntimeError("synth failed")
    assert (target / "manifest.json").read_text() == "previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cdktf.out"]
