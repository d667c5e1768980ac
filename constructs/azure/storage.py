"""Builds the app's object storage: a private, versioned, logged Storage account and container.

Satisfies: OBJ-1, OBJ-2, OBJ-3, OBJ-4, OBJ-5, OBJ-6, NET-2, DEPLOY-2, DEPLOY-3

- OBJ-1: no public network access (a private endpoint in the endpoints subnet), no
  anonymous blob access, shared keys and local users off (Entra ID only).
- OBJ-2: infrastructure (double) encryption and the customer-managed `storage` key
  through its own identity. The key costs the same in every tier, so every tier uses it;
  production therefore meets the CMK rule.
- OBJ-3: versioning and 7-day blob and container soft delete; lifecycle management
  deletes noncurrent versions after 90 days. Azure has no incomplete-upload object to
  abort: uncommitted blocks of an unfinished block-blob upload are discarded by the
  platform after 7 days, which is the OBJ-3 "abort after 7 days" on Azure.
- OBJ-4: production replicates read-access geo-redundantly (`RAGRS`); other tiers keep
  locally redundant copies, a cost choice.
- OBJ-5: HTTPS only, TLS 1.2 minimum.
- OBJ-6: blob read/write/delete logs go to the Log Analytics workspace.

`hardened_account()` is the one place these settings live; the log sink and the state
storage use it too. Deploy path (DEPLOY-3): the apply creates containers and queues from
the deploy runner, through Entra ID (shared keys are off; the provider sets
`storage_use_azuread`), before any private endpoint exists. So the public endpoint is on
with a firewall that denies by default and admits only `azure.deployer_ip_ranges` and
trusted Azure services (Network Watcher, Event Grid with its identity); the app reaches
its blobs through the private endpoint
(https://learn.microsoft.com/azure/storage/common/storage-network-security), and every app
that uses the bucket waits for it and its zone's VNet link (`private_path`; DEPLOY-2,
CKV_GW_DEPLOY_83).
Storage account names must be globally unique, 3-24 lowercase letters and digits: they
are derived from the prefix and a hash of the subscription (`keys.global_name`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cdktf import ITerraformDependable
from cdktf_cdktf_provider_azurerm.log_analytics_workspace import LogAnalyticsWorkspace
from cdktf_cdktf_provider_azurerm.monitor_diagnostic_setting import (
    MonitorDiagnosticSetting,
    MonitorDiagnosticSettingEnabledLog,
    MonitorDiagnosticSettingEnabledMetric,
)
from cdktf_cdktf_provider_azurerm.resource_group import ResourceGroup
from cdktf_cdktf_provider_azurerm.storage_account import (
    StorageAccount,
    StorageAccountBlobProperties,
    StorageAccountBlobPropertiesContainerDeleteRetentionPolicy,
    StorageAccountBlobPropertiesDeleteRetentionPolicy,
    StorageAccountCustomerManagedKey,
    StorageAccountIdentity,
    StorageAccountNetworkRules,
    StorageAccountSasPolicy,
)
from cdktf_cdktf_provider_azurerm.storage_container import StorageContainer
from cdktf_cdktf_provider_azurerm.storage_management_policy import (
    StorageManagementPolicy,
    StorageManagementPolicyRule,
    StorageManagementPolicyRuleActions,
    StorageManagementPolicyRuleActionsSnapshot,
    StorageManagementPolicyRuleActionsVersion,
    StorageManagementPolicyRuleFilters,
)
from constructs import Construct
from constructs.azure import waivers
from constructs.azure.keys import ManagedKey, global_name

from synth.config import EnvironmentConfig
from synth.construct_waivers import waive

if TYPE_CHECKING:
    from constructs.azure.network import Network

SOFT_DELETE_DAYS = 7
NONCURRENT_VERSION_DAYS = 90  # OBJ-3
BLOB_LOG_CATEGORIES = ("StorageRead", "StorageWrite", "StorageDelete")


def hardened_account(
    scope: Construct,
    id_: str,
    *,
    name: str,
    resource_group: ResourceGroup,
    key: ManagedKey,
    replication: str,
    runner_ranges: list[str],
) -> StorageAccount:
    """A StorageV2 account with every OBJ-1/2/5 default; reachable by the deploy runner's
    ranges, trusted Azure services and private endpoints only."""
    return StorageAccount(
        scope,
        id_,
        name=name,
        location=resource_group.location,
        resource_group_name=resource_group.name,
        account_kind="StorageV2",
        account_tier="Standard",
        account_replication_type=replication,
        https_traffic_only_enabled=True,  # OBJ-5
        min_tls_version="TLS1_2",
        allow_nested_items_to_be_public=False,  # OBJ-1
        public_network_access_enabled=True,  # DEPLOY-3: firewalled below
        shared_access_key_enabled=False,
        default_to_oauth_authentication=True,
        local_user_enabled=False,
        cross_tenant_replication_enabled=False,
        infrastructure_encryption_enabled=True,  # OBJ-2
        # Only the deploy runner, trusted Azure services (e.g. Network Watcher) and private
        # endpoints get in.
        network_rules=StorageAccountNetworkRules(
            default_action="Deny",
            bypass=["AzureServices", "Logging", "Metrics"],
            ip_rules=storage_ip_rules(runner_ranges),
        ),
        # Shared keys are off, so no SAS can be signed with one; a user-delegation SAS
        # still expires within a day.
        sas_policy=StorageAccountSasPolicy(expiration_period="01.00:00:00"),
        identity=StorageAccountIdentity(type="UserAssigned", identity_ids=[key.identity.id]),
        customer_managed_key=StorageAccountCustomerManagedKey(
            key_vault_key_id=key.key.versionless_id,  # follows key rotation
            user_assigned_identity_id=key.identity.id,
        ),
        blob_properties=StorageAccountBlobProperties(
            versioning_enabled=True,  # OBJ-3
            delete_retention_policy=StorageAccountBlobPropertiesDeleteRetentionPolicy(
                days=SOFT_DELETE_DAYS
            ),
            container_delete_retention_policy=(
                StorageAccountBlobPropertiesContainerDeleteRetentionPolicy(days=SOFT_DELETE_DAYS)
            ),
        ),
        depends_on=[key.ready],
    )


def storage_ip_rules(ranges: list[str]) -> list[str]:
    """Storage firewall rules for CIDR ranges: a /32 is written as its bare address, because
    Storage refuses /31 and /32 prefixes (storage-network-security, "IP network rules")."""
    return [cidr.removesuffix("/32") for cidr in ranges]


def service_diagnostics(
    scope: Construct,
    id_: str,
    *,
    account: StorageAccount,
    service: str,
    workspace: LogAnalyticsWorkspace,
) -> MonitorDiagnosticSetting:
    """OBJ-6: read, write and delete logs of one service (`blob`, `queue`) to the workspace."""
    return MonitorDiagnosticSetting(
        scope,
        id_,
        name=f"{service}-to-log-analytics",
        target_resource_id=f"{account.id}/{service}Services/default",
        log_analytics_workspace_id=workspace.id,
        enabled_log=[
            MonitorDiagnosticSettingEnabledLog(category=category)
            for category in BLOB_LOG_CATEGORIES
        ],
        enabled_metric=[MonitorDiagnosticSettingEnabledMetric(category="Transaction")],
    )


class Storage(Construct):
    """Storage account `st<prefix><hash>` with the private container `app`."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: EnvironmentConfig,
        resource_group: ResourceGroup,
        key: ManagedKey,
        network: Network,
        workspace: LogAnalyticsWorkspace,
    ) -> None:
        super().__init__(scope, id_)
        # OBJ-4 is a production rule; lower tiers keep three local copies (cost).
        replication = "RAGRS" if config.tier == "production" else "LRS"
        self.account = hardened_account(
            self,
            "account",
            name=global_name(config, "st", max_length=24, sep=""),
            resource_group=resource_group,
            key=key,
            replication=replication,
            runner_ranges=config.azure.deployer_ip_ranges,
        )
        self.container = StorageContainer(
            self,
            "container",
            name="app",
            storage_account_id=self.account.id,
            container_access_type="private",
        )
        waive(
            self.container,
            "CKV2_AZURE_21",
            reason="Storage analytics logging needs shared-key access, which is disabled; blob "
            "reads, writes and deletes are logged through a diagnostic setting to Log Analytics "
            "(OBJ-6).",
            owner=waivers.OWNER,
            expires=waivers.EXPIRES,
        )
        waive(
            self.account,
            "CKV_AZURE_33",
            reason="This account's queue service is unused (the rotation queue lives in the log "
            "account), so there are no queue operations to log; blob operations are logged "
            "through a diagnostic setting (OBJ-6).",
            owner=waivers.OWNER,
            expires=waivers.EXPIRES,
        )
        waive(
            self.account,
            "CKV_AZURE_59",
            reason="For DEPLOY-3 the deploy runner creates this account's container and the "
            "provider polls its data plane during the apply, before any private endpoint exists; "
            "public network access is on only behind a firewall that denies by default and admits "
            "azure.deployer_ip_ranges and trusted Azure services (CKV_GW_DEPLOY_70 checks it).",
            owner=waivers.OWNER,
            expires=waivers.EXPIRES,
        )
        if replication == "LRS":
            waive(
                self.account,
                "CKV_AZURE_206",
                reason="Geo-redundant object storage is an OBJ-4 production rule; this tier keeps "
                "locally redundant storage.",
                owner=waivers.OWNER,
                expires=waivers.EXPIRES,
            )
        StorageManagementPolicy(
            self,
            "lifecycle",
            storage_account_id=self.account.id,
            rule=[
                StorageManagementPolicyRule(
                    name="expire-noncurrent-versions",
                    enabled=True,
                    filters=StorageManagementPolicyRuleFilters(blob_types=["blockBlob"]),
                    actions=StorageManagementPolicyRuleActions(
                        version=StorageManagementPolicyRuleActionsVersion(
                            delete_after_days_since_creation=NONCURRENT_VERSION_DAYS
                        ),
                        snapshot=StorageManagementPolicyRuleActionsSnapshot(
                            delete_after_days_since_creation_greater_than=NONCURRENT_VERSION_DAYS
                        ),
                    ),
                )
            ],
        )
        service_diagnostics(
            self, "blob-logs", account=self.account, service="blob", workspace=workspace
        )
        self.blob_endpoint = network.private_endpoint(
            self,
            "blob-endpoint",
            name=f"{config.prefix}-blob",
            resource_id=self.account.id,
            subresource="blob",
            dns_zone="privatelink.blob.core.windows.net",
        )
        # What a client in the VNet waits for before it reads or writes blobs (DEPLOY-2).
        self.private_path: list[ITerraformDependable] = network.private_path(self.blob_endpoint)
