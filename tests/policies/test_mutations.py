"""Tests that the verify gate catches one violation of each requirement a cloud implements.

Per cloud with a mutations/<cloud>.yaml: the clean stacks come from the session's matrix;
each mutation edits a copy of one clean stack. A mutation is caught when the gate reports a
failed check for its requirement on the mutated stack that the clean stack (`clean-<stack>`)
does not have. Two judges, in this order (issue 13: Checkov's parse and graph were most of
the suite's time):

1. our Python policies, run in-process by tests/policy_runner.py on every mutation in a
   stack of its own (`<requirement>-<n>`), only those of the mutation's requirement (no
   other check can report it), and every policy on the clean stacks;
2. Checkov, through the gate's own run_checkov, on the clean stacks and the mutations the
   first judge did not catch (those only a built-in check or a YAML policy of ours catches).

test_policies_in_process_give_checkovs_findings requires the first judge's findings to equal
Checkov's on every stack Checkov scanned (the clean ones and the mutated ones it got).

Optional requirements (AUTH-1, DNS-1, ...) are off in the shipped environments, so a
mutations file may declare `variants`: an environment copied from a shipped one with some
settings changed (`set`, merged into its YAML), synthesized with the real app for this
cloud; its clean stack is scanned and mutated like the others.

Checkov's cost is mostly per stack (parsing and the graph), so mutations share its stacks where
the attribution stays exact: a mutation may join a group stack when the built-in map gives
its requirement a single-resource Checkov check (CKV_<CLOUD>_<N>, not a graph check and not
one of ours) for a type it edits, the group holds no other mutation of its requirement, and
no resource it edits is edited by, refers to or is referred to (transitively) by another
mutation's resources. In a group, a mutation counts as caught only through such a check
failing on a resource it edited: that result depends on nothing but the resource's own
configuration, which no other edit in the stack reaches. Everything else (our cross-resource
policies, graph checks, provider or data edits, `solo: true`) gets a stack of its own.
A cloud opts in with `share_stacks: true` in its mutations file.
"""

from __future__ import annotations

import copy
import dataclasses
import fnmatch
import json
import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from matrix import ENVIRONMENTS, ROOT, start_synth, wait_all
from policy_runner import run_policies

from synth import clock, verify
from synth.config import bootstrap_configs, load_environment
from synth.reports import Finding, GateReport, Status
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


# Checkov's single-resource checks; CKV2_* are graph checks and CKV_GW_* are our policies.
LOCAL_CHECK = re.compile(r"^CKV_(?!GW_)[A-Z0-9]+_[0-9]+$")
INTERPOLATION = re.compile(r"\$\{(.*?)\}")
ADDRESS = re.compile(r"(?<![\w.-])(data\.)?([a-z][a-z0-9]*_[a-z0-9_]+)\.([A-Za-z0-9_-]+)")


def touched(document: dict[str, Any], mutation: dict[str, Any]) -> frozenset[str]:
    """Addresses (`type.name`) a mutation edits in the clean document; data sources and
    providers as `data.<type>.<glob>` / `provider.<name>`."""
    found: set[str] = set()
    for edit in mutation["edits"]:
        parts = edit["path"].split(".")
        if parts[0] != "resource":
            found.add(".".join(parts[:3]))
            continue
        named = document.get("resource", {}).get(parts[1], {})
        found.update(
            f"{parts[1]}.{name}"
            for name in named
            if name != "//" and (len(parts) == 2 or fnmatch.fnmatchcase(name, parts[2]))
        )
    return frozenset(found)


def reference_closure(document: dict[str, Any]) -> dict[str, set[str]]:
    """For every resource, the resources and data sources it refers to, transitively."""
    entities = {
        f"{prefix}{kind}.{name}": body
        for block, prefix in (("resource", ""), ("data", "data."))
        for kind, named in document.get(block, {}).items()
        for name, body in named.items()
        if name != "//"
    }
    direct = {}
    for address, body in entities.items():
        text = json.dumps(body)
        direct[address] = {
            f"{data or ''}{kind}.{name}"
            for expression in INTERPOLATION.findall(text)
            for data, kind, name in ADDRESS.findall(expression)
            if f"{data or ''}{kind}.{name}" in entities
        } - {address}
    closure = {}
    for address in direct:
        seen, todo = set(), list(direct[address])
        while todo:
            current = todo.pop()
            if current not in seen:
                seen.add(current)
                todo.extend(direct.get(current, ()))
        closure[address] = seen
    return closure


