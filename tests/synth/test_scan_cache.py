"""The gate's scan cache (synth/checkov_run.py): a stack whose document, config, policies,
waivers, gate code and tool versions are unchanged (and the other configs of its run, when
its policies read them) is not scanned again, and its report is byte-identical to a fresh
scan's; any change is a miss, and a waiver is judged afresh on
every run, so the cache can never turn a failure into a pass.

The suite runs with the cache off (tests/conftest.py); these tests turn it on in a folder of
their own.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from synth import checkov_run, verify
from synth.config import load_environment
from synth.reports import GateReport, Status, render_text, write_json, write_junit, write_sarif
from synth.waivers import load_waivers

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "verify"
TODAY = dt.date(2026, 11, 1)

# The `failing` fixture's dev stack has one unencrypted SNS topic (CKV_AWS_26 fails on it).
WAIVER = """\
waivers:
  - check: CKV_AWS_26
    environments: [dev]
    resource_type: aws_sns_topic
    reason: Dev alerts carry only synthetic test data, so the topic needs no key.
    owner: platform-team
    expires: 2026-12-31
"""

# A policy of our own that passes every SNS topic; FAILS_POLICY makes it fail them all.
POLICY = """\
from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck


class TopicPolicy(BaseResourceCheck):
    def __init__(self):
        super().__init__(
            name="Cache test policy on SNS topics",
            id="CKV_GW_CACHE_TEST_1",
            categories=[CheckCategories.GENERAL_SECURITY],
            supported_resources=["aws_sns_topic"],
        )

    def scan_resource_conf(self, conf):
        return CheckResult.PASSED


