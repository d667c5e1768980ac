"""Tests every custom policy on its fixtures: resources named `pass_*` pass and `fail_*` fail,
exactly (as Checkov's own tests do), judged against the named environment's config.

`fixtures/<cloud>/<policy id>/<env>[.<label>].tf.json` is a small stack checked as if it were
environment `<env>` (environments/<env>.yaml). Provider policies have no resource names, so a
provider fixture's `<label>` (pass_* / fail_* / unknown_*) is its expected outcome.

Two judges, each on the fixtures of its kind of policy, both evaluated by the gate's own code
(issue 13: Checkov's parse and graph made this module 36 s of CPU, for ~480 small stacks whose
Python policies read neither):
- a YAML (graph) policy's fixtures: one Checkov run through the gate's `run_checkov`;
- a Python policy's fixtures: tests/policy_runner.py, which calls each check's `run` exactly
  as Checkov's terraform_json runner does. tests/policies/test_mutations.py requires its
  records to equal Checkov's on every stack both judge, so a Python policy's verdict here is
  Checkov's; and every policy still runs inside Checkov on the matrix (test_gate_on_matrix).

`unknown_*` pins the third outcome: a value the policy cannot resolve is reported as unknown
(never passed) where the tier allows it, i.e. in dev; the same value in staging or production
is a `fail_*` fixture.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from matrix import CLOUDS, ROOT
from policy_runner import run_policies

from synth import clock, verify
from synth.checkov_run import Scan, _canonical
from synth.config import EnvironmentConfig, load_environment
from synth.reports import GateReport, Status

# Policies whose property no stack of their cloud can meet: they fail everywhere and the
# constructs declare the deviation as a waiver, so the gate reports waived, never pass.
NEVER_PASSES = {
    # SEC-1 "encrypted with the environment's key": Key Vault has no customer key for secrets
    # (https://learn.microsoft.com/azure/key-vault/general/security-features).
    "CKV_GW_SEC_74",
    # OBJ-5 "TLS-only access": Cloud Storage's XML API accepts plain HTTP and no bucket setting
    # refuses it (https://cloud.google.com/storage/docs/request-endpoints).
    "CKV_GW_OBJ_44",
    # APP-6 "immutable tags": ACR has no registry-wide tag immutability; the release pipeline
    # locks each tag (https://learn.microsoft.com/azure/container-registry/
    # container-registry-image-lock).
    "CKV_GW_APP_77",
}
FIXTURES = Path(__file__).resolve().parent / "fixtures"
CHECKS = ROOT / "policies" / "checks"


def fixture_files() -> list[tuple[str, str, Path]]:
    """(cloud, policy id, file) for every fixture file."""
    return [
        (path.parent.parent.name, path.parent.name, path)
        for path in sorted(FIXTURES.glob("*/*/*.tf.json"))
    ]


def stack_name(policy: str, path: Path) -> str:
    """`<policy>.<cloud>.<env>[.<label>]`: a cross-cloud policy has fixtures on every cloud."""
    return f"{policy}.{path.parent.parent.name}.{path.name.removesuffix('.tf.json')}"


@pytest.fixture(scope="module")
def fixture_report(tmp_path_factory: pytest.TempPathFactory) -> GateReport:
    work = tmp_path_factory.mktemp("fixtures")
    configs = {}
    # One load per (environment, cloud), not one per fixture: 360 fixtures share 9 configs,
    # and each load parses YAML in pure Python (issue 13).
    loaded: dict[tuple[str, str], EnvironmentConfig] = {}
    for cloud, policy, path in fixture_files():
        name = stack_name(policy, path)
        target = work / "stacks" / name / "cdk.tf.json"
        target.parent.mkdir(parents=True)
        shutil.copy(path, target)
        environment = path.name.split(".")[0]
        if (environment, cloud) not in loaded:
            file = ROOT / "environments" / f"{environment}.yaml"
            loaded[environment, cloud] = load_environment(file, cloud=cloud)
        configs[name] = loaded[environment, cloud]
    stacks = verify.discover_stacks(work)
    graph = {
        pid for pid, policy in verify.load_policy_catalog([CHECKS]).items()
        if Path(policy.path).suffix in (".yaml", ".yml")
    }  # fmt: skip
    in_checkov = [stack for stack in stacks if stack.name.split(".")[0] in graph]
    in_runner = [stack for stack in stacks if stack.name.split(".")[0] not in graph]
    assert in_checkov and in_runner
    checkov = verify.run_checkov(in_checkov, [CHECKS], configs)
    runner = run_policies(in_runner, configs, tmp_path_factory.mktemp("runner"))
    scan = Scan(
        stacks,
        checkov.checkov_version,
        _canonical([*checkov.records, *runner.records], stacks),
        checkov.unparsed | runner.unparsed,
        configs,
    )
    return verify.evaluate(scan, [], clock.today(), "none")  # pinned by tests/conftest.py


OUTCOMES = ("pass", "fail", "unknown")
STATUS_OUTCOME = {Status.PASSED: "pass", Status.UNKNOWN: "unknown"}  # anything else fails


def outcome(name: str) -> str:
    return next((kind for kind in OUTCOMES if name.startswith(f"{kind}_")), "")


def policy_ids() -> list[str]:
    return sorted({policy for _, policy, _ in fixture_files()})


@pytest.mark.parametrize("policy", policy_ids())
def test_policy_passes_and_fails_exactly_its_fixtures(
    fixture_report: GateReport, policy: str
) -> None:
    expected: dict[str, set[tuple[str, str]]] = {kind: set() for kind in OUTCOMES}
    files = {stack_name(p, path): path for _, p, path in fixture_files() if p == policy}
    stacks = set(files)
    for report in fixture_report.stacks:
        if report.name not in stacks:
            continue
        label = report.name.split(".", 3)[-1]
        if outcome(label):  # a provider fixture: the file's label is the outcome
            providers = json.loads(files[report.name].read_text()).get("provider", {})
            expected[outcome(label)].update((report.name, f"provider.{p}") for p in providers)
        for address in report.resources:
            kind = outcome(address.split(".")[-1])
            if kind:
                expected[kind].add((report.name, address))
    # Checkov reports every configuration of a provider (aliases included) as `provider.<name>`:
    # the address fails if any of its configurations fails.
    seen: dict[tuple[str, str], set[str]] = {}
    for finding in fixture_report.findings:
        if finding.check_id == policy and finding.stack in stacks:
            kind = STATUS_OUTCOME.get(finding.status, "fail")
            seen.setdefault((finding.stack, finding.resource), set()).add(kind)
    actual: dict[str, set[tuple[str, str]]] = {kind: set() for kind in OUTCOMES}
    for key, kinds in seen.items():
        actual[next(kind for kind in ("fail", "unknown", "pass") if kind in kinds)].add(key)

    assert expected["fail"], f"{policy} needs fail_ fixtures"
    assert expected["pass"] or policy in NEVER_PASSES, f"{policy} needs pass_ fixtures"
    assert actual == expected


@pytest.mark.parametrize("cloud", CLOUDS)
def test_every_policy_of_the_cloud_has_fixtures(cloud: str) -> None:
    catalog = verify.load_policy_catalog([CHECKS])
    policies = {pid for pid, policy in catalog.items() if Path(policy.path).parent.name == cloud}
    with_fixtures = {policy for owner, policy, _ in fixture_files() if owner == cloud}
    assert policies - with_fixtures == set()


def test_catalog_metadata_is_valid_and_ids_follow_the_requirement_area() -> None:
    catalog = verify.load_policy_catalog([CHECKS])
    assert catalog
    for policy in catalog.values():
        assert policy.id.startswith(f"CKV_GW_{policy.requirement.split('-')[0]}_"), policy
