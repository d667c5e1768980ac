"""Builds CKV_GW_DEPLOY_2: `terraform.required_version` admits only Terraform releases that
support every language feature the stack uses (DEPLOY-4), on every cloud.

- write-only arguments (`*_wo`, `*_wo_version`): Terraform 1.11 ("Write-only arguments",
  https://developer.hashicorp.com/terraform/language/resources/ephemeral#write-only-arguments);
- `ephemeral` blocks: 1.10 (https://developer.hashicorp.com/terraform/language/v1.10.x/resources/ephemeral);
- the S3 backend's `use_lockfile`: 1.10
  (https://developer.hashicorp.com/terraform/language/backend/s3).
An older Terraform fails at `init` or `plan` with an unsupported-argument error. Judged on the
stack's provider blocks (the stack as synthesized: the gate hands policies the original, with
the `required_version` its scan copy drops for Checkov).
"""

import re
from collections.abc import Iterator
from typing import Any

from groundwork_policy import GroundworkProviderCheck, Stack, Verdict

LOWER = re.compile(r">=\s*(\d+)\.(\d+)")


def _keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from _keys(item)


def needed(document: dict[str, Any]) -> dict[tuple[int, int], str]:
    """Minimum (major, minor) -> the feature that needs it."""
    wants: dict[tuple[int, int], str] = {}
    if any(key.endswith("_wo") for key in _keys(document.get("resource", {}))):
        wants[(1, 11)] = "write-only arguments"
    if document.get("ephemeral"):
        wants.setdefault((1, 10), "ephemeral resources")
    if (document.get("terraform", {}).get("backend", {}).get("s3") or {}).get("use_lockfile"):
        wants.setdefault((1, 10), "the S3 backend's use_lockfile")
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
        lower = (int(match.group(1)), int(match.group(2)))
        wants = needed(document)
        short = {v: f for v, f in wants.items() if v > lower}
        if short:
            version, feature = max(short.items())
            return Verdict.failed(
                f"required_version {constraint} admits Terraform below {version[0]}.{version[1]},"
                f" which {feature} need"
            )
        return Verdict.passed(f"{constraint} covers {sorted(wants.values()) or 'every feature'}")


check = TerraformVersion()