def local_check_types() -> dict[str, set[str]]:
    """Built-in single-resource check ID -> the resource types it evaluates."""
    from checkov.terraform.checks.resource.registry import resource_registry

    types: dict[str, set[str]] = {}
    for kind, checks in resource_registry.checks.items():
        for check in checks:
            if LOCAL_CHECK.match(check.id):
                types.setdefault(check.id, set()).add(kind)
    return types


def shares_stacks(cloud: str) -> bool:
    """Whether the cloud's mutations file opts in to group stacks (`share_stacks: true`)."""
    data = yaml.safe_load((MUTATIONS / f"{cloud}.yaml").read_text())
    return data.get("share_stacks") is True


def plan_stacks(
    mutations: list[dict[str, Any]], clean: dict[str, dict[str, Any]], *, share: bool = True
) -> dict[str, tuple[str, list[dict[str, Any]]]]:
    """`{stack name: (clean stack, mutations)}`; sets each mutation's `stack_name`, `touched`
    and `grouped` (credited only through single-resource checks on what it edited). Without
    `share`, every mutation gets a stack of its own."""
    mapping = verify.load_requirement_map(ROOT / "policies" / "requirements")
    check_types = local_check_types()
    closures = {name: reference_closure(document) for name, document in clean.items()}
    stacks: dict[str, tuple[str, list[dict[str, Any]]]] = {}
    groups: dict[str, list[str]] = {}
    for mutation in mutations:
        source = mutation["stack"]
        edited = touched(clean[source], mutation)
        mutation["touched"] = edited
        kinds = {address.split(".")[0] for address in edited}
        local = {
            check
            for check, requirements in mapping.checks.items()
            if mutation["requirement"] in requirements and check_types.get(check, set()) & kinds
        }
        groupable = (
            share
            and not mutation.get("solo")
            and bool(local)
            and all(not a.startswith(("data.", "provider.")) for a in edited)
        )
        reach = set(edited).union(*(closures[source].get(a, set()) for a in edited))
        home = None
        for stack in groups.get(source, []) if groupable else []:
            members = stacks[stack][1]
            others = set().union(*(m["touched"] for m in members))
            others_reach = others.union(*(closures[source].get(a, set()) for a in others))
            if all(m["requirement"] != mutation["requirement"] for m in members) and not (
                reach & others or others_reach & set(edited)
            ):
                home = stack
                break
        if home is None:
            home = f"group-{source}-{len(groups.get(source, [])) + 1}" if groupable else ""
            if groupable:
                groups.setdefault(source, []).append(home)
                stacks[home] = (source, [])
        if not home:
            home = mutation["name"]
            stacks[home] = (source, [])
        mutation["grouped"] = groupable
        mutation["stack_name"] = home
        stacks[home][1].append(mutation)
    return stacks


def write_stacks(folder: Path, named: dict[str, dict[str, Any]]) -> list[verify.Stack]:
    """Write `{stack name: document}` as `folder/stacks/<name>/cdk.tf.json`; the gate's Stacks."""
    for name, document in named.items():
        target = folder / "stacks" / name / STACK
        target.parent.mkdir(parents=True)
        target.write_text(json.dumps(document, indent=2))
    return verify.discover_stacks(folder)


