"""Builds the verify gate's report: its result model, the text table, JSON, JUnit XML and SARIF.

Findings carry the requirement IDs their check counts for; `coverage` holds, for every stack
and requirement, pass / fail / waived / unknown / unchecked / n/a and the checks behind it.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import os
import tempfile
import textwrap
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synth.requirements import describe
from synth.waivers import Waiver

WIDTH = 100
INDENT = " " * 4


class Status(enum.Enum):
    PASSED = "passed"
    FAILED = "failed"
    WAIVED = "waived"
    # A policy could not resolve a value; it fails staging and production (as FAILED), and in
    # dev is reported as unknown rather than passed.
    UNKNOWN = "unknown"


class CoverageStatus(enum.Enum):
    PASS = "pass"
    FAIL = "FAIL"
    WAIVED = "waived"
    UNKNOWN = "unknown"
    UNCHECKED = "UNCHECKED"
    NOT_APPLICABLE = "n/a"


@dataclass(frozen=True)
class RequirementResult:
    """One requirement on one stack and the checks whose results decided it."""

    stack: str
    requirement: str
    status: CoverageStatus
    checks: tuple[str, ...] = ()


@dataclass(frozen=True)
class Finding:
    """One Checkov check on one entity of one stack, after our waivers were applied."""

    stack: str
    check_id: str
    check_name: str
    resource: str
    status: Status
    guideline: str | None = None
    waiver: Waiver | None = None
    requirements: tuple[str, ...] = ()
    details: tuple[str, ...] = ()
    severity: str | None = None
    line_range: tuple[int, int] | None = None
    # Checkov raised instead of running the check: FAILED unless a waiver accepts it, and then
    # reported as a crashed check that was waived, never as a result.
    crashed: bool = False
    # The resource's construct path in its stack (`cache/redis`), from cdktf's metadata.
    path: str | None = None


@dataclass(frozen=True)
class StackReport:
    """What the gate saw in one stack: its resources, what Checkov evaluated, what broke."""

    name: str
    path: str
    resources: tuple[str, ...]
    evaluated: frozenset[str]
    parse_errors: tuple[str, ...] = ()
    # Constructs and files the gate refuses (synth/refusals.py); each fails the gate.
    refusals: tuple[str, ...] = ()
    # Resources at least one real check judged; None when unknown (then all evaluated count).
    judged: frozenset[str] | None = None

    @property
    def not_evaluated(self) -> list[str]:
        return sorted(set(self.resources) - self.evaluated)

    @property
    def only_probed(self) -> list[str]:
        """Resources Checkov parsed but no real check judged (only the inventory probe)."""
        if self.judged is None:
            return []
        return sorted(self.evaluated - self.judged)

    @property
    def only_probed_types(self) -> dict[str, list[str]]:
        types: dict[str, list[str]] = {}
        for address in self.only_probed:
            types.setdefault(address.rsplit(".", 1)[0], []).append(address)
        return types


@dataclass(frozen=True)
class GateReport:
    """The whole verdict; `reasons` is empty exactly when the gate passes."""

    checkov_version: str
    today: dt.date
    waivers_path: str
    stacks: list[StackReport]
    findings: list[Finding]
    applied_waivers: list[Waiver] = field(default_factory=list)
    unused_waivers: list[Waiver] = field(default_factory=list)
    expired_waivers: list[Waiver] = field(default_factory=list)
    # Active waivers that expire within synth.waivers.WARN_DAYS: a warning, so nobody is
    # surprised by a red gate on the day after.
    expiring_waivers: list[Waiver] = field(default_factory=list)
    coverage: list[RequirementResult] = field(default_factory=list)
    # With it, a requirement that applies to a stack but has no evaluated check fails the gate.
    require_coverage: bool = False

    @property
    def unchecked(self) -> list[RequirementResult]:
        return [r for r in self.coverage if r.status is CoverageStatus.UNCHECKED]

    def findings_for(self, stack: str) -> list[Finding]:
        return [finding for finding in self.findings if finding.stack == stack]

    def count(self, status: Status, stack: str | None = None) -> int:
        return sum(
            1
            for finding in self.findings
            if finding.status is status and (stack is None or finding.stack == stack)
        )

    @property
    def reasons(self) -> list[str]:
        counts = [
            (self.count(Status.FAILED), "failed check", "failed checks"),
            (sum(len(s.parse_errors) for s in self.stacks), "parse error", "parse errors"),
            (
                sum(len(s.not_evaluated) for s in self.stacks),
                "resource not evaluated",
                "resources not evaluated",
            ),
            (
                sum(len(s.only_probed) for s in self.stacks),
                "resource judged by no check",
                "resources judged by no check",
            ),
            (sum(len(s.refusals) for s in self.stacks), "refused construct", "refused constructs"),
            (len(self.expired_waivers), "expired waiver", "expired waivers"),
            (
                len(self.unchecked) if self.require_coverage else 0,
                "unchecked requirement",
                "unchecked requirements",
            ),
        ]
        return [f"{n} {one if n == 1 else many}" for n, one, many in counts if n]

    @property
    def passed(self) -> bool:
        return not self.reasons

    @property
    def verdict(self) -> str:
        return "verify: PASS" if self.passed else f"verify: FAIL ({', '.join(self.reasons)})"


def _wrap(text: str, indent: str) -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent=indent, subsequent_indent=indent + "  ")


def _expiry(waiver: Waiver) -> str:
    return f"expires {waiver.expires.isoformat()}" if waiver.expires else "no expiry date"


def _same_waivers(waivers: list[Waiver]) -> list[list[Waiver]]:
    """`waivers` grouped by everything but their stack, in first-seen order: a construct's
    waiver applies once per stack that builds the construct, with the same check, resource,
    owner, expiry, origin and reason, and the text report prints it once for all of them."""
    groups: dict[tuple[Any, ...], list[Waiver]] = {}
    for waiver in waivers:
        key = (
            waiver.check,
            waiver.scope,
            waiver.owner,
            waiver.expires,
            waiver.origin,
            waiver.reason,
        )
        groups.setdefault(key, []).append(waiver)
    return list(groups.values())


def _waiver_lines(same: list[Waiver], covered: list[Finding] | None = None) -> list[str]:
    """One waiver (`same`: the one waiver as applied to each of its stacks, `_same_waivers`)
    and the findings it covers in those stacks."""
    waiver = same[0]
    lines = [
        f"  {', '.join(w.environment for w in same)}  {waiver.check}  {waiver.scope}",
        f"{INDENT}owner {waiver.owner}, {_expiry(waiver)}",
    ]
    lines += _wrap(f"origin: {waiver.origin}", INDENT)
    lines += _wrap(f"reason: {waiver.reason}", INDENT)
    if covered:
        # The same resource in several stacks is named once, with the count of its stacks.
        named = Counter(f.resource + (" (crashed)" if f.crashed else "") for f in covered)
        names = [name + (f" ({n} stacks)" if n > 1 else "") for name, n in sorted(named.items())]
        noun = "finding" if len(covered) == 1 else "findings"
        lines += _wrap(f"covers {len(covered)} {noun}: " + ", ".join(names), INDENT)
    return lines


def _guideline(finding: Finding) -> str | None:
    """Checkov's guideline URL; our policies' "REQUIREMENTS.md <ID>" is replaced by the catalog
    line the requirement already prints."""
    guideline = finding.guideline
    return None if not guideline or guideline.startswith("REQUIREMENTS.md") else guideline


def _fix_or_waive(finding: Finding, waivers_path: str) -> list[str]:
    """For a failure no requirement maps: how to fix it or waive it, ready to paste."""
    lines = _wrap(
        "requirement: none mapped. Fix the resource"
        + (" (see the guideline)" if _guideline(finding) else "")
        + ". If the construct builds it this way on purpose, declare the waiver beside the "
        + f'resource: waive(<resource>, "{finding.check_id}", reason=..., owner=..., '
        + "expires=...) from synth.construct_waivers. For an operator exception, add an entry "
        + f"such as this to {waivers_path}:",
        INDENT,
    )
    lines += [
        f"{INDENT}  - check: {finding.check_id}",
        f"{INDENT}    environments: [{finding.stack}]",
        f"{INDENT}    resource: {finding.path or '<construct path, e.g. cache/redis>'}",
        f"{INDENT}    reason: <why this is acceptable, as a full sentence>.",
        f"{INDENT}    owner: <team>",
        f"{INDENT}    expires: <YYYY-MM-DD>",
    ]
    lines += _wrap(
        "To count it toward a requirement, map the check in policies/requirements/<cloud>.yaml.",
        INDENT,
    )
    return lines


def render_text(report: GateReport) -> str:
    """The human report: a per-stack table, then failures, gaps and waivers, then the verdict."""
    width = max([len("stack"), len("total")] + [len(stack.name) for stack in report.stacks])
    header = ("resources", "evaluated", "passed", "failed", "waived")
    lines = ["stack".ljust(width) + "".join(f"  {name:>9}" for name in header)]
    lines.append("-" * len(lines[0]))
    totals = [0] * len(header)
    for stack in report.stacks:
        row = [
            len(stack.resources),
            len(stack.evaluated),
            report.count(Status.PASSED, stack.name),
            report.count(Status.FAILED, stack.name),
            report.count(Status.WAIVED, stack.name),
        ]
        totals = [total + value for total, value in zip(totals, row, strict=True)]
        lines.append(stack.name.ljust(width) + "".join(f"  {value:>9}" for value in row))
    lines.append("total".ljust(width) + "".join(f"  {value:>9}" for value in totals))

    failures = [finding for finding in report.findings if finding.status is Status.FAILED]
    if failures:
        lines += ["", f"Failed checks ({len(failures)}):"]
        for finding in failures:
            lines += _wrap(f"{finding.stack}  {finding.check_id}  {finding.check_name}", "  ")
            lines.append(f"{INDENT}resource: {finding.resource}")
            for requirement in finding.requirements:
                lines += _wrap(f"requirement: {describe(requirement)}", INDENT)
            for detail in finding.details:
                lines += _wrap(f"why: {detail}", INDENT)
            if _guideline(finding):
                lines.append(f"{INDENT}guideline: {_guideline(finding)}")
            if not finding.requirements:
                lines += _fix_or_waive(finding, report.waivers_path)

    parse_errors = [(stack, error) for stack in report.stacks for error in stack.parse_errors]
    if parse_errors:
        lines += ["", f"Parse errors ({len(parse_errors)}):"]
        for stack, error in parse_errors:
            lines.append(f"  {stack.name}  {stack.path}")
            lines += _wrap(error, INDENT)

    missing = [(stack, address) for stack in report.stacks for address in stack.not_evaluated]
    if missing:
        lines += ["", f"Resources Checkov did not evaluate ({len(missing)}):"]
        lines += [f"  {stack.name}  {address}" for stack, address in missing]

    refused = [(stack, refusal) for stack in report.stacks for refusal in stack.refusals]
    if refused:
        lines += ["", f"Refused ({len(refused)}, cannot be waived: remove them):"]
        for stack, refusal in refused:
            lines += _wrap(f"{stack.name}  {refusal}", "  ")

    probed = [
        (stack, kind, found)
        for stack in report.stacks
        for kind, found in stack.only_probed_types.items()
    ]
    if probed:
        lines += [
            "",
            f"Resource types only the inventory probe saw ({len(probed)}; no policy judges them:"
            " add a policy in policies/checks/ or stop generating the type):",
        ]
        for stack, kind, found in probed:
            lines += _wrap(f"{stack.name}  {kind}: {', '.join(found)}", "  ")

    unknown = [finding for finding in report.findings if finding.status is Status.UNKNOWN]
    if unknown:
        lines += ["", f"Unknown results ({len(unknown)}, reported only in dev, failing elsewhere):"]
        for finding in unknown:
            lines.append(f"  {finding.stack}  {finding.check_id}  {finding.resource}")
            for detail in finding.details:
                lines += _wrap(detail, INDENT)

    lines += _requirement_lines(report)

    if report.expired_waivers:
        lines += [
            "",
            f"Expired waivers ({len(report.expired_waivers)}, today is {report.today}; each "
            "fails the stack it covers until renewed or removed):",
        ]
        for same in _same_waivers(report.expired_waivers):
            lines += _waiver_lines(same)

    if report.expiring_waivers:
        lines += ["", *expiry_warnings(report)]

    if report.applied_waivers:
        waived = report.count(Status.WAIVED)
        lines += [
            "",
            f"Waivers applied ({len(report.applied_waivers)} waivers covering {waived} findings;"
            " the table's 'waived' column counts findings):",
        ]
        by_waiver: dict[Waiver, list[Finding]] = {}
        for finding in report.findings:
            if finding.waiver is not None:
                by_waiver.setdefault(finding.waiver, []).append(finding)
        for same in _same_waivers(report.applied_waivers):
            lines += _waiver_lines(same, [f for w in same for f in by_waiver.get(w, [])])

    crashed = [f for f in report.findings if f.crashed and f.status is Status.WAIVED]
    if crashed:
        lines += [
            "",
            f"Crashed checks accepted by a waiver ({len(crashed)}; Checkov raised, so these "
            "checks never ran: the waiver accepts that, not a result):",
        ]
        for finding in crashed:
            lines.append(f"  {finding.stack}  {finding.check_id}  {finding.resource}")

    if report.unused_waivers:
        count = len(report.unused_waivers)
        lines += ["", f"Unused waivers ({count}, warning only: they matched no failed check):"]
        for same in _same_waivers(report.unused_waivers):
            lines += _waiver_lines(same)

    lines += ["", report.verdict]
    return "\n".join(lines) + "\n"


def expiry_warnings(report: GateReport) -> list[str]:
    """One warning line per waiver that expires within the warning window."""
    lines = [
        f"Waivers expiring soon ({len(report.expiring_waivers)}, warning only; today is "
        f"{report.today}: renew or remove them before they fail the gate):"
    ]
    for waiver in sorted(report.expiring_waivers, key=lambda w: (w.expires, w.stack)):
        lines.append(
            f"  warning: waiver {waiver.check} on {waiver.scope} in stack {waiver.stack} "
            f"expires {waiver.expires} ({waiver.origin})"
        )
    return lines


def _requirement_lines(report: GateReport) -> list[str]:
    """Requirements by stack: a matrix when it fits in WIDTH, else one line per stack."""
    if not report.coverage:
        return []
    stacks = [stack.name for stack in report.stacks]
    status = {(r.stack, r.requirement): r.status.value for r in report.coverage}
    requirements = list(dict.fromkeys(r.requirement for r in report.coverage))
    cell = max([len("UNCHECKED"), *map(len, stacks)])
    lines = ["", "Requirements (pass, FAIL, waived, unknown, UNCHECKED, n/a):"]
    if len("requirement") + len(stacks) * (cell + 2) <= WIDTH:
        lines.append("requirement" + "".join(f"  {name:<{cell}}" for name in stacks))
        for requirement in requirements:
            cells = "".join(f"  {status[(s, requirement)]:<{cell}}" for s in stacks)
            lines.append(f"{requirement:<11}{cells}".rstrip())
    else:
        for stack in stacks:
            problems = [
                f"{requirement} {status[(stack, requirement)]}"
                for requirement in requirements
                if status[(stack, requirement)] not in ("pass", "n/a")
            ]
            lines += _wrap(f"{stack}: " + (", ".join(problems) or "all pass"), "  ")
    open_statuses = {"FAIL", "UNCHECKED", "unknown"}
    failing = [r for r in requirements if any(status[(s, r)] in open_statuses for s in stacks)]
    if failing:
        lines += ["", "Requirements not met, as the catalog (synth/requirements.py) states them:"]
        for requirement in failing:
            lines += _wrap(describe(requirement), "  ")
    checks: dict[str, set[str]] = {}
    for result in report.coverage:
        checks.setdefault(result.requirement, set()).update(result.checks)
    lines += ["", "Checks behind each requirement:"]
    for requirement in requirements:
        names = ", ".join(sorted(checks[requirement])) or "none yet"
        lines += _wrap(f"{requirement}: {names}", "  ")
    if report.unchecked and not report.require_coverage:
        lines.append(
            f"(warning only: {len(report.unchecked)} unchecked; --require-coverage fails on them)"
        )
    return lines


def _waiver_dict(waiver: Waiver) -> dict[str, Any]:
    return waiver.as_dict()


def to_json(report: GateReport) -> dict[str, Any]:
    """The machine report: verdict, per-stack counts and gaps, every finding, every waiver."""
    return {
        "result": "pass" if report.passed else "fail",
        "reasons": report.reasons,
        "checkov_version": report.checkov_version,
        "today": report.today.isoformat(),
        "waivers_file": report.waivers_path,
        "stacks": [
            {
                "stack": stack.name,
                "path": stack.path,
                "resources": len(stack.resources),
                "evaluated": len(stack.evaluated),
                "passed": report.count(Status.PASSED, stack.name),
                # An expired waiver fails the stack it covers, and only that one.
                "expired_waivers": sum(1 for w in report.expired_waivers if w.stack == stack.name),
                "failed": report.count(Status.FAILED, stack.name),
                "waived": report.count(Status.WAIVED, stack.name),
                "not_evaluated": stack.not_evaluated,
                "only_probed": stack.only_probed,
                "parse_errors": list(stack.parse_errors),
                "refused": list(stack.refusals),
            }
            for stack in report.stacks
        ],
        "findings": [
            {
                "stack": finding.stack,
                "check_id": finding.check_id,
                "check_name": finding.check_name,
                "resource": finding.resource,
                "status": finding.status.value,
                "guideline": finding.guideline,
                "waiver": _waiver_dict(finding.waiver) if finding.waiver else None,
                "requirements": list(finding.requirements),
                "details": list(finding.details),
                "crashed": finding.crashed,
            }
            for finding in report.findings
        ],
        "requirement_catalog": {
            requirement: describe(requirement)
            for requirement in sorted(
                {r for f in report.findings for r in f.requirements}
                | {r.requirement for r in report.coverage}
            )
        },
        "requirements": [
            {
                "stack": result.stack,
                "requirement": result.requirement,
                "status": result.status.value.lower(),
                "checks": list(result.checks),
            }
            for result in report.coverage
        ],
        "waivers": {
            "applied_count": len(report.applied_waivers),
            "waived_findings": report.count(Status.WAIVED),
            "applied": [_waiver_dict(waiver) for waiver in report.applied_waivers],
            "unused": [_waiver_dict(waiver) for waiver in report.unused_waivers],
            "expired": [_waiver_dict(waiver) for waiver in report.expired_waivers],
            "expiring": [_waiver_dict(waiver) for waiver in report.expiring_waivers],
        },
    }


def write_atomically(path: Path, data: bytes) -> None:
    """Write a report whole or not at all: a reader never sees half a file, and a crash
    mid-write leaves no report rather than a truncated one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_json(report: GateReport, path: Path) -> None:
    write_atomically(path, (json.dumps(to_json(report), indent=2) + "\n").encode("utf-8"))


