"""Runs our Python policies (GroundworkCheck, GroundworkProviderCheck) on stacks without Checkov's
parser and graph, for the mutation suite (issue 13: Checkov's parse and graph are about 1.2 s of
the 1.5 s a stack costs it, and a Python policy reads neither).

Why the verdicts are Checkov's own: Checkov's terraform_json runner hands a Python check
`run(scanned_file, conf, name, type, skip)` for every resource and provider configuration of a
type the check's registry maps to it; our policies' base class ignores `conf` (but for Checkov's
`count == [0]` rule) and judges the entity's JSON as synthesized, found through the
`GROUNDWORK_POLICY_CONTEXT` file by scanned file, type and name
(policies/checks/groundwork_policy.py). This module does the same in a worker process: it loads
policies/checks into Checkov's registries exactly as Checkov does
(`resource_registry.load_external_checks`), asks the registries which checks apply to each
entity (`get_checks`, wildcards included), calls each check's `run` with the same arguments,
keeps PASSED and FAILED results (Checkov's report drops UNKNOWN), and turns a check that raises
into a CRASHED record as the gate does with Checkov's "Failed to run check" log lines. Our YAML
(graph) policies and Checkov's built-in checks are not run here.

tests/policies/test_mutations.py compares these records with Checkov's on every stack it also
scans with Checkov (the clean stacks at least): same results, details and names.

Parent side: `run_policies`; worker side: `python tests/policy_runner.py <context> <stacks> <out>`,
started with Checkov's environment (synth/checkov_run.py: the project root on PYTHONPATH).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from synth.checkov_run import (
    CRASHED,
    STACK_FILE,
    CheckovError,
    CheckovRecord,
    Scan,
    Stack,
    _canonical,
    _checkov_env,
)
from synth.config import EnvironmentConfig

CHECKS = Path(__file__).resolve().parent.parent / "policies" / "checks"


def _entities(document: dict[str, Any]) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(block, type, name, conf) of every resource and provider configuration, with the
    part of Checkov's wrapped configuration our checks' base classes read: a resource's
    literal `count` (Checkov skips `count == [0]`) and a provider's `alias`."""
    found = []
    for rtype, named in (document.get("resource") or {}).items():
        if rtype == "//" or not isinstance(named, dict):
            continue
        for name, body in named.items():
            if name == "//" or not isinstance(body, dict):
                continue
            conf = {"count": [body["count"]]} if "count" in body else {}
            found.append(("resource", rtype, name, conf))
    for provider, configs in (document.get("provider") or {}).items():
        for config in configs if isinstance(configs, list) else [configs]:
            if isinstance(config, dict):
                conf = {"alias": [config["alias"]]} if "alias" in config else {}
                found.append(("provider", provider, provider, conf))
    return found


def _work(context_path: str, names_path: str, out_path: str) -> None:
    """The worker: evaluate the listed `[stack, requirement or null]` of the context (null:
    every policy), write their records as JSON."""
    from checkov.common.models.enums import CheckResult
    from checkov.terraform.checks.provider.registry import provider_registry
    from checkov.terraform.checks.resource.registry import resource_registry

    resource_registry.load_external_checks(str(CHECKS))
    policy = sys.modules["groundwork_policy"]._Policy  # loaded with the checks, as in Checkov
    registries = {"resource": resource_registry, "provider": provider_registry}
    context = json.loads(Path(context_path).read_text(encoding="utf-8"))
    records = []
    for stack, requirement in json.loads(Path(names_path).read_text(encoding="utf-8")):
        scanned = f"/stacks/{stack}/{STACK_FILE}"
        path = Path(context["documents"]) / "stacks" / stack / STACK_FILE
        document = json.loads(path.read_text(encoding="utf-8"))
        for block, kind, name, conf in _entities(document):
            for check in registries[block].get_checks(kind):
                if not isinstance(check, policy):
                    continue
                if requirement is not None and check.requirement != requirement:
                    continue
                address = f"{kind}.{name}" if block == "resource" else f"provider.{kind}"
                row = {
                    "stack": stack,
                    "check_id": check.id,
                    "check_name": check.name,
                    "resource": address,
                    "check_class": type(check).__module__,
                    "guideline": check.guideline,
                }
                try:
                    result = check.run(scanned, dict(conf), name, kind, {})["result"]
                except Exception:  # as the gate reads Checkov's "Failed to run check" lines
                    row.update(
                        check_name=f"{check.id} (the check crashed on this resource)",
                        result=CRASHED,
                        check_class="",
                        guideline=None,
                        details=[
                            "Checkov raised an exception running this check, so it counts as failed"
                        ],
                    )
                    records.append(row)
                    continue
                if result in (CheckResult.PASSED, CheckResult.FAILED):
                    records.append({**row, "result": result.value, "details": list(check.details)})
    Path(out_path).write_text(json.dumps(records), encoding="utf-8")


def run_policies(
    stacks: Sequence[Stack],
    configs: Mapping[str, EnvironmentConfig],
    work: Path,
    processes: int = 2,
    only: Mapping[str, str] | None = None,
) -> Scan:
    """Our Python policies' results on `stacks` (read from disk with synth's `load_stack`),
    as a Scan for `verify.evaluate`. Every worker's context names every stack's config, as
    one Checkov process over all of them would (policies compare a stack with the others of
    its gate run); the stacks are split over at most `processes` workers.

    `only` maps a stack to the one requirement whose policies are run on it (the others
    give no result there); a stack it does not name gets every policy."""
    from importlib.metadata import version

    documents = work / "documents"
    for stack in stacks:
        target = documents / "stacks" / stack.name / STACK_FILE
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(stack.document), encoding="utf-8")
    context = work / "policy-context.json"
    context.write_text(
        json.dumps(
            {
                "root": str(documents),
                "documents": str(documents),
                "stacks": {
                    name: config.model_dump(mode="json") for name, config in configs.items()
                },
            }
        ),
        encoding="utf-8",
    )
    only = only or {}
    names = [[stack.name, only.get(stack.name)] for stack in stacks if stack.document is not None]
    shares = [names[index::processes] for index in range(min(processes, len(names)))]
    runs = []
    for index, share in enumerate(shares):
        listed = work / f"share-{index}.json"
        listed.write_text(json.dumps(share), encoding="utf-8")
        out = work / f"records-{index}.json"
        command = [sys.executable, __file__, str(context), str(listed), str(out)]
        process = subprocess.Popen(
            command,
            cwd=work,
            env=_checkov_env(work, context),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        runs.append((process, out))
    records = []
    for process, out in runs:
        _, stderr = process.communicate()
        if process.returncode != 0:
            raise CheckovError(f"policy worker exited {process.returncode}:\n{stderr}")
        for row in json.loads(out.read_text(encoding="utf-8")):
            records.append(
                CheckovRecord(
                    stack=row["stack"],
                    check_id=row["check_id"],
                    check_name=row["check_name"],
                    resource=row["resource"],
                    result=row["result"],
                    line_range=(0, 0),
                    check_class=row["check_class"],
                    guideline=row["guideline"],
                    details=tuple(row["details"]),
                )
            )
    return Scan(
        list(stacks), version("checkov"), _canonical(records, stacks), frozenset(), dict(configs)
    )


if __name__ == "__main__":
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    _work(*sys.argv[1:4])
