"""Builds the Terraform state storage: a private, CMK-encrypted, versioned Storage account.

Satisfies: STATE-2, OBJ-1, OBJ-2, OBJ-3, OBJ-5, SEC-4, IAM-1, DEPLOY-2, DEPLOY-3

- Its own resource group `rg-<app>-tfstate`, so no environment's lifecycle touches it.
- The account is `hardened_account()` of constructs/azure/storage.py (TLS 1.2, HTTPS only,
  no public blob access, shared keys off because the azurerm backend uses Azure AD auth,
  infrastructure encryption, a customer-managed key, versioning and soft delete) with
  geo-redundant replication (GRS); noncurrent versions are deleted after 90 days.
- The key is its own (state holds every secret Terraform read), in a vault with purge
  protection and RBAC, rotating like every key of constructs/azure/keys.py (SEC-4), usable
  only by the account's identity (IAM-1).
- The private container `tfstate`; the deploying principal may read and write blobs in
  that container only ("Storage Blob Data Contributor", what the backend needs).
- `prevent_destroy` on the account, container, vault and key, and a CanNotDelete lock on
  the account: losing it loses every environment's state.
- Who read, wrote or deleted state: the blob service's StorageRead/Write/Delete logs go to
  this stack's own Log Analytics workspace (`log-<app>-tfstate`, kept for the log retention,
  OBS-1), as the environments' accounts do (constructs/azure/storage.py). Classic storage
  analytics logging would need shared keys, which are off.

Names are global: derived from the app, the prefix and a hash of the subscription
(`keys.global_name`), deterministic without a random suffix.

Deploy path (DEPLOY-3): this stack has no network at all, and the runner writes the key
and the `tfstate` container (and later every environment's state blobs) from outside
Azure. Like the environments' vaults and accounts, the vault and the account keep their
public endpoint on behind a firewall that denies by default and admits only
`azure.deployer_ip_ranges` and trusted Azure services (see constructs/azure/keys.py).
The deployer gets Crypto Officer for the one key it writes, and the container write and
the key write wait for their roles (DEPLOY-2).
"""

from __future__ import annotations

from cdktf import Fn, TerraformResourceLifecycle
from cdktf_cdktf_provider_azurerm.data_azurerm_client_config import DataAzurermClientConfig
from cdktf_cdktf_provider_azurerm.key_vault import KeyVault
from cdktf_cdktf_provider_azurerm.key_vault_key import (
    KeyVaultKey,
    KeyVaultKeyRotationPolicy,
    KeyVaultKeyRotationPolicyAutomatic,
)
from cdktf_cdktf_provider_azurerm.log_analytics_workspace import LogAnalyticsWorkspace
from cdktf_cdktf_provider_azurerm.management_lock import ManagementLock
from cdktf_cdktf_provider_azurerm.resource_group import ResourceGroup
from cdktf_cdktf_provider_azurerm.role_assignment import RoleAssignment
from cdktf_cdktf_provider_azurerm.storage_container import StorageContainer
from cdktf_cdktf_provider_azurerm.storage_management_policy import (
    StorageManagementPolicy,
    StorageManagementPolicyRule,
    StorageManagementPolicyRuleActions,
    StorageManagementPolicyRuleActionsSnapshot,
    StorageManagementPolicyRuleActionsVersion,
    StorageManagementPolicyRuleFilters,
)
from cdktf_cdktf_provider_azurerm.user_assigned_identity import UserAssignedIdentity
from constructs import Construct
from constructs.azure import waivers
from constructs.azure.keys import (
    CRYPTO_USER,
    EXPIRE_AFTER,
    EXPIRE_AFTER_HOURS,
    NOTIFY_BEFORE_EXPIRY,
    ROTATE_AFTER,
    SOFT_DELETE_DAYS,
    ManagedKey,
    global_name,
    runner_acls,
)
from constructs.azure.propagation import propagated
from constructs.azure.storage import (
    NONCURRENT_VERSION_DAYS,
    hardened_account,
    service_diagnostics,
)

from synth.config import EnvironmentConfig
from synth.construct_waivers import waive

CONTAINER = "tfstate"
KEEP = TerraformResourceLifecycle(prevent_destroy=True)


