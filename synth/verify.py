"""Builds the verify gate: Checkov over every synthesized stack, plus our waivers and coverage.

The gate fails when a check fails without a valid waiver, when a stack cannot be parsed, when
a synthesized resource got no result from Checkov, or when a waiver has expired. It counts
resources itself (Checkov's `resource_count` is 0 for terraform_json) and compares them with
the resources Checkov reported on, helped by the inventory probe in `synth/checkov_probe/`.

It also groups results by requirement ID: our policies (policies/checks/) declare their
requirement next to their logic, built-in checks count through policies/requirements/.
Policies learn their stack's environment from a context file the gate writes (scan root and
each stack's merged EnvironmentConfig), named in GROUNDWORK_POLICY_CONTEXT.
"""

from __future__ import annotations

import ast
import copy
import datetime as dt
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

import yaml

from synth.config import (
    CLOUDS,
    ConfigError,
    EnvironmentConfig,
    bootstrap_configs,
    load_environment,
)
from synth.reports import (
    CoverageStatus,
    Finding,
    GateReport,
    RequirementResult,
    StackReport,
    Status,
    render_text,
    write_json,
    write_junit,
    write_sarif,
)
from synth.requirements import REQUIREMENTS
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
# Checkov logs a check that raised on an entity and leaves it out of its report; the gate
# turns each into a failure (never a silent pass) that only a waiver can accept.
CRASHED_CHECK = re.compile(r"Failed to run check (\S+) on (\S+?\.tf\.json):(\S+)")
CRASHED = "CRASHED"
DEFAULT_REQUIREMENT_MAP = Path("policies/requirements")
PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ENVIRONMENTS = PROJECT_ROOT / "environments"
# The policies' side of the context contract lives in policies/checks/groundwork_policy.py.
CONTEXT_ENV = "GROUNDWORK_POLICY_CONTEXT"
# Our policies mark non-binary outcomes in a result's details.
UNKNOWN_PREFIX = "UNKNOWN: "
WAIVED_PREFIX = "WAIVED: "
# CKV_GW_<AREA>_<N>, AREA being the requirement's prefix with '-' dropped.
POLICY_ID = r"^CKV_GW_([A-Z]+)_[1-9][0-9]*$"
SEVERITIES = ("LOW", "MEDIUM", "HIGH", "CRITICAL")
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


@dataclass(frozen=True)
class Policy:
    """One of our policies as its file declares it (read statically, never imported)."""

    id: str
    name: str
    requirement: str
    severity: str
    path: str


@dataclass(frozen=True)
class RequirementMap:
    """policies/requirements/: built-in check -> requirements, optional requirements, and
    the requirements a bootstrap stack (role: bootstrap, the state storage) must meet, and
    those that concern only bootstrap stacks (no workload stack is judged on them)."""

    checks: dict[str, tuple[str, ...]]
    optional: dict[str, str]
    bootstrap: tuple[str, ...] = ()
    bootstrap_only: tuple[str, ...] = ()


