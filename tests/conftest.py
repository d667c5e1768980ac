"""Shared fixtures: the synthesized matrix (every cloud x every environment), built once.

`matrix_dir` runs the real app (`main.py`) once per cloud with `CLOUD=<cloud>`, in
parallel subprocesses, into a session temporary directory; tests read the JSON from there
and never synthesize at import time. Plain helpers live in tests/matrix.py.
"""

from __future__ import annotations

import atexit
import fcntl
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from matrix import CLOUDS, ENVIRONMENTS, resources_of, synthesize_clouds

from synth import checkov_server
from synth.clock import TODAY_ENV
from synth.providers import set_node_options, shallow_provider_imports

# No test depends on the real date: the gate (and main.py, which tests start as subprocesses
# that inherit this environment) judges waiver expiry against this pinned day.
PINNED_TODAY = "2026-11-01"
os.environ[TODAY_ENV] = PINNED_TODAY

# Every gate run in the suite scans afresh (synth/checkov_run.py's scan cache is off), so each
# test exercises Checkov itself, as it did before the cache existed; the cache's own tests
# (tests/synth/test_scan_cache.py) turn it on in a folder of their own.
os.environ["GROUNDWORK_CHECKOV_CACHE"] = "off"

# cdktf's Testing.app() gives every test app an output folder in Node's os.tmpdir() and never
# removes it (cdktf/lib/testing/index.js, `mkdtempSync(... "cdktf.outdir.")`): about 1,400
# folders left in /tmp by every run. What the run starts (jsii's Node included) takes its
# temporary folders from a folder of the run's own, made by the first process (pytest, or
# xdist's controller, which outlives its workers) and removed when it exits; that process
# keeps the temporary folder it had, so pytest's tmp_path folders stay where pytest keeps its
# last runs. A worker, or a second import of this file, finds the folder in TMPDIR.
# The folder's name carries the pid of the process that made it: a run that was killed never
# reached its atexit, so the next run removes every such folder whose process is gone.
RUN_TMP_PREFIX = "groundwork-tests-"


def run_folder_pid(name: str) -> int | None:
    """The pid in a run folder's name `groundwork-tests-<pid>-<random>`, None without one."""
    pid = name.removeprefix(RUN_TMP_PREFIX).split("-", 1)[0]
    return int(pid) if pid.isdigit() else None


def remove_abandoned_run_folders(parent: Path) -> list[Path]:
    """Remove the `groundwork-tests-<pid>-*` folders in `parent` whose process no longer
    exists (a killed run's); returns them. A folder of a live process, or one whose name
    carries no pid, is left alone."""
    removed = []
    for folder in parent.glob(f"{RUN_TMP_PREFIX}*"):
        pid = run_folder_pid(folder.name)
        if pid is None:
            continue
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
        except PermissionError:  # another user's live process
            continue
    return removed


if not Path(os.environ.get("TMPDIR", "/")).name.startswith(RUN_TMP_PREFIX):
    # gettempdir() also fixes this process's own temporary folder before TMPDIR changes.
    remove_abandoned_run_folders(Path(tempfile.gettempdir()))
    os.environ["TMPDIR"] = tempfile.mkdtemp(prefix=f"{RUN_TMP_PREFIX}{os.getpid()}-")
    atexit.register(shutil.rmtree, os.environ["TMPDIR"], ignore_errors=True)

# The jsii Node processes the tests start themselves (constructs built in-process) get the
# app's Node options, as main.py gives its own: no DEP0044 line in the test log, and the
# provider's JavaScript loaded lazily (synth/providers.py).
set_node_options()

# A test module may import a construct (and so its provider's bindings) before any stack class
# loads the provider: the import still loads the provider package shallowly (synth/providers.py).
shallow_provider_imports()


def built_once(
    tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], object]
) -> Path:
    """A folder `build` fills once per test run. Under pytest-xdist (`make test` runs two
    worker processes, each with its own session fixtures) the first worker to ask builds it
    where every worker finds it, `<run's temporary root>/shared/<name>` (the depth of a
    worker's own `mktemp` folders), while the others wait on a lock; then all read it."""
    if "PYTEST_XDIST_WORKER" not in os.environ:
        folder = tmp_path_factory.mktemp(name)
        build(folder)
        return folder
    shared = tmp_path_factory.getbasetemp().parent / "shared"
    shared.mkdir(exist_ok=True)
    folder, done = shared / name, shared / f"{name}.done"
    with (shared / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)  # a failed attempt's leftovers
            folder.mkdir()
            build(folder)
            done.touch()
    return folder


@pytest.fixture(scope="session", autouse=True)
def checkov_fork_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """One Checkov fork server per test process (synth/checkov_server.py; issue 13): the
    suite's ~40 gate runs each skip Checkov's import, about 2 s of CPU. A run through it
    reports what a direct run reports (tests/synth/test_checkov_server.py); the tests of what
    the gate does with the caller's environment run Checkov directly."""
    folder = tmp_path_factory.mktemp("checkov-server")
    server = checkov_server.start(folder)
    os.environ[checkov_server.SERVER_ENV] = str(folder / "checkov.sock")
    yield
    os.environ.pop(checkov_server.SERVER_ENV, None)
    server.terminate()
    server.wait()


@pytest.fixture(scope="session")
def matrix_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`<dir>/<cloud>/stacks/<env>/cdk.tf.json` for every cloud and environment."""
    return built_once(tmp_path_factory, "matrix", synthesize_clouds)


@pytest.fixture(scope="session")
def matrix(matrix_dir: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """The parsed Terraform JSON of every (cloud, environment) stack."""
    return {
        (cloud, env): json.loads((matrix_dir / cloud / "stacks" / env / "cdk.tf.json").read_text())
        for cloud in CLOUDS
        for env in ENVIRONMENTS
    }


@pytest.fixture(scope="session")
def resources() -> Callable[[Mapping[str, Any], str], list[dict[str, Any]]]:
    return resources_of
