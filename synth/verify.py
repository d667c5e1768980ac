"""Builds the verify gate: Checkov over every synthesized stack, plus our waivers and coverage.

The gate fails when a check fails without a valid waiver, when a stack cannot be parsed or
holds something the gate refuses (synth/refusals.py), when a synthesized resource got no
result from Checkov or only the inventory probe's, or when a waiver has expired. It is split
by concern; this module wires them and keeps the names tests and `python -m synth` import:

- synth/checkov_run.py: reading stacks, running Checkov, crash detection;
- synth/refusals.py: files and constructs the gate refuses to judge;
- synth/coverage.py: the policy catalog, the requirement map and per-requirement coverage;
- synth/waivers.py: the waivers file and how a waiver matches a result;
- synth/reports.py: the result model and the text, JSON, JUnit and SARIF reports.

Deployability (DEPLOY-1..6) is judged by policies under policies/checks/ like every other
requirement, over synth/graph.py and synth/names.py.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from synth import clock, fingerprint
from synth.checkov_run import (
    CONTEXT_ENV,
    CRASHED,
    PROBE_DIR,
    PROBE_MODULE,
    PROJECT_ROOT,
    STACK_FILE,
    CheckovError,
    CheckovRecord,
    Scan,
    Stack,
    UsageError,
    discover_stacks,
    load_configs,
    load_stack,
    run_checkov,
    scannable,
    stack_cloud,
)
from synth.config import CLOUDS, EnvironmentConfig
from synth.construct_waivers import construct_paths
from synth.coverage import (
    Policy,
    PolicyError,
    RequirementMap,
    applicable,
    builtin_reads,
    coverage,
    floor_waiver_notes,
    load_policy_catalog,
    load_requirement_map,
    requirements_of,
)
from synth.reports import (
    Finding,
    GateReport,
    StackReport,
    Status,
    render_text,
    write_json,
    write_junit,
    write_sarif,
)
from synth.waivers import (
    FileWaiver,
    Waiver,
    WaiversError,
    declared_waivers,
    expiring,
    file_waivers_for,
    load_waivers,
    pick_waiver,
)

__all__ = [
    "CONTEXT_ENV", "CRASHED", "PROBE_DIR", "PROBE_MODULE", "STACK_FILE", "CheckovError",
    "CheckovRecord", "Policy", "PolicyError", "RequirementMap", "Scan", "Stack", "UsageError",
    "applicable", "coverage", "discover_stacks", "evaluate", "load_configs",
    "load_policy_catalog", "load_requirement_map", "load_stack", "run", "run_checkov",
    "scannable", "stack_cloud",
]  # fmt: skip

DEFAULT_OUTDIR = Path("cdktf.out")

DEFAULT_WAIVERS = Path("policies/waivers.yaml")

# Custom policies land here; the gate passes the directory to Checkov whenever it exists.
POLICY_CHECKS_DIR = Path("policies/checks")

DEFAULT_REQUIREMENT_MAP = Path("policies/requirements")

DEFAULT_ENVIRONMENTS = PROJECT_ROOT / "environments"

# Our policies mark non-binary outcomes in a result's details.
UNKNOWN_PREFIX = "UNKNOWN: "


def evaluate(
    scan: Scan,
    waivers: Sequence[FileWaiver],
    today: dt.date,
    waivers_path: str,
    *,
    catalog: dict[str, Policy] | None = None,
    requirement_map: RequirementMap | None = None,
    require_coverage: bool = False,
) -> GateReport:
    """Apply waivers to Checkov's results and compare what it evaluated with what we synthesized.

    `waivers` are the operator file's; each stack's construct waivers are read from its
    document and its floor waivers from the policies' results (synth/waivers.py)."""
    catalog = catalog or {}
    mapping = requirement_map or RequirementMap({}, {})
    tiers = {name: config.tier for name, config in scan.configs.items()}
    paths = {
        stack.name: construct_paths(stack.document, stack.name) if stack.document else {}
        for stack in scan.stacks
    }
    declared: list[Waiver] = []
    waiver_problems: dict[str, list[str]] = {}
    for stack in scan.stacks:
        found, problems = declared_waivers(stack)
        declared += found
        waiver_problems[stack.name] = problems
    from_file, idle = file_waivers_for(waivers, scan.stacks, tiers, waivers_path)
    every = declared + from_file
    expired = [waiver for waiver in every if waiver.is_expired(today)]
    active = [waiver for waiver in every if not waiver.is_expired(today)]

    # Probe results carry each entity's true address; other results on the same lines inherit it.
    addresses = {
        (record.stack, record.line_range): record.details[0]
        for record in scan.records
        if record.check_class == PROBE_MODULE and record.details
    }
    reported: dict[str, set[str]] = {stack.name: set() for stack in scan.stacks}
    # Resources some real check (not the always-passing probe) gave a result on.
    judged: dict[str, set[str]] = {stack.name: set() for stack in scan.stacks}
    findings: list[Finding] = []
    used: set[Waiver] = set()
    floor_waivers: dict[Waiver, None] = {}
    for record in scan.records:
        resource = addresses.get((record.stack, record.line_range), record.resource)
        reported[record.stack].add(resource)
        if record.check_class == PROBE_MODULE:
            continue
        judged[record.stack].add(resource)
        status, waiver = Status.PASSED, None
        if any(detail.startswith(UNKNOWN_PREFIX) for detail in record.details):
            # Our policies pass an unresolvable value only in dev; it is reported, not hidden.
            status = Status.UNKNOWN
        floor = _floor_waiver(record, resource, scan)
        if record.result == "PASSED" and floor is not None:
            # The environment file lowered a floor: waived, with its reason, never a pass.
            status, waiver = Status.WAIVED, floor
            used.add(floor)
            floor_waivers.setdefault(floor, None)
        # Checkov's own skips are not waivers: anything but a pass needs one of ours.
        if record.result != "PASSED":
            path = paths.get(record.stack, {}).get(resource)
            waiver = pick_waiver(active, record.stack, record.check_id, resource, path)
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
                requirements=requirements_of(record, catalog, mapping),
                details=record.details,
                severity=catalog[record.check_id].severity if record.check_id in catalog else None,
                line_range=record.line_range,
                crashed=record.result == CRASHED,
                path=paths.get(record.stack, {}).get(resource),
            )
        )

    # A resource no check reported on still counts as judged when a policy that ran on its
    # stack reads its type (a bucket policy reading the bucket's versioning resource).
    ran: dict[str, set[str]] = {stack.name: set() for stack in scan.stacks}
    for finding in findings:
        ran[finding.stack].add(finding.check_id)
    for stack in scan.stacks:
        reads = builtin_reads()
        readers = {
            kind
            for check in ran[stack.name]
            for kind in (catalog[check].reads if check in catalog else reads.get(check, ()))
        }
        judged[stack.name] |= {
            address for address in stack.resources if address.rsplit(".", 1)[0] in readers
        }

    stack_reports = []
    for stack in scan.stacks:
        errors = [stack.load_error] if stack.load_error else []
        errors += [f"construct waiver {problem}" for problem in waiver_problems[stack.name]]
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
                refusals=stack.refusals,
                judged=frozenset(judged[stack.name] & set(stack.resources)),
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
        applied_waivers=[waiver for waiver in active if waiver in used] + list(floor_waivers),
        unused_waivers=[waiver for waiver in active if waiver not in used]
        + _idle(idle, scan.stacks, tiers, waivers_path),
        expired_waivers=expired,
        # Floor waivers expire like every other waiver: warned about 30 days ahead too.
        expiring_waivers=expiring([*active, *floor_waivers], today),
        coverage=coverage(scan, findings, mapping),
        require_coverage=require_coverage,
    )


