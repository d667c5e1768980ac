"""Builds CKV_GW_APP_77: the container registry keeps its image tags immutable (APP-6).

No Azure container registry can meet this in the configuration: ACR has no registry-wide
tag immutability, and `azurerm_container_registry` in azurerm 4.55 has no argument for it. A
tag is made immutable only by locking it after the push (`az acr repository update --image
<repo>:<tag> --write-enabled false --delete-enabled false`,
https://learn.microsoft.com/azure/container-registry/container-registry-image-lock), which
the release pipeline does (README, "Azure releases"). So the check fails every registry and
the construct that creates one declares the deviation as a waiver (constructs/azure/
registry.py): the gate reports APP-6 as waived, never as a pass it is not. AWS (CKV_AWS_51)
and GCP (CKV_GW_APP_45) judge their registries' immutability setting.
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict


class AzureRegistryImmutableTags(GroundworkCheck):
    id = "CKV_GW_APP_77"
    name = "The container registry keeps image tags immutable"
    requirement = "APP-6"
    severity = "MEDIUM"
    resource_types = ("azurerm_container_registry",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        return Verdict.failed(
            f"{body.get('name')}: ACR has no registry-wide tag immutability, so a pushed tag "
            "can be overwritten unless the release pipeline locks it"
        )


check = AzureRegistryImmutableTags()
