"""The Azure stack: provider, TAG-1 tags on every taggable resource, the Azure components.

azurerm has no provider-level default tags, so an aspect adds them to each resource that
takes `tags`, keeping any tag a component set itself.

Satisfies: TAG-1, STATE-1
"""

from __future__ import annotations

from typing import Any

import jsii
from cdktf import Aspects, IAspect, TerraformResource
from cdktf_cdktf_provider_azurerm.provider import (
    AzurermProvider,
    AzurermProviderFeatures,
    AzurermProviderFeaturesKeyVault,
    AzurermProviderFeaturesResourceGroup,
)
from constructs import Construct, IConstruct

from stacks.base import GroundworkStack
from synth.config import EnvironmentConfig


@jsii.implements(IAspect)
class ApplyTags:
    """Sets the environment's tags on every resource that has a `tags` argument."""

    def __init__(self, tags: dict[str, str]) -> None:
        self.tags = tags

    def visit(self, node: IConstruct) -> None:
        if isinstance(node, TerraformResource) and hasattr(node, "tags_input"):
            own: dict[str, Any] = node.tags_input or {}
            node.tags = {**self.tags, **own}  # type: ignore[attr-defined]


class AzureStack(GroundworkStack):
    def __init__(self, scope: Construct, config: EnvironmentConfig) -> None:
        super().__init__(scope, config)
        AzurermProvider(
            self,
            "azurerm",
            subscription_id=config.azure.subscription_id,
            features=[
                AzurermProviderFeatures(
                    # SEC-4: never purge soft-deleted vaults or keys as a side effect of destroy.
                    key_vault=[
                        AzurermProviderFeaturesKeyVault(
                            purge_soft_delete_on_destroy=False,
                            purge_soft_deleted_keys_on_destroy=False,
                            purge_soft_deleted_secrets_on_destroy=False,
                        )
                    ],
                    resource_group=[
                        AzurermProviderFeaturesResourceGroup(
                            prevent_deletion_if_contains_resources=True
                        )
                    ],
                )
            ],
        )
        Aspects.of(self).add(ApplyTags(config.tags))


STACK = AzureStack
