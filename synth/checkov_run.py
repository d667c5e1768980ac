"""Builds the gate's Checkov run: read the synthesized stacks, scan them once, map the results back.

Checkov runs in a subprocess over scannable copies of every stack laid out as
`stacks/<stack>/cdk.tf.json`, with the inventory probe (`synth/checkov_probe/`) and our policies
as external checks. Its environment is pinned: inherited CKV_/BC_/PRISMA_ settings, a home
config file and the caller's LOG_LEVEL cannot skip checks or hide the crash lines the gate reads.
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

from synth.config import CLOUDS, ConfigError, EnvironmentConfig, bootstrap_configs, load_environment
from synth.refusals import extra_files, refused_constructs

PROBE_DIR = Path(__file__).resolve().parent / "checkov_probe"

# Checkov names an external check's module after its file; that is how probe results are told apart.
PROBE_MODULE = "groundwork_inventory_probe"

STACK_FILE = "cdk.tf.json"

RESULT_KEYS = ("passed_checks", "failed_checks", "skipped_checks")

# Checkov logs a check that raised on an entity and leaves it out of its report; the gate
# turns each into a failure (never a silent pass) that only a waiver can accept.
CRASHED_CHECK = re.compile(r"Failed to run check (\S+) on (\S+?\.tf\.json):(\S+)")

CRASHED = "CRASHED"
CHECKOV_LOG_LEVEL = "WARNING"

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# The policies' side of the context contract lives in policies/checks/groundwork_policy.py.
CONTEXT_ENV = "GROUNDWORK_POLICY_CONTEXT"

# Which provider block names a stack's cloud, for loading its environment file.
PROVIDER_CLOUDS = {"aws": "aws", "google": "gcp", "google-beta": "gcp", "azurerm": "azure"}


class UsageError(Exception):
    """Bad input to the gate itself (missing directory, no stacks): exit 2."""


class CheckovError(Exception):
    """Checkov did not produce a report, so nothing can be claimed: the gate fails."""


@dataclass(frozen=True)
class Stack:
    """One synthesized stack as read by the gate, before Checkov."""

    name: str
    path: Path
    document: dict[str, Any] | None
    resources: tuple[str, ...]
    load_error: str | None = None
    # What synth/refusals.py refuses in this stack's directory or document.
    refusals: tuple[str, ...] = ()


@dataclass(frozen=True)
class CheckovRecord:
    """One row of Checkov's JSON report, mapped back to its stack."""

    stack: str
    check_id: str
    check_name: str
    resource: str
    result: str
    line_range: tuple[int, int]
    check_class: str
    guideline: str | None
    details: tuple[str, ...]


@dataclass(frozen=True)
class Scan:
    """Everything Checkov said about a set of stacks; evaluate() turns it into a verdict."""

    stacks: list[Stack]
    checkov_version: str
    records: list[CheckovRecord]
    unparsed: frozenset[str]
    # The environment config each stack was checked against (absent: treated as production).
    configs: dict[str, EnvironmentConfig] = field(default_factory=dict)


def stack_cloud(document: dict[str, Any]) -> str | None:
    providers = document.get("provider")
    clouds = {PROVIDER_CLOUDS[p] for p in providers or {} if p in PROVIDER_CLOUDS}
    return clouds.pop() if len(clouds) == 1 else None


def load_configs(stacks: Sequence[Stack], environments: Path) -> dict[str, EnvironmentConfig]:
    """Each stack's environment config, from `environments/<stack>.yaml` with the cloud the
    stack was synthesized for. A bootstrap stack (`bootstrap-<cloud>`) gets what main.py built
    it from: `bootstrap_configs` of the environments synthesized for its cloud alongside it.
    A stack without a loadable config gets none: our policies then report UNKNOWN, which
    fails like production."""
    configs = {}
    clouds = {stack.name: stack_cloud(stack.document or {}) for stack in stacks}
    for stack in stacks:
        path = environments / f"{stack.name}.yaml"
        cloud = clouds[stack.name]
        if not path.is_file() or cloud not in CLOUDS:
            continue
        try:
            configs[stack.name] = load_environment(path, cloud=cloud)
        except ConfigError as error:
            print(f"verify: {stack.name}: no environment config ({error})", file=sys.stderr)
    bootstraps = {
        bootstrap.name: bootstrap
        for cloud in CLOUDS
        for bootstrap in bootstrap_configs(
            [config for name, config in configs.items() if clouds[name] == cloud]
        )
    }
    for stack in stacks:
        if stack.name not in configs and stack.name in bootstraps:
            configs[stack.name] = bootstraps[stack.name]
    return configs


