"""Builds a fork server for Checkov: a process that imports Checkov once and forks a child per
scan, for a session that runs the gate many times (the test suite: about 40 gate runs, each of
which spent 2 of its CPU seconds importing Checkov; issue 13).

    python -m synth.checkov_server serve SOCKET [--one-gate]  # the server (its caller starts it)
    python -m synth.checkov_server run SOCKET ARGS              # one Checkov run through it

`run` is what synth/checkov_run.py starts instead of `python -m synth.checkov_launch ARGS` when
`GROUNDWORK_CHECKOV_SERVER` names a socket. It sends the server its arguments, environment and
working directory (JSON) and its standard input, output and error (the descriptors themselves,
SCM_RIGHTS); the server forks; the child puts those in place and runs
`synth.checkov_launch.main`, the code a direct run starts with, then sends back the exit
status, which `run` exits with. So the caller sees what it would see from a direct run: the
same stderr (the "Failed to run check" lines the gate reads), the same report file, the same
status; tests/synth/test_checkov_server.py requires identical records.

What differs is only what Checkov reads while it is imported, which happens once, in the
server: its environment then is the server's. The server must therefore be started with the
environment the gate gives Checkov (`synth.checkov_run._checkov_env`: LOG_LEVEL, the pinned
PYTHONHASHSEED, no CKV_/BC_/PRISMA_ settings), as `start` does. A test of what the gate does
with the caller's environment runs Checkov directly (an empty GROUNDWORK_CHECKOV_SERVER).

Errors: `run` exits 1 with a message on stderr when the server cannot be reached or the child
ends without a status (it crashed).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

SERVER_ENV = "GROUNDWORK_CHECKOV_SERVER"
# How many Checkov runs the gate starts at once (synth/checkov_run.py sets it in each run's
# environment); a one-gate server (`serve --one-gate`) runs the last of them itself.
RUNS_ENV = "GROUNDWORK_CHECKOV_RUNS"
HEADER = 8  # bytes: the JSON request's length, big-endian
PARENT_CHECK_SECONDS = 2.0


def _recv_exactly(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise ConnectionError("the peer closed the connection mid-message")
        data += chunk
    return data


def run(path: str, args: list[str]) -> int:
    """One Checkov run through the server at `path`; Checkov's exit status."""
    request = json.dumps({"argv": args, "env": dict(os.environ), "cwd": os.getcwd()}).encode()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        try:
            conn.connect(path)
        except OSError as error:
            print(f"checkov_server: cannot reach {path}: {error}", file=sys.stderr)
            return 1
        socket.send_fds(conn, [len(request).to_bytes(HEADER, "big")], [0, 1, 2])
        conn.sendall(request)
        status = conn.recv(4)
    if len(status) != 4:
        print("checkov_server: the Checkov run ended without a status", file=sys.stderr)
        return 1
    return int.from_bytes(status, "big", signed=True)


