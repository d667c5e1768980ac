"""Tests waivers in their redesigned form (issue 10, section 3): declared by the construct
that causes them and read back from the synthesized JSON, operator exceptions scoped by tier or
environments and construct path, expiry judged against a pinned day with a 30-day warning,
an expired waiver failing only the stacks it covers, and floor waivers reported as waived.

Checkov runs once over the `failing` fixture (dev and production each have one unencrypted SNS
topic, `fail_alerts`); the variants below change the documents or the waivers, not the scan.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from synth import clock, verify
from synth.checkov_run import CheckovRecord
from synth.config import load_environment
from synth.construct_waivers import read_declared
from synth.reports import CoverageStatus, Status, render_text, write_json
from synth.waivers import FileWaiver, WaiversError, load_waivers

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "verify"
TODAY = dt.date(2026, 11, 1)
SNS = "CKV_AWS_26"
REASON = "Dev alerts carry only synthetic test data, so the topic needs no key."


def declared(check: str = SNS, expires: str = "2027-06-30", **extra: Any) -> dict[str, Any]:
    return {"check": check, "reason": REASON, "owner": "platform-team", "expires": expires, **extra}


def with_declared(scan: verify.Scan, stack: str, waivers: list[Any]) -> verify.Scan:
    """The scan with `waivers` in the `//` metadata of `stack`'s fail_alerts topic."""
    stacks = []
    for each in scan.stacks:
        if each.name == stack:
            document = copy.deepcopy(each.document or {})
            topic = document["resource"]["aws_sns_topic"]["fail_alerts"]
            topic["//"]["waivers"] = waivers
            each = dataclasses.replace(each, document=document)
        stacks.append(each)
    return dataclasses.replace(scan, stacks=stacks)


# ---------------------------------------------------------------- declared by the construct


