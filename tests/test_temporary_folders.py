"""Where the suite's temporary folders go (tests/conftest.py)."""

from __future__ import annotations

import os
from pathlib import Path

from cdktf import Testing as CdktfTesting
from conftest import RUN_TMP_PREFIX


def test_a_testing_apps_output_folder_is_made_in_the_runs_own_temporary_folder() -> None:
    """cdktf's Testing.app() never removes the output folder it makes in Node's temporary
    folder; under the suite that folder is the run's own, which is removed at exit, so /tmp
    does not collect one folder per test app."""
    outdir = Path(CdktfTesting.app().outdir)
    assert outdir.name.startswith("cdktf.outdir.")
    assert outdir.parent == Path(os.environ["TMPDIR"])
    assert outdir.parent.name.startswith(RUN_TMP_PREFIX)
