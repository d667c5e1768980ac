"""Builds Checkov checks that record every resource and data source Checkov parsed and evaluated.

Resource types without any Checkov check never appear in Checkov's results, so the verify gate
could not tell "evaluated, nothing to check" from "never seen". These probes match every type
(Checkov's registries accept fnmatch wildcards in supported types) and always pass, writing the
entity's Terraform address into the result's `details`. The gate uses their results only to
count evaluated resources and to recover addresses (Checkov's terraform_json runner reports
Python-check results as `resource.<name>` without the type); it excludes them from the
passed/failed tallies. Like Checkov's own checks, they return UNKNOWN (no result) for a literal
`count = 0`, so such a resource is reported as not evaluated.
"""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.common.typing import _CheckResult, _SkippedCheck
from checkov.terraform.checks.data.base_check import BaseDataCheck
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck


class _RecordsAddress:
    """Writes the entity's Terraform address into the result's details, then passes."""

    address_prefix = ""
    details: list[str]

    def run(
        self,
        scanned_file: str,
        entity_configuration: dict[str, Any],
        entity_name: str,
        entity_type: str,
        skip_info: _SkippedCheck,
    ) -> _CheckResult:
        result: _CheckResult = super().run(  # type: ignore[misc]
            scanned_file, entity_configuration, entity_name, entity_type, skip_info
        )
        self.details.append(f"{self.address_prefix}{entity_type}.{entity_name}")
        return result


class ResourceInventoryProbe(_RecordsAddress, BaseResourceCheck):
    """Passes on every resource and records `type.name`; not a policy."""

    def __init__(self) -> None:
        super().__init__(
            name="Groundwork inventory probe: Checkov evaluated this resource (not a policy)",
            id="GW_INVENTORY_RESOURCE",
            categories=(CheckCategories.GENERAL_SECURITY,),
            supported_resources=("*",),
        )

    def scan_resource_conf(self, conf: dict[str, list[Any]]) -> CheckResult:
        return CheckResult.PASSED


class DataInventoryProbe(_RecordsAddress, BaseDataCheck):
    """Passes on every data source and records `data.type.name`; not a policy."""

    address_prefix = "data."

    def __init__(self) -> None:
        super().__init__(
            name="Groundwork inventory probe: Checkov evaluated this data source (not a policy)",
            id="GW_INVENTORY_DATA",
            categories=(CheckCategories.GENERAL_SECURITY,),
            supported_data=("*",),
        )

    def scan_data_conf(self, conf: dict[str, list[Any]]) -> CheckResult:
        return CheckResult.PASSED


resource_check = ResourceInventoryProbe()
data_check = DataInventoryProbe()