def _child(conn: socket.socket, fds: list[int], request: dict[str, Any]) -> None:
    """In the forked child: become the client's Checkov run, then exit. Never returns."""
    status = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # Checkov may wait for its own children
        for target, fd in zip((0, 1, 2), fds, strict=True):
            os.dup2(fd, target)
            os.close(fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        from synth import checkov_launch

        try:
            checkov_launch.main(request["argv"])
            status = 0
        except SystemExit as done:
            code = done.code
            status = code if isinstance(code, int) else (0 if code is None else 1)
            if not isinstance(code, int | None):
                print(code, file=sys.stderr)
    except BaseException:  # report it as a direct run would, then fail
        import traceback

        traceback.print_exc()
        status = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        try:
            conn.sendall(status.to_bytes(4, "big", signed=True))
        finally:
            os._exit(status)


def serve(path: str, *, one_gate: bool = False) -> None:
    """Import Checkov, listen on the Unix socket `path`, fork one child per run, until the
    process that started the server is gone (checked every PARENT_CHECK_SECONDS), so a test
    run that was killed leaves no server behind.

    `one_gate`: the server of one gate run (main.py's, `in_background`). It forks for all but
    the last of the gate's runs (RUNS_ENV in the first request's environment, 1 when absent),
    then removes its socket and becomes the last run itself. A forked child's resident size
    counts every page it shares with the server a second time; a `make synth` after an edit
    scans in one run, so the gate's peak lost the server's 180 MB (issue 13). A gate run
    started after that finds no socket and starts Checkov directly (synth/checkov_run.py)."""
    from synth import checkov_launch

    checkov_launch.prepare()
    parent = os.getppid()
    runs_left: int | None = None
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the children
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(path)
        listener.listen(16)
        listener.settimeout(PARENT_CHECK_SECONDS)
        print("ready", flush=True)
        while True:
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                if os.getppid() != parent:
                    return
                continue
            conn.setblocking(True)
            fds: list[int] = []
            try:
                header, fds, _, _ = socket.recv_fds(conn, HEADER, 3)
                if len(header) < HEADER:
                    header += _recv_exactly(conn, HEADER - len(header))
                request = json.loads(_recv_exactly(conn, int.from_bytes(header, "big")))
                if len(fds) != 3:
                    raise ConnectionError(f"expected 3 descriptors, got {len(fds)}")
            except (ConnectionError, OSError, ValueError) as error:
                print(f"checkov_server: bad request: {error}", file=sys.stderr, flush=True)
                conn.close()
                for fd in fds:
                    os.close(fd)
                continue
            sys.stdout.flush()
            sys.stderr.flush()
            if one_gate:
                if runs_left is None:
                    runs_left = int(request["env"].get(RUNS_ENV, "1"))
                runs_left -= 1
                if runs_left <= 0:
                    listener.close()
                    os.unlink(path)
                    _child(conn, fds, request)
            if os.fork() == 0:
                listener.close()
                _child(conn, fds, request)
            conn.close()
            for fd in fds:
                os.close(fd)


def spawn(folder: Path, *, one_gate: bool = False) -> subprocess.Popen[str]:
    """Start a server that will listen on `folder/checkov.sock`, with the gate's Checkov
    environment (HOME in `folder`), and return at once; `wait_ready` waits for it to accept
    runs. The caller terminates the process when done. `one_gate`: see `serve`."""
    from synth.checkov_run import _checkov_env

    home = folder / "home"
    home.mkdir(parents=True, exist_ok=True)
    env = {key: value for key, value in _checkov_env(home).items() if key != SERVER_ENV}
    command = [sys.executable, "-m", "synth.checkov_server", "serve", str(folder / "checkov.sock")]
    return subprocess.Popen(
        [*command, *(["--one-gate"] if one_gate else [])],
        cwd=home,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        text=True,
    )


def wait_ready(process: subprocess.Popen[str]) -> None:
    """Wait until a spawned server has imported Checkov and bound its socket.

    Raises RuntimeError when it exits before that (it is killed and reaped)."""
    assert process.stdout is not None
    line = process.stdout.readline()  # "ready" once Checkov is imported and the socket bound
    if line.strip() != "ready":
        process.kill()
        raise RuntimeError(f"checkov_server did not start (exit {process.wait()})")


def start(folder: Path) -> subprocess.Popen[str]:
    """`spawn` and `wait_ready`: a server on `folder/checkov.sock` that accepts runs. The
    caller sets SERVER_ENV to `folder/checkov.sock` for its gate runs and terminates the
    process when done. Raises RuntimeError when the server exits before it is ready."""
    process = spawn(folder)
    wait_ready(process)
    return process


@contextlib.contextmanager
def in_background() -> Iterator[Callable[[], None]]:
    """A server importing Checkov while the caller does other work (main.py: while jsii
    synthesizes, which keeps one core busy, the import takes the other; issue 13).

    Yields `ready()`: call it right before the gate; it waits for the server and points
    SERVER_ENV at it, so the gate's Checkov runs skip the import (about 3 s here). The server
    serves one gate (`serve`, `one_gate`): its last run is the server's own process. If the
    server did not start, `ready()` says so on stderr and leaves SERVER_ENV unset: the gate
    then starts Checkov directly, which judges the same way. When SERVER_ENV is already set
    (the test suite's server), nothing is started and `ready()` does nothing. On exit the
    server is stopped and SERVER_ENV restored."""
    previous = os.environ.get(SERVER_ENV)
    if previous:
        yield lambda: None
        return
    with tempfile.TemporaryDirectory(prefix="groundwork-checkov-") as folder:
        process = spawn(Path(folder), one_gate=True)

        def ready() -> None:
            try:
                wait_ready(process)
            except RuntimeError as error:
                print(f"verify: {error}; starting Checkov directly", file=sys.stderr)
                return
            os.environ[SERVER_ENV] = str(Path(folder) / "checkov.sock")

        try:
            yield ready
        finally:
            if previous is None:
                os.environ.pop(SERVER_ENV, None)
            else:
                os.environ[SERVER_ENV] = previous
            process.terminate()
            process.wait()


def main(argv: list[str]) -> int:
    if len(argv) in (2, 3) and argv[0] == "serve" and argv[2:] in ([], ["--one-gate"]):
        serve(argv[1], one_gate=argv[2:] == ["--one-gate"])
        return 0
    if len(argv) >= 2 and argv[0] == "run":
        return run(argv[1], argv[2:])
    print(
        "usage: python -m synth.checkov_server serve SOCKET [--one-gate] | run SOCKET ARGS",
        file=sys.stderr,
    )
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
