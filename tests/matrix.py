"""What the tests share besides fixtures: the matrix's clouds and environments, and how
to synthesize it. Fixtures built from these live in conftest.py.
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synth.config import (
    DEFAULT_ROOT_FROM_STACK,
    EnvironmentConfig,
    load_environment,
    root_from_stack,
)

if TYPE_CHECKING:
    from stacks.base import GroundworkStack

ROOT = Path(__file__).resolve().parent.parent
CLOUDS = ("aws", "gcp", "azure")
ENVIRONMENTS = ("dev", "staging", "production")

# jsii starts `node` from PATH: use the project's Node 22, not whatever the machine has.
# pipenv (which cdktf.json runs the app with) may live in .tools/ (see the Makefile).
os.environ["PATH"] = os.pathsep.join(
    [str(ROOT / "node_modules" / ".bin"), str(ROOT / ".tools" / "bin"), os.environ["PATH"]]
)
os.environ.setdefault("CHECKPOINT_DISABLE", "1")


# main.py's app without the verify gate (`main(verify_output=False)`): the tests judge the
# output with it themselves (tests/synth/test_gate_on_matrix.py), mutated or not.
APP = "import sys, main; sys.exit(main.main(verify_output=False))"


# One synthesis process per cloud serves the whole session (issue 13): most of a synthesis'
# cost is starting jsii and loading the cloud's provider assembly (2-3 s idle, and far more on
# a busy machine), paid once per worker instead of once per test. A worker runs APP's
# `main.main(verify_output=False)` once per job, with the job's whole environment (the test
# process's, as a fresh process would inherit it, plus the job's settings) in os.environ and
# passed as `environ`. Only WORKER_SETTINGS may vary between a worker's jobs: main.py reads
# them per run, while anything read once per process (GROUNDWORK_PROVIDER_IMPORT, read when
# the provider loads) needs a fresh process. tests/synth/test_synth_worker.py requires a
# worker's later jobs to write byte-identical files to a fresh process's; test_providers.py
# compares the worker's matrix with plain imports in fresh processes.
WORKER_SETTINGS = frozenset({"GROUNDWORK_ENVIRONMENTS", "GROUNDWORK_STACKS"})
WORKER = r"""
import contextlib, io, json, os, sys, traceback
protocol = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)  # stray writes to fd 1 (a child process, a C library) never reach the protocol
import main
base = dict(os.environ)
for line in sys.stdin:
    job = json.loads(line)
    os.environ.clear()
    os.environ.update(job["env"])
    output = io.StringIO()
    ok = True
    with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
        try:
            status = main.main(verify_output=False, environ=dict(os.environ))
        except BaseException:
            traceback.print_exc()
            status, ok = 1, False
    os.environ.clear()
    os.environ.update(base)
    protocol.write(json.dumps({"status": status, "output": output.getvalue()}) + "\n")
    protocol.flush()
    if not ok:  # an exception may have left jsii half-way: the next job gets a new worker
        break
"""


class _Worker:
    """One cloud's synthesis process; jobs run one at a time, in the order sent."""

    def __init__(self, cloud: str) -> None:
        # Node's stderr (warnings, a crash); closed by close().
        self.log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-c", WORKER],
            cwd=ROOT,
            env={**os.environ, "CLOUD": cloud},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )
        self.lock = threading.Lock()

    def alive(self) -> bool:
        return self.process.poll() is None

    def run(self, env: Mapping[str, str], timeout: float) -> tuple[int, str]:
        assert self.process.stdin is not None and self.process.stdout is not None
        with self.lock:
            try:
                self.process.stdin.write(json.dumps({"env": dict(env)}) + "\n")
                self.process.stdin.flush()
                line = _readline(self.process.stdout, timeout)
            except (BrokenPipeError, TimeoutError) as error:
                line = ""
                self.process.kill()
                note = f"synth worker: {error!r}"
            else:
                note = "synth worker exited"
            if not line:
                self.process.wait()
                self.log.seek(0)
                return 1, f"{note} ({self.process.returncode}):\n{self.log.read()[-6000:]}"
            result = json.loads(line)
            return int(result["status"]), str(result["output"])

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def _readline(stream: Any, timeout: float) -> str:
    """One line from `stream`, or TimeoutError after `timeout` seconds."""
    result: list[str] = []
    reader = threading.Thread(target=lambda: result.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    if reader.is_alive():
        raise TimeoutError(f"no answer in {timeout:.0f} s")
    return result[0]


_WORKERS: dict[str, _Worker] = {}
_WORKERS_LOCK = threading.Lock()


def _worker(cloud: str) -> _Worker:
    with _WORKERS_LOCK:
        worker = _WORKERS.get(cloud)
        if worker is None or not worker.alive():
            worker = _WORKERS[cloud] = _Worker(cloud)
        return worker


@atexit.register
def close_workers() -> None:
    """End every synthesis worker (at the end of the session; safe to call at any time)."""
    with _WORKERS_LOCK:
        workers = list(_WORKERS.values())
        _WORKERS.clear()
    for worker in workers:
        worker.close()


class SynthJob:
    """A synthesis sent to the cloud's worker, answered on a thread; waits like a Popen
    (`communicate`, `returncode`), so wait_all takes both."""

    def __init__(self, cloud: str, env: Mapping[str, str]) -> None:
        self.returncode: int | None = None
        self._result: tuple[int, str] | None = None
        self._thread = threading.Thread(target=self._run, args=(cloud, env), daemon=True)
        self._thread.start()

    def _run(self, cloud: str, env: Mapping[str, str]) -> None:
        self._result = _worker(cloud).run(env, timeout=900)

    def communicate(self, timeout: float | None = None) -> tuple[str, None]:
        self._thread.join(timeout)
        if self._result is None:
            raise subprocess.TimeoutExpired("synth worker", timeout or 0)
        self.returncode, output = self._result
        return output, None


def start_synth(
    cloud: str,
    outdir: Path,
    *,
    extra_env: Mapping[str, str] | None = None,
    code: str = APP,
) -> subprocess.Popen[str] | SynthJob:
    """Start main.py's app (`code`, APP by default) for `cloud` writing to `outdir`; the
    caller waits. APP with only WORKER_SETTINGS goes to the cloud's session worker; any other
    code or setting (GROUNDWORK_PROVIDER_IMPORT, read when the provider loads) gets a fresh
    process, as does every job when GROUNDWORK_TEST_SYNTH_WORKERS=off."""
    extra = dict(extra_env or {})
    job = {"CLOUD": cloud, "CDKTF_OUTDIR": str(outdir), **extra}
    if code == APP and set(extra) <= WORKER_SETTINGS and os.environ.get(WORKERS_ENV) != "off":
        return SynthJob(cloud, {**os.environ, **job})
    return subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, **job},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


