"""The verify gate passes on every synthesized stack of every cloud (the clean matrix): the
environments and each cloud's bootstrap stack, with every applicable requirement checked."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from matrix import CLOUDS, ENVIRONMENTS, ROOT, bootstrap_stack, synthesize_clouds

from synth.waivers import load_waivers


@pytest.mark.parametrize("cloud", CLOUDS)
def test_gate_passes_and_evaluates_every_resource(
    matrix_dir: Path, tmp_path: Path, cloud: str
) -> None:
    report_path = tmp_path / "verify.json"
    command = [
        sys.executable,
        "-m",
        "synth",
        "verify",
        str(matrix_dir / cloud),
        "--require-coverage",
    ]
    result = subprocess.run(
        [*command, "--json", str(report_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.rstrip().endswith("verify: PASS")
    report = json.loads(report_path.read_text())
    stacks = {stack["stack"]: stack for stack in report["stacks"]}
    assert sorted(stacks) == sorted([*ENVIRONMENTS, bootstrap_stack(cloud)])
    for name, stack in stacks.items():
        assert stack["evaluated"] == stack["resources"], name
    unchecked = [r for r in report["requirements"] if r["status"] == "unchecked"]
    assert unchecked == []
    # APP-6's immutable tags: ECR and Artifact Registry are configured so; ACR cannot be
    # (CKV_GW_APP_77 fails it, the registry construct waives it), so Azure reads waived.
    app_6 = {
        r["status"]
        for r in report["requirements"]
        if r["requirement"] == "APP-6" and r["stack"] in ENVIRONMENTS
    }
    assert app_6 == ({"waived"} if cloud == "azure" else {"pass"})
    # Every waiver the stacks need is declared by the construct that causes it; none is
    # stale, none expired (the date is pinned in tests/conftest.py).
    waivers = report["waivers"]
    assert waivers["applied"] and waivers["unused"] == [] and waivers["expired"] == []
    assert all(w["origin"].startswith("construct ") for w in waivers["applied"])


def qa_from_staging(staging: str) -> str:
    """The README's recipe: copy staging.yaml and change only what must be unique."""
    replacements = {
        "domain: staging.groundwork.example.com": "domain: qa.groundwork.example.com",
        "alert_email: alerts-staging@example.com": "alert_email: alerts-qa@example.com",
        "project: groundwork-staging": "project: groundwork-qa",
        "subscription_id: 00000000-0000-0000-0000-000000000002": (
            "subscription_id: 00000000-0000-0000-0000-000000000004"
        ),
        "cidr: 10.20.0.0/16": "cidr: 10.40.0.0/16",
        # Same AWS account and region as staging, which creates RDSOSMetrics and the app's
        # shared log-delivery policy; the two share the account, so each budget counts its
        # own environment tag (staging says so too: `sharing_account`).
        "  region: eu-west-1\n": (
            "  region: eu-west-1\n  rds_os_metrics_log_group: exists\n"
            "  log_delivery_policy_regions: []\n  account_shared: true\n"
        ),
    }
    for old, new in replacements.items():
        assert staging.count(old) == 1, old
        staging = staging.replace(old, new)
    return staging


def sharing_account(source: str) -> str:
    """The README's recipe for the copy's source: it says it shares its account now."""
    old = "  region: eu-west-1\n"
    assert source.count(old) == 1
    return source.replace(old, f"{old}  account_shared: true\n")


@pytest.fixture(scope="module")
def qa_environments(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """environments/ plus qa.yaml, a copy of staging.yaml (issue 10: adding an environment of
    an existing tier needs no waiver edits)."""
    directory = tmp_path_factory.mktemp("environments")
    for path in (ROOT / "environments").glob("*.yaml"):
        shutil.copy(path, directory / path.name)
    staging = (ROOT / "environments" / "staging.yaml").read_text()
    (directory / "qa.yaml").write_text(qa_from_staging(staging))
    (directory / "staging.yaml").write_text(sharing_account(staging))
    return directory


@pytest.fixture(scope="module")
def qa_matrix(qa_environments: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    extra = {"GROUNDWORK_ENVIRONMENTS": str(qa_environments), "GROUNDWORK_STACKS": "qa"}
    return synthesize_clouds(tmp_path_factory.mktemp("qa"), extra_env=extra)


@pytest.mark.parametrize("cloud", CLOUDS)
def test_a_new_environment_of_an_existing_tier_passes_with_no_waiver_edits(
    qa_environments: Path, qa_matrix: Path, tmp_path: Path, cloud: str
) -> None:
    shipped = ROOT / "policies" / "waivers.yaml"
    # No entry of the operator file names qa (the file is not edited for it).
    assert all("qa" not in (entry.environments or ()) for entry in load_waivers(shipped))
    report_path = tmp_path / "verify.json"
    result = subprocess.run(
        [
            sys.executable, "-m", "synth", "verify", str(qa_matrix / cloud),
            "--require-coverage", "--waivers", str(shipped),
            "--environments", str(qa_environments), "--json", str(report_path),
        ],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(report_path.read_text())
    assert [stack["stack"] for stack in report["stacks"]] == ["qa"]
    # qa's waivers came with its resources, from the constructs that cause them.
    applied = report["waivers"]["applied"]
    assert applied and {w["environment"] for w in applied} == {"qa"}
    assert all(w["origin"].startswith("construct ") for w in applied), applied
    assert report["waivers"]["unused"] == []
