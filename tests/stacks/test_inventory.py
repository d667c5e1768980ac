"""Checks every synthesized stack against its expectations file, the sizing as data.

`tests/expectations/<cloud>/<env>.yaml` holds a subset of the stack's JSON (`blocks`) and
resource entries (`resources`): each names a `type`, optionally a `match` selecting
resources by their own attributes (never cdktf's generated IDs), a `count` and an
`expect` subset every selected resource must contain. One helper checks them all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from matrix import CLOUDS, ENVIRONMENTS, normalized_stack, resources_of

EXPECTATIONS = Path(__file__).resolve().parent.parent / "expectations"


def mismatches(expected: Any, actual: Any, path: str = "") -> list[str]:
    """Where `actual` does not contain `expected`: dicts by subset, lists element-wise."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path or '.'}: expected a mapping, got {actual!r}"]
        problems = []
        for key, value in expected.items():
            if key not in actual:
                problems.append(f"{path}.{key}: missing")
            else:
                problems.extend(mismatches(value, actual[key], f"{path}.{key}"))
        return problems
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [f"{path}: expected {len(expected)} items, got {actual!r}"]
        return [
            p
            for i, (e, a) in enumerate(zip(expected, actual, strict=True))
            for p in mismatches(e, a, f"{path}[{i}]")
        ]
    return [] if expected == actual else [f"{path}: expected {expected!r}, got {actual!r}"]


def check_expectations(stack: dict[str, Any], expectations: dict[str, Any]) -> list[str]:
    problems = mismatches(expectations.get("blocks", {}), stack)
    for entry in expectations.get("resources", []):
        selected = [
            resource
            for resource in resources_of(stack, entry["type"])
            if not mismatches(entry.get("match", {}), resource)
        ]
        label = f"{entry['type']} {entry.get('match', '')}".strip()
        if "count" in entry and len(selected) != entry["count"]:
            problems.append(f"{label}: expected {entry['count']} resources, found {len(selected)}")
        if "expect" in entry and not selected:
            problems.append(f"{label}: no such resource")
        for resource in selected:
            problems.extend(f"{label}{p}" for p in mismatches(entry.get("expect", {}), resource))
    return problems


@pytest.mark.parametrize("cloud", CLOUDS)
@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_stack_meets_its_expectations(
    matrix: dict[tuple[str, str], Any], matrix_dir: Path, cloud: str, env: str
) -> None:
    path = EXPECTATIONS / cloud / f"{env}.yaml"
    assert path.exists(), f"every stack needs an expectations file: {path} is missing"
    stack = normalized_stack(matrix[cloud, env], matrix_dir / cloud)
    problems = check_expectations(stack, yaml.safe_load(path.read_text()))
    assert not problems, f"{path.name} ({cloud}):\n" + "\n".join(problems)


def test_mismatches_reports_the_path_of_a_difference() -> None:
    actual = {"a": {"b": [{"c": 1, "d": 2}]}}
    assert mismatches({"a": {"b": [{"c": 1}]}}, actual) == []
    assert mismatches({"a": {"b": [{"c": 2}]}}, actual) == [".a.b[0].c: expected 2, got 1"]
    assert mismatches({"a": {"x": 1}}, actual) == [".a.x: missing"]