def _floor_waiver(record: CheckovRecord, resource: str, scan: Scan) -> Waiver | None:
    """The environment file's floor waiver behind a passed result with a WAIVED note."""
    notes = floor_waiver_notes(record.details)
    if not notes:
        return None
    config = scan.configs.get(record.stack)
    declared = next(
        (w for w in (config.waivers if config else ()) if any(w.reason in n for n in notes)),
        None,
    )
    return Waiver(
        check=record.check_id,
        stack=record.stack,
        reason="; ".join(notes),
        owner=(declared and declared.owner)
        or (config.owner if config is not None else "the environment file's owner"),
        expires=declared.expires if declared is not None else None,
        origin=f"environments/{record.stack}.yaml waivers (a requirement floor)",
        resource=resource,
    )


def _warn_unknown_environments(
    waivers: Sequence[FileWaiver], environments: Path, waivers_path: Path
) -> None:
    """Warn about operator waivers scoped to an environment that has no file: a typo such as
    `[prodution]` would otherwise apply nowhere, silently (a waiver about another cloud's
    run is unused only in this run, so it is not warned about)."""
    known = {path.stem for path in environments.glob("*.yaml")}
    known |= {f"bootstrap-{cloud}" for cloud in CLOUDS}
    for index, entry in enumerate(waivers):
        for name in entry.environments or ():
            if name not in known:
                print(
                    f"verify: warning: {waivers_path} waivers[{index}]: environments: {name} "
                    f"has no {environments / (name + '.yaml')}; the waiver applies nowhere",
                    file=sys.stderr,
                )


