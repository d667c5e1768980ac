"""Holds CKV_GW_DEPLOY_3's template lexer against Terraform itself (`terraform validate`).

cdktf pastes literal strings into the `${...}` expressions it writes without escaping them
(hashicorp/terraform-cdk#1165), and one such string made Terraform refuse the whole AWS
configuration. A PASS from the gate on a stack Terraform cannot even load is the worst outcome,
so this test asks Terraform: every string holding `${` of every synthesized stack (all clouds,
workload and bootstrap) becomes a `local` in a scratch `main.tf.json`, and `terraform validate`
must report nothing but references to things the scratch configuration does not declare (the
resources are absent on purpose; no provider is needed, so it runs offline in a few seconds).
The same is done with CKV_GW_DEPLOY_3's fixtures, where Terraform and the lexer must agree on
every string, and must reject the real F1 shape.

Terraform is required, not optional: CI has it (Terraform 1.11.4), and a skipped test here
would hide exactly the fault it exists for.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from matrix import ROOT

sys.path.insert(0, str(ROOT / "policies" / "checks"))
from groundwork_policy import strings_in, template_syntax_error

FIXTURES = Path(__file__).resolve().parent / "fixtures"
# What validate says about a well-formed expression whose references the scratch configuration
# does not declare: expected, since only the strings are copied.
MISSING_REFERENCE = "Reference to undeclared "
# ...and about `self` outside the lifecycle condition the string came from (a data source's or
# resource's postcondition may read `self`; a local may not): also a context, not a syntax, error.
SELF_OUTSIDE_CONDITION = 'Invalid "self" reference'


def terraform() -> str:
    path = shutil.which("terraform")
    if path is None:
        pytest.fail(
            "terraform is not on PATH: this test runs `terraform validate` (1.11.4 in CI) to"
            " prove the synthesized templates parse; install it, do not skip it"
        )
    return path


def interpolated(document: Any) -> Iterator[str]:
    yield from (text for text in strings_in(document) if "${" in text)


def validate(tmp_path: Path, strings: dict[str, str]) -> dict[str, list[str]]:
    """Run `terraform validate` over `strings` as locals; syntax diagnostics per local name."""
    # One file per local: validate renders each diagnostic's source snippet by reading its
    # file, so one big file makes it quadratic (800 strings: 22 s in one file, 1 s in 800).
    for name, text in strings.items():
        (tmp_path / f"{name}.tf.json").write_text(json.dumps({"locals": {name: text}}))
    env = {**os.environ, "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"}
    binary = terraform()
    init = subprocess.run(
        [binary, "init", "-backend=false", "-input=false", "-no-color"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert init.returncode == 0, init.stdout + init.stderr
    result = subprocess.run(
        [binary, "validate", "-json", "-no-color"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = json.loads(result.stdout)
    found: dict[str, list[str]] = {}
    for diagnostic in report["diagnostics"]:
        if diagnostic["summary"].startswith((MISSING_REFERENCE, SELF_OUTSIDE_CONDITION)):
            continue
        filename = diagnostic.get("range", {}).get("filename", "")
        name = filename.removesuffix(".tf.json")
        assert name in strings, diagnostic  # every diagnostic is about one of the strings
        found.setdefault(name, []).append(f"{diagnostic['summary']}: {diagnostic.get('detail')}")
    return found


def test_terraform_parses_every_interpolation_of_every_synthesized_stack(
    matrix_dir: Path, tmp_path: Path
) -> None:
    strings: dict[str, str] = {}
    seen: set[str] = set()  # the environments share most strings: each is asked once
    stacks = sorted(matrix_dir.glob("*/stacks/*/cdk.tf.json"))
    assert {path.parent.parent.parent.name for path in stacks} == {"aws", "gcp", "azure"}
    for path in stacks:
        cloud, stack = path.parent.parent.parent.name, path.parent.name
        document = json.loads(path.read_text())
        for i, text in enumerate(interpolated(document)):
            if text not in seen:
                seen.add(text)
                strings[f"{cloud}__{stack}__{i}"] = text
    # every cloud, not an empty scan (about 180 distinct strings per cloud today)
    assert {name.split("__")[0] for name in strings} == {"aws", "gcp", "azure"}
    assert len(strings) > 300
    errors = validate(tmp_path, strings)
    rejected = {name: (strings[name][:200], found) for name, found in errors.items()}
    assert rejected == {}
    # and the lexer agrees: no stack string it would fail
    assert {
        n: template_syntax_error(s) for n, s in strings.items() if template_syntax_error(s)
    } == {}


def test_terraform_and_ckv_gw_deploy_3_agree_on_its_fixtures(tmp_path: Path) -> None:
    strings: dict[str, str] = {}
    for path in sorted(FIXTURES.glob("*/CKV_GW_DEPLOY_3/*.tf.json")):
        cloud = path.parent.parent.name
        for rtype, resources in json.loads(path.read_text()).get("resource", {}).items():
            for name, body in resources.items():
                for i, text in enumerate(interpolated(body)):
                    strings[f"{cloud}__{rtype}__{name}__{i}"] = text
    terraform_rejects = set(validate(tmp_path, strings))
    lexer_rejects = {name for name, text in strings.items() if template_syntax_error(text)}
    assert terraform_rejects == lexer_rejects
    # the real F1 shape, and a failing fixture of every cloud, are among them
    assert "aws__aws_lambda_invocation__fail_sql_pasted_into_jsonencode__0" in terraform_rejects
    assert {name.split("__")[0] for name in terraform_rejects} == {"aws", "gcp", "azure"}