@pytest.fixture(scope="module")
def mutation_report(
    cloud: str, matrix_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> MutationRun:
    work = tmp_path_factory.mktemp(f"mutated-{cloud}")
    # The environments' stacks and the cloud's bootstrap stack (STATE-2), with the configs
    # main.py built them from.
    configs = {
        name: load_environment(ROOT / "environments" / f"{name}.yaml", cloud=cloud)
        for name in ENVIRONMENTS
    }
    for bootstrap in bootstrap_configs(list(configs.values())):
        configs[bootstrap.name] = bootstrap
    clean = {
        name: json.loads((matrix_dir / cloud / "stacks" / name / "cdk.tf.json").read_text())
        for name in configs
    }
    for name, path in synthesize_variants(cloud, work / "variants").items():
        clean[name] = json.loads((work / "variants" / "out" / "stacks" / name / STACK).read_text())
        configs[name] = load_environment(path, cloud=cloud)
    catalog = verify.load_policy_catalog([CHECKS])
    requirement_map = verify.load_requirement_map(ROOT / "policies" / "requirements")

    def judge(scan: verify.Scan) -> GateReport:
        return verify.evaluate(
            scan,
            [],
            clock.today(),  # pinned by tests/conftest.py
            "none",
            catalog=catalog,
            requirement_map=requirement_map,
        )

    mutations = load_mutations(cloud)
    # 1. Every mutation in a stack of its own, judged by our Python policies in-process
    #    (tests/policy_runner.py): no Checkov parse or graph. On a mutated stack only the
    #    policies of the mutation's requirement run: no other check can give a failure of that
    #    requirement, so what is caught is the same; the clean stacks get every policy.
    solo = {f"clean-{name}": (document, name) for name, document in clean.items()}
    for mutation in mutations:
        document = copy.deepcopy(clean[mutation["stack"]])
        for edit in mutation["edits"]:
            apply_edit(document, edit)
        solo[mutation["name"]] = (document, mutation["stack"])
    policies = judge(
        run_policies(
            write_stacks(work / "policies", {name: doc for name, (doc, _) in solo.items()}),
            {name: configs[source] for name, (_, source) in solo.items()},
            work / "policies",
            only={mutation["name"]: mutation["requirement"] for mutation in mutations},
        )
    )
    for mutation in mutations:
        mutation.update(stack_name=mutation["name"], grouped=False)
        mutation["by_policies"] = bool(caught_by(policies, mutation))
    # 2. The rest (caught only by a built-in check or one of our YAML graph policies) and the
    #    clean stacks through Checkov, sharing stacks where the attribution stays exact.
    rest = [mutation for mutation in mutations if not mutation["by_policies"]]
    planned = plan_stacks(rest, clean, share=shares_stacks(cloud))
    named = {f"clean-{name}": (document, name) for name, document in clean.items()}
    for stack, (source, members) in planned.items():
        document = copy.deepcopy(clean[source])
        for mutation in members:
            for edit in mutation["edits"]:
                apply_edit(document, edit)
        named[stack] = (document, source)
    scanned = write_stacks(work / "checkov", {name: doc for name, (doc, _) in named.items()})
    scanned_configs = {name: configs[source] for name, (_, source) in named.items()}
    # 3. Our Python policies in-process on exactly what Checkov scanned, to compare; in one
    #    worker beside Checkov, which gets one process for this many stacks (process_count),
    #    so the second core is not idle meanwhile.
    with ThreadPoolExecutor(max_workers=1) as pool:
        compared = pool.submit(
            run_policies, scanned, scanned_configs, work / "policies-on-checkov-stacks", 1
        )
        checkov = judge(verify.run_checkov(scanned, [CHECKS], scanned_configs))
        same = judge(compared.result())
    return MutationRun(checkov, mutations, policies, same)


@dataclass
class MutationRun:
    report: GateReport  # Checkov's run: the clean stacks and the stacks of `rest`
    # with `stack_name`, `touched`, `grouped` and `by_policies` (caught in-process)
    mutations: list[dict[str, Any]]
    policies: GateReport  # in-process: the clean stacks and every mutation in its own stack
    policies_on_report: GateReport  # in-process on exactly the stacks of `report`


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


def caught_by(report: GateReport, mutation: dict[str, Any]) -> set[tuple[str, str, str]]:
    """The new failures of the mutation's requirement in `report` that are attributable to it
    alone."""
    new = new_failures(report, mutation["stack_name"], f"clean-{mutation['stack']}")
    return {
        (requirement, check, resource)
        for requirement, check, resource in new
        if requirement == mutation["requirement"]
        and (
            not mutation["grouped"]
            or (LOCAL_CHECK.match(check) and resource in mutation["touched"])
        )
    }


@pytest.mark.parametrize("cloud_name", CLOUDS_WITH_MUTATIONS)
def test_mutation_file_names_known_requirements(cloud_name: str) -> None:
    for mutation in load_mutations(cloud_name):
        assert mutation["requirement"] in REQUIREMENTS, mutation
        assert mutation["edits"] and mutation["description"], mutation


def test_every_mutation_is_caught_with_its_requirement(
    cloud: str, mutation_report: MutationRun, capsys: pytest.CaptureFixture[str]
) -> None:
    mutations = mutation_report.mutations
    missed = []
    for mutation in mutations:
        if mutation["by_policies"] or caught_by(mutation_report.report, mutation):
            continue
        by_policies = new_failures(
            mutation_report.policies, mutation["name"], f"clean-{mutation['stack']}"
        )
        new = new_failures(
            mutation_report.report, mutation["stack_name"], f"clean-{mutation['stack']}"
        )
        hint = " (grouped: mark it solo if only a cross-resource check catches it)"
        missed.append(
            f"{mutation['name']} ({mutation['description']}) in {mutation['stack_name']}"
            f"{hint if mutation['grouped'] else ''}: new {sorted(new)}; "
            f"our policies alone: new {sorted(by_policies)}"
        )
    covered = {m["requirement"] for m in mutations}
    uncovered = sorted(implemented(cloud) - covered, key=list(REQUIREMENTS).index)
    with capsys.disabled():
        in_process = sum(m["by_policies"] for m in mutations)
        stacks = len({m["stack_name"] for m in mutations if not m["by_policies"]})
        print(
            f"\n{cloud}: caught {len(mutations) - len(missed)}/{len(mutations)} "
            f"({in_process} by our Python policies in-process, the rest through Checkov in "
            f"{stacks} mutated stacks)"
        )
        missing = ", ".join(uncovered) or "none"
        print(f"implemented by constructs/{cloud} but without a mutation yet: {missing}")
    assert not missed, "\n".join(missed)


def test_clean_stacks_have_no_custom_policy_failures(mutation_report: MutationRun) -> None:
    """Our policies pass on the clean stacks, but for failures the constructs that cause them
    waive in the synthesized JSON (a reviewed, expiring waiver of a known gap; the gate applies
    those to the clean and mutated copies alike, so the comparison above is unchanged)."""
    failed = [
        (f.stack, f.check_id, f.resource, f.details)
        for report in (mutation_report.report, mutation_report.policies)
        for f in report.findings
        if f.stack.startswith("clean-")
        and f.check_id.startswith("CKV_GW_")
        and f.status not in (Status.PASSED, Status.WAIVED)
    ]
    assert failed == []


def test_policies_in_process_give_checkovs_findings(mutation_report: MutationRun) -> None:
    """tests/policy_runner.py, which judges most mutations, reports our Python policies exactly
    as Checkov does: on every stack Checkov scanned here (the clean stacks and the mutated ones
    left to it), the same findings (check, name, resource, status, details, waiver,
    requirements) for every Python policy of the catalog, line ranges aside."""
    catalog = verify.load_policy_catalog([CHECKS])
    python = {pid for pid, policy in catalog.items() if policy.path.endswith(".py")}

    def findings(report: GateReport) -> Counter[Finding]:
        return Counter(
            dataclasses.replace(f, line_range=None) for f in report.findings if f.check_id in python
        )

    checkov = findings(mutation_report.report)
    in_process = findings(mutation_report.policies_on_report)
    assert {f.stack for f in checkov} == {s.name for s in mutation_report.report.stacks}
    assert {f.check_id for f in checkov if f.stack.startswith("clean-")} > set()
    assert in_process == checkov