def test_waive_records_each_waiver_in_the_resource_metadata(tmp_path: Path) -> None:
    """cdktf overrides replace a value, so `waive` keeps the resource's list and rewrites it
    whole; cdktf's own metadata stays beside it."""
    program = f"""
import json, sys
sys.path.insert(0, {str(ROOT)!r})
from cdktf import App, TerraformStack
# The shallow loader, as the app and the construct tests use it (a plain import of the AWS
# package imports its ~2,200 submodules: 10-12 s of CPU, issue 13).
from synth.providers import load_provider
load_provider("aws")
from cdktf_cdktf_provider_aws.provider import AwsProvider
from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from constructs import Construct
from synth.construct_waivers import waive
app = App(outdir={str(tmp_path)!r})
stack = TerraformStack(app, "qa")
AwsProvider(stack, "aws", region="eu-west-1")
topic = SnsTopic(Construct(stack, "alerts"), "topic", name="t")
waive(topic, "CKV_AWS_26", reason={REASON!r}, owner="platform-team", expires="2027-06-30")
waive(topic, "CKV_AWS_1", reason={REASON!r}, owner="platform-team", expires="2027-01-31")
try:
    waive(topic, "CKV_AWS_1", reason={REASON!r}, owner="platform-team", expires="2027-01-31")
except ValueError as error:
    print(error)
try:
    waive(topic, "CKV_AWS_2", reason="Because.", owner="platform-team", expires="2027-01-31")
except ValueError as error:
    print("refused:", type(error).__name__)
app.synth()
"""
    result = subprocess.run(
        [sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "CKV_AWS_1 is already waived on this resource" in result.stdout
    assert "refused: ValidationError" in result.stdout
    document = json.loads((tmp_path / "stacks" / "qa" / "cdk.tf.json").read_text())
    (body,) = document["resource"]["aws_sns_topic"].values()
    assert body["//"]["metadata"]["path"] == "qa/alerts/topic"
    assert body["//"]["waivers"] == [
        declared(),
        declared("CKV_AWS_1", "2027-01-31"),
    ]
    found, problems = read_declared(document)
    assert problems == []
    assert [w.check for ws in found.values() for w in ws] == ["CKV_AWS_26", "CKV_AWS_1"]


def test_the_gate_validates_declared_waivers_like_the_file() -> None:
    document = {
        "resource": {
            "aws_sns_topic": {
                "a": {
                    "//": {
                        "metadata": {"path": "dev/a"},
                        "waivers": [
                            declared(ticket="OPS-1"),
                            declared("CKV_AWS_1", reason="Fine."),
                            declared("CKV_AWS_2", owner=" ", expires="2027-02-30"),
                            declared(SNS),
                            declared(SNS, expires="2027-01-31"),
                        ],
                    }
                },
                "b": {"//": {"metadata": {"path": "dev/b"}, "waivers": {"check": SNS}}},
            }
        }
    }
    found, problems = read_declared(document)
    assert problems == [
        "aws_sns_topic.a: //.waivers[0].ticket: Extra inputs are not permitted",
        "aws_sns_topic.a: //.waivers[1].reason: must be a full sentence (at least 5 words, "
        "starting with a capital letter and ending with a period)",
        "aws_sns_topic.a: //.waivers[2].owner: String should match pattern '\\S'",
        "aws_sns_topic.a: //.waivers[2].expires: Input should be a valid date or datetime, day "
        "value is outside expected range",
        "aws_sns_topic.a: //.waivers[4]: CKV_AWS_26 is waived twice",
        "aws_sns_topic.b: //.waivers: must be a list of waivers",
    ]
    assert [w.expires for w in found["aws_sns_topic.a"]] == [dt.date(2027, 6, 30)]
    assert "aws_sns_topic.b" not in found


def test_a_declared_waiver_covers_its_resource_only_and_names_its_origin(
    failing_scan: verify.Scan, tmp_path: Path
) -> None:
    scan = with_declared(failing_scan, "dev", [declared()])
    report = verify.evaluate(scan, [], TODAY, "policies/waivers.yaml")

    waived = [f for f in report.findings if f.status is Status.WAIVED]
    assert [(f.stack, f.check_id, f.resource) for f in waived] == [
        ("dev", SNS, "aws_sns_topic.fail_alerts")
    ]
    assert waived[0].waiver is not None and waived[0].waiver.origin == "construct fail_alerts"
    # The same resource in production declared nothing: it still fails.
    assert {(f.stack, f.resource) for f in report.findings if f.status is Status.FAILED} == {
        ("production", "aws_sns_topic.fail_alerts")
    }
    text = render_text(report)
    assert "  dev  CKV_AWS_26  aws_sns_topic.fail_alerts\n" in text
    assert "    origin: construct fail_alerts\n" in text
    assert f"    reason: {REASON}\n" in text
    write_json(report, tmp_path / "verify.json")
    (applied,) = json.loads((tmp_path / "verify.json").read_text())["waivers"]["applied"]
    assert applied["origin"] == "construct fail_alerts"
    assert applied["reason"] == REASON


def test_a_construct_waiver_of_several_stacks_is_printed_once_naming_them(
    failing_scan: verify.Scan, tmp_path: Path
) -> None:
    """A construct declares its waiver in every stack that builds it: the text report prints
    it once with its stacks (a 124-waiver AWS report was 930 lines, 560 so); the JSON keeps
    one entry per stack."""
    scan = with_declared(
        with_declared(failing_scan, "dev", [declared()]), "production", [declared()]
    )
    report = verify.evaluate(scan, [], TODAY, "policies/waivers.yaml")
    text = render_text(report)
    assert "Waivers applied (2 waivers covering 2 findings;" in text
    assert text.count(f"    reason: {REASON}\n") == 1
    assert "  dev, production  CKV_AWS_26  aws_sns_topic.fail_alerts\n" in text
    assert "    covers 2 findings: aws_sns_topic.fail_alerts (2 stacks)\n" in text
    write_json(report, tmp_path / "verify.json")
    applied = json.loads((tmp_path / "verify.json").read_text())["waivers"]["applied"]
    assert sorted(w["environment"] for w in applied) == ["dev", "production"]


def test_an_invalid_declared_waiver_fails_its_stack(failing_scan: verify.Scan) -> None:
    scan = with_declared(failing_scan, "dev", [declared(reason="Fine.")])
    report = verify.evaluate(scan, [], TODAY, "policies/waivers.yaml")
    (dev,) = [s for s in report.stacks if s.name == "dev"]
    assert dev.parse_errors == (
        "construct waiver aws_sns_topic.fail_alerts: //.waivers[0].reason: must be a full "
        "sentence (at least 5 words, starting with a capital letter and ending with a period)",
    )
    assert not report.passed


# ---------------------------------------------------------------- the operator file


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_operator_waivers_scope_by_tier_or_environments_and_construct_path(
    failing_scan: verify.Scan, tmp_path: Path
) -> None:
    """The fixture has no environment configs, so both stacks count as production: a tier
    waiver for dev covers neither, a list naming production covers that stack only."""
    path = write(
        tmp_path / "waivers.yaml",
        f"""\
waivers:
  - check: {SNS}
    tier: dev
    resource: fail_alerts
    reason: {REASON}
    owner: platform-team
    expires: 2027-06-30
  - check: {SNS}
    environments: [production, qa]
    resource: fail_alerts
    reason: The alerts topic is replaced by an encrypted one in the next release.
    owner: platform-team
    expires: 2027-06-30
""",
    )
    entries = load_waivers(path, tiers={"production": "production"})
    report = verify.evaluate(failing_scan, entries, TODAY, str(path))
    assert {(f.stack, f.status) for f in report.findings if f.resource.endswith("fail_alerts")} == {
        ("dev", Status.FAILED),
        ("production", Status.WAIVED),
    }
    (applied,) = report.applied_waivers
    assert (applied.stack, applied.scope, applied.origin) == (
        "production",
        "construct fail_alerts",
        f"{path} waivers[1]",
    )
    # With configs, the tier scope follows each stack's tier.
    tiered = dataclasses.replace(failing_scan, configs={})
    tiers = {"dev": "dev", "production": "production"}
    applied_to = verify.file_waivers_for(entries, tiered.stacks, tiers, str(path))[0]
    assert sorted(w.stack for w in applied_to) == ["dev", "production"]


# ---------------------------------------------------------------- expiry


def test_today_is_injectable_and_pinned_for_every_test() -> None:
    assert os.environ[clock.TODAY_ENV] == "2026-11-01"
    assert clock.today() == dt.date(2026, 11, 1)
    assert clock.today({clock.TODAY_ENV: "2031-02-03"}) == dt.date(2031, 2, 3)
    with pytest.raises(ValueError, match="GROUNDWORK_TODAY='soon': not a YYYY-MM-DD date"):
        clock.today({clock.TODAY_ENV: "soon"})


def test_waivers_expiring_within_30_days_are_warned_about(failing_scan: verify.Scan) -> None:
    scan = with_declared(failing_scan, "dev", [declared(expires="2026-11-20")])
    report = verify.evaluate(scan, [], TODAY, "policies/waivers.yaml")
    assert [w.check for w in report.expiring_waivers] == [SNS]
    text = render_text(report)
    assert (
        "  warning: waiver CKV_AWS_26 on aws_sns_topic.fail_alerts in stack dev expires "
        "2026-11-20 (construct fail_alerts)"
    ) in text
    # 31 days ahead: no warning yet.
    later = verify.evaluate(scan, [], dt.date(2026, 10, 19), "policies/waivers.yaml")
    assert later.expiring_waivers == []
    assert "Waivers expiring soon" not in render_text(later)


def test_make_synth_prints_the_expiry_warning(tmp_path: Path) -> None:
    """`make synth` runs main.py, which runs the gate with today from GROUNDWORK_TODAY and
    prints its text report: the warning is in what the CLI prints."""
    outdir = tmp_path / "out"
    stack = outdir / "stacks" / "dev"
    stack.mkdir(parents=True)
    source = json.loads((FIXTURES / "failing" / "stacks" / "dev" / "cdk.tf.json").read_text())
    source["resource"]["aws_sns_topic"]["fail_alerts"]["//"]["waivers"] = [
        declared(expires="2026-11-20")
    ]
    (stack / "cdk.tf.json").write_text(json.dumps(source, indent=2))
    env = {**os.environ, "PYTHONPATH": str(ROOT), clock.TODAY_ENV: "2026-11-05"}
    empty = write(tmp_path / "waivers.yaml", "waivers: []\n")
    result = subprocess.run(
        [sys.executable, "-m", "synth", "verify", str(outdir), "--waivers", str(empty)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "today is 2026-11-05" in result.stdout
    assert "warning: waiver CKV_AWS_26 on aws_sns_topic.fail_alerts in stack dev" in result.stdout


def test_an_expired_waiver_fails_only_the_stacks_it_covers(
    failing_scan: verify.Scan, tmp_path: Path
) -> None:
    # dev's own construct waiver expired; production's is valid.
    scan = with_declared(
        with_declared(failing_scan, "dev", [declared(expires="2026-10-31")]),
        "production",
        [declared()],
    )
    report = verify.evaluate(scan, [], TODAY, "policies/waivers.yaml")
    assert [(w.stack, w.check) for w in report.expired_waivers] == [("dev", SNS)]
    assert report.reasons == ["1 failed check", "1 expired waiver"]
    write_json(report, tmp_path / "verify.json")
    stacks = json.loads((tmp_path / "verify.json").read_text())["stacks"]
    assert {s["stack"]: s["expired_waivers"] for s in stacks} == {"dev": 1, "production": 0}

    # An operator waiver for AWS that expired does not touch another cloud's run.
    path = write(
        tmp_path / "waivers.yaml",
        f"""\
waivers:
  - check: {SNS}
    environments: [dev]
    resource: fail_alerts
    reason: {REASON}
    owner: platform-team
    expires: 2026-10-31
""",
    )
    entries = load_waivers(path, tiers={"dev": "dev"})
    gcp = verify.Stack("dev", Path("stacks/dev/cdk.tf.json"), {"provider": {"google": [{}]}}, ())
    gcp_run = verify.evaluate(verify.Scan([gcp], "3.3.30", [], frozenset()), entries, TODAY, "w")
    assert gcp_run.passed, gcp_run.reasons
    aws_run = verify.evaluate(failing_scan, entries, TODAY, str(path))
    assert [(w.stack, w.scope) for w in aws_run.expired_waivers] == [
        ("dev", "construct fail_alerts")
    ]


# ---------------------------------------------------------------- floor waivers


@pytest.mark.parametrize(
    "before",
    # A policy joins its verdicts with "; " (groundwork_policy.combine): the note can follow
    # another verdict's message, which the gate reported as a plain pass (newcomer review).
    ["", "min_capacity is 1, max_capacity is 4; "],
)
def test_a_floor_waiver_is_reported_as_waived_with_its_reason(tmp_path: Path, before: str) -> None:
    """A policy passes a floor the environment file waives with a WAIVED note; the gate
    reports the finding as waived with the file's reason, never as a pass."""
    stack = verify.Stack(
        "production",
        Path("stacks/production/cdk.tf.json"),
        {"provider": {"aws": [{}]}, "resource": {"aws_ecs_service": {"app": {}}}},
        ("aws_ecs_service.app",),
    )
    reason = "One replica until the launch, agreed with the product owner."
    record = CheckovRecord(
        stack="production",
        check_id="CKV_GW_APP_1",
        check_name="Replicas meet the tier floor",
        resource="aws_ecs_service.app",
        result="PASSED",
        line_range=(1, 2),
        check_class="policies.checks.aws.replicas",
        guideline=None,
        details=(f"{before}WAIVED: service.min_replicas floor: {reason}",),
    )
    scan = verify.Scan([stack], "3.3.30", [record], frozenset())
    mapping = verify.RequirementMap({"CKV_GW_APP_1": ("APP-1",)}, {})
    report = verify.evaluate(scan, [], TODAY, "policies/waivers.yaml", requirement_map=mapping)
    (finding,) = report.findings
    assert finding.status is Status.WAIVED
    assert finding.waiver is not None
    assert finding.waiver.reason == f"service.min_replicas floor: {reason}"
    assert finding.waiver.origin == "environments/production.yaml waivers (a requirement floor)"
    assert report.count(Status.PASSED) == 0 and report.passed
    text = render_text(report)
    assert "  production  CKV_GW_APP_1  aws_ecs_service.app\n" in text
    assert f"reason: service.min_replicas floor: {reason}" in text
    assert [r.status for r in report.coverage if r.requirement == "APP-1"] == [
        CoverageStatus.WAIVED
    ]


def test_a_floor_waiver_expiring_within_30_days_is_warned_about(tmp_path: Path) -> None:
    """An environment file's floor waiver expires like every other waiver, and the report
    warns about it 30 days ahead (newcomer review: it was left out of the warning)."""
    text = (ROOT / "environments" / "production.yaml").read_text()
    reason = "Launch week runs one replica while we measure real load."
    (tmp_path / "production.yaml").write_text(
        text.replace("  min_replicas: 2 ", "  min_replicas: 1 ", 1)
        + f"waivers:\n  - requirement: APP-1\n    reason: {reason}\n    expires: 2026-11-20\n"
    )
    config = load_environment(tmp_path / "production.yaml")
    stack = verify.Stack(
        "production",
        Path("stacks/production/cdk.tf.json"),
        {"provider": {"aws": [{}]}, "resource": {"aws_ecs_service": {"app": {}}}},
        ("aws_ecs_service.app",),
    )
    record = CheckovRecord(
        stack="production",
        check_id="CKV_GW_APP_1",
        check_name="Replicas meet the tier floor",
        resource="aws_ecs_service.app",
        result="PASSED",
        line_range=(1, 2),
        check_class="policies.checks.aws.replicas",
        guideline=None,
        details=(f"WAIVED: service.min_replicas floor: {reason}",),
    )
    scan = verify.Scan([stack], "3.3.30", [record], frozenset(), configs={"production": config})
    report = verify.evaluate(scan, [], TODAY, "policies/waivers.yaml")
    (warned,) = report.expiring_waivers
    assert (warned.check, warned.expires) == ("CKV_GW_APP_1", dt.date(2026, 11, 20))
    assert "expires 2026-11-20" in render_text(report)
    later = verify.evaluate(scan, [], dt.date(2026, 10, 19), "policies/waivers.yaml")
    assert later.expiring_waivers == []


def test_file_waivers_refuse_hashed_addresses_and_unscoped_entries(tmp_path: Path) -> None:
    path = write(
        tmp_path / "waivers.yaml",
        f"""\
waivers:
  - check: {SNS}
    environments: [dev]
    resource: aws_sns_topic.fail_alerts_1A2B3C4D
    reason: {REASON}
    owner: platform-team
    expires: 2027-06-30
  - check: {SNS}
    resource: fail_alerts
    reason: {REASON}
    owner: platform-team
    expires: 2027-06-30
""",
    )
    with pytest.raises(WaiversError) as caught:
        load_waivers(path, tiers={"dev": "dev"})
    assert [m.split(": ", 2)[1] for m in caught.value.messages] == [
        "waivers[0].resource",
        "waivers[1].environments",
    ]
    assert FileWaiver.model_fields["resource"].default is None


def test_a_waiver_field_written_twice_is_refused_naming_the_line(tmp_path: Path) -> None:
    """The later of two equal keys would have applied silently (newcomer review)."""
    path = tmp_path / "waivers.yaml"
    path.write_text(
        "waivers:\n  - check: CKV_AWS_26\n    resource: alerts/topic\n"
        "    reason: The retired topic stays until its last subscriber has moved over.\n"
        "    owner: platform-team\n    expires: 2027-06-30\n    expires: 2099-12-31\n"
    )
    with pytest.raises(WaiversError) as caught:
        load_waivers(path, tiers={})
    assert caught.value.messages == [
        f"{path}: line 7: not valid YAML (found duplicate key 'expires' (first at line 6))"
    ]