check = TopicPolicy()
"""
FAILS_POLICY = POLICY.replace("return CheckResult.PASSED", "return CheckResult.FAILED")


def outdir(tmp_path: Path, *stacks: tuple[str, str]) -> Path:
    """An output folder holding the named fixture stacks (`(fixture, stack)` pairs)."""
    out = tmp_path / "out"
    for fixture, stack in stacks:
        shutil.copytree(FIXTURES / fixture / "stacks" / stack, out / "stacks" / stack)
    return out


def scan(
    out: Path, cache: Path | None, monkeypatch: pytest.MonkeyPatch, checks: tuple[Path, ...] = ()
) -> verify.Scan:
    monkeypatch.setenv(checkov_run.CACHE_ENV, str(cache) if cache else "off")
    return verify.run_checkov(verify.discover_stacks(out), list(checks))


def evaluate(result: verify.Scan, waivers: Path | None = None) -> GateReport:
    return verify.evaluate(
        result, load_waivers(waivers) if waivers else [], TODAY, str(waivers or "none")
    )


def rendered(report: GateReport, folder: Path) -> dict[str, bytes]:
    """Every report the gate writes, as bytes."""
    folder.mkdir(parents=True)
    write_json(report, folder / "verify.json")
    write_junit(report, folder / "verify.xml")
    write_sarif(report, folder / "verify.sarif")
    files = {path.name: path.read_bytes() for path in sorted(folder.iterdir())}
    return {**files, "text": render_text(report).encode()}


def test_a_cache_hit_reports_byte_identical_to_a_fresh_scan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = outdir(tmp_path, ("failing", "dev"), ("failing", "production"), ("clean", "staging"))
    cache = tmp_path / "cache"
    fresh = evaluate(scan(out, None, monkeypatch))
    assert not fresh.passed  # the fixture fails, so a hit that passed would show here
    assert not (cache).exists()

    # Only dev is cached; then dev from the cache and the other two scanned by two Checkov
    # processes (as a large scan is split); then all three from the cache.
    only_dev = tmp_path / "only-dev"
    shutil.copytree(out / "stacks" / "dev", only_dev / "stacks" / "dev")
    scan(only_dev, cache, monkeypatch)
    capsys.readouterr()
    monkeypatch.setattr(checkov_run, "process_count", lambda stacks: min(stacks, 2))
    mixed = scan(out, cache, monkeypatch)
    log = capsys.readouterr().err
    assert "1 unchanged from the scan cache" in log and "(2 processes)" in log
    warm = scan(out, cache, monkeypatch)
    log = capsys.readouterr().err
    assert "3 unchanged from the scan cache" in log and "Checkov finished" not in log

    expected = rendered(fresh, tmp_path / "fresh")
    assert rendered(evaluate(mixed), tmp_path / "mixed") == expected
    assert rendered(evaluate(warm), tmp_path / "warm") == expected


def test_a_changed_waiver_is_judged_afresh_on_a_cache_hit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = outdir(tmp_path, ("failing", "dev"))
    cache = tmp_path / "cache"
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(WAIVER, encoding="utf-8")
    assert evaluate(scan(out, cache, monkeypatch), waivers).passed
    capsys.readouterr()

    waivers.write_text("waivers: []\n", encoding="utf-8")
    hit = scan(out, cache, monkeypatch)
    assert "1 unchanged from the scan cache" in capsys.readouterr().err
    report = evaluate(hit, waivers)
    assert not report.passed
    assert [(f.check_id, f.resource) for f in report.findings if f.status is Status.FAILED] == [
        ("CKV_AWS_26", "aws_sns_topic.fail_alerts")
    ]


def test_a_changed_policy_misses_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = outdir(tmp_path, ("failing", "dev"))
    cache = tmp_path / "cache"
    checks = tmp_path / "checks"
    checks.mkdir()
    (checks / "__init__.py").write_text("", encoding="utf-8")  # Checkov loads only packages
    policy = checks / "topic_policy.py"
    policy.write_text(POLICY, encoding="utf-8")

    def ours(result: verify.Scan) -> set[str]:
        return {r.result for r in result.records if r.check_id == "CKV_GW_CACHE_TEST_1"}

    assert ours(scan(out, cache, monkeypatch, (checks,))) == {"PASSED"}
    policy.write_text(FAILS_POLICY, encoding="utf-8")
    capsys.readouterr()
    changed = scan(out, cache, monkeypatch, (checks,))
    assert "from the scan cache" not in capsys.readouterr().err
    assert ours(changed) == {"FAILED"}


def test_every_input_of_a_scan_is_in_its_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shipped waivers, a policy, the gate's code and the lock file change the toolchain
    digest; a stack's document, name and config change its key."""
    project = tmp_path / "project"
    files = {
        "waivers": project / "policies" / "waivers.yaml",
        "policy": project / "policies" / "checks" / "aws" / "policy.py",
        "requirement map": project / "policies" / "requirements" / "map.yaml",
        "gate": project / "synth" / "graph.py",
        "lock": project / "Pipfile.lock",
    }
    for path in files.values():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("original\n", encoding="utf-8")
    monkeypatch.setattr(checkov_run, "PROJECT_ROOT", project)
    # The probe and the external check folders are hashed too; keep them out of this test.
    monkeypatch.setattr(checkov_run, "PROBE_DIR", project / "no-probe")
    digests = {"before": checkov_run.toolchain_digest()}
    for name, path in files.items():
        path.write_text("changed\n", encoding="utf-8")
        digests[name] = checkov_run.toolchain_digest()
    assert len(set(digests.values())) == len(digests), digests

    [stack] = verify.discover_stacks(outdir(tmp_path, ("failing", "dev")))
    assert stack.document is not None
    key = checkov_run.stack_key(stack, None, "toolchain")
    edited = dict(stack.document, output={"x": {"value": "y"}})
    config = load_environment(ROOT / "environments" / "dev.yaml", cloud="aws")
    others = [
        checkov_run.stack_key(stack, config, "toolchain"),
        checkov_run.stack_key(stack, None, "other toolchain"),
        checkov_run.stack_key(
            verify.Stack("staging", stack.path, stack.document, ()), None, "toolchain"
        ),
        checkov_run.stack_key(verify.Stack("dev", stack.path, edited, ()), None, "toolchain"),
    ]
    assert key not in others and len(set(others)) == len(others)
    staging = load_environment(ROOT / "environments" / "staging.yaml", cloud="aws")
    assert checkov_run.configs_digest({"dev": config, "staging": staging}) != (
        checkov_run.configs_digest({"dev": config, "staging": config})
    )


# A policy of our own that reads the other stacks' configs for the dev stack only, and fails
# dev's topics when another stack of the run is named staging.
READS_OTHERS = f"""\
import sys
sys.path.insert(0, {str(ROOT / "policies" / "checks")!r})
from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck
from groundwork_policy import gate_configs


class ReadsOthers(BaseResourceCheck):
    def __init__(self):
        super().__init__(
            name="Cache test policy reading other configs",
            id="CKV_GW_CACHE_TEST_2",
            categories=[CheckCategories.GENERAL_SECURITY],
            supported_resources=["aws_sns_topic"],
        )

    def run(self, scanned_file, *args, **kwargs):
        self.stack = scanned_file.split("/")[2]  # /stacks/<stack>/cdk.tf.json
        return super().run(scanned_file, *args, **kwargs)

    def scan_resource_conf(self, conf):
        stack = self.stack
        if stack != "dev":
            return CheckResult.PASSED
        others = gate_configs(stack)
        staging = any(c.name == "staging" for n, c in others.items() if n != stack)
        return CheckResult.FAILED if staging else CheckResult.PASSED


check = ReadsOthers()
"""


