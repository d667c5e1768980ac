"""Builds the private container registry: ACR Premium, firewalled to the runner, image scanning.

Satisfies: APP-6, NET-2, IAM-1, DEPLOY-3, DEPLOY-4 (CKV_GW_DEPLOY_88)

- Private: the app pulls through a private endpoint in the endpoints subnet; admin user and
  anonymous pull off; pulls use Entra identities (AcrPull). Export stays on: ACR allows
  disabling it only with public access off, which the runner's push needs.
- Reachable by the release pipeline (DEPLOY-3): the documented deploy runner is outside the
  VNet and pushes each release image (README, "Azure releases"), so the public endpoint is
  on behind a firewall that denies by default and admits only `azure.deployer_ip_ranges`,
  like the vaults and storage accounts. Premium registries support these IP rules
  (https://learn.microsoft.com/azure/container-registry/container-registry-access-selected-networks);
  with public access off the runner's `docker push` is refused and the app would keep its
  bootstrap image.
- Encryption: ACR encrypts every registry at rest with a platform-managed key; no
  customer-managed key (DEPLOY-4). ACR accepts a customer key only at creation and only
  through a user-assigned identity, while a vault whose firewall denies by default admits
  ACR as a trusted service only through the registry's system-assigned identity, which
  exists only after creation; the documented path is create, enable the system identity,
  rotate the key to it, then close the vault
  (https://learn.microsoft.com/azure/container-registry/tutorial-enable-customer-managed-keys,
  "key vault firewall"). One apply cannot do that, and opening the environment's vault to
  every network for it would undo DEPLOY-3's firewall. No requirement asks for a customer
  key on images (APP-6 is privacy, scanning and immutable tags); CKV_GW_DEPLOY_74 refuses
  the combination.
- Retention: untagged manifests are deleted after 7 days.
- Scanning: Microsoft Defender for Containers on the subscription (one subscription per
  environment) scans images when they are pushed and while they are pulled. ACR has no
  scan-on-push switch of its own.
- Immutable tags: ACR has no registry-wide immutability setting; a tag is made immutable
  by locking it (`az acr repository update --image <repo>:<tag> --write-enabled false
  --delete-enabled false`), which the release pipeline does right after each push, and
  which Terraform's azurerm provider cannot express. CKV_GW_APP_77 fails every registry for
  it and this construct waives that with the reason, so APP-6 reads waived, not pass. Each
  service deploys its `image.tag` (default `service.image_tag`), a new tag per release.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cdktf_cdktf_provider_azurerm.container_registry import (
    ContainerRegistry,
    ContainerRegistryNetworkRuleSet,
    ContainerRegistryNetworkRuleSetIpRule,
)
from cdktf_cdktf_provider_azurerm.resource_group import ResourceGroup
from cdktf_cdktf_provider_azurerm.security_center_subscription_pricing import (
    SecurityCenterSubscriptionPricing,
    SecurityCenterSubscriptionPricingExtension,
)
from constructs import Construct
from constructs.azure import waivers
from constructs.azure.keys import global_name

from synth.config import EnvironmentConfig
from synth.construct_waivers import waive

if TYPE_CHECKING:
    from constructs.azure.network import Network

UNTAGGED_RETENTION_DAYS = 7


class Registry(Construct):
    """ACR `acr<prefix><hash>`; `login_server` is what the service pulls from."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: EnvironmentConfig,
        resource_group: ResourceGroup,
        network: Network,
    ) -> None:
        super().__init__(scope, id_)
        self.registry = ContainerRegistry(
            self,
            "registry",
            name=global_name(config, "acr", max_length=50, sep=""),
            location=resource_group.location,
            resource_group_name=resource_group.name,
            sku="Premium",
            admin_enabled=False,
            anonymous_pull_enabled=False,
            # DEPLOY-3: the runner pushes releases through the public endpoint, admitted by IP.
            public_network_access_enabled=True,
            network_rule_set=[
                ContainerRegistryNetworkRuleSet(
                    default_action="Deny",
                    ip_rule=[
                        ContainerRegistryNetworkRuleSetIpRule(action="Allow", ip_range=ip_range)
                        for ip_range in config.azure.deployer_ip_ranges
                    ],
                )
            ],
            network_rule_bypass_option="AzureServices",
            # azurerm 4.55 refuses export_policy_enabled = false while public access is on
            # (container_registry_resource.go CustomizeDiff, "to disable export of artifacts,
            # `public_network_access_enabled` must also be `false`";
            # https://learn.microsoft.com/azure/container-registry/data-loss-prevention), and the
            # runner's push needs public access (DEPLOY-3). CKV_GW_DEPLOY_88 judges the pair.
            export_policy_enabled=True,
            data_endpoint_enabled=True,
            quarantine_policy_enabled=False,
            zone_redundancy_enabled=config.network.zones > 1,
            retention_policy_in_days=UNTAGGED_RETENTION_DAYS,
            trust_policy_enabled=False,  # Docker Content Trust is deprecated by Azure
        )
        for check, reason in (
            (
                "CKV_AZURE_139",
                "For DEPLOY-3 the release pipeline pushes each release image from the deploy "
                'runner outside the VNet (README, "Azure releases"); public network access is on '
                "only behind a network rule set that denies by default and admits "
                "azure.deployer_ip_ranges (CKV_GW_DEPLOY_70 checks it), while the app pulls "
                "through the private endpoint with AcrPull; admin user and anonymous pull stay "
                "off.",
            ),
            (
                "CKV_AZURE_164",
                "Docker Content Trust is deprecated by Azure; the release pipeline locks each "
                "release tag right after its push and Defender for Containers scans the images "
                "(APP-6).",
            ),
            (
                "CKV_AZURE_165",
                "The app runs in one region, so a geo-replicated registry would add cost without "
                "a consumer in a second region.",
            ),
            (
                "CKV_AZURE_166",
                "Quarantine needs a scanner that releases images, which Defender for Containers "
                "does not do, so every pull would block.",
            ),
            (
                "CKV_GW_APP_77",
                "ACR has no registry-wide tag immutability and azurerm cannot express a tag "
                "lock, so tags are immutable only because the release pipeline locks each one "
                "right after its push (az acr repository update --write-enabled false "
                '--delete-enabled false; README, "Azure releases"); a tag pushed another way '
                "stays mutable.",
            ),
        ):
            waive(self.registry, check, reason=reason, owner=waivers.OWNER, expires=waivers.EXPIRES)
        self.login_server = self.registry.login_server
        self.endpoint = network.private_endpoint(
            self,
            "endpoint",
            name=f"{config.prefix}-acr",
            resource_id=self.registry.id,
            subresource="registry",
            dns_zone="privatelink.azurecr.io",
        )
        # APP-6 scanning: Defender for Containers, with its registry vulnerability scanner.
        SecurityCenterSubscriptionPricing(
            self,
            "defender-for-containers",
            resource_type="Containers",
            tier="Standard",
            extension=[
                SecurityCenterSubscriptionPricingExtension(
                    name="ContainerRegistriesVulnerabilityAssessments"
                )
            ],
        )
