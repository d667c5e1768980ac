"""Tests that the verify gate catches one violation of each requirement a cloud implements.

Per cloud with a mutations/<cloud>.yaml: the clean stacks come from the session's matrix;
each mutation edits a copy of one clean stack into `stacks/<requirement>-<n>/`, and one
Checkov run scans all of them next to the clean copies (`clean-<stack>`). A mutation is
caught when the gate reports a failed check for its requirement on the mutated stack that
the clean stack does not have.

Optional requirements (AUTH-1, DNS-1, ...) are off in the shipped environments, so a
mutations file may declare `variants`: an environment copied from a shipped one with some
settings changed (`set`, merged into its YAML), synthesized with the real app for this
cloud; its clean stack is scanned and mutated like the others.
"""

from __future__ import annotations

import copy
import datetime as dt
import fnmatch
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from matrix import ENVIRONMENTS, ROOT, start_synth, wait_all

from synth import verify
from synth.config import load_environment
from synth.reports import GateReport, Status
from synth.requirements import REQUIREMENTS


class MutationError(Exception):
    """An edit matched nothing: the mutation is stale and must be updated."""


def _children(node: Any, segment: str) -> list[tuple[Any, Any]]:
    """(container, key) pairs that `segment` selects under `node`."""
    if isinstance(node, list):
        if segment == "*":
            return [(node, index) for index in range(len(node))]
        if segment.isdigit() and int(segment) < len(node):
            return [(node, int(segment))]
        return []
    if isinstance(node, dict):
        return [(node, key) for key in node if key != "//" and fnmatch.fnmatchcase(key, segment)]
    return []


def apply_edit(document: dict[str, Any], edit: dict[str, Any]) -> int:
    """Apply one edit; returns how many places it changed. `set` may create the last key."""
    *parents, last = edit["path"].split(".")
    nodes: list[Any] = [document]
    for segment in parents:
        nodes = [container[key] for node in nodes for container, key in _children(node, segment)]
    changed = 0
    for node in nodes:
        if "set" in edit and isinstance(node, dict) and not any(ch in last for ch in "*?["):
            node[last] = edit["set"]
            changed += 1
            continue
        for container, key in _children(node, last):
            if edit.get("delete"):
                del container[key]
            elif "replace" in edit:
                old, new = edit["replace"]
                if not isinstance(container[key], str) or old not in container[key]:
                    continue
                container[key] = container[key].replace(old, new)
            else:
                container[key] = edit["set"]
            changed += 1
    if not changed:
        raise MutationError(f"{edit['path']}: matched nothing")
    return changed


MUTATIONS = Path(__file__).resolve().parent / "mutations"
CHECKS = ROOT / "policies" / "checks"
STACK = "cdk.tf.json"


def _merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in changes.items():
        both = isinstance(value, dict) and isinstance(merged.get(key), dict)
        merged[key] = _merge(merged[key], value) if both else value
    return merged


def load_variants(cloud: str) -> dict[str, dict[str, Any]]:
    """`{name: environment YAML data}` of the cloud's variants (none when not declared)."""
    data = yaml.safe_load((MUTATIONS / f"{cloud}.yaml").read_text())
    variants = {}
    for name, variant in (data.get("variants") or {}).items():
        assert name not in ENVIRONMENTS, f"variant {name} shadows a shipped environment"
        base = yaml.safe_load((ROOT / "environments" / f"{variant['from']}.yaml").read_text())
        variants[name] = _merge(base, variant["set"])
    return variants


def synthesize_variants(cloud: str, work: Path) -> dict[str, Path]:
    """Synthesize the cloud's variants with the real app; `{name: environment file}`."""
    variants = load_variants(cloud)
    if not variants:
        return {}
    environments = work / "environments"
    environments.mkdir(parents=True)
    files = {}
    for name, data in variants.items():
        files[name] = environments / f"{name}.yaml"
        files[name].write_text(yaml.safe_dump(data, sort_keys=False))
    wait_all(
        {
            f"{cloud} variants": start_synth(
                cloud, work / "out", extra_env={"GROUNDWORK_ENVIRONMENTS": str(environments)}
            )
        }
    )
    return files