def _warn_stale_stacks(
    outdir: Path, configs: Mapping[str, EnvironmentConfig], environments: Path
) -> list[str]:
    """Warn about each stack of `outdir` whose environment file in `environments` changed
    since the stack was synthesized and verified (synth/fingerprint.py `stale_stacks`): the
    gate judges it against the file as it is now. Bootstrap stacks, which derive from every
    environment, are left out. Returns the stale stacks' names."""
    from_files = {
        name: config
        for name, config in configs.items()
        if (environments / f"{name}.yaml").is_file()
    }
    stale = fingerprint.stale_stacks(outdir, from_files)
    for name in stale:
        print(
            f"verify: warning: {outdir / 'stacks' / name} was synthesized from another "
            f"{environments / (name + '.yaml')} than the one there now; it is judged against "
            "the file as it is",
            file=sys.stderr,
        )
    return stale


def _idle(
    idle: Sequence[tuple[int, FileWaiver]],
    stacks: Sequence[Stack],
    tiers: Mapping[str, str],
    waivers_path: str,
) -> list[Waiver]:
    """Operator waivers that matched no resource in a stack this run scanned in their scope:
    stale (a renamed construct) or about another cloud's run; listed only in the first case."""
    stale = []
    for index, entry in idle:
        names = [
            stack.name
            for stack in stacks
            if entry.in_scope(
                stack.name, tiers.get(stack.name, "production"), stack_cloud(stack.document or {})
            )
        ]
        if names:
            origin = f"{waivers_path} waivers[{index}] (no such resource in scope)"
            stale.append(entry.applied(", ".join(names), origin))
    return stale


def run(
    outdir: Path = DEFAULT_OUTDIR,
    waivers_path: Path = DEFAULT_WAIVERS,
    today: dt.date | None = None,
    json_path: Path | None = None,
    junit_path: Path | None = None,
    external_checks_dirs: Sequence[Path] = (),
    sarif_path: Path | None = None,
    require_coverage: bool = False,
    requirement_map_path: Path = DEFAULT_REQUIREMENT_MAP,
    environments: Path | None = None,
    configs: dict[str, EnvironmentConfig] | None = None,
) -> int:
    """The `verify` command: 0 pass, 1 gate failure, 2 bad input. Prints the report on stdout.

    `configs` replaces loading each stack's config from `environments` (tests use it)."""
    # A report from an earlier run must never outlive this one: a failed or refused run leaves
    # no verify.json saying "pass" behind. Each report is then written whole (reports.py).
    for stale in (json_path, junit_path, sarif_path):
        if stale is not None:
            stale.unlink(missing_ok=True)
    dirs = list(external_checks_dirs)
    if POLICY_CHECKS_DIR.is_dir():
        dirs.append(POLICY_CHECKS_DIR)
    try:
        stacks = discover_stacks(outdir)
        waivers = load_waivers(waivers_path)
        missing = [d for d in external_checks_dirs if not d.is_dir()]
        if missing:
            raise UsageError(f"{missing[0]}: no such external checks directory")
        catalog = load_policy_catalog(dirs)
        mapping = load_requirement_map(requirement_map_path)
    except UsageError as error:
        print(f"verify: {error}", file=sys.stderr)
        return 2
    except (WaiversError, PolicyError) as error:
        for message in error.messages:
            print(message, file=sys.stderr)
        return 2

    if configs is None:
        environments = environments or Path(
            os.environ.get("GROUNDWORK_ENVIRONMENTS") or DEFAULT_ENVIRONMENTS
        )
        configs = load_configs(stacks, environments)
        _warn_unknown_environments(waivers, environments, waivers_path)
        outdated = _warn_stale_stacks(outdir, configs, environments)
    else:
        outdated = []
    try:
        scan = run_checkov(stacks, dirs, configs)
    except CheckovError as error:
        print(f"verify: {error}", file=sys.stderr)
        print("verify: FAIL (Checkov did not run)")
        return 1

    report = evaluate(
        scan,
        waivers,
        today or clock.today(),
        str(waivers_path),
        catalog=catalog,
        requirement_map=mapping,
        require_coverage=require_coverage,
    )
    sys.stdout.write(render_text(report))
    if json_path:
        write_json(report, json_path)
    if junit_path:
        write_junit(report, junit_path)
    if sarif_path:
        write_sarif(report, sarif_path)
    if outdated and not report.passed:
        print(
            f"verify: stale output: {', '.join(outdated)} synthesized before {environments}/ "
            "changed; the failures may only mean that: synthesize again (make synth)",
            file=sys.stderr,
        )
    return 0 if report.passed else 1
