"""Builds the verify gate: Checkov over every synthesized stack, plus our waivers and coverage.

The gate fails when a check fails without a valid waiver, when a stack cannot be parsed, when
a synthesized resource got no result from Checkov, or when a waiver has expired. It counts
resources itself (Checkov's `resource_count` is 0 for terraform_json) and compares them with
the resources Checkov reported on, helped by the inventory probe in `synth/checkov_probe/`.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

from synth.reports import (
    Finding,
    GateReport,
    StackReport,
    Status,
    render_text,
    write_json,
    write_junit,
)
from synth.waivers import Waiver, WaiversError, load_waivers

DEFAULT_OUTDIR = Path("cdktf.out")
DEFAULT_WAIVERS = Path("policies/waivers.yaml")
# Custom policies land here; the gate passes the directory to Checkov whenever it exists.
POLICY_CHECKS_DIR = Path("policies/checks")
PROBE_DIR = Path(__file__).resolve().parent / "checkov_probe"
# Checkov names an external check's module after its file; that is how probe results are told apart.
PROBE_MODULE = "groundwork_inventory_probe"
STACK_FILE = "cdk.tf.json"
RESULT_KEYS = ("passed_checks", "failed_checks", "skipped_checks")


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
    return Stack(name, path, document, resources)


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


def _checkov_env(home: Path) -> dict[str, str]:
    """The environment for Checkov: no inherited CKV_/BC_/PRISMA_ settings (which can skip
    checks or upload results), no home config file, and no update check over the network."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CKV_", "BC_", "PRISMA_"))
    }
    env["HOME"] = str(home)
    env["CKV_SKIP_PACKAGE_UPDATE_CHECK"] = "true"
    return env


def _stack_of(file_path: str, root: Path) -> str:
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
        unparsed.update(_stack_of(path, root) for path in results.get("parsing_errors", []))
        for key in RESULT_KEYS:
            for row in results.get(key, []):
                start, end = row["file_line_range"]
                records.append(
                    CheckovRecord(
                        stack=_stack_of(row["file_path"], root),
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


def run_checkov(stacks: Sequence[Stack], external_checks_dirs: Sequence[Path] = ()) -> Scan:
    """Run Checkov once over scannable copies of all stacks and collect its results."""
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
        root.mkdir(exist_ok=True)
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
            command, cwd=work, env=_checkov_env(work), stdout=subprocess.DEVNULL, check=False
        )
        report_file = work / "out" / "results_json.json"
        if completed.returncode not in (0, 1) or not report_file.is_file():
            raise CheckovError(f"Checkov exited with {completed.returncode} and wrote no report")
        print(f"verify: Checkov finished in {time.monotonic() - started:.1f} s", file=sys.stderr)
        records, unparsed = _records(json.loads(report_file.read_text(encoding="utf-8")), root)
    return Scan(list(stacks), checkov_version, records, unparsed)


def _pick_waiver(waivers: Sequence[Waiver], record: CheckovRecord, resource: str) -> Waiver | None:
    """The most specific active waiver for a failed check: a resource waiver beats a stack one."""
    matching = [w for w in waivers if w.matches(record.stack, record.check_id, resource)]
    matching.sort(key=lambda waiver: waiver.resource is None)
    return matching[0] if matching else None


def evaluate(
    scan: Scan, waivers: Sequence[Waiver], today: dt.date, waivers_path: str
) -> GateReport:
    """Apply waivers to Checkov's results and compare what it evaluated with what we synthesized."""
    expired = [waiver for waiver in waivers if waiver.is_expired(today)]
    active = [waiver for waiver in waivers if not waiver.is_expired(today)]

    # Probe results carry each entity's true address; other results on the same lines inherit it.
    addresses = {
        (record.stack, record.line_range): record.details[0]
        for record in scan.records
        if record.check_class == PROBE_MODULE and record.details
    }
    reported: dict[str, set[str]] = {stack.name: set() for stack in scan.stacks}
    findings: list[Finding] = []
    used: set[Waiver] = set()
    for record in scan.records:
        resource = addresses.get((record.stack, record.line_range), record.resource)
        reported[record.stack].add(resource)
        if record.check_class == PROBE_MODULE:
            continue
        status, waiver = Status.PASSED, None
        # Checkov's own skips are not waivers: anything but a pass needs one of ours.
        if record.result != "PASSED":
            waiver = _pick_waiver(active, record, resource)
            status = Status.WAIVED if waiver else Status.FAILED
            if waiver:
                used.add(waiver)
        findings.append(
            Finding(
                stack=record.stack,
                check_id=record.check_id,
                check_name=record.check_name,
                resource=resource,
                status=status,
                guideline=record.guideline,
                waiver=waiver,
            )
        )

    stack_reports = []
    for stack in scan.stacks:
        errors = [stack.load_error] if stack.load_error else []
        if stack.name in scan.unparsed:
            errors.append("Checkov could not parse this file (its log above says why)")
        elif stack.document is not None and stack.resources and not reported[stack.name]:
            errors.append("Checkov reported no results for this stack")
        stack_reports.append(
            StackReport(
                name=stack.name,
                path=str(stack.path),
                resources=stack.resources,
                evaluated=frozenset(reported[stack.name] & set(stack.resources)),
                parse_errors=tuple(errors),
            )
        )

    order = {stack.name: index for index, stack in enumerate(scan.stacks)}
    findings.sort(key=lambda f: (order[f.stack], f.resource, f.check_id))
    return GateReport(
        checkov_version=scan.checkov_version,
        today=today,
        waivers_path=waivers_path,
        stacks=stack_reports,
        findings=findings,
        applied_waivers=[waiver for waiver in active if waiver in used],
        unused_waivers=[waiver for waiver in active if waiver not in used],
        expired_waivers=expired,
    )


def run(
    outdir: Path = DEFAULT_OUTDIR,
    waivers_path: Path = DEFAULT_WAIVERS,
    today: dt.date | None = None,
    json_path: Path | None = None,
    junit_path: Path | None = None,
    external_checks_dirs: Sequence[Path] = (),
) -> int:
    """The `verify` command: 0 pass, 1 gate failure, 2 bad input. Prints the report on stdout."""
    try:
        stacks = discover_stacks(outdir)
        waivers = load_waivers(waivers_path)
        missing = [d for d in external_checks_dirs if not d.is_dir()]
        if missing:
            raise UsageError(f"{missing[0]}: no such external checks directory")
    except UsageError as error:
        print(f"verify: {error}", file=sys.stderr)
        return 2
    except WaiversError as error:
        for message in error.messages:
            print(message, file=sys.stderr)
        return 2

    dirs = list(external_checks_dirs)
    if POLICY_CHECKS_DIR.is_dir():
        dirs.append(POLICY_CHECKS_DIR)
    try:
        scan = run_checkov(stacks, dirs)
    except CheckovError as error:
        print(f"verify: {error}", file=sys.stderr)
        print("verify: FAIL (Checkov did not run)")
        return 1

    report = evaluate(scan, waivers, today or dt.date.today(), str(waivers_path))
    sys.stdout.write(render_text(report))
    if json_path:
        write_json(report, json_path)
    if junit_path:
        write_junit(report, junit_path)
    return 0 if report.passed else 1