def _resource_addresses(document: dict[str, Any]) -> tuple[str, ...]:
    """Every `resource.<type>.<name>` in a Terraform JSON document, as `type.name`."""
    blocks = document.get("resource", {})
    if not isinstance(blocks, dict) or not all(isinstance(v, dict) for v in blocks.values()):
        raise ValueError("the resource block is not an object of objects")
    # "//" holds cdktf comments, which Checkov skips too.
    return tuple(
        f"{rtype}.{name}"
        for rtype, named in blocks.items()
        if rtype != "//"
        for name in named
        if name != "//"
    )


def load_stack(path: Path) -> Stack:
    """Read one cdk.tf.json; a file we cannot read is kept as a stack with a load error."""
    name = path.parent.name
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(document, dict):
            raise ValueError("the top level is not an object")
        resources = _resource_addresses(document)
    except (OSError, ValueError) as error:
        return Stack(name, path, None, (), load_error=f"cannot be read as Terraform JSON: {error}")
    refusals = [
        f"{file}: Terraform would load this file beside {STACK_FILE}, and the gate does not "
        "scan it; remove it or generate its content through the constructs"
        for file in extra_files(path.parent)
    ]
    refusals += refused_constructs(document)
    return Stack(name, path, document, resources, refusals=tuple(refusals))


def discover_stacks(outdir: Path) -> list[Stack]:
    """Every `OUTDIR/stacks/<stack>/cdk.tf.json`, sorted by stack name."""
    if not outdir.is_dir():
        raise UsageError(f"{outdir}: no such directory (run cdktf synth first, or pass OUTDIR)")
    paths = sorted((outdir / "stacks").glob(f"*/{STACK_FILE}"))
    if not paths:
        raise UsageError(f"{outdir / 'stacks' / '*' / STACK_FILE}: no stacks found")
    return [load_stack(path) for path in paths]


def scannable(document: dict[str, Any]) -> dict[str, Any]:
    """A copy of a stack's document that Checkov's terraform_json parser accepts."""
    result = copy.deepcopy(document)
    terraform = result.get("terraform")
    if isinstance(terraform, dict):
        # Checkov fails the whole file on non-object entries here (terraform.required_version).
        result["terraform"] = {
            key: value for key, value in terraform.items() if isinstance(value, dict)
        }
    return result


def _checkov_env(home: Path, context: Path | None = None) -> dict[str, str]:
    """The environment for Checkov: no inherited CKV_/BC_/PRISMA_ settings (which can skip
    checks or upload results), no home config file, and no update check over the network.
    Our policies import `synth.config` (the project root goes on PYTHONPATH) and read their
    stacks' context from the file named in GROUNDWORK_POLICY_CONTEXT."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CKV_", "BC_", "PRISMA_")) and key != CONTEXT_ENV
    }
    env["HOME"] = str(home)
    # The gate reads "Failed to run check" lines (logged at ERROR, or WARNING with a lowered
    # check fail level: checkov/common/checks/base_check.py) to turn crashed checks into
    # failures; a caller's LOG_LEVEL=ERROR/CRITICAL would hide them and make crashes passes.
    # Checkov reads LOG_LEVEL at import (checkov/logging_init.py), so it is pinned here.
    env["LOG_LEVEL"] = CHECKOV_LOG_LEVEL
    env["CKV_SKIP_PACKAGE_UPDATE_CHECK"] = "true"
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")])
    )
    if context is not None:
        env[CONTEXT_ENV] = str(context)
    return env


def stack_of(file_path: str, root: Path) -> str:
    """Map a path from Checkov's report (`/stacks/dev/cdk.tf.json` or absolute) to its stack."""
    path = Path(file_path)
    relative = path.relative_to(root) if path.is_relative_to(root) else Path(file_path.lstrip("/"))
    if len(relative.parts) != 3 or relative.parts[0] != "stacks" or relative.name != STACK_FILE:
        raise CheckovError(f"Checkov reported on an unexpected file: {file_path}")
    return relative.parts[1]


def _records(data: Any, root: Path) -> tuple[list[CheckovRecord], frozenset[str]]:
    """Checkov's JSON is one report, a list of reports, or a bare summary when nothing ran."""
    records: list[CheckovRecord] = []
    unparsed: set[str] = set()
    for report in data if isinstance(data, list) else [data]:
        results = report.get("results", {})
        unparsed.update(stack_of(path, root) for path in results.get("parsing_errors", []))
        for key in RESULT_KEYS:
            for row in results.get(key, []):
                start, end = row["file_line_range"]
                records.append(
                    CheckovRecord(
                        stack=stack_of(row["file_path"], root),
                        check_id=row["check_id"],
                        check_name=row["check_name"],
                        resource=row["resource"],
                        result=row["check_result"]["result"],
                        line_range=(start, end),
                        check_class=row.get("check_class") or "",
                        guideline=row.get("guideline") or None,
                        details=tuple(row.get("details") or ()),
                    )
                )
    return records, frozenset(unparsed)