class StateStorage(Construct):
    """Attributes: `resource_group_name`, `storage_account_name`, `container_name`."""

    def __init__(self, scope: Construct, id_: str, *, config: EnvironmentConfig) -> None:
        super().__init__(scope, id_)
        client = DataAzurermClientConfig(self, "client")
        group = ResourceGroup(
            self,
            "resource-group",
            name=f"rg-{config.app}-tfstate",
            location=config.azure.location,
        )
        key = self._key(config, group, client)
        account = hardened_account(
            self,
            "account",
            name=global_name(config, "sttfstate", max_length=24, sep=""),
            resource_group=group,
            key=key,
            replication="GRS",  # a second copy in the paired region
            runner_ranges=config.azure.deployer_ip_ranges,
        )
        account.lifecycle = KEEP
        for check, reason in (
            (
                "CKV2_AZURE_33",
                "The bootstrap stack has no VNet to place a private endpoint in; the account's "
                "firewall denies by default and admits only the deploy runner's ranges "
                "(azure.deployer_ip_ranges) and trusted Azure services.",
            ),
            (
                "CKV_AZURE_33",
                "The account holds only the tfstate blob container, so there is no queue "
                "service in use to log.",
            ),
            (
                "CKV_AZURE_59",
                "For DEPLOY-3 the deploy runner creates the state container and reads and writes "
                "state blobs through the public endpoint, as no VNet exists here; it is on only "
                "behind a firewall that denies by default and admits azure.deployer_ip_ranges "
                "and trusted Azure services (CKV_GW_DEPLOY_70 checks it).",
            ),
        ):
            waive(account, check, reason=reason, owner=waivers.OWNER, expires=waivers.GAP_EXPIRES)
        ManagementLock(
            self,
            "lock",
            name="tfstate-can-not-delete",
            scope=account.id,
            lock_level="CanNotDelete",
            notes="STATE-2: every environment's Terraform state; remove deliberately.",
        )
        container = StorageContainer(
            self,
            "container",
            name=CONTAINER,
            storage_account_id=account.id,
            container_access_type="private",  # OBJ-1
            lifecycle=KEEP,
        )
        workspace = LogAnalyticsWorkspace(
            self,
            "logs",
            name=f"log-{config.app}-tfstate",
            location=group.location,
            resource_group_name=group.name,
            sku="PerGB2018",
            retention_in_days=config.logs.retention_days,  # OBS-1
            local_authentication_enabled=False,  # Entra ID only, no shared workspace keys
        )
        service_diagnostics(self, "blob-logs", account=account, service="blob", workspace=workspace)
        waive(
            container,
            "CKV2_AZURE_21",
            reason="Storage analytics logging needs shared-key access, which is disabled; "
            "reads, writes and deletes of state blobs are logged through a diagnostic setting "
            "to this stack's Log Analytics workspace.",
            owner=waivers.OWNER,
            expires=waivers.EXPIRES,
        )
        RoleAssignment(
            self,
            "deployer-state-access",
            scope=f"{account.id}/blobServices/default/containers/{CONTAINER}",
            role_definition_name="Storage Blob Data Contributor",
            principal_id=client.object_id,
            depends_on=[container],
        )
        StorageManagementPolicy(
            self,
            "lifecycle",
            storage_account_id=account.id,
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
        self.resource_group_name = group.name
        self.storage_account_name = account.name
        self.container_name = container.name

    def _key(
        self, config: EnvironmentConfig, group: ResourceGroup, client: DataAzurermClientConfig
    ) -> ManagedKey:
        """The account's key, in its own vault, usable only by the account's identity."""
        vault = KeyVault(
            self,
            "vault",
            name=global_name(config, "kvtfstate", max_length=24),
            location=group.location,
            resource_group_name=group.name,
            tenant_id=client.tenant_id,
            sku_name="premium",  # HSM-backed keys
            rbac_authorization_enabled=True,
            soft_delete_retention_days=SOFT_DELETE_DAYS,  # SEC-4
            purge_protection_enabled=True,
            public_network_access_enabled=True,  # DEPLOY-3: firewalled to the runner
            network_acls=runner_acls(config),
            lifecycle=KEEP,
        )
        waive(
            vault,
            "CKV2_AZURE_32",
            reason="The bootstrap stack has no VNet to place a private endpoint in; the vault's "
            "firewall denies by default and admits only the deploy runner's ranges "
            "(azure.deployer_ip_ranges) and trusted Azure services.",
            owner=waivers.OWNER,
            expires=waivers.GAP_EXPIRES,
        )
        officer = RoleAssignment(
            self,
            "deployer-crypto-officer",
            scope=vault.id,
            role_definition_name="Key Vault Crypto Officer",
            principal_id=client.object_id,
        )
        key = KeyVaultKey(
            self,
            "key",
            name=f"{config.app}-tfstate",
            key_vault_id=vault.id,
            key_type="RSA-HSM",
            key_size=3072,
            key_opts=["unwrapKey", "wrapKey"],
            rotation_policy=KeyVaultKeyRotationPolicy(
                automatic=KeyVaultKeyRotationPolicyAutomatic(time_after_creation=ROTATE_AFTER),
                expire_after=EXPIRE_AFTER,
                notify_before_expiry=NOTIFY_BEFORE_EXPIRY,
            ),
            # The rotation policy sets later versions' expiry; see constructs/azure/keys.py.
            expiration_date=Fn.timeadd(Fn.timestamp(), f"{EXPIRE_AFTER_HOURS}h"),
            lifecycle=TerraformResourceLifecycle(
                prevent_destroy=True, ignore_changes=["expiration_date"]
            ),
            depends_on=[propagated(self, "deployer-crypto-officer-propagated", [officer])],
        )
        identity = UserAssignedIdentity(
            self,
            "identity",
            name=f"id-{config.app}-tfstate",
            location=group.location,
            resource_group_name=group.name,
        )
        grant = RoleAssignment(
            self,
            "key-user",
            scope=key.resource_versionless_id,
            role_definition_name=CRYPTO_USER,
            principal_id=identity.principal_id,
        )
        ready = propagated(self, "key-user-propagated", [grant])
        return ManagedKey(key=key, identity=identity, grant=grant, ready=ready)