def test_only_a_stack_whose_policies_read_other_configs_misses_when_they_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another stack's config changed: dev, whose policy read it, is scanned again and judged
    differently; production, whose policies read only its own, comes from the cache. A change
    of a field no policy can read of another config (synth.config.SHARED_FIELDS) misses
    nothing."""
    out = outdir(tmp_path, ("failing", "dev"), ("failing", "production"))
    cache = tmp_path / "cache"
    checks = tmp_path / "checks"
    checks.mkdir()
    (checks / "__init__.py").write_text("", encoding="utf-8")
    (checks / "reads_others.py").write_text(READS_OTHERS, encoding="utf-8")
    environments = ROOT / "environments"
    own = {
        name: load_environment(environments / f"{name}.yaml", cloud="aws")
        for name in ("dev", "production")
    }
    third = load_environment(environments / "production.yaml", cloud="aws")
    scanned: list[str] = []
    start = checkov_run._start_checkov

    def recording(stacks, *args):  # type: ignore[no-untyped-def]
        scanned.extend(stack.name for stack in stacks)
        return start(stacks, *args)

    monkeypatch.setattr(checkov_run, "_start_checkov", recording)
    monkeypatch.setenv(checkov_run.CACHE_ENV, str(cache))

    def run(other: object) -> set[str]:
        scanned.clear()
        configs = {**own, "other": other}
        result = verify.run_checkov(verify.discover_stacks(out), [checks], configs)  # type: ignore[arg-type]
        return {r.result for r in result.records if r.check_id == "CKV_GW_CACHE_TEST_2"
                and r.stack == "dev"}  # fmt: skip

    assert run(third) == {"PASSED"} and sorted(scanned) == ["dev", "production"]
    assert run(third) == {"PASSED"} and scanned == []
    relabelled = third.model_copy(update={"cost_center": "cc-9999"})
    assert run(relabelled) == {"PASSED"} and scanned == []
    staging = load_environment(environments / "staging.yaml", cloud="aws")
    assert run(staging) == {"FAILED"} and scanned == ["dev"]


# A policy file as the catalog reads it (statically): its class constants.
CATALOG_POLICY = """\
class Policy:
    id = "CKV_GW_OBJ_90"
    name = "Buckets are versioned"
    requirement = "OBJ-1"
    severity = "HIGH"
    resource_types = ["aws_s3_bucket"]
"""


def test_the_policy_catalog_is_kept_in_the_cache_until_a_policy_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second gate run reads the catalog from the cache without parsing a file, equal to
    the parsed one; an edited policy is a miss and is read as edited."""
    from synth import coverage

    checks = tmp_path / "checks"
    checks.mkdir()
    policy = checks / "versioned.py"
    policy.write_text(CATALOG_POLICY, encoding="utf-8")
    monkeypatch.setenv(checkov_run.CACHE_ENV, "off")
    parsed = coverage.load_policy_catalog([checks])
    assert list(parsed) == ["CKV_GW_OBJ_90"]
    assert parsed["CKV_GW_OBJ_90"].reads == frozenset({"aws_s3_bucket"})

    monkeypatch.setenv(checkov_run.CACHE_ENV, str(tmp_path / "cache"))
    assert coverage.load_policy_catalog([checks]) == parsed  # parsed, then stored
    assert len(list((tmp_path / "cache" / "catalog").iterdir())) == 1

    def no_parsing(path: Path) -> None:
        raise AssertionError(f"{path} parsed on a cache hit")

    with monkeypatch.context() as patched:
        patched.setattr(coverage, "_parsed", no_parsing)
        assert coverage.load_policy_catalog([checks]) == parsed

    policy.write_text(CATALOG_POLICY.replace('"HIGH"', '"LOW"'), encoding="utf-8")
    assert coverage.load_policy_catalog([checks])["CKV_GW_OBJ_90"].severity == "LOW"
