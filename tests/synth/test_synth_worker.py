"""The suite's synthesis workers (tests/matrix.py) write what a fresh process writes.

One process per cloud runs main.py's app for every synthesis of the session (issue 13: most
of a synthesis' cost is starting jsii and loading the provider assembly). A worker's output
must not depend on what it synthesized before: after other jobs of other environment folders,
the shipped environments come out byte-identical to the matrix (which test_providers.py
compares with plain imports in fresh processes).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from matrix import APP, CLOUDS, ROOT, start_synth, wait_all


def files(folder: Path) -> dict[Path, bytes]:
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def later_jobs(matrix_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Per cloud, after the matrix: its described-app folder, then environments/ again, at
    the matrix's depth below the temporary root (the local state's path is relative)."""
    root = tmp_path_factory.mktemp("worker")
    described = {
        cloud: start_synth(
            cloud,
            root / "described" / cloud,
            extra_env={
                "GROUNDWORK_ENVIRONMENTS": str(
                    ROOT / "tests" / "constructs" / cloud / "environments"
                )
            },
        )
        for cloud in CLOUDS
    }
    again = {cloud: start_synth(cloud, root / cloud) for cloud in CLOUDS}
    wait_all({f"{cloud} described": job for cloud, job in described.items()})
    wait_all(again)
    return root


@pytest.mark.parametrize("cloud", CLOUDS)
def test_a_workers_later_job_writes_the_same_files(
    matrix_dir: Path, later_jobs: Path, cloud: str
) -> None:
    assert len(later_jobs.parts) == len(matrix_dir.parts)
    first, later = files(matrix_dir / cloud), files(later_jobs / cloud)
    assert sorted(later) == sorted(first)
    assert [name for name in first if first[name] != later[name]] == []
    assert any((later_jobs / "described" / cloud / "stacks").iterdir())


def test_only_the_app_with_per_run_settings_goes_to_a_worker(tmp_path: Path) -> None:
    """A setting read once per process (the provider loader's) or other code gets a fresh
    process; a worker answers with the app's exit status and output like a process."""
    missing = {"GROUNDWORK_ENVIRONMENTS": str(tmp_path / "missing")}
    plain = {**missing, "GROUNDWORK_PROVIDER_IMPORT": "plain"}
    jobs = {
        "worker": start_synth("aws", tmp_path / "a", extra_env=missing),
        "plain import": start_synth("aws", tmp_path / "b", extra_env=plain),
        "other code": start_synth("aws", tmp_path / "c", extra_env=missing, code=APP + "  # "),
    }
    assert {name: type(job).__name__ for name, job in jobs.items()} == {
        "worker": "SynthJob",
        "plain import": "Popen",
        "other code": "Popen",
    }
    for job in jobs.values():
        output, _ = job.communicate(timeout=300)
        assert job.returncode == 2 and "missing" in output, output