def _testcase(suite: ET.Element, classname: str, name: str) -> ET.Element:
    return ET.SubElement(suite, "testcase", classname=classname, name=name)


def _suite_counts(suite: ET.Element) -> dict[str, int]:
    cases = suite.findall("testcase")
    return {
        "tests": len(cases),
        "failures": sum(1 for case in cases if case.find("failure") is not None),
        "errors": sum(1 for case in cases if case.find("error") is not None),
        "skipped": sum(1 for case in cases if case.find("skipped") is not None),
    }


def write_junit(report: GateReport, path: Path) -> None:
    """JUnit XML: a testsuite per stack, a testcase per check and resource (waived = skipped).

    Parse errors and unevaluated resources are testcases too, so a CI view of this file alone
    never shows green when the gate failed; expired waivers get a suite named after the file.
    """
    root = ET.Element("testsuites", name="groundwork verify")
    for stack in report.stacks:
        suite = ET.SubElement(root, "testsuite", name=stack.name)
        for finding in report.findings_for(stack.name):
            case = _testcase(suite, f"{stack.name}.{finding.check_id}", finding.resource)
            if finding.status is Status.FAILED:
                message = finding.check_name
                text = f"{finding.check_id} failed on {finding.resource}"
                if finding.guideline:
                    text += f"\nguideline: {finding.guideline}"
                ET.SubElement(case, "failure", message=message, type=finding.check_id).text = text
            elif finding.status is Status.WAIVED and finding.waiver is not None:
                waiver = finding.waiver
                message = f"waived ({_expiry(waiver)}) by {waiver.owner}: {waiver.reason}"
                if finding.crashed:
                    message = f"crashed (the check never ran), {message}"
                ET.SubElement(case, "skipped", message=message)
        for error in stack.parse_errors:
            case = _testcase(suite, f"{stack.name}.parse", stack.path)
            ET.SubElement(case, "error", message=error, type="parse error")
        for address in stack.not_evaluated:
            case = _testcase(suite, f"{stack.name}.evaluated", address)
            message = "Checkov reported no result for this resource"
            ET.SubElement(case, "failure", message=message, type="not evaluated")
        for address in stack.only_probed:
            case = _testcase(suite, f"{stack.name}.judged", address)
            message = "no check judges this resource type (only the inventory probe saw it)"
            ET.SubElement(case, "failure", message=message, type="judged by no check")
        for refusal in stack.refusals:
            case = _testcase(suite, f"{stack.name}.refused", refusal.split(":", 1)[0])
            ET.SubElement(case, "error", message=refusal, type="refused")
    if report.expired_waivers:
        suite = ET.SubElement(root, "testsuite", name="expired waivers")
        for waiver in report.expired_waivers:
            case = _testcase(suite, f"{waiver.environment}.{waiver.check}", waiver.scope)
            message = f"expired on {waiver.expires}, today is {report.today} ({waiver.origin})"
            ET.SubElement(case, "failure", message=message, type="expired waiver")
    totals = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    for suite in root.findall("testsuite"):
        counts = _suite_counts(suite)
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    write_atomically(path, ET.tostring(root, encoding="utf-8", xml_declaration=True))


SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_LEVELS = {Status.FAILED: "error", Status.WAIVED: "error", Status.UNKNOWN: "warning"}


def _stack_lines(path: str) -> list[str] | None:
    try:
        return Path(path).read_text(encoding="utf-8").splitlines()
    except OSError:
        return None


def _stack_line(lines: list[str] | None, resource: str) -> int | None:
    """The line of `"<name>": {` under `"<type>": {` in the original stack file's `lines`:
    Checkov's line ranges are those of the gate's re-indented copy."""
    rtype, _, name = resource.rpartition(".")
    if lines is None:
        return None
    in_type = False
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if text.startswith(f'"{rtype.removeprefix("data.")}": {{'):
            in_type = True
        elif in_type and text.startswith(f'"{name}": {{'):
            return number
    return None


def to_sarif(report: GateReport) -> dict[str, Any]:
    """SARIF 2.1.0: a rule per check (its requirements in properties), a result per failed,
    waived (suppressed) or unknown finding, located in the stack's cdk.tf.json."""
    paths = {stack.name: stack.path for stack in report.stacks}
    # Each stack file read once, not once per finding.
    lines = {name: _stack_lines(str(path)) for name, path in paths.items()}
    rule_ids = sorted({f.check_id for f in report.findings})
    first = {f.check_id: f for f in reversed(report.findings)}
    rules = [
        {
            "id": check,
            "name": check,
            "shortDescription": {"text": first[check].check_name},
            "fullDescription": {
                "text": "; ".join(describe(r) for r in first[check].requirements)
                or "No requirement maps this check: fix the resource or waive it."
            },
            **({"helpUri": first[check].guideline} if _is_url(first[check].guideline) else {}),
            "properties": {
                "requirements": list(first[check].requirements),
                **({"severity": first[check].severity} if first[check].severity else {}),
            },
        }
        for check in rule_ids
    ]
    index = {check: number for number, check in enumerate(rule_ids)}
    results = []
    for finding in report.findings:
        if finding.status not in SARIF_LEVELS:
            continue
        region = _stack_line(lines[finding.stack], finding.resource)
        location: dict[str, Any] = {
            "physicalLocation": {
                "artifactLocation": {"uri": paths[finding.stack]},
                **({"region": {"startLine": region}} if region else {}),
            },
            "logicalLocations": [
                {"fullyQualifiedName": f"{finding.stack}/{finding.resource}", "kind": "resource"}
            ],
        }
        text = finding.check_name
        if finding.details:
            text += ": " + "; ".join(finding.details)
        result: dict[str, Any] = {
            "ruleId": finding.check_id,
            "ruleIndex": index[finding.check_id],
            "level": SARIF_LEVELS[finding.status],
            "message": {"text": text},
            "locations": [location],
            "properties": {
                "stack": finding.stack,
                "requirements": [describe(r) for r in finding.requirements],
                "crashed": finding.crashed,
            },
        }
        if finding.status is Status.WAIVED and finding.waiver is not None:
            waiver = finding.waiver
            result["suppressions"] = [
                {
                    "kind": "external",
                    "status": "accepted",
                    "justification": f"{waiver.reason} ({waiver.owner}, {_expiry(waiver)}, "
                    f"{waiver.origin})",
                }
            ]
        results.append(result)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "groundwork verify (Checkov)",
                        "version": report.checkov_version,
                        "rules": rules,
                    }
                },
                "results": results,
                "properties": {
                    "unchecked": [
                        {"stack": r.stack, "requirement": r.requirement} for r in report.unchecked
                    ]
                },
            }
        ],
    }


def _is_url(text: str | None) -> bool:
    return bool(text) and str(text).startswith(("https://", "http://"))


def write_sarif(report: GateReport, path: Path) -> None:
    write_atomically(path, (json.dumps(to_sarif(report), indent=2) + "\n").encode("utf-8"))