WORKERS_ENV = "GROUNDWORK_TEST_SYNTH_WORKERS"


def wait_all(processes: Mapping[str, subprocess.Popen[str] | SynthJob]) -> dict[str, str]:
    """Wait for every process; `{name: output}`, or a failure naming each that failed."""
    failures, outputs = [], {}
    for name, process in processes.items():
        outputs[name], _ = process.communicate(timeout=900)
        if process.returncode != 0:
            failures.append(f"synth of {name} exited {process.returncode}:\n{outputs[name]}")
    assert not failures, "\n\n".join(failures)
    return outputs


def synthesize_clouds(root: Path, *, extra_env: Mapping[str, str] | None = None) -> Path:
    """Synthesize every cloud into `root/<cloud>/`, in parallel."""
    wait_all({cloud: start_synth(cloud, root / cloud, extra_env=extra_env) for cloud in CLOUDS})
    return root


def gate_report(
    outdir: Path, environments: Path, report: Path, *, env: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The verify gate on `outdir` as `make synth` runs it (`--require-coverage`), each stack
    judged against its file in `environments`: the JSON report, after asserting it passed
    (the assertion shows the gate's output)."""
    result = subprocess.run(
        [sys.executable, "-m", "synth", "verify", str(outdir), "--require-coverage",
         "--environments", str(environments), "--json", str(report)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    data: dict[str, Any] = json.loads(report.read_text())
    return data


def requirement_statuses(report: Mapping[str, Any]) -> dict[tuple[str, str], str]:
    """{(stack, requirement): status} of a gate report."""
    return {(r["stack"], r["requirement"]): r["status"] for r in report["requirements"]}


@dataclass(frozen=True)
class ShippedStack:
    """A shipped environment's stack built in this process (see `shipped_stack`)."""

    config: EnvironmentConfig
    stack: GroundworkStack  # the construct tree: read it, do not add to it
    text: str  # cdktf's Testing.synth: the stack's JSON, without the "//" metadata

    def document(self) -> dict[str, Any]:
        """The JSON parsed afresh, so a test may change its copy."""
        result: dict[str, Any] = json.loads(self.text)
        return result


@functools.cache
def shipped_stack(cloud: str, env: str) -> ShippedStack:
    """`environments/<env>.yaml` on `cloud`, built with its stack class and synthesized once per
    test process (issue 13): the construct tests of a dozen Azure modules read the same three
    stacks, which they built about 45 times a run, at about 0.5 s of CPU each."""
    from cdktf import Testing

    from stacks import stack_class

    config = load_environment(ROOT / "environments" / f"{env}.yaml", cloud=cloud)
    stack = stack_class(cloud)(Testing.app(), config)
    return ShippedStack(config, stack, Testing.synth(stack))


def resources_of(stack: Mapping[str, Any], resource_type: str) -> list[dict[str, Any]]:
    """Every resource of `resource_type` in a synthesized stack."""
    return list(stack.get("resource", {}).get(resource_type, {}).values())


def bootstrap_stack(cloud: str) -> str:
    """The name of `cloud`'s bootstrap stack (STATE-2: the state storage)."""
    return f"bootstrap-{cloud}"


def normalized(stack: Any, replacements: dict[str, str]) -> Any:
    """The stack with machine- and run-specific strings replaced by placeholders."""
    text = json.dumps(stack, sort_keys=True)
    for value, placeholder in replacements.items():
        text = text.replace(json.dumps(value)[1:-1], placeholder)
    return json.loads(text)


def replacements(outdir: Path) -> dict[str, str]:
    """Placeholders for what depends on the machine or the output folder. The local state
    path is relative to the stack's folder: shown as it is from the default cdktf.out."""
    return {
        f"{root_from_stack(outdir)}/": f"{DEFAULT_ROOT_FROM_STACK}/",
        str(outdir.parent): "<outdir>",
        str(ROOT): "<project>",
        str(Path.home()): "<home>",
    }


def normalized_stack(stack: Any, outdir: Path) -> Any:
    """A stack synthesized into `outdir` as it reads from the default output folder on any
    machine (snapshots and expectations compare this)."""
    return normalized(stack, replacements(outdir))
