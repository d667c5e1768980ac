"""Where the suite's temporary folders go (tests/conftest.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from cdktf import Testing as CdktfTesting
from conftest import RUN_TMP_PREFIX, remove_abandoned_run_folders, run_folder_pid


def test_a_testing_apps_output_folder_is_made_in_the_runs_own_temporary_folder() -> None:
    """cdktf's Testing.app() never removes the output folder it makes in Node's temporary
    folder; under the suite that folder is the run's own, which is removed at exit, so /tmp
    does not collect one folder per test app."""
    outdir = Path(CdktfTesting.app().outdir)
    assert outdir.name.startswith("cdktf.outdir.")
    assert outdir.parent == Path(os.environ["TMPDIR"])
    assert outdir.parent.name.startswith(RUN_TMP_PREFIX)


def test_the_run_folder_names_the_process_that_made_it() -> None:
    """pytest's own process, or xdist's controller, which is a worker's parent."""
    assert run_folder_pid(Path(os.environ["TMPDIR"]).name) in {os.getpid(), os.getppid()}


def test_a_killed_runs_folder_is_removed_by_the_next_run(tmp_path: Path) -> None:
    """A run that was killed never removed its folder; the next removes each one whose
    process is gone, and keeps a live run's and any folder without a pid in its name."""
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)  # fmt: skip
    dead = tmp_path / f"{RUN_TMP_PREFIX}{ended.stdout.strip()}-abc123"
    live = tmp_path / f"{RUN_TMP_PREFIX}{os.getpid()}-def456"
    unnamed = tmp_path / f"{RUN_TMP_PREFIX}ghi789"
    for folder in (dead, live, unnamed):
        (folder / "cdktf.outdir.x").mkdir(parents=True)
    assert remove_abandoned_run_folders(tmp_path) == [dead]
    assert not dead.exists() and live.is_dir() and unnamed.is_dir()
