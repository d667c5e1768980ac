"""The Azure stacks: provider, TAG-1 tags on every taggable resource, the Azure components.

`AzureStack` is an environment (workload); `AzureBootstrapStack` creates the state storage
the environments' azurerm backends use (STATE-2). Both set up the provider and the tags
with `azurerm_provider`.

azurerm has no provider-level default tags, so an aspect adds them to each resource that
takes `tags`, keeping any tag a component set itself. Everything of the environment lives
in one resource group, `rg-<prefix>`.

The cache and the storage account exist only when a described service uses them (APP-7).

Satisfies: TAG-1, STATE-1, STATE-2, APP-7, CDN-1, DEPLOY-3, DEPLOY-4
"""

from __future__ import annotations

from typing import Any

import jsii
from cdktf import Aspects, IAspect, TerraformOutput, TerraformResource
from cdktf_cdktf_provider_azurerm.data_azurerm_client_config import DataAzurermClientConfig
from cdktf_cdktf_provider_azurerm.log_analytics_workspace import LogAnalyticsWorkspace
from cdktf_cdktf_provider_azurerm.provider import (
    AzurermProvider,
    AzurermProviderFeatures,
    AzurermProviderFeaturesKeyVault,
    AzurermProviderFeaturesResourceGroup,
)
from cdktf_cdktf_provider_azurerm.resource_group import ResourceGroup
from cdktf_cdktf_provider_time.provider import TimeProvider
from constructs import Construct, IConstruct
from constructs.azure.budget import Budget
from constructs.azure.cache import Cache
from constructs.azure.cdn import FrontDoor
from constructs.azure.database import Database
from constructs.azure.edge import Edge
from constructs.azure.identity import Identity
from constructs.azure.jobs import Jobs
from constructs.azure.keys import Keys
from constructs.azure.network import Network
from constructs.azure.observability import Logs, Observability
from constructs.azure.registry import Registry
from constructs.azure.secrets import Secrets
from constructs.azure.service import Service
from constructs.azure.state import StateStorage
from constructs.azure.storage import Storage

from stacks.base import GroundworkStack
from synth.app import service_suffix
from synth.config import EnvironmentConfig

VAULT_ZONE = "privatelink.vaultcore.azure.net"


@jsii.implements(IAspect)
class ApplyTags:
    """Sets the environment's tags on every resource that has a `tags` argument."""

    def __init__(self, tags: dict[str, str]) -> None:
        self.tags = tags

    def visit(self, node: IConstruct) -> None:
        if isinstance(node, TerraformResource) and hasattr(node, "tags_input"):
            own: dict[str, Any] = node.tags_input or {}
            node.tags = {**self.tags, **own}  # type: ignore[attr-defined]


def azurerm_provider(stack: GroundworkStack) -> AzurermProvider:
    """The azurerm provider in the config's subscription, and the TAG-1 tags aspect."""
    config = stack.config
    provider = AzurermProvider(
        stack,
        "azurerm",
        subscription_id=config.azure.subscription_id,
        # Shared keys are off on every storage account (OBJ), so the provider must use Entra ID
        # for the storage data plane (containers, queues), or it fails listing keys
        # (hashicorp/terraform-provider-azurerm #27752, #32474). DEPLOY-3.
        storage_use_azuread=True,
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
                # DEPLOY-6: the stack's resource groups hold what the stack creates and what
                # Azure creates for it: an Application Insights component makes Azure add the
                # "Failure Anomalies - <name>" smart detector rule and the "Application
                # Insights Smart Detection" action group beside it, which no Terraform resource
                # owns. With the check on, every destroy removed all else and then failed on
                # the resource group (hashicorp/terraform-provider-azurerm #18026; the
                # provider's own test, PR #22163). Data the stack must keep is protected by
                # `prevent_destroy` and Key Vault purge protection, not by this check.
                resource_group=[
                    AzurermProviderFeaturesResourceGroup(
                        prevent_deletion_if_contains_resources=False
                    )
                ],
            )
        ],
    )
    Aspects.of(stack).add(ApplyTags(config.tags))
    # time_sleep waits for role assignments to propagate (constructs/azure/propagation.py).
    TimeProvider(stack, "time")
    return provider


