"""Tests the verify gate: Checkov over hand-written fixture stacks, waivers, coverage and reports.

Each fixture directory under fixtures/verify/ is a cdktf output directory
(`stacks/<stack>/cdk.tf.json`). Checkov runs once per fixture (module-scoped), either through
the library (`run_checkov`, so waiver variants share one scan) or through the CLI.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from synth import fingerprint, verify
from synth.checkov_server import SERVER_ENV
from synth.config import load_environment
from synth.refusals import refused_constructs
from synth.reports import GateReport, Status, render_text, write_json, write_junit, write_sarif
from synth.waivers import FileWaiver, WaiversError, file_waivers_for, load_waivers

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "verify"
TODAY = dt.date(2026, 11, 1)
SNS_ENCRYPTION = "CKV_AWS_26"


@dataclass(frozen=True)
class CliRun:
    code: int
    stdout: str
    stderr: str
    workdir: Path


def run_cli(workdir: Path, *args: str | Path, env: dict[str, str] | None = None) -> CliRun:
    """`python -m synth verify ...` from an empty directory, so no policies/checks is picked up.

    The shipped (empty) waivers file is the default; a later `--waivers` in `args` wins.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    shipped = ROOT / "policies" / "waivers.yaml"
    completed = subprocess.run(
        [sys.executable, "-m", "synth", "verify", "--waivers", str(shipped), *map(str, args)],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return CliRun(completed.returncode, completed.stdout, completed.stderr, workdir)


def write_waivers(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def table_row(stdout: str, stack: str) -> list[str]:
    """The cells of `stack`'s table row: stack, resources, evaluated, passed, failed, waived."""
    rows = [line.split() for line in stdout.splitlines() if line.startswith(f"{stack} ")]
    assert len(rows) == 1, stdout
    return rows[0]


def failed_set(report: GateReport) -> set[tuple[str, str, str]]:
    return {(f.stack, f.check_id, f.resource) for f in report.findings if f.status is Status.FAILED}


@pytest.fixture(scope="module")
def waivers_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_waivers(
        tmp_path_factory.mktemp("waivers") / "waivers.yaml",
        """\
waivers:
  - check: CKV_AWS_26
    environments: [dev]
    resource_type: aws_sns_topic
    reason: Dev alerts carry only synthetic test data, so the topic needs no key.
    owner: platform-team
    expires: 2026-12-31
  - check: CKV_AWS_26
    environments: [production]
    resource: fail_alerts
    reason: The alerts topic is being replaced by an encrypted one in the next release.
    owner: platform-team
    expires: 2027-06-30
  - check: CKV_AWS_26
    environments: [dev]
    resource: retired_alerts
    reason: The retired topic stays until its last subscriber has moved over.
    owner: platform-team
    expires: 2027-06-30
""",
    )


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory: pytest.TempPathFactory) -> CliRun:
    # Empty proxy variables ("no proxy" to curl and pip) made Checkov's urllib3 raise
    # ProxySchemeUnknown before scanning; every clean-run test runs with them set.
    # Checkov runs directly (no fork server, which read its environment once at its start).
    empty_proxies = {"HTTPS_PROXY": "", "https_proxy": "", "HTTP_PROXY": " ", SERVER_ENV: ""}
    return run_cli(
        tmp_path_factory.mktemp("clean"), FIXTURES / "clean", "--today", TODAY, env=empty_proxies
    )


def test_empty_proxy_variables_do_not_crash_the_scan(clean_run: CliRun) -> None:
    assert clean_run.code == 0, clean_run.stdout + clean_run.stderr
    assert "ProxySchemeUnknown" not in clean_run.stderr


@pytest.fixture(scope="module")
def parse_error_run(tmp_path_factory: pytest.TempPathFactory) -> CliRun:
    return run_cli(tmp_path_factory.mktemp("parse"), FIXTURES / "parse_error", "--today", TODAY)


@pytest.fixture(scope="module")
def unevaluated_run(tmp_path_factory: pytest.TempPathFactory) -> CliRun:
    workdir = tmp_path_factory.mktemp("unevaluated")
    out = workdir / "out"
    json_args = ("--json", out / "verify.json", "--junit", out / "verify.xml")
    return run_cli(workdir, FIXTURES / "unevaluated", "--today", TODAY, *json_args)


def test_fails_on_a_failing_check(failing_scan: verify.Scan) -> None:
    report = verify.evaluate(failing_scan, [], TODAY, "waivers.yaml")
    text = render_text(report)

    assert failed_set(report) == {
        ("dev", SNS_ENCRYPTION, "aws_sns_topic.fail_alerts"),
        ("production", SNS_ENCRYPTION, "aws_sns_topic.fail_alerts"),
    }
    assert "Failed checks (2):" in text
    assert f"  dev  {SNS_ENCRYPTION}  Ensure all data stored in the SNS topic is encrypted" in text
    assert "    resource: aws_sns_topic.fail_alerts" in text
    assert text.splitlines()[-1] == "verify: FAIL (2 failed checks)"


@pytest.fixture(scope="module")
def only_probed_scan() -> verify.Scan:
    """One Checkov run over `only_probed`: dev has an encrypted SNS topic and a random_id."""
    return verify.run_checkov(verify.discover_stacks(FIXTURES / "only_probed"))


def test_probe_counts_resources_but_not_results(
    failing_scan: verify.Scan, only_probed_scan: verify.Scan
) -> None:
    """random_id has no Checkov check at all; only the inventory probe sees it."""
    report = verify.evaluate(only_probed_scan, [], TODAY, "waivers.yaml")

    expected = ["aws_sns_topic.pass_events", "random_id.pass_suffix"]
    for stack in report.stacks:
        assert sorted(stack.resources) == expected
        assert sorted(stack.evaluated) == expected
    assert not [f for f in report.findings if f.check_id.startswith("GW_INVENTORY")]
    assert not [f for f in report.findings if f.resource == "random_id.pass_suffix"]
    # Python-check results come back as `resource.<name>`; the probe restores the address.
    failing = verify.evaluate(failing_scan, [], TODAY, "waivers.yaml")
    assert {f.resource for f in failing.findings} == {
        "aws_sns_topic.fail_alerts",
        "aws_sns_topic.pass_events",
        "provider.aws",
    }


def test_a_resource_only_the_probe_saw_fails_as_judged_by_no_check(
    only_probed_scan: verify.Scan,
) -> None:
    """ "Evaluated" used to mean only that the always-pass probe saw a resource: a type no
    check knows passed unnoticed. Now it fails, and the report names the type."""
    report = verify.evaluate(only_probed_scan, [], TODAY, "waivers.yaml")
    text = render_text(report)

    assert [stack.only_probed for stack in report.stacks] == [["random_id.pass_suffix"]]
    assert report.reasons == ["1 resource judged by no check"]
    assert "Resource types only the inventory probe saw (1;" in text
    assert "  dev  random_id: random_id.pass_suffix" in text


def test_a_type_a_policy_reads_counts_as_judged(only_probed_scan: verify.Scan) -> None:
    """A policy that looks the type up (as a bucket policy reads the bucket's versioning
    resource) judges it, provided that policy ran on the stack."""
    reader = verify.Policy(
        "CKV_AWS_26", "SNS encryption", "OBS-3", "HIGH", "x.py", reads=frozenset({"random_id"})
    )
    report = verify.evaluate(only_probed_scan, [], TODAY, "w.yaml", catalog={"CKV_AWS_26": reader})
    assert report.passed, report.reasons


def test_valid_waivers_cover_the_failures_and_are_listed(
    failing_scan: verify.Scan, waivers_file: Path
) -> None:
    report = verify.evaluate(failing_scan, load_waivers(waivers_file), TODAY, str(waivers_file))
    text = render_text(report)

    assert report.passed
    assert failed_set(report) == set()
    assert {(f.stack, f.resource) for f in report.findings if f.status is Status.WAIVED} == {
        ("dev", "aws_sns_topic.fail_alerts"),
        ("production", "aws_sns_topic.fail_alerts"),
    }
    # Waivers and the findings they cover are counted apart, and say which is which.
    assert (
        "Waivers applied (2 waivers covering 2 findings; the table's 'waived' column counts"
        " findings):" in text
    )
    assert "    covers 1 finding: aws_sns_topic.fail_alerts" in text
    assert f"  dev  {SNS_ENCRYPTION}  every aws_sns_topic in dev" in text
    assert f"  production  {SNS_ENCRYPTION}  construct fail_alerts" in text
    assert f"    origin: {waivers_file} waivers[1]" in text
    assert "reason: Dev alerts carry only synthetic test data, so the topic needs no key." in text
    assert "owner platform-team, expires 2027-06-30" in text
    assert "Unused waivers (1, warning only" in text
    assert f"  dev  {SNS_ENCRYPTION}  construct retired_alerts" in text
    assert table_row(text, "dev") == ["dev", "2", "2", "2", "0", "1"]
    assert text.splitlines()[-1] == "verify: PASS"


def test_expired_waiver_fails_and_no_longer_covers(
    failing_scan: verify.Scan, waivers_file: Path
) -> None:
    today = dt.date(2027, 1, 15)
    report = verify.evaluate(failing_scan, load_waivers(waivers_file), today, str(waivers_file))
    text = render_text(report)

    assert failed_set(report) == {("dev", SNS_ENCRYPTION, "aws_sns_topic.fail_alerts")}
    assert f"Expired waivers (1, today is {today}; each fails the stack it covers" in text
    assert "owner platform-team, expires 2026-12-31" in text
    assert text.splitlines()[-1] == "verify: FAIL (1 failed check, 1 expired waiver)"


def test_fails_on_a_parse_error(parse_error_run: CliRun) -> None:
    """A resource body written as an array (valid HCL JSON) is one Checkov cannot parse."""
    out = parse_error_run.stdout

    assert parse_error_run.code == 1, parse_error_run.stderr
    assert "Parse errors (1):" in out
    path = FIXTURES / "parse_error/stacks/dev/cdk.tf.json"
    assert f"  dev  {path}\n    Checkov could not parse this file (its log above says why)\n" in out
    assert table_row(out, "dev") == ["dev", "1", "0", "0", "0", "0"]
    assert out.splitlines()[-1] == "verify: FAIL (1 parse error, 1 resource not evaluated)"


def test_stack_with_required_version_is_scanned(clean_run: CliRun) -> None:
    document = json.loads((FIXTURES / "clean/stacks/staging/cdk.tf.json").read_text())
    assert document["terraform"]["required_version"]

    assert table_row(clean_run.stdout, "staging") == ["staging", "1", "1", "2", "0", "0"]
    assert "Parse errors" not in clean_run.stdout


def test_passes_on_a_clean_stack(clean_run: CliRun) -> None:
    assert clean_run.code == 0, clean_run.stdout + clean_run.stderr
    assert "verify: scanning 1 stack with Checkov 3.3.30" in clean_run.stderr
    assert "Failed checks" not in clean_run.stdout
    assert clean_run.stdout.splitlines()[-1] == "verify: PASS"


def test_fails_on_an_unevaluated_resource(unevaluated_run: CliRun) -> None:
    """A real construct Checkov skips: a resource with a literal `count = 0`. Checkov's Python
    checks return UNKNOWN for it and UNKNOWN results are dropped from its report."""
    out = unevaluated_run.stdout

    assert unevaluated_run.code == 1, unevaluated_run.stderr
    assert table_row(out, "dev") == ["dev", "2", "1", "2", "0", "0"]
    assert "Resources Checkov did not evaluate (1):\n  dev  aws_sns_topic.spare_alerts\n" in out
    assert out.splitlines()[-1] == "verify: FAIL (1 resource not evaluated)"


def test_cli_writes_json_and_junit(unevaluated_run: CliRun) -> None:
    out = unevaluated_run.workdir / "out"
    data = json.loads((out / "verify.json").read_text())
    junit = ET.parse(out / "verify.xml").getroot()

    assert data["result"] == "fail"
    assert data["reasons"] == ["1 resource not evaluated"]
    assert data["stacks"] == [
        {
            "stack": "dev",
            "path": str(FIXTURES / "unevaluated/stacks/dev/cdk.tf.json"),
            "resources": 2,
            "evaluated": 1,
            "passed": 2,
            "expired_waivers": 0,
            "failed": 0,
            "waived": 0,
            "not_evaluated": ["aws_sns_topic.spare_alerts"],
            "only_probed": [],
            "parse_errors": [],
            "refused": [],
        }
    ]
    assert {(f["check_id"], f["resource"], f["status"]) for f in data["findings"]} == {
        (SNS_ENCRYPTION, "aws_sns_topic.pass_events", "passed"),
        ("CKV_AWS_41", "provider.aws", "passed"),
    }
    assert junit.attrib == {
        "name": "groundwork verify",
        "tests": "3",
        "failures": "1",
        "errors": "0",
        "skipped": "0",
    }
    (suite,) = junit.findall("testsuite")
    assert suite.get("name") == "dev"
    (failed,) = [case for case in suite if case.find("failure") is not None]
    assert failed.attrib == {"classname": "dev.evaluated", "name": "aws_sns_topic.spare_alerts"}


def test_json_and_junit_record_waivers(
    failing_scan: verify.Scan, waivers_file: Path, tmp_path: Path
) -> None:
    report = verify.evaluate(failing_scan, load_waivers(waivers_file), TODAY, str(waivers_file))
    write_json(report, tmp_path / "verify.json")
    write_junit(report, tmp_path / "verify.xml")
    data = json.loads((tmp_path / "verify.json").read_text())
    junit = ET.parse(tmp_path / "verify.xml").getroot()

    assert [(s["stack"], s["passed"], s["failed"], s["waived"]) for s in data["stacks"]] == [
        ("dev", 2, 0, 1),
        ("production", 2, 0, 1),
    ]
    assert [w["environment"] for w in data["waivers"]["applied"]] == ["dev", "production"]
    assert [w["path"] for w in data["waivers"]["unused"]] == ["retired_alerts"]
    assert [s.get("name") for s in junit.findall("testsuite")] == ["dev", "production"]
    assert (junit.get("tests"), junit.get("failures"), junit.get("skipped")) == ("6", "0", "2")
    skipped = junit.find("testsuite/testcase/skipped")
    assert skipped is not None
    assert skipped.get("message", "").startswith(
        "waived (expires 2026-12-31) by platform-team: Dev"
    )


def without_records(scan: verify.Scan, drop: Callable[[verify.CheckovRecord], bool]) -> verify.Scan:
    records = [record for record in scan.records if not drop(record)]
    return verify.Scan(scan.stacks, scan.checkov_version, records, scan.unparsed)


def test_count_comparison_names_the_resource_missing_from_results(
    only_probed_scan: verify.Scan,
) -> None:
    """The count comparison on a real report with one resource's only result removed, as for a
    type no check (not even the probe) reports on: random_id in dev."""
    scan = without_records(only_probed_scan, lambda r: r.details == ("random_id.pass_suffix",))
    report = verify.evaluate(scan, [], TODAY, "waivers.yaml")

    assert [stack.not_evaluated for stack in report.stacks] == [["random_id.pass_suffix"]]
    assert report.reasons == ["1 resource not evaluated"]


def test_without_probe_results_the_gate_fails_closed(failing_scan: verify.Scan) -> None:
    """If the probe did not load, Python-check results (`resource.<name>`) cannot be tied to an
    address, so every resource counts as not evaluated rather than silently passing."""
    scan = without_records(failing_scan, lambda r: r.check_class == verify.PROBE_MODULE)
    report = verify.evaluate(scan, [], TODAY, "waivers.yaml")

    assert [len(stack.not_evaluated) for stack in report.stacks] == [2, 2]
    assert not report.passed


def test_stack_with_resources_and_no_results_is_a_parse_error(failing_scan: verify.Scan) -> None:
    report = verify.evaluate(without_records(failing_scan, lambda r: True), [], TODAY, "w.yaml")

    assert [stack.parse_errors for stack in report.stacks] == [
        ("Checkov reported no results for this stack",),
        ("Checkov reported no results for this stack",),
    ]


def test_stack_that_is_not_json_is_a_parse_error(tmp_path: Path) -> None:
    path = tmp_path / "stacks" / "dev" / "cdk.tf.json"
    path.parent.mkdir(parents=True)
    path.write_text('{"resource": {"aws_sns_topic": ')
    stack = verify.load_stack(path)
    report = verify.evaluate(verify.Scan([stack], "3.3.30", [], frozenset()), [], TODAY, "w.yaml")

    assert stack.load_error is not None
    assert stack.load_error.startswith("cannot be read as Terraform JSON: Expecting value")
    assert report.stacks[0].parse_errors == (stack.load_error,)
    assert report.reasons == ["1 parse error"]


def test_scannable_copy_drops_only_non_object_terraform_entries() -> None:
    document = {
        "terraform": {"required_version": ">= 1.6", "backend": {"local": {}}},
        "resource": {"random_id": {"x": {"byte_length": 4}}},
    }
    assert verify.scannable(document) == {
        "terraform": {"backend": {"local": {}}},
        "resource": {"random_id": {"x": {"byte_length": 4}}},
    }
    assert document["terraform"]["required_version"] == ">= 1.6"


def test_invalid_waivers_file_exits_2_naming_file_and_field(tmp_path: Path) -> None:
    waivers = write_waivers(
        tmp_path / "waivers.yaml",
        """\
waivers:
  - check: CKV_AWS_26
    tier: dev
    resource_type: aws_sns_topic
    reason: Fine.
    owner: platform-team
    expires: 2027-01-01
  - check: CKV_AWS_26
    tier: production
    resource_type: aws_sns_topic
    reason: Production alerts are waived for every topic until the key lands.
    owner: platform-team
    expires: 2027-01-01
  - check: CKV_AWS_26
    environments: [dev]
    resource: fail_alerts
    reason: The topic is replaced by an encrypted one in the next release.
    owner: platform-team
    expires: 2027-02-30
    ticket: OPS-1
  - check: CKV_AWS_26
    tier: dev
    environments: [dev]
    resource: aws_sns_topic.fail_alerts
    reason: The topic is replaced by an encrypted one in the next release.
    owner: ""
    expires: 2027-01-01
""",
    )
    run = run_cli(tmp_path / "work", FIXTURES / "clean", "--waivers", waivers)

    assert run.code == 2
    assert "Traceback" not in run.stderr
    assert run.stderr.splitlines() == [
        f"{waivers}: waivers[0].reason: must be a full sentence (at least 5 words, starting with"
        " a capital letter and ending with a period)",
        f"{waivers}: waivers[1].resource: a waiver for the production tier (production tier)"
        " must name a resource (resource: its construct path)",
        f"{waivers}: waivers[2].expires: Input should be a valid date or datetime, day value is"
        " outside expected range",
        f"{waivers}: waivers[2].ticket: Extra inputs are not permitted",
        f"{waivers}: waivers[3].owner: String should have at least 1 character",
        f"{waivers}: waivers[3].environments: scope a waiver by tier (tier: dev) or by a list of"
        " environments (environments: [dev, qa]), exactly one of them",
        f"{waivers}: waivers[3].resource: 'aws_sns_topic.fail_alerts' looks like a Terraform"
        " address; name the resource by its construct path (e.g. cache/redis, the metadata path"
        " without the stack name), which stays the same in every environment",
    ]
    assert run.stdout == ""


def test_missing_outdir_exits_2(tmp_path: Path) -> None:
    run = run_cli(tmp_path, "no-such-cdktf.out")

    assert run.code == 2
    assert run.stderr.startswith("verify: no-such-cdktf.out: no such directory")


def test_outdir_without_stacks_exits_2(tmp_path: Path) -> None:
    (tmp_path / "empty.out").mkdir()
    run = run_cli(tmp_path, "empty.out")

    assert run.code == 2
    assert "verify: empty.out/stacks/*/cdk.tf.json: no stacks found" in run.stderr


def test_policy_checks_dir_is_passed_to_checkov_when_present(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No Checkov here: run_checkov is replaced to capture its directories and to fail."""
    (tmp_path / "policies" / "checks").mkdir(parents=True)
    (tmp_path / "extra").mkdir()
    seen: list[list[Path]] = []

    def fake_run_checkov(
        stacks: list[verify.Stack], dirs: list[Path], configs: object = None
    ) -> verify.Scan:
        seen.append(dirs)
        raise verify.CheckovError("Checkov exited with 3 and wrote no report")

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(verify, "run_checkov", fake_run_checkov)
    code = verify.run(
        outdir=FIXTURES / "clean",
        waivers_path=ROOT / "policies" / "waivers.yaml",
        external_checks_dirs=[Path("extra")],
    )

    assert code == 1
    assert seen == [[Path("extra"), Path("policies/checks")]]
    assert capsys.readouterr().out == "verify: FAIL (Checkov did not run)\n"


def test_shipped_waivers_file_is_valid() -> None:
    """The file holds operator exceptions only (none today); it must keep loading cleanly."""
    assert isinstance(load_waivers(ROOT / "policies" / "waivers.yaml"), list)


def test_blanket_waivers_are_refused_by_tier_not_by_name(tmp_path: Path) -> None:
    """The rule follows the environment file's tier: a 'live' stack of tier production."""
    waivers = write_waivers(
        tmp_path / "waivers.yaml",
        """\
waivers:
  - check: CKV_AWS_26
    environments: [live]
    resource_type: aws_sns_topic
    reason: Every topic of the stack is waived until the encrypted topic ships.
    owner: platform-team
    expires: 2027-01-01
""",
    )
    assert [w.environments for w in load_waivers(waivers, tiers={"live": "dev"})] == [("live",)]
    with pytest.raises(WaiversError) as caught:
        load_waivers(waivers, tiers={"live": "production"})
    assert caught.value.messages == [
        f"{waivers}: waivers[0].resource: a waiver for 'live' (production tier) must name"
        " a resource (resource: its construct path)"
    ]


def test_a_waiver_names_resources_never_a_whole_stack(tmp_path: Path) -> None:
    """A whole-stack waiver (log retention in dev) silently absorbed a newly added, untagged
    log group. A waiver now names its resource or a type rule a reviewer reads."""
    whole = write_waivers(
        tmp_path / "whole.yaml",
        """\
waivers:
  - check: CKV_AWS_338
    tier: dev
    reason: Log retention follows the environment config, a reviewed cost trade-off.
    owner: platform-team
    expires: 2027-01-01
""",
    )
    with pytest.raises(WaiversError) as caught:
        load_waivers(whole, tiers={"dev": "dev"})
    assert caught.value.messages == [
        f"{whole}: waivers[0].resource: a waiver must name a resource by its construct path "
        "(resource: cache/redis) or the resource type it covers (resource_type: type); a "
        "whole-stack waiver would also cover resources added later"
    ]
    (rule,) = load_waivers(
        write_waivers(
            tmp_path / "rule.yaml",
            whole.read_text().replace(
                "tier: dev\n", "tier: dev\n    resource_type: aws_cloudwatch_log_group\n"
            ),
        ),
        tiers={"dev": "dev"},
    )
    stacks = [
        verify.Stack(name, Path(f"stacks/{name}/cdk.tf.json"), document, resources)
        for name, document, resources in (
            ("dev", {"provider": {"aws": [{}]}}, ("aws_cloudwatch_log_group.app",)),
            ("staging", {"provider": {"aws": [{}]}}, ("aws_cloudwatch_log_group.app",)),
        )
    ]
    (applied,), _ = file_waivers_for([rule], stacks, {"dev": "dev", "staging": "staging"}, "w")
    assert applied.scope == "every aws_cloudwatch_log_group in dev"
    assert applied.matches("dev", "CKV_AWS_338", "aws_cloudwatch_log_group.app")
    assert not applied.matches("dev", "CKV_AWS_338", "aws_s3_bucket.logs")
    assert not applied.matches("staging", "CKV_AWS_338", "aws_cloudwatch_log_group.app")


CRASHING_WAIVER = """\
waivers:
  - check: CKV_GCP_73
    environments: [dev]
    resource: fail_waf
    reason: Checkov 3.3.30 crashes on this rule shape; the cve-canary rule is reviewed by hand.
    owner: platform-team
    expires: 2027-01-31
"""


@pytest.fixture(scope="module")
def crashing_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[CliRun, CliRun]:
    workdir = tmp_path_factory.mktemp("crashing")
    waivers = write_waivers(workdir / "waivers.yaml", CRASHING_WAIVER)
    bare = run_cli(workdir / "bare", FIXTURES / "crashing", "--today", TODAY)
    waived = run_cli(
        workdir / "waived", FIXTURES / "crashing", "--today", TODAY, "--waivers", waivers
    )
    return bare, waived


def test_a_check_that_crashes_inside_checkov_fails_the_gate(
    crashing_runs: tuple[CliRun, CliRun],
) -> None:
    """Checkov logs a check that raised and leaves it out of its report: never a silent pass.

    The fixture is the Cloud Armor rule shape of our GCP stacks, on which CKV_GCP_73 raises.
    """
    bare, _ = crashing_runs
    assert bare.code == 1
    assert "  dev  CKV_GCP_73  Ensure Cloud Armor prevents message lookup in Log4j2" in bare.stdout
    assert "(the check crashed on this resource)" in bare.stdout
    assert "    resource: google_compute_security_policy.fail_waf" in bare.stdout
    assert "verify: 1 check runs crashed inside Checkov" in bare.stderr
    assert "Traceback" not in bare.stderr


def test_a_crashed_check_can_be_waived_with_a_reason(crashing_runs: tuple[CliRun, CliRun]) -> None:
    _, waived = crashing_runs
    assert waived.code == 0, waived.stdout
    assert waived.stdout.rstrip().endswith("verify: PASS")
    # Reported as a crash the waiver accepts, never as a result.
    assert "Crashed checks accepted by a waiver (1;" in waived.stdout
    assert "  dev  CKV_GCP_73  google_compute_security_policy.fail_waf\n" in waived.stdout
    assert "  dev  CKV_GCP_73  construct fail_waf\n" in waived.stdout
    assert "covers 1 finding: google_compute_security_policy.fail_waf (crashed)" in waived.stdout


def test_unused_waivers_are_listed_only_for_stacks_this_run_scanned() -> None:
    """An operator waiver that covers nothing is listed as unused only when a stack this run
    scanned is in its scope: a GCP run does not report the AWS waivers as stale."""

    def waiver(check: str, environment: str, **scope: object) -> FileWaiver:
        fields = {
            "check": check,
            "environments": [environment],
            "resource": "cache/redis",
            "reason": "A reason that is a complete sentence.",
            "owner": "platform-team",
            "expires": "2027-01-01",
            **scope,
        }
        return FileWaiver.model_validate(fields, context={"tiers": {environment: "dev"}})

    gcp_dev = verify.Stack(
        name="dev",
        path=Path("stacks/dev/cdk.tf.json"),
        document={"provider": {"google": [{}]}},
        resources=(),
    )

    def listed(entry: FileWaiver) -> bool:
        return bool(verify._idle([(0, entry)], [gcp_dev], {"dev": "dev"}, "w.yaml"))

    assert listed(waiver("CKV_GCP_62", "dev"))
    assert listed(waiver("CKV_GW_TAG_1", "dev"))
    assert not listed(waiver("CKV_AWS_338", "dev"))
    assert not listed(waiver("CKV_GW_TAG_1", "dev", cloud="aws"))
    assert not listed(waiver("CKV_GCP_62", "production"))


def test_requirement_map_merges_the_folder_and_refuses_a_check_mapped_twice(
    tmp_path: Path,
) -> None:
    (tmp_path / "common.yaml").write_text("optional: {AUTH-1: features.auth_enabled}\n")
    (tmp_path / "aws.yaml").write_text("checks: {CKV_AWS_17: [NET-2]}\n")
    (tmp_path / "gcp.yaml").write_text("checks: {CKV_GCP_60: [NET-2]}\n")
    mapping = verify.load_requirement_map(tmp_path)
    assert mapping.checks == {"CKV_AWS_17": ("NET-2",), "CKV_GCP_60": ("NET-2",)}
    assert mapping.optional == {"AUTH-1": "features.auth_enabled"}
    (tmp_path / "azure.yaml").write_text("checks: {CKV_AWS_17: [NET-9]}\n")
    with pytest.raises(verify.PolicyError) as caught:
        verify.load_requirement_map(tmp_path)
    assert f"{tmp_path / 'azure.yaml'}: checks.CKV_AWS_17: already mapped in another file" in str(
        caught.value
    )
    assert f"{tmp_path / 'azure.yaml'}: checks.CKV_AWS_17: unknown requirement NET-9" in str(
        caught.value
    )


def test_bootstrap_only_requirements_do_not_apply_to_workload_stacks() -> None:
    """STATE-2 concerns the bootstrap stacks; a workload stack is never UNCHECKED on it."""
    config = load_environment(ROOT / "environments" / "production.yaml")
    mapping = verify.RequirementMap({}, {}, ("STATE-2", "TAG-1"), ("STATE-2",))
    assert not verify.applicable("STATE-2", config, mapping)
    assert verify.applicable("STATE-1", config, mapping)
    bootstrap = config.model_copy(update={"role": "bootstrap"})
    assert verify.applicable("STATE-2", bootstrap, mapping)
    assert not verify.applicable("STATE-1", bootstrap, mapping)


@pytest.mark.parametrize("level", ["ERROR", "CRITICAL"])
def test_log_level_in_the_environment_cannot_hide_a_crash(tmp_path: Path, level: str) -> None:
    """Checkov logs crashes at ERROR; LOG_LEVEL=CRITICAL hid them and the crash passed."""
    # Checkov runs directly: a fork server read LOG_LEVEL once, at its own start.
    env = {"LOG_LEVEL": level, SERVER_ENV: ""}
    run = run_cli(tmp_path, FIXTURES / "crashing", "--today", TODAY, env=env)
    assert run.code == 1, run.stdout
    assert "(the check crashed on this resource)" in run.stdout


def test_files_terraform_would_load_beside_the_stack_are_refused(tmp_path: Path) -> None:
    """A public, unencrypted database in `extra.tf.json` passed: Terraform loads it, the gate
    scanned only cdk.tf.json."""
    stack = tmp_path / "stacks" / "dev"
    stack.mkdir(parents=True)
    shutil.copy(FIXTURES / "clean/stacks/staging/cdk.tf.json", stack / "cdk.tf.json")
    database = {"aws_db_instance": {"db": {"publicly_accessible": True, "engine": "postgres"}}}
    for name in ("extra.tf.json", "main_override.tf.json", "more.tf", "x.auto.tfvars"):
        (stack / name).write_text(json.dumps({"resource": database}), encoding="utf-8")
    (stack / "notes.txt").write_text("not loaded by Terraform", encoding="utf-8")
    (loaded,) = verify.discover_stacks(tmp_path)
    assert [r.split(":")[0] for r in loaded.refusals] == [
        "extra.tf.json",
        "main_override.tf.json",
        "more.tf",
        "x.auto.tfvars",
    ]
    report = verify.evaluate(
        verify.Scan([loaded], "3.3.30", [], frozenset()), [], TODAY, "waivers.yaml"
    )
    assert "4 refused constructs" in report.reasons
    assert "Refused (4, cannot be waived: remove them):" in render_text(report)


def test_constructs_the_project_never_generates_are_refused() -> None:
    document = {
        "module": {"vpc": {"source": "terraform-aws-modules/vpc/aws"}},
        "data": {"external": {"token": {"program": ["sh", "-c", "echo {}"]}}},
        "resource": {
            "aws_instance": {"box": {"provisioner": [{"local-exec": {"command": "curl x | sh"}}]}},
            "terraform_data": {
                "remote": {
                    "provisioner": [{"remote-exec": {"inline": ["id"]}}],
                    "connection": {"host": "x"},
                }
            },
            "aws_db_instance": {
                "db": {"lifecycle": {"ignore_changes": ["kms_key_id", "deletion_protection"]}}
            },
            "aws_s3_bucket": {"logs": {"lifecycle": {"ignore_changes": "all"}}},
            "aws_ecs_service": {"app": {"lifecycle": {"ignore_changes": ["desired_count"]}}},
            "google_secret_manager_secret": {
                "jwt": {"lifecycle": {"ignore_changes": ["rotation[0].next_rotation_time"]}}
            },
        },
    }
    found = refused_constructs(document)
    assert sorted(line.split(":")[0] for line in found) == [
        "aws_db_instance.db",
        "aws_db_instance.db",
        "aws_instance.box",
        "aws_s3_bucket.logs",
        "data.external.token",
        "module.vpc",
        "terraform_data.remote",
        "terraform_data.remote",
    ]
    assert any("ignore_changes 'kms_key_id' hides drift" in line for line in found)
    assert any("ignore_changes 'all'" in line for line in found)


def test_only_a_declared_step_may_carry_a_provisioner() -> None:
    """A `terraform_data` with one local-exec that declares what it does and the role it
    needs (constructs/gcp/steps.py) is admitted; anything short of that is refused."""
    step = {
        "provisioner": [
            {"local-exec": {"command": "gcloud x --quiet", "interpreter": ["/bin/sh", "-c"]}}
        ],
        "input": {"does": "creates the agent", "role": "roles/serviceusage.serviceUsageAdmin"},
    }
    undeclared = {**step, "input": {"does": "creates the agent"}}
    other_shell = {
        **step,
        "provisioner": [{"local-exec": {"command": "x", "interpreter": ["/bin/bash", "-c"]}}],
    }
    two = {**step, "provisioner": [*step["provisioner"], *step["provisioner"]]}
    document = {
        "resource": {
            "terraform_data": {"step": step, "undeclared": undeclared, "bash": other_shell,
                               "two": two},
            "aws_s3_bucket": {"step_like": step},
        }
    }  # fmt: skip
    assert sorted(line.split(":")[0] for line in refused_constructs(document)) == [
        "aws_s3_bucket.step_like",
        "terraform_data.bash",
        "terraform_data.two",
        "terraform_data.undeclared",
    ]


def test_a_failure_without_a_requirement_says_how_to_fix_or_waive_it(
    failing_scan: verify.Scan,
) -> None:
    text = render_text(verify.evaluate(failing_scan, [], TODAY, "policies/waivers.yaml"))
    assert (
        "requirement: none mapped. Fix the resource. If the construct builds it this way on"
        ' purpose, declare the waiver beside the resource: waive(<resource>, "CKV_AWS_26",'
        " reason=..., owner=..., expires=...) from synth.construct_waivers. For an operator"
        " exception, add an entry such as this to policies/waivers.yaml:"
    ) in " ".join(text.split())
    assert "      - check: CKV_AWS_26\n        environments: [dev]\n" in text
    assert "        resource: fail_alerts\n" in text


def test_report_sarif_and_json_quote_the_requirement_catalog(
    failing_scan: verify.Scan, tmp_path: Path
) -> None:
    mapping = verify.RequirementMap({SNS_ENCRYPTION: ("OBS-3",)}, {})
    report = verify.evaluate(failing_scan, [], TODAY, "w.yaml", requirement_map=mapping)
    text = render_text(report)
    statement = (
        "OBS-3: Alerts go to a notification channel addressed from the environment config. "
        "(guide 003)"
    )
    assert f"requirement: {statement}" in " ".join(text.split())
    assert "REQUIREMENTS.md" not in text
    write_sarif(report, tmp_path / "verify.sarif")
    sarif = json.loads((tmp_path / "verify.sarif").read_text())
    (rule,) = [r for r in sarif["runs"][0]["tool"]["driver"]["rules"] if r["id"] == SNS_ENCRYPTION]
    assert rule["fullDescription"]["text"] == statement
    write_json(report, tmp_path / "verify.json")
    assert json.loads((tmp_path / "verify.json").read_text())["requirement_catalog"]["OBS-3"] == (
        statement
    )


def test_a_failed_run_leaves_no_earlier_pass_behind(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    for name in ("verify.json", "verify.xml", "verify.sarif"):
        (reports / name).write_text('{"result": "pass"}', encoding="utf-8")
    bad = write_waivers(tmp_path / "waivers.yaml", "waivers: [{check: X}]\n")
    run = run_cli(
        tmp_path / "work",
        FIXTURES / "clean",
        "--waivers",
        bad,
        "--json",
        reports / "verify.json",
        "--junit",
        reports / "verify.xml",
        "--sarif",
        reports / "verify.sarif",
    )
    assert run.code == 2
    assert sorted(p.name for p in reports.iterdir()) == []


def test_environments_command_exits_2_on_bad_input_and_0_on_good(tmp_path: Path) -> None:
    """The check main.py runs before synthesizing, on its own: bad input (2) is told apart
    from a gate failure (1). The edited file leads the message (it was modified last)."""
    bad = tmp_path / "environments"
    shutil.copytree(ROOT / "environments", bad)
    staging = (bad / "staging.yaml").read_text()
    (bad / "staging.yaml").write_text(staging.replace("10.20.0.0/16", "10.30.0.0/17"))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("CLOUD", None)
    command = [sys.executable, "-m", "synth", "environments"]
    failed = subprocess.run(
        [*command, str(bad)], env=env, capture_output=True, text=True, check=False
    )
    assert failed.returncode == 2
    assert failed.stderr.startswith(
        f"{bad / 'staging.yaml'}: network.cidr: 10.30.0.0/17 overlaps 10.30.0.0/16 of "
        f"{bad / 'production.yaml'} (both on aws): they could never be peered"
    )
    good = subprocess.run(
        [*command, str(ROOT / "environments")], env=env, capture_output=True, text=True, check=False
    )
    assert good.returncode == 0, good.stderr
    # A bad operator waivers file is bad input too, found before synthesis (newcomer review:
    # `make synth` reported it as a gate failure, exit 1, after the whole synthesis).
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(
        "waivers:\n  - check: CKV_AWS_26\n    resource: alerts/topic\n    reason: short\n"
        "    owner: platform-team\n    expires: 2027-06-30\n"
    )
    refused = subprocess.run(
        [*command, str(ROOT / "environments"), "--waivers", str(waivers)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert refused.returncode == 2
    assert f"{waivers}: waivers[0].reason: must be a full sentence" in refused.stderr


def test_an_operator_waiver_for_an_environment_without_a_file_is_warned_about(
    tmp_path: Path,
) -> None:
    """`environments: [prodution]` applied nowhere, silently (newcomer review)."""
    waivers = write_waivers(
        tmp_path / "waivers.yaml",
        """waivers:
  - check: CKV_AWS_26
    environments: [prodution]
    resource: alerts/topic
    reason: A typo in the environment's name must not pass unnoticed.
    owner: platform-team
    expires: 2027-06-30
""",
    )
    run = run_cli(tmp_path / "work", FIXTURES / "clean", "--today", TODAY, "--waivers", waivers)
    assert run.code == 0, run.stdout + run.stderr
    assert (
        f"verify: warning: {waivers} waivers[0]: environments: prodution has no "
        f"{ROOT / 'environments' / 'prodution.yaml'}; the waiver applies nowhere"
    ) in run.stderr


def test_scannable_copy_drops_moved_blocks_which_checkov_cannot_parse() -> None:
    moved = [{"from": "aws_ecs_cluster.service_cluster_B81F1F5D", "to": "aws_ecs_cluster.cluster"}]
    document = {"resource": {"aws_ecs_cluster": {"cluster": {"name": "x"}}}, "moved": moved}
    assert verify.scannable(document) == {
        "resource": {"aws_ecs_cluster": {"cluster": {"name": "x"}}}
    }
    assert document["moved"] == moved


def test_a_failing_output_older_than_its_environment_file_is_called_stale(
    tmp_path: Path,
) -> None:
    """An edited environment file and no new synthesis: the gate judges the old stack against
    the new file, and says so before and after its report instead of leaving 93 failures
    unexplained (newcomer review)."""
    out = tmp_path / "out"
    shutil.copytree(FIXTURES / "failing", out)
    environments = tmp_path / "environments"
    shutil.copytree(ROOT / "environments", environments)
    dev = environments / "dev.yaml"
    configs = {
        name: load_environment(environments / f"{name}.yaml", cloud="aws")
        for name in ("dev", "production")
    }
    fingerprint.record(out, "run", {name: "inputs" for name in configs}, configs)
    dev.write_text(dev.read_text().replace("cost_center: cc-1001", "cost_center: cc-1009"))
    run = run_cli(tmp_path / "work", out, "--today", TODAY, "--environments", environments)
    assert run.code == 1, run.stdout + run.stderr
    assert (
        f"verify: warning: {out / 'stacks' / 'dev'} was synthesized from another {dev} than "
        "the one there now; it is judged against the file as it is"
    ) in run.stderr
    assert "production was synthesized" not in run.stderr  # its file is as it was
    assert run.stderr.rstrip().endswith(
        f"verify: stale output: dev synthesized before {environments}/ changed; the failures "
        "may only mean that: synthesize again (make synth)"
    )