class PolicyError(Exception):
    """A policy file or the requirement map is invalid: exit 2, one line per problem."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("\n".join(messages))
        self.messages = messages


def _class_constants(node: ast.ClassDef) -> dict[str, Any]:
    constants: dict[str, Any] = {}
    for statement in node.body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target = statement.targets[0]
            if isinstance(target, ast.Name):
                try:
                    constants[target.id] = ast.literal_eval(statement.value)
                except ValueError:
                    continue
    return constants


def _declared_policies(path: Path) -> list[dict[str, Any]]:
    """The metadata a policy file declares: YAML `metadata`, or a Python class's constants."""
    if path.suffix in (".yaml", ".yml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        metadata = data.get("metadata") if isinstance(data, dict) else None
        return [metadata] if isinstance(metadata, dict) else []
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            constants = _class_constants(node)
            if "id" in constants and "requirement" in constants:
                found.append(constants)
    return found


def load_policy_catalog(directories: Sequence[Path]) -> dict[str, Policy]:
    """Every custom policy under `directories`, validated: one per file, a unique
    CKV_GW_<AREA>_<N> ID whose AREA is its requirement's, a known requirement and a severity."""
    catalog: dict[str, Policy] = {}
    problems: list[str] = []
    for directory in directories:
        files = sorted(
            path
            for pattern in ("*.py", "*.yaml", "*.yml")
            for path in directory.rglob(pattern)
            if path.name != "__init__.py"
        )
        for path in files:
            declared = _declared_policies(path)
            if path.suffix == ".py" and not declared:
                continue  # a helper module (the policy base class)
            if len(declared) != 1:
                problems.append(f"{path}: declares {len(declared)} policies; one per file")
                continue
            (meta,) = declared
            policy = Policy(
                id=str(meta.get("id")),
                name=str(meta.get("name")),
                requirement=str(meta.get("requirement")),
                severity=str(meta.get("severity", "")).upper(),
                path=str(path),
            )
            match = re.match(POLICY_ID, policy.id)
            if policy.requirement not in REQUIREMENTS:
                problems.append(
                    f"{path}: requirement {policy.requirement!r} is not in REQUIREMENTS"
                )
            elif not match or match.group(1) != policy.requirement.split("-")[0]:
                area = policy.requirement.split("-")[0]
                problems.append(f"{path}: id {policy.id!r} must be CKV_GW_{area}_<N>")
            if policy.severity not in SEVERITIES:
                problems.append(f"{path}: severity must be one of {', '.join(SEVERITIES)}")
            if policy.id in catalog:
                problems.append(f"{path}: id {policy.id} is also used by {catalog[policy.id].path}")
            catalog[policy.id] = policy
    if problems:
        raise PolicyError(problems)
    return catalog


def load_requirement_map(path: Path) -> RequirementMap:
    """Merge the mapping files of policies/requirements/ (or read one file); unknown
    requirement IDs and a check mapped in two files are errors."""
    files = sorted(path.glob("*.yaml")) if path.is_dir() else [path] if path.is_file() else []
    checks: dict[str, tuple[str, ...]] = {}
    optional: dict[str, str] = {}
    bootstrap: list[str] = []
    bootstrap_only: list[str] = []
    problems = []
    for file in files:
        data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        for check, requirements in (data.get("checks") or {}).items():
            if str(check) in checks:
                problems.append(f"{file}: checks.{check}: already mapped in another file")
            checks[str(check)] = tuple(requirements)
            problems += [
                f"{file}: checks.{check}: unknown requirement {requirement}"
                for requirement in requirements
                if requirement not in REQUIREMENTS
            ]
        for requirement, switch in (data.get("optional") or {}).items():
            optional[str(requirement)] = str(switch)
            if requirement not in REQUIREMENTS:
                problems.append(f"{file}: optional.{requirement}: unknown requirement")
        for key, found in (("bootstrap", bootstrap), ("bootstrap_only", bootstrap_only)):
            for requirement in data.get(key) or []:
                found.append(str(requirement))
                if requirement not in REQUIREMENTS:
                    problems.append(f"{file}: {key}: unknown requirement {requirement}")
    if problems:
        raise PolicyError(problems)
    return RequirementMap(
        checks, optional, tuple(dict.fromkeys(bootstrap)), tuple(dict.fromkeys(bootstrap_only))
    )


def _stack_cloud(document: dict[str, Any]) -> str | None:
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
    clouds = {stack.name: _stack_cloud(stack.document or {}) for stack in stacks}
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
    env["CKV_SKIP_PACKAGE_UPDATE_CHECK"] = "true"
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")])
    )
    if context is not None:
        env[CONTEXT_ENV] = str(context)
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
        stack = _stack_of(file_path, root)
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
        root.mkdir(exist_ok=True)
        context = work / "policy-context.json"
        context.write_text(
            json.dumps(
                {
                    "root": str(root),
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


def _waiver_cloud(waiver: Waiver) -> str | None:
    """The cloud a waiver is about, from its resource type or check ID; None if any."""
    if waiver.resource:
        kind = waiver.resource.removeprefix("data.").split("_", 1)[0]
        return PROVIDER_CLOUDS.get(kind)
    for marker, cloud in (("_AWS_", "aws"), ("_GCP_", "gcp"), ("_AZURE_", "azure")):
        if marker in waiver.check:
            return cloud
    return None


def _scanned(waiver: Waiver, stacks: Sequence[Stack]) -> bool:
    """Whether this run scanned the stack a waiver is about (same name, same cloud).

    A run over one cloud does not report the other clouds' waivers as unused."""
    cloud = _waiver_cloud(waiver)
    return any(
        stack.name == waiver.environment
        and (cloud is None or _stack_cloud(stack.document or {}) in (cloud, None))
        for stack in stacks
    )


def _pick_waiver(waivers: Sequence[Waiver], record: CheckovRecord, resource: str) -> Waiver | None:
    """The most specific active waiver for a failed check: a resource waiver beats a stack one."""
    matching = [w for w in waivers if w.matches(record.stack, record.check_id, resource)]
    matching.sort(key=lambda waiver: waiver.resource is None)
    return matching[0] if matching else None


def _requirements_of(
    record: CheckovRecord, catalog: dict[str, Policy], mapping: RequirementMap
) -> tuple[str, ...]:
    if record.check_id in catalog:
        return (catalog[record.check_id].requirement,)
    return mapping.checks.get(record.check_id, ())


def applicable(requirement: str, config: EnvironmentConfig | None, mapping: RequirementMap) -> bool:
    """A bootstrap stack (the state storage) needs only the requirement map's `bootstrap`
    list; a workload needs none of `bootstrap_only`, its optional requirements where the
    config's switch is on, and the rest always."""
    if config is not None and config.role == "bootstrap":
        return requirement in mapping.bootstrap
    if requirement in mapping.bootstrap_only:
        return False
    switch = mapping.optional.get(requirement)
    if switch is None:
        return True
    value: Any = config
    for part in switch.split("."):
        value = getattr(value, part, None)
    return value is True


def coverage(
    scan: Scan, findings: Sequence[Finding], mapping: RequirementMap
) -> list[RequirementResult]:
    """For every stack and requirement: fail, waived, unknown, pass, unchecked or n/a, with
    the checks behind it."""
    results = []
    for stack in scan.stacks:
        config = scan.configs.get(stack.name)
        for requirement in REQUIREMENTS:
            behind = [
                f for f in findings if f.stack == stack.name and requirement in f.requirements
            ]
            statuses = {f.status for f in behind}
            config_waived = any(d.startswith(WAIVED_PREFIX) for f in behind for d in f.details)
            if Status.FAILED in statuses:
                status = CoverageStatus.FAIL
            elif Status.WAIVED in statuses or config_waived:
                status = CoverageStatus.WAIVED
            elif Status.UNKNOWN in statuses:
                status = CoverageStatus.UNKNOWN
            elif behind:
                status = CoverageStatus.PASS
            elif applicable(requirement, config, mapping):
                status = CoverageStatus.UNCHECKED
            else:
                status = CoverageStatus.NOT_APPLICABLE
            results.append(
                RequirementResult(
                    stack=stack.name,
                    requirement=requirement,
                    status=status,
                    checks=tuple(sorted({f.check_id for f in behind})),
                )
            )
    return results


def evaluate(
    scan: Scan,
    waivers: Sequence[Waiver],
    today: dt.date,
    waivers_path: str,
    *,
    catalog: dict[str, Policy] | None = None,
    requirement_map: RequirementMap | None = None,
    require_coverage: bool = False,
) -> GateReport:
    """Apply waivers to Checkov's results and compare what it evaluated with what we synthesized."""
    catalog = catalog or {}
    mapping = requirement_map or RequirementMap({}, {})
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
        if any(detail.startswith(UNKNOWN_PREFIX) for detail in record.details):
            # Our policies pass an unresolvable value only in dev; it is reported, not hidden.
            status = Status.UNKNOWN
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
                requirements=_requirements_of(record, catalog, mapping),
                details=record.details,
                severity=catalog[record.check_id].severity if record.check_id in catalog else None,
                line_range=record.line_range,
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
        unused_waivers=[
            waiver for waiver in active if waiver not in used and _scanned(waiver, scan.stacks)
        ],
        expired_waivers=expired,
        coverage=coverage(scan, findings, mapping),
        require_coverage=require_coverage,
    )


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
    try:
        scan = run_checkov(stacks, dirs, configs)
    except CheckovError as error:
        print(f"verify: {error}", file=sys.stderr)
        print("verify: FAIL (Checkov did not run)")
        return 1

    report = evaluate(
        scan,
        waivers,
        today or dt.date.today(),
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
    return 0 if report.passed else 1
