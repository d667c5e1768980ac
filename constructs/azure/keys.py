"""Builds the environment's Key Vault, its customer-managed keys and the identities using them.

Satisfies: SEC-4, SEC-1, DB-2, OBJ-2, IAM-1, DEPLOY-2, DEPLOY-3

- The vault authorizes with Azure RBAC (no access policies), keeps deleted objects for 90
  days with purge protection, and is Premium, because only it holds HSM-backed keys.
- Deploy path (DEPLOY-3): the same apply writes keys, secrets and the gateway certificate
  from the deploy runner, before the VNet and the vault's private endpoint exist, so the
  vault cannot be private-endpoint-only (403 ForbiddenByConnection). Its public endpoint is
  on with `network_acls` that deny by default and admit only `azure.deployer_ip_ranges`
  (the runner's egress, validated as public in synth/config.py) and trusted Azure services
  (https://learn.microsoft.com/azure/key-vault/general/network-security). The app, the
  jobs and the gateway still use the private endpoint. The alternative, a self-hosted
  runner inside a VNet that a separate stack builds first, needs a network this project does
  not create; the IP firewall works from any runner with a stable egress address.
- Each key rotates automatically `ROTATE_AFTER` after creation and every version expires
  `EXPIRE_AFTER` after it was made (SEC-4). The rotation policy sets the expiry of every
  later version, so Terraform sets the first version's `expiration_date` only and
  ignores it afterwards (otherwise every rotation would show up as drift).
- One key and one user-assigned identity per consumer (`storage`, `database`), the identity
  allowed to use only its own key ("Key Vault Crypto Service Encryption User" on the key,
  IAM-1). The registry has no customer-managed key: see constructs/azure/registry.py.
- The deploying principal gets, on this vault only, one officer role per kind of vault
  object the apply writes (`DEPLOYER_ROLES`: keys, secrets and the gateway's certificate),
  and every such write depends on its role (DEPLOY-2; RBAC roles:
  https://learn.microsoft.com/azure/key-vault/general/rbac-guide#azure-built-in-roles-for-key-vault-data-plane-operations).
- `geo_key()` adds a second vault in the location's Azure region pair with one key, for
  what must be encrypted there (the database's geo-redundant backups, DB-2/DB-4).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from cdktf import Fn, TerraformResourceLifecycle
from cdktf_cdktf_provider_azurerm.data_azurerm_client_config import DataAzurermClientConfig
from cdktf_cdktf_provider_azurerm.key_vault import KeyVault, KeyVaultNetworkAcls
from cdktf_cdktf_provider_azurerm.key_vault_key import (
    KeyVaultKey,
    KeyVaultKeyRotationPolicy,
    KeyVaultKeyRotationPolicyAutomatic,
)
from cdktf_cdktf_provider_azurerm.resource_group import ResourceGroup
from cdktf_cdktf_provider_azurerm.role_assignment import RoleAssignment
from cdktf_cdktf_provider_azurerm.user_assigned_identity import UserAssignedIdentity
from cdktf_cdktf_provider_time.sleep import Sleep
from constructs import Construct
from constructs.azure.propagation import propagated

from synth.config import EnvironmentConfig

SOFT_DELETE_DAYS = 90  # the maximum Key Vault allows
ROTATE_AFTER = "P90D"  # SEC-4: a new key version at least every 90 days
EXPIRE_AFTER = "P180D"  # each version stays valid one rotation period past its successor
EXPIRE_AFTER_HOURS = 180 * 24
NOTIFY_BEFORE_EXPIRY = "P30D"
KEY_CONSUMERS = ("storage", "database")
# The deployer's role per kind of vault object the apply writes (DEPLOY-3).
DEPLOYER_ROLES = {
    "key": "Key Vault Crypto Officer",
    "secret": "Key Vault Secrets Officer",
    "certificate": "Key Vault Certificates Officer",
}
CRYPTO_USER = "Key Vault Crypto Service Encryption User"
# Azure's region pairs (geo-redundant backups go to the pair) of the locations the config
# admits; locations without a pair are absent.
PAIRED_LOCATIONS = {
    "eastus": "westus", "eastus2": "centralus", "westus": "eastus", "westus2": "westcentralus",
    "westus3": "eastus", "centralus": "eastus2", "northcentralus": "southcentralus",
    "southcentralus": "northcentralus", "westcentralus": "westus2",
    "canadacentral": "canadaeast", "canadaeast": "canadacentral",
    "brazilsouth": "southcentralus", "northeurope": "westeurope", "westeurope": "northeurope",
    "uksouth": "ukwest", "ukwest": "uksouth", "francecentral": "francesouth",
    "germanywestcentral": "germanynorth", "norwayeast": "norwaywest",
    "swedencentral": "swedensouth", "switzerlandnorth": "switzerlandwest",
    "eastasia": "southeastasia", "southeastasia": "eastasia", "japaneast": "japanwest",
    "japanwest": "japaneast", "koreacentral": "koreasouth", "centralindia": "southindia",
    "southindia": "centralindia", "australiaeast": "australiasoutheast",
    "australiasoutheast": "australiaeast", "uaenorth": "uaecentral",
    "southafricanorth": "southafricawest",
}  # fmt: skip


def global_name(config: EnvironmentConfig, kind: str, *, max_length: int, sep: str = "-") -> str:
    """A globally unique Azure name: `<kind><sep><prefix><sep><hash>`, deterministic.

    The 6-character hash is of the subscription ID and the prefix, so the name is unique
    per subscription and environment, stable across runs, and has no random suffix.
    `sep=""` gives the lowercase alphanumeric names storage accounts and registries need.
    """
    digest = hashlib.sha256(f"{config.azure.subscription_id}/{config.prefix}".encode()).hexdigest()
    stem = config.prefix if sep else re.sub(r"[^a-z0-9]", "", config.prefix)
    room = max_length - len(kind) - len(digest[:6]) - 2 * len(sep)
    return f"{kind}{sep}{stem[:room].rstrip('-')}{sep}{digest[:6]}"


@dataclass(frozen=True)
class ManagedKey:
    """A customer-managed key and the one identity allowed to encrypt with it."""

    key: KeyVaultKey
    identity: UserAssignedIdentity
    grant: RoleAssignment
    # What a consumer depends on before it first uses the key: the grant, propagated (DEPLOY-2).
    ready: Sleep


class Keys(Construct):
    """Key Vault `kv-<prefix>-<hash>` with keys `storage`, `database` and `registry`."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: EnvironmentConfig,
        resource_group: ResourceGroup,
        client: DataAzurermClientConfig,
    ) -> None:
        super().__init__(scope, id_)
        self._config = config
        self._resource_group = resource_group
        self._client = client
        # The deployer writes a certificate only when the stack makes a self-signed one (EDGE-1).
        certificate = config.azure.certificate
        writes = tuple(
            kind
            for kind in DEPLOYER_ROLES
            if kind != "certificate" or (certificate and certificate.source == "self_signed")
        )
        self.vault, self.deployer_role = self._vault("", resource_group.location, writes)
        # What a write to the vault depends on: the deployer's officer roles, propagated.
        self.deployer_ready = propagated(
            self, "deployer-roles-propagated", [*self.deployer_role.values()]
        )
        self.managed = {
            purpose: self._key(purpose, self.vault, self.deployer_ready, resource_group.location)
            for purpose in KEY_CONSUMERS
        }
        self.geo_vault: KeyVault | None = None
        self._geo_key: ManagedKey | None = None

    def _vault(
        self, kind: str, location: str, writes: tuple[str, ...] = tuple(DEPLOYER_ROLES)
    ) -> tuple[KeyVault, dict[str, RoleAssignment]]:
        """A vault and the deployer's officer roles for the kinds of object it `writes`."""
        config = self._config
        vault = KeyVault(
            self,
            f"{kind}vault",
            name=global_name(config, f"kv{kind}", max_length=24),
            location=location,
            resource_group_name=self._resource_group.name,
            tenant_id=self._client.tenant_id,
            sku_name="premium",
            rbac_authorization_enabled=True,
            soft_delete_retention_days=SOFT_DELETE_DAYS,
            purge_protection_enabled=True,
            # DEPLOY-3: the runner writes keys, secrets and certificates; see the docstring.
            public_network_access_enabled=True,
            network_acls=runner_acls(config),
        )
        officers = {
            kind_of_object: RoleAssignment(
                self,
                f"{kind}deployer-{role.split()[-2].lower()}",
                scope=vault.id,
                role_definition_name=role,
                principal_id=self._client.object_id,
            )
            for kind_of_object, role in DEPLOYER_ROLES.items()
            if kind_of_object in writes
        }
        return vault, officers

    def _key(
        self, purpose: str, vault: KeyVault, officers_ready: Sleep, location: str
    ) -> ManagedKey:
        config = self._config
        key = KeyVaultKey(
            self,
            f"{purpose}-key",
            name=f"{config.prefix}-{purpose}",
            key_vault_id=vault.id,
            key_type="RSA-HSM",
            key_size=3072,
            key_opts=["unwrapKey", "wrapKey"],
            rotation_policy=KeyVaultKeyRotationPolicy(
                automatic=KeyVaultKeyRotationPolicyAutomatic(time_after_creation=ROTATE_AFTER),
                expire_after=EXPIRE_AFTER,
                notify_before_expiry=NOTIFY_BEFORE_EXPIRY,
            ),
            expiration_date=Fn.timeadd(Fn.timestamp(), f"{EXPIRE_AFTER_HOURS}h"),
            lifecycle=TerraformResourceLifecycle(ignore_changes=["expiration_date"]),
            depends_on=[officers_ready],
        )
        identity = UserAssignedIdentity(
            self,
            f"{purpose}-identity",
            name=f"id-{config.prefix}-{purpose}",
            location=location,
            resource_group_name=self._resource_group.name,
        )
        grant = RoleAssignment(
            self,
            f"{purpose}-key-user",
            scope=key.resource_versionless_id,
            role_definition_name=CRYPTO_USER,
            principal_id=identity.principal_id,
        )
        ready = propagated(self, f"{purpose}-key-user-propagated", [grant])
        return ManagedKey(key=key, identity=identity, grant=grant, ready=ready)

    def geo_key(self) -> ManagedKey:
        """The `database-geo` key and identity in the paired region's vault `kvgeo-...`."""
        if self._geo_key is None:
            location = self._config.azure.location
            paired = PAIRED_LOCATIONS.get(location)
            if paired is None:
                raise ValueError(
                    f"{location} has no Azure region pair, so it cannot hold geo-redundant "
                    "backups; use a paired location or turn off database.high_availability"
                )
            # The paired vault holds one key and nothing else: Crypto Officer only.
            self.geo_vault, officers = self._vault("geo", paired, writes=("key",))
            ready = propagated(self, "geo-deployer-roles-propagated", [*officers.values()])
            self._geo_key = self._key("database-geo", self.geo_vault, ready, paired)
        return self._geo_key

    @property
    def storage(self) -> ManagedKey:
        return self.managed["storage"]

    @property
    def database(self) -> ManagedKey:
        return self.managed["database"]


def runner_acls(config: EnvironmentConfig) -> KeyVaultNetworkAcls:
    """Deny by default; admit the deploy runner's ranges and trusted Azure services."""
    return KeyVaultNetworkAcls(
        default_action="Deny",
        bypass="AzureServices",
        ip_rules=list(config.azure.deployer_ip_ranges),
    )
