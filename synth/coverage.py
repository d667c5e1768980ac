"""Builds the gate's coverage: which requirement each result counts for, and what is unchecked.

Our policies (policies/checks/) declare their requirement next to their logic and are read
statically here; built-in checks count through the reviewed map in policies/requirements/.
For every stack and requirement the gate reports pass, fail, waived, unknown, unchecked or n/a.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from synth.checkov_run import CheckovRecord, Scan, cache_dir, toolchain_digest, write_cache_file
from synth.config import EnvironmentConfig
from synth.reports import CoverageStatus, Finding, RequirementResult, Status
from synth.requirements import REQUIREMENTS

WAIVED_PREFIX = "WAIVED: "


def floor_waiver_notes(details: Sequence[str]) -> list[str]:
    """The environment-file floor waivers (`WAIVED: <field> floor: <reason>`) in a result's
    details. A policy joins its verdicts' messages with "; " (groundwork_policy.combine), so a
    note can sit after another verdict's message, not only at the start of a detail."""
    return [
        part.removeprefix(WAIVED_PREFIX)
        for detail in details
        for part in detail.split("; ")
        if part.startswith(WAIVED_PREFIX)
    ]


# CKV_GW_<AREA>_<N>, AREA being the requirement's prefix with '-' dropped.
POLICY_ID = r"^CKV_GW_([A-Z]+)_[1-9][0-9]*$"

SEVERITIES = ("LOW", "MEDIUM", "HIGH", "CRITICAL")


@dataclass(frozen=True)
class Policy:
    """One of our policies as its file declares it (read statically, never imported)."""

    id: str
    name: str
    requirement: str
    severity: str
    path: str
    # Resource types the policy's file names (resource_types, or types it looks up in the
    # stack, such as a bucket's versioning resource): it judges those through their parent.
    reads: frozenset[str] = frozenset()


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


def _parsed(path: Path) -> Any:
    """A policy file parsed: YAML data, or a Python module's syntax tree."""
    text = path.read_text(encoding="utf-8")
    if path.suffix in (".yaml", ".yml"):
        return yaml.safe_load(text)
    return ast.parse(text, filename=str(path))


def _declared_policies(path: Path, parsed: Any) -> list[dict[str, Any]]:
    """The metadata a policy file declares: YAML `metadata`, or a Python class's constants."""
    if path.suffix in (".yaml", ".yml"):
        metadata = parsed.get("metadata") if isinstance(parsed, dict) else None
        return [metadata] if isinstance(metadata, dict) else []
    tree = parsed
    found = []
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            constants = _class_constants(node)
            if "id" in constants and "requirement" in constants:
                found.append(constants)
    return found


RESOURCE_TYPE = re.compile(r"(aws|google|google-beta|azurerm)_[a-z0-9_]+")


def _strings(node: Any) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [text for item in [*node.keys(), *node.values()] for text in _strings(item)]
    if isinstance(node, list):
        return [text for item in node for text in _strings(item)]
    return []


def resource_types_named(path: Path, parsed: Any) -> frozenset[str]:
    """Every string literal in a policy file (`parsed` by `_parsed`) that is a resource type
    name."""
    if path.suffix in (".yaml", ".yml"):
        literals = _strings(parsed)
    else:
        literals = [
            node.value
            for node in ast.walk(parsed)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
        ]
    return frozenset(literal for literal in literals if RESOURCE_TYPE.fullmatch(literal))


@cache
def builtin_reads() -> dict[str, frozenset[str]]:
    """Checkov's built-in graph checks (checkov/terraform/checks/graph_checks/<cloud>/*.json)
    and the resource types each names: they judge connected resources (a bucket's versioning
    or logging resource) but report on the primary one."""
    import checkov  # the gate's own dependency; imported here so tests can run without it

    root = Path(checkov.__file__).resolve().parent / "terraform" / "checks" / "graph_checks"
    reads: dict[str, frozenset[str]] = {}
    for path in sorted(root.glob("*/*.json")) + sorted(root.glob("*/*.yaml")):
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
        check = (data.get("metadata") or {}).get("id") if isinstance(data, dict) else None
        if check:
            types = {t for t in _strings(data.get("definition")) if RESOURCE_TYPE.fullmatch(t)}
            reads[str(check)] = frozenset(types)
    return reads


def load_policy_catalog(directories: Sequence[Path]) -> dict[str, Policy]:
    """Every custom policy under `directories`, validated: one per file, a unique
    CKV_GW_<AREA>_<N> ID whose AREA is its requirement's, a known requirement and a severity.
    Raises PolicyError listing every problem.

    A valid catalog is kept in the scan cache (synth/checkov_run.py `cache_dir`), keyed by the
    toolchain digest of `directories` (every file there and of synth/, so an edited policy or
    a change to this code is a miss) and the folders as named (they are in each `path`).
    Parsing the 245 policy files takes about 0.2 s, paid by every gate run (issue 13)."""
    folder = cache_dir()
    entry = None
    if folder is not None:
        key = hashlib.sha256(toolchain_digest(directories).encode())
        key.update(json.dumps([str(directory) for directory in directories]).encode())
        entry = folder / "catalog" / f"{key.hexdigest()}.json"
        try:
            rows = json.loads(entry.read_text(encoding="utf-8"))
            return {row["id"]: Policy(**{**row, "reads": frozenset(row["reads"])}) for row in rows}
        except (OSError, ValueError, KeyError, TypeError):
            pass  # absent or unreadable: parse the files
    catalog = _parse_policy_catalog(directories)
    if entry is not None:
        rows = [{**asdict(policy), "reads": sorted(policy.reads)} for policy in catalog.values()]
        write_cache_file(entry, rows)
    return catalog


def _parse_policy_catalog(directories: Sequence[Path]) -> dict[str, Policy]:
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
            parsed = _parsed(path)  # once per file: about half the catalog's time (issue 13)
            declared = _declared_policies(path, parsed)
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
                reads=resource_types_named(path, parsed),
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


def requirements_of(
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
    # The findings behind each (stack, requirement), in the findings' order, indexed in one
    # pass: filtering every finding for every pair was quadratic (issue 13: 100 s of CPU for
    # the 89 stacks of a mutation run, over 90,000 findings).
    by_pair: dict[tuple[str, str], list[Finding]] = {}
    for finding in findings:
        for requirement in dict.fromkeys(finding.requirements):
            by_pair.setdefault((finding.stack, requirement), []).append(finding)
    results = []
    for stack in scan.stacks:
        config = scan.configs.get(stack.name)
        for requirement in REQUIREMENTS:
            behind = by_pair.get((stack.name, requirement), [])
            statuses = {f.status for f in behind}
            config_waived = any(floor_waiver_notes(f.details) for f in behind)
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