def _builtin_check_names() -> dict[str, str]:
    """Names of Checkov's built-in resource checks (its log gives only the ID of a crash)."""
    from checkov.terraform.checks.resource.registry import resource_registry

    return {
        check.id: check.name for checks in resource_registry.checks.values() for check in checks
    }


def _crashed(log: str, root: Path, names: dict[str, str]) -> list[CheckovRecord]:
    """A record per (check, entity) that Checkov's log says raised instead of running."""
    found = {}
    for check_id, file_path, resource in CRASHED_CHECK.findall(log):
        stack = stack_of(file_path, root)
        found[stack, check_id, resource] = CheckovRecord(
            stack=stack,
            check_id=check_id,
            check_name=f"{names.get(check_id, check_id)} (the check crashed on this resource)",
            resource=resource,
            result=CRASHED,
            line_range=(0, 0),
            check_class="",
            guideline=None,
            details=("Checkov raised an exception running this check, so it counts as failed",),
        )
    return list(found.values())


def run_checkov(
    stacks: Sequence[Stack],
    external_checks_dirs: Sequence[Path] = (),
    configs: dict[str, EnvironmentConfig] | None = None,
) -> Scan:
    """Run Checkov once over scannable copies of all stacks and collect its results.

    `configs` maps stack names to the environment config their policies judge them by."""
    configs = dict(configs or {})
    checkov_version = version("checkov")
    dirs = [PROBE_DIR, *external_checks_dirs]
    noun = "stack" if len(stacks) == 1 else "stacks"
    print(
        f"verify: scanning {len(stacks)} {noun} with Checkov {checkov_version} "
        f"(checks from {', '.join(str(d) for d in dirs)}) ...",
        file=sys.stderr,
    )
    with tempfile.TemporaryDirectory(prefix="groundwork-verify-") as tmp:
        work = Path(tmp).resolve()
        root = work / "scan"
        for stack in stacks:
            if stack.document is None:
                continue
            target = root / "stacks" / stack.name / STACK_FILE
            target.parent.mkdir(parents=True)
            # Indented so every entity starts on its own line: line ranges identify entities.
            target.write_text(json.dumps(scannable(stack.document), indent=2), encoding="utf-8")
            # Policies read the stack as synthesized, `terraform.required_version` included.
            original = work / "documents" / "stacks" / stack.name / STACK_FILE
            original.parent.mkdir(parents=True)
            original.write_text(json.dumps(stack.document), encoding="utf-8")
        root.mkdir(exist_ok=True)
        context = work / "policy-context.json"
        context.write_text(
            json.dumps(
                {
                    "root": str(root),
                    "documents": str(work / "documents"),
                    "stacks": {n: c.model_dump(mode="json") for n, c in configs.items()},
                }
            ),
            encoding="utf-8",
        )
        command = [
            sys.executable, "-m", "checkov.main",
            "--directory", str(root),
            "--framework", "terraform_json",
            "--skip-download",
            "--output", "json",
            "--output-file-path", str(work / "out"),
        ]  # fmt: skip
        for directory in dirs:
            command += ["--external-checks-dir", str(directory.resolve())]
        started = time.monotonic()
        # cwd and HOME are the temp dir so no stray .checkov.yaml can skip checks.
        completed = subprocess.run(
            command,
            cwd=work,
            env=_checkov_env(work, context),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
        report_file = work / "out" / "results_json.json"
        if completed.returncode not in (0, 1) or not report_file.is_file():
            sys.stderr.write(completed.stderr)
            raise CheckovError(f"Checkov exited with {completed.returncode} and wrote no report")
        print(f"verify: Checkov finished in {time.monotonic() - started:.1f} s", file=sys.stderr)
        records, unparsed = _records(json.loads(report_file.read_text(encoding="utf-8")), root)
        if unparsed:
            sys.stderr.write(completed.stderr)  # the parse errors' explanation
        crashed = (
            _crashed(completed.stderr, root, _builtin_check_names())
            if CRASHED_CHECK.search(completed.stderr)
            else []
        )
        if crashed:
            print(
                f"verify: {len(crashed)} check runs crashed inside Checkov; "
                "each is reported as a failure",
                file=sys.stderr,
            )
    return Scan(list(stacks), checkov_version, records + crashed, unparsed, configs)
