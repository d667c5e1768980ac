"""The AWS stacks' Terraform version constraint, as CKV_GW_DEPLOY_18 reads it (DEPLOY-4).

The gate scans each stack without `terraform.required_version` (Checkov cannot parse it), so
the AWS stacks mirror it in the local `required_terraform`; both must say the same, and admit
only Terraform releases with write-only arguments where the stack uses them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

AWS_STACKS = ("dev", "staging", "production", "bootstrap-aws")


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_required_version_is_mirrored_for_the_gate(matrix_dir: Path, stack: str) -> None:
    document = json.loads((matrix_dir / "aws" / "stacks" / stack / "cdk.tf.json").read_text())
    assert document["terraform"]["required_version"] == document["locals"]["required_terraform"]


@pytest.mark.parametrize("stack", ("dev", "staging", "production"))
def test_write_only_arguments_come_with_terraform_1_11(
    matrix: dict[tuple[str, str], Any], stack: str
) -> None:
    document = matrix["aws", stack]
    assert '"password_wo"' in str(document).replace("'", '"')
    lower = re.match(r">= (\d+)\.(\d+)", document["terraform"]["required_version"])
    assert lower and (int(lower[1]), int(lower[2])) >= (1, 11)
