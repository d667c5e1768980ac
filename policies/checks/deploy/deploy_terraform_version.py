"""Builds CKV_GW_DEPLOY_2: `terraform.required_version` admits only Terraform releases that
support every language feature the stack uses (DEPLOY-4), on every cloud.

- write-only arguments (`*_wo`, `*_wo_version`): Terraform 1.11 ("Write-only arguments",
  https://developer.hashicorp.com/terraform/language/resources/ephemeral#write-only-arguments);
- a write-only argument fed from an ephemeral value (`password_wo =
  ephemeral.aws_secretsmanager_random_password....`): 1.11.1. Terraform 1.11.0 fails the apply
  on an ephemeral sensitive value in `password_wo` (hashicorp/terraform#36603, fixed in 1.11.1;
  terraform-aws-modules/terraform-aws-rds#613). Judged on every `*_wo` argument, not only
  `password_wo`: the fault is in how Terraform handles the ephemeral value, not in the name;
- `ephemeral` blocks: 1.10 (https://developer.hashicorp.com/terraform/language/v1.10.x/resources/ephemeral);
- the S3 backend's `use_lockfile`: 1.10
  (https://developer.hashicorp.com/terraform/language/backend/s3).
An older Terraform fails at `init` or `plan` with an unsupported-argument error. Judged on the
stack's provider blocks (the stack as synthesized: the gate hands policies the original, with
the `required_version` its scan copy drops for Checkov).
"""

import json
import re
from collections.abc import Iterator
from typing import Any

from groundwork_policy import GroundworkProviderCheck, Stack, Verdict

LOWER = re.compile(r">=\s*(\d+)\.(\d+)(?:\.(\d+))?")
EPHEMERAL = re.compile(r"\bephemeral\.")


def _ephemeral_write_only(value: Any) -> bool:
    """Some `*_wo` argument anywhere in `value` takes an ephemeral value."""
    if isinstance(value, dict):
        return any(
            (str(key).endswith("_wo") and EPHEMERAL.search(json.dumps(item)) is not None)
            or _ephemeral_write_only(item)
            for key, item in value.items()
        )
    if isinstance(value, list):
        return any(_ephemeral_write_only(item) for item in value)
    return False


def _keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from _keys(item)


def needed(document: dict[str, Any]) -> dict[tuple[int, int, int], str]:
    """Minimum (major, minor, patch) -> the feature that needs it."""
    wants: dict[tuple[int, int, int], str] = {}
    resources = document.get("resource", {})
    if _ephemeral_write_only(resources):
        wants[(1, 11, 1)] = "write-only arguments fed from ephemeral values"
    elif any(key.endswith("_wo") for key in _keys(resources)):
        wants[(1, 11, 0)] = "write-only arguments"
    if document.get("ephemeral"):
        wants.setdefault((1, 10, 0), "ephemeral resources")
    if (document.get("terraform", {}).get("backend", {}).get("s3") or {}).get("use_lockfile"):
        wants.setdefault((1, 10, 0), "the S3 backend's use_lockfile")
    return wants


class TerraformVersion(GroundworkProviderCheck):
    id = "CKV_GW_DEPLOY_2"
    name = "required_version admits only Terraform releases that support every feature used"
    requirement = "DEPLOY-4"
    severity = "HIGH"
    providers = ("aws", "google", "azurerm")
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        document = stack.document
        constraint = str(document.get("terraform", {}).get("required_version", ""))
        match = LOWER.search(constraint)
        if not match:
            return Verdict.failed(f"required_version {constraint!r} sets no lower bound")
        lower = (int(match.group(1)), int(match.group(2)), int(match.group(3) or 0))
        wants = needed(document)
        short = {v: f for v, f in wants.items() if v > lower}
        if short:
            version, feature = max(short.items())
            return Verdict.failed(
                f"required_version {constraint} admits Terraform below"
                f" {'.'.join(map(str, version))}, which {feature} need"
            )
        return Verdict.passed(f"{constraint} covers {sorted(wants.values()) or 'every feature'}")


check = TerraformVersion()