def load_mutations(cloud: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = yaml.safe_load((MUTATIONS / f"{cloud}.yaml").read_text())[
        "mutations"
    ]
    numbers: Counter[str] = Counter()
    for entry in entries:
        numbers[entry["requirement"]] += 1
        entry["name"] = f"{entry['requirement']}-{numbers[entry['requirement']]}"
    return entries


def implemented(cloud: str) -> set[str]:
    """Requirement IDs the cloud's constructs claim on their `Satisfies:` lines."""
    found: set[str] = set()
    for path in (ROOT / "constructs" / cloud).rglob("*.py"):
        for line in re.findall(r"^Satisfies: (.+)$", path.read_text(), re.MULTILINE):
            found.update(part.strip() for part in line.split(","))
    return found & set(REQUIREMENTS)


CLOUDS_WITH_MUTATIONS = sorted(path.stem for path in MUTATIONS.glob("*.yaml"))


@pytest.fixture(scope="module", params=CLOUDS_WITH_MUTATIONS)
def cloud(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture(scope="module")
def mutation_report(
    cloud: str, matrix_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> GateReport:
    work = tmp_path_factory.mktemp(f"mutated-{cloud}")
    # The environments' stacks; other stacks in the output (e.g. a bootstrap) are not mutated.
    clean = {
        name: json.loads((matrix_dir / cloud / "stacks" / name / "cdk.tf.json").read_text())
        for name in ENVIRONMENTS
    }
    configs = {
        name: load_environment(ROOT / "environments" / f"{name}.yaml", cloud=cloud)
        for name in clean
    }
    for name, path in synthesize_variants(cloud, work / "variants").items():
        clean[name] = json.loads((work / "variants" / "out" / "stacks" / name / STACK).read_text())
        configs[name] = load_environment(path, cloud=cloud)
    named = {f"clean-{name}": (document, name) for name, document in clean.items()}
    for mutation in load_mutations(cloud):
        document = copy.deepcopy(clean[mutation["stack"]])
        for edit in mutation["edits"]:
            apply_edit(document, edit)
        named[mutation["name"]] = (document, mutation["stack"])
    for name, (document, _) in named.items():
        target = work / "stacks" / name / STACK
        target.parent.mkdir(parents=True)
        target.write_text(json.dumps(document, indent=2))
    scan = verify.run_checkov(
        verify.discover_stacks(work),
        [CHECKS],
        {name: configs[source] for name, (_, source) in named.items()},
    )
    return verify.evaluate(
        scan,
        [],
        dt.date.today(),
        "none",
        catalog=verify.load_policy_catalog([CHECKS]),
        requirement_map=verify.load_requirement_map(ROOT / "policies" / "requirements"),
    )


def new_failures(report: GateReport, stack: str, baseline: str) -> set[tuple[str, str, str]]:
    """(requirement, check, resource) failing on `stack` but not on its clean `baseline`."""

    def failing(name: str) -> set[tuple[str, str, str]]:
        return {
            (requirement, f.check_id, f.resource)
            for f in report.findings
            if f.stack == name and f.status is Status.FAILED
            for requirement in f.requirements
        }

    return failing(stack) - failing(baseline)


@pytest.mark.parametrize("cloud_name", CLOUDS_WITH_MUTATIONS)
def test_mutation_file_names_known_requirements(cloud_name: str) -> None:
    for mutation in load_mutations(cloud_name):
        assert mutation["requirement"] in REQUIREMENTS, mutation
        assert mutation["edits"] and mutation["description"], mutation


def test_every_mutation_is_caught_with_its_requirement(
    cloud: str, mutation_report: GateReport, capsys: pytest.CaptureFixture[str]
) -> None:
    mutations = load_mutations(cloud)
    missed = []
    for mutation in mutations:
        caught = new_failures(mutation_report, mutation["name"], f"clean-{mutation['stack']}")
        if not any(requirement == mutation["requirement"] for requirement, _, _ in caught):
            missed.append(f"{mutation['name']} ({mutation['description']}): new {sorted(caught)}")
    covered = {m["requirement"] for m in mutations}
    uncovered = sorted(implemented(cloud) - covered, key=list(REQUIREMENTS).index)
    with capsys.disabled():
        print(f"\n{cloud}: caught {len(mutations) - len(missed)}/{len(mutations)}")
        print(
            f"implemented by constructs/{cloud} but without a mutation yet: {', '.join(uncovered)}"
        )
    assert not missed, "\n".join(missed)


def test_clean_stacks_have_no_custom_policy_failures(mutation_report: GateReport) -> None:
    failed = [
        (f.stack, f.check_id, f.resource, f.details)
        for f in mutation_report.findings
        if f.stack.startswith("clean-")
        and f.check_id.startswith("CKV_GW_")
        and f.status is not Status.PASSED
    ]
    assert failed == []