class AzureStack(GroundworkStack):
    """An environment: its resource group and every component, in dependency order."""

    def __init__(self, scope: Construct, config: EnvironmentConfig) -> None:
        super().__init__(scope, config)
        azurerm_provider(self)

        rg = ResourceGroup(
            self, "resource-group", name=f"rg-{config.prefix}", location=config.azure.location
        )
        client = DataAzurermClientConfig(self, "client")
        keys = Keys(self, "keys", config=config, resource_group=rg, client=client)
        logs = Logs(self, "logs", config=config, resource_group=rg, key=keys.storage)
        network = Network(
            self,
            "network",
            config=config,
            resource_group=rg,
            workspace=logs.workspace,
            flow_log_account=logs.storage_account,
        )
        vault_endpoint = network.private_endpoint(
            keys,
            "vault-endpoint",
            name=f"{config.prefix}-vault",
            resource_id=keys.vault.id,
            subresource="vault",
            dns_zone=VAULT_ZONE,
        )
        # What reaches the vault from inside the VNet: its endpoint and the zone's VNet link.
        vault_path = network.private_path(vault_endpoint)
        database = Database(
            self,
            "database",
            config=config,
            resource_group=rg,
            client=client,
            network=network,
            keys=keys,
            workspace=logs.workspace,
        )
        if keys.geo_vault is not None:  # created for the database's geo-redundant backups
            network.private_endpoint(
                keys,
                "geo-vault-endpoint",
                name=f"{config.prefix}-geo-vault",
                resource_id=keys.geo_vault.id,
                subresource="vault",
                dns_zone=VAULT_ZONE,
            )
        # Optional components (APP-7): the bucket and the cache exist only when a service
        # uses them (config.uses_object_storage / uses_cache); their requirements are then n/a.
        storage = (
            Storage(
                self,
                "storage",
                config=config,
                resource_group=rg,
                key=keys.storage,
                network=network,
                workspace=logs.workspace,
            )
            if config.uses_object_storage
            else None
        )
        cache = (
            Cache(self, "cache", config=config, resource_group=rg, network=network)
            if config.uses_cache
            else None
        )
        secrets = Secrets(
            self,
            "secrets",
            config=config,
            resource_group=rg,
            keys=keys,
            database=database,
            cache=cache,
            rotation_account=logs.storage_account,
            network=network,
        )
        registry = Registry(self, "registry", config=config, resource_group=rg, network=network)
        service = Service(
            self,
            "service",
            config=config,
            resource_group=rg,
            network=network,
            workspace=logs.workspace,
            registry=registry,
            secrets=secrets,
            storage=storage,
            cache=cache,
            # What every app reaches; each app that uses the cache or the bucket also waits for
            # its private path (`private_path`, added per service by Service).
            waits_for=[
                *vault_path,
                *network.private_path(registry.endpoint),
            ],
        )
        Jobs(
            self,
            "jobs",
            config=config,
            resource_group=rg,
            environment=service.environment,
            database=database,
            secrets=secrets,
            cache=cache,
            apps=service.apps,
            waits_for=[*vault_path, service.logs],
        )
        # CDN-1 (optional): Front Door in front of the gateway.
        front_door = (
            FrontDoor(self, "cdn", config=config, resource_group=rg)
            if config.features.cdn_enabled
            else None
        )
        edge = Edge(
            self,
            "edge",
            config=config,
            resource_group=rg,
            network=network,
            keys=keys,
            service=service,
            workspace=logs.workspace,
            vault_path=vault_path,
            front_door=front_door,
        )
        if front_door is not None:
            self._front_door(config, front_door, edge, logs.workspace)
        observability = Observability(
            self,
            "observability",
            config=config,
            resource_group=rg,
            workspace=logs.workspace,
            gateway_id=edge.gateway.id,
            database_id=database.server.id,
            apps=service.apps,
        )
        if front_door is not None:
            # OBS-2: errors Front Door returns itself never reach the gateway's access log.
            front_door.alert_on_errors(action_group_id=observability.action_group.id)
        Budget(
            self,
            "budget",
            config=config,
            resource_group=rg,
            # Literal names: the environment's group and the one Azure makes for Container Apps.
            resource_group_names=[f"rg-{config.prefix}", f"rg-{config.prefix}-cae"],
            action_group_id=observability.action_group.id,
        )
        Identity(self, "identity", config=config)
        # OBS-4, EDGE-1: nothing here creates DNS for `domain` (its zone is the operator's);
        # the uptime test and clients reach the gateway only once an A record for `domain`
        # points at this address (README, "Azure: DNS for the domain").
        # Behind Front Door (CDN-1) the A record is the origin host's, which Front Door
        # reaches the gateway at (constructs/azure/cdn.py); clients reach the domain there.
        gateway_host = front_door.origin_host if front_door is not None else config.domain
        TerraformOutput(
            self,
            "gateway_public_ip",
            value=edge.public_ip.ip_address,
            description=f"Create an A record {gateway_host} -> this address (the gateway)",
        )
        for name, built in service.apps.items():
            # `release_image` for the default service (today's output), one per other service.
            TerraformOutput(
                self,
                "release_image" + service_suffix(name, "_"),
                value=built.release_image,
                description="The image the release pipeline deploys"
                + service_suffix(name, " to service ")
                + " (az containerapp update)",
            )

    def _front_door(
        self,
        config: EnvironmentConfig,
        front_door: FrontDoor,
        edge: Edge,
        workspace: LogAnalyticsWorkspace,
    ) -> None:
        """Front Door's origin, routes and domain (CDN-1), with the records the operator writes
        in their zone (README, "Azure: CDN and DNS")."""
        front_door.serve(gateway=edge.gateway, workspace=workspace)
        TerraformOutput(
            self,
            "front_door_host",
            value=front_door.endpoint.host_name,
            description=f"Point {config.domain} at this host (CNAME): Front Door serves it, and "
            "its managed certificate rotates only while the CNAME is there",
        )
        TerraformOutput(
            self,
            "front_door_validation_token",
            value=front_door.custom_domain.validation_token,
            description=f"Create TXT _dnsauth.{config.domain} with this value (Front Door "
            "validates the domain with it)",
        )


class AzureBootstrapStack(GroundworkStack):
    """STATE-2: the storage account and container the environments' azurerm state lives in."""

    def __init__(self, scope: Construct, config: EnvironmentConfig) -> None:
        super().__init__(scope, config)
        azurerm_provider(self)
        state = StateStorage(self, "state", config=config)
        TerraformOutput(
            self,
            "state_resource_group_name",
            value=state.resource_group_name,
            description="Resource group of the state storage account",
        )
        TerraformOutput(
            self,
            "state_storage_account_name",
            value=state.storage_account_name,
            description="Terraform state storage account",
        )
        TerraformOutput(
            self,
            "state_container_name",
            value=state.container_name,
            description="Its container",
        )
        TerraformOutput(
            self,
            "state_backend",
            value=(
                f"state: {{backend: azurerm, resource_group_name: {state.resource_group_name}, "
                f"storage_account_name: {state.storage_account_name}, "
                f"container_name: {state.container_name}}}"
            ),
            description="Put this in environments/<env>.yaml to keep its state here",
        )


STACK = AzureStack
BOOTSTRAP = AzureBootstrapStack
