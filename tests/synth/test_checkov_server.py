"""Tests the Checkov fork server (synth/checkov_server.py): a run through it gives the gate
exactly what a direct run gives, crashed checks and parse errors included."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from matrix import ROOT

from synth import checkov_server, verify

FIXTURES = ROOT / "tests" / "synth" / "fixtures" / "verify"
CHECKS = ROOT / "policies" / "checks"


@pytest.mark.parametrize("fixture", ["crashing", "parse_error", "failing"])
def test_a_run_through_the_server_gives_the_records_of_a_direct_run(
    fixture: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The session's server (tests/conftest.py) against Checkov started directly."""
    socket = os.environ[checkov_server.SERVER_ENV]
    assert Path(socket).is_socket()
    stacks = verify.discover_stacks(FIXTURES / fixture)
    dirs = [] if fixture == "crashing" else [CHECKS]  # as the gate's own tests scan them
    through_server = verify.run_checkov(stacks, dirs)
    monkeypatch.setenv(checkov_server.SERVER_ENV, "")
    direct = verify.run_checkov(stacks, dirs)
    assert through_server.records == direct.records
    assert through_server.unparsed == direct.unparsed
    assert direct.records or direct.unparsed  # each fixture gives the gate something to judge


def test_a_crashed_check_reaches_the_gate_through_the_server() -> None:
    """The child writes to the caller's own stderr, where the gate reads crash lines."""
    assert os.environ[checkov_server.SERVER_ENV]
    scan = verify.run_checkov(verify.discover_stacks(FIXTURES / "crashing"))
    assert any(record.result == "CRASHED" for record in scan.records)


def test_an_unreachable_server_fails_the_run_with_its_path(tmp_path: Path) -> None:
    missing = tmp_path / "none.sock"
    assert checkov_server.run(str(missing), ["--version"]) == 1


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_the_server_ends_when_the_process_that_started_it_is_gone(tmp_path: Path) -> None:
    """A test run that was killed must not leave a server (and its memory) behind."""
    starter = (
        "import sys; from pathlib import Path; from synth import checkov_server; "
        "print(checkov_server.start(Path(sys.argv[1])).pid, flush=True)"
    )
    started = subprocess.run(
        [sys.executable, "-c", starter, str(tmp_path)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        timeout=120,
        check=True,
    )
    pid = int(started.stdout.split()[-1])
    deadline = time.monotonic() + 10 * checkov_server.PARENT_CHECK_SECONDS
    while _running(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _running(pid)


def test_a_background_server_serves_the_gate_once_ready_and_is_stopped_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """main.py's server, started before the synthesis (`in_background`), without the suite's."""
    monkeypatch.delenv(checkov_server.SERVER_ENV)
    with checkov_server.in_background() as ready:
        assert checkov_server.SERVER_ENV not in os.environ  # not before it is ready
        ready()
        socket = os.environ[checkov_server.SERVER_ENV]
        assert checkov_server.run(socket, ["--version"]) == 0
    assert checkov_server.SERVER_ENV not in os.environ
    assert not Path(socket).exists()  # its folder is gone, and the server with it
    assert checkov_server.run(socket, ["--version"]) == 1


def test_a_one_gate_server_forks_all_but_the_last_run_and_becomes_the_last(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """main.py's server (`in_background`) for a gate that starts two runs: the first is a
    forked child, the second is the server's own process, which then ends with its status."""
    process = checkov_server.spawn(tmp_path, one_gate=True)
    try:
        checkov_server.wait_ready(process)
        socket = tmp_path / "checkov.sock"
        monkeypatch.setenv(checkov_server.RUNS_ENV, "2")
        assert checkov_server.run(str(socket), ["--version"]) == 0
        assert process.poll() is None and socket.is_socket()
        assert checkov_server.run(str(socket), ["--version"]) == 0
        assert process.wait(timeout=60) == 0
        assert not socket.exists()
    finally:
        process.kill()
        process.wait()


def test_a_one_gate_server_reports_what_a_direct_run_reports_and_leaves_later_runs_direct(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The gate through main.py's server: the same records as Checkov started directly; its
    one run is the server's process, and a second gate run, with no socket left, starts
    Checkov directly instead of failing to reach it."""
    stacks = verify.discover_stacks(FIXTURES / "failing")
    process = checkov_server.spawn(tmp_path / "server", one_gate=True)
    try:
        checkov_server.wait_ready(process)
        monkeypatch.setenv(checkov_server.SERVER_ENV, str(tmp_path / "server" / "checkov.sock"))
        through_server = verify.run_checkov(stacks, [CHECKS])
        assert process.wait(timeout=60) == 1  # Checkov's status: failed checks
        again = verify.run_checkov(stacks, [CHECKS])
    finally:
        process.kill()
        process.wait()
    monkeypatch.setenv(checkov_server.SERVER_ENV, "")
    direct = verify.run_checkov(stacks, [CHECKS])
    assert through_server.records == direct.records == again.records
    assert any(record.result == "FAILED" for record in direct.records)


def test_a_background_server_that_did_not_start_leaves_the_gate_to_start_checkov(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(checkov_server.SERVER_ENV)

    def exits_at_once(folder: Path, *, one_gate: bool) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-c", "raise SystemExit(3)"], stdout=subprocess.PIPE, text=True
        )

    monkeypatch.setattr(checkov_server, "spawn", exits_at_once)
    with checkov_server.in_background() as ready:
        ready()
        assert checkov_server.SERVER_ENV not in os.environ
    assert "checkov_server did not start (exit 3); starting Checkov directly" in (
        capsys.readouterr().err
    )


def test_no_background_server_is_started_beside_a_running_one() -> None:
    """The suite's server (conftest.py) serves main.py's gate too."""
    socket = os.environ[checkov_server.SERVER_ENV]
    with checkov_server.in_background() as ready:
        ready()
        assert os.environ[checkov_server.SERVER_ENV] == socket
    assert os.environ[checkov_server.SERVER_ENV] == socket
