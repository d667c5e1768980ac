"""What the tests share besides fixtures: the matrix's clouds and environments, and how
to synthesize it. Fixtures built from these live in conftest.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from synth.config import DEFAULT_ROOT_FROM_STACK, root_from_stack

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


def start_synth(
    cloud: str,
    outdir: Path,
    *,
    extra_env: Mapping[str, str] | None = None,
    code: str = APP,
) -> subprocess.Popen[str]:
    """Start main.py's app (`code`, APP by default) for `cloud` writing to `outdir`; the
    caller waits."""
    env = {**os.environ, "CLOUD": cloud, "CDKTF_OUTDIR": str(outdir), **(extra_env or {})}
    return subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_all(processes: Mapping[str, subprocess.Popen[str]]) -> dict[str, str]:
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
