"""The fingerprint of a verified synthesis (synth/fingerprint.py): what changes it and what
must not. `make synth` names the reports folder and a bare `npx cdktf synth` takes the same
default, so both must reuse one verified output."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from matrix import ROOT

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


def test_an_environment_file_edit_changes_it(tmp_path: Path) -> None:
    for path in ENVIRONMENTS.glob("*.yaml"):
        (tmp_path / path.name).write_text(path.read_text())
    before = fingerprint(tmp_path, {}, DAY, Path("reports"))
    (tmp_path / "dev.yaml").write_text((tmp_path / "dev.yaml").read_text() + "# edit\n")
    assert fingerprint(tmp_path, {}, DAY, Path("reports")) != before
