"""The fingerprint of a verified synthesis (synth/fingerprint.py): what changes it and what
must not. `make synth` names the reports folder and a bare `npx cdktf synth` takes the same
default, so both must reuse one verified output."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from matrix import ROOT

from synth import fingerprint as stamp
from synth.config import load_environment
from synth.fingerprint import fingerprint

DAY = dt.date(2026, 11, 30)
ENVIRONMENTS = ROOT / "environments"


def test_the_same_reports_folder_gives_the_same_fingerprint_however_it_is_named() -> None:
    named = fingerprint(ENVIRONMENTS, {"GROUNDWORK_REPORTS": "reports"}, DAY, Path("reports"))
    default = fingerprint(ENVIRONMENTS, {}, DAY, Path("reports"))
    assert named == default
    assert fingerprint(ENVIRONMENTS, {}, DAY, Path("elsewhere")) != default


def test_cloud_selection_and_the_date_change_it() -> None:
    base = fingerprint(ENVIRONMENTS, {}, DAY, Path("reports"))
    assert fingerprint(ENVIRONMENTS, {"CLOUD": "gcp"}, DAY, Path("reports")) != base
    assert fingerprint(ENVIRONMENTS, {"GROUNDWORK_STACKS": "dev"}, DAY, Path("reports")) != base
    assert fingerprint(ENVIRONMENTS, {}, DAY + dt.timedelta(days=1), Path("reports")) != base


def test_every_file_a_synthesis_runs_is_in_it() -> None:
    """What `synthesis_code` hashes for stack reuse (any file of constructs/, stacks/, synth/)
    also decides whether a whole run is up to date: a change to the lazy provider index
    (synth/lazy_provider_index.js) or a construct's script must not leave a verified output
    standing. Only documentation is left out."""
    synthesis = stamp.source_files([ROOT / folder for folder in stamp.SYNTHESIS_CODE])
    project = set(stamp.source_files([ROOT / folder for folder in stamp.CODE], stamp.SUFFIXES))
    missing = [p.relative_to(ROOT) for p in synthesis if p not in project and p.suffix != ".md"]
    assert missing == []
    assert ROOT / "synth" / "lazy_provider_index.js" in project


def test_an_environment_file_edit_changes_it(tmp_path: Path) -> None:
    for path in ENVIRONMENTS.glob("*.yaml"):
        (tmp_path / path.name).write_text(path.read_text())
    before = fingerprint(tmp_path, {}, DAY, Path("reports"))
    (tmp_path / "dev.yaml").write_text((tmp_path / "dev.yaml").read_text() + "# edit\n")
    assert fingerprint(tmp_path, {}, DAY, Path("reports")) != before


def test_a_stack_is_reusable_only_with_the_same_inputs_and_files(tmp_path: Path) -> None:
    """What main.py takes from the verified output instead of synthesizing it again."""
    out = tmp_path / "out"
    (out / "stacks" / "dev").mkdir(parents=True)
    (out / "stacks" / "dev" / "cdk.tf.json").write_text('{"resource": {}}')
    (out / "manifest.json").write_text('{"stacks": {"dev": {}}, "version": "0.21.0"}')
    config = load_environment(ENVIRONMENTS / "dev.yaml", cloud="azure")
    code = stamp.synthesis_code()
    inputs = stamp.stack_inputs(config, code, out, {})
    stamp.record(out, "run", {"dev": inputs}, {"dev": config})
    assert stamp.reusable(out, {"dev": inputs}) == {"dev"}
    # Terraform's working files do not count.
    (out / "stacks" / "dev" / ".terraform").mkdir()
    (out / "stacks" / "dev" / ".terraform" / "plugin").write_text("x")
    assert stamp.reusable(out, {"dev": inputs}) == {"dev"}
    # Another config, cloud, output folder, code or CDKTF_ setting: other inputs.
    other_config = load_environment(ENVIRONMENTS / "staging.yaml", cloud="azure")
    others = {
        stamp.stack_inputs(other_config, code, out, {}),
        stamp.stack_inputs(load_environment(ENVIRONMENTS / "dev.yaml", cloud="gcp"), code, out, {}),
        stamp.stack_inputs(config, code, tmp_path / "elsewhere" / "out", {}),
        stamp.stack_inputs(config, "other code", out, {}),
        stamp.stack_inputs(config, code, out, {"CDKTF_CONTEXT_JSON": "{}"}),
    }
    assert inputs not in others and len(others) == 5
    assert stamp.stack_inputs(config, code, out, {"GROUNDWORK_STACKS": "dev"}) == inputs
    for changed in others:
        assert stamp.reusable(out, {"dev": changed}) == set()
    # An edited file in the output, or a stack missing from its manifest: not reusable.
    (out / "stacks" / "dev" / "cdk.tf.json").write_text('{"resource": {"x": {}}}')
    assert stamp.reusable(out, {"dev": inputs}) == set()
    stamp.record(out, "run", {"dev": inputs}, {"dev": config})
    assert stamp.reusable(out, {"dev": inputs}) == {"dev"}
    (out / "manifest.json").write_text('{"stacks": {}, "version": "0.21.0"}')
    assert stamp.reusable(out, {"dev": inputs}) == set()


def test_a_stack_is_stale_once_its_environment_file_says_otherwise(tmp_path: Path) -> None:
    """What `synth verify` warns about: the stamp's config digest against the file's now. A
    comment does not count (the config as loaded); a changed value does."""
    out = tmp_path / "out"
    (out / "stacks" / "dev").mkdir(parents=True)
    (out / "stacks" / "dev" / "cdk.tf.json").write_text('{"resource": {}}')
    source = (ENVIRONMENTS / "dev.yaml").read_text()
    edited = tmp_path / "dev.yaml"
    edited.write_text(source)
    config = load_environment(edited, cloud="aws")
    assert stamp.stale_stacks(out, {"dev": config}) == []  # no stamp: nothing to compare
    stamp.record(out, "run", {"dev": "inputs"}, {"dev": config})
    edited.write_text(source + "# a comment\n")
    assert stamp.stale_stacks(out, {"dev": load_environment(edited, cloud="aws")}) == []
    edited.write_text(source.replace("cost_center: cc-1001", "cost_center: cc-1009"))
    assert stamp.stale_stacks(out, {"dev": load_environment(edited, cloud="aws")}) == ["dev"]
