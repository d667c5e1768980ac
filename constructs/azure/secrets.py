"""Builds the app's secrets in Key Vault and the near-expiry events that drive their rotation.

Satisfies: SEC-1, SEC-2, SEC-3, DB-9, DEPLOY-2, DEPLOY-6

- SEC-1: `jwt-secret`, `jwt-secret-previous`, `jwt-secret-next` and `database-url` (Key
  Vault names allow no underscores; the app gets them as JWT_SECRET, JWT_SECRET_PREVIOUS,
  JWT_SECRET_NEXT and DATABASE_URL).
- Rotated secrets contract (SEC-1, SEC-2, DEPLOY-6; the same on every cloud): a generated
  secret `X` reaches the app as `X` (sign and verify), `X_PREVIOUS` and `X_NEXT` (verify
  only), three Key Vault secrets. The rotation job shifts previous <- current <- next <-
  fresh random and then restarts the app's active revision, so live replicas are never more
  than one rotation apart and any two accept each other's tokens (constructs/azure/jobs.py).
- Key Vault encrypts secrets with its own HSM-protected keys; it offers no customer key for
  secrets, so the vault's access control and purge protection are the environment's key.
- No `database-password`: the server accepts Entra ID tokens only (DB-9), so no password
  exists to store. The app signs in as its managed identity (`AZURE_CLIENT_ID`) with a token
  for `https://ossrdbms-aad.database.windows.net` as the password, fetched at connect
  time (`DATABASE_AUTH=entra-token`); the role is created by the `database-role` job
  (constructs/azure/jobs.py). A stored placeholder such as `entra-id-token` would be a
  secret without a value (DEPLOY-6), which is what issue 9 found.
- SEC-3 and DEPLOY-6: each of the three JWT secrets holds its own real first value with 256
  random bits and never
  appears in the JSON, the plan or the state: the write-only `value_wo` (Terraform >= 1.11,
  azurerm 4.x) is the SHA-256 of two `uuid()` results (each 128 bits from Go's crypto/rand
  through hashicorp/go-uuid; https://developer.hashicorp.com/terraform/language/functions/uuid),
  evaluated by Terraform at apply time. `value_wo_version` stays 1, so later applies leave
  it alone and the rotation job owns later versions. `database-url` holds no secret (user,
  host, port, database, `sslmode=verify-full`), so it is built from Terraform values.
- SEC-2: every secret expires `config.secrets.rotation_days` after it was written. Key
  Vault has no rotation schedule for secrets; it raises `SecretNearExpiry` 30 days before
  expiry, and an Event Grid subscription delivers those events (and `SecretExpired`) to the
  `secret-rotation` queue, which the `secret-rotation` job (constructs/azure/jobs.py)
  drains, writing a new version with a new expiry. Terraform sets the first expiry only
  (`ignore_changes`), so later rotations do not show up as drift.
- DEPLOY-2: each secret waits for the deployer's Secrets Officer role on the vault.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cdktf import Fn, TerraformResourceLifecycle
from cdktf_cdktf_provider_azurerm.eventgrid_system_topic import (
    EventgridSystemTopic,
    EventgridSystemTopicIdentity,
)
from cdktf_cdktf_provider_azurerm.eventgrid_system_topic_event_subscription import (
    EventgridSystemTopicEventSubscription,
    EventgridSystemTopicEventSubscriptionDeliveryIdentity,
    EventgridSystemTopicEventSubscriptionRetryPolicy,
    EventgridSystemTopicEventSubscriptionStorageQueueEndpoint,
)
from cdktf_cdktf_provider_azurerm.key_vault_secret import KeyVaultSecret
from cdktf_cdktf_provider_azurerm.resource_group import ResourceGroup
from cdktf_cdktf_provider_azurerm.role_assignment import RoleAssignment
from cdktf_cdktf_provider_azurerm.storage_account import StorageAccount
from cdktf_cdktf_provider_azurerm.storage_queue import StorageQueue
from constructs import Construct
from constructs.azure import waivers
from constructs.azure.database import Database
from constructs.azure.keys import Keys
from constructs.azure.propagation import propagated

from synth.config import EnvironmentConfig
from synth.construct_waivers import waive

if TYPE_CHECKING:
    from constructs.azure.network import Network

# Generated secrets (env name -> Key Vault name) and the slots each is handed to the app in.
GENERATED = {"JWT_SECRET": "jwt-secret"}
ROTATION_SLOTS = {
    "": "current: sign and verify",
    "_PREVIOUS": "previous: verify only",
    "_NEXT": "next: verify only",
}
ROTATION_EVENTS = ["Microsoft.KeyVault.SecretNearExpiry", "Microsoft.KeyVault.SecretExpired"]
# 256 random bits, hex encoded, evaluated at apply time into a write-only argument (SEC-1).
RANDOM_256_BITS = '${sha256(join("", [uuid(), uuid()]))}'


def app_identity_name(config: EnvironmentConfig) -> str:
    """The app's managed identity, which is also its PostgreSQL role (Entra auth)."""
    return f"id-{config.prefix}-app"


class Secrets(Construct):
    """Key Vault secrets `jwt-secret` and `database-url`, and the events that rotate them."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: EnvironmentConfig,
        resource_group: ResourceGroup,
        keys: Keys,
        database: Database,
        rotation_account: StorageAccount,
        network: Network,
    ) -> None:
        super().__init__(scope, id_)
        hours = config.secrets.rotation_days * 24
        first_expiry = Fn.timeadd(Fn.timestamp(), f"{hours}h")
        common = {
            "key_vault_id": keys.vault.id,
            "expiration_date": first_expiry,
            # The rotation job owns later versions and their expiry (SEC-2).
            "lifecycle": TerraformResourceLifecycle(ignore_changes=["expiration_date"]),
            "depends_on": [keys.deployer_ready],
        }
        url = (
            f"postgresql://{app_identity_name(config)}@{database.fqdn}:{database.port}"
            # verify-full: the server's certificate chains to DigiCert Global Root G2 /
            # Microsoft RSA Root CA 2017, public roots
            # (https://learn.microsoft.com/azure/postgresql/flexible-server/concepts-networking-ssl-tls)
            # that Node's bundled store holds; `require` would encrypt without checking who
            # answers. No `sslrootcert=system`: node-postgres reads sslrootcert as a file path
            # and fails with ENOENT (brianc/node-postgres #3101); a libpq client adds it itself.
            f"/{database.database.name}?sslmode=verify-full"
        )
        # Generated secrets: current, previous and next, each with its own random first value.
        slots = {
            f"{env}{suffix}": (f"{name}{suffix.lower().replace('_', '-')}", role)
            for env, name in GENERATED.items()
            for suffix, role in ROTATION_SLOTS.items()
        }
        generated = {
            env: KeyVaultSecret(
                self,
                vault_name,
                name=vault_name,
                content_type=f"text/plain; 256 random bits, hex; {role}; rotated by the "
                "secret-rotation job",
                value_wo=RANDOM_256_BITS,
                value_wo_version=1,
                **common,
            )
            for env, (vault_name, role) in slots.items()
        }
        self.jwt_secret = generated["JWT_SECRET"]
        self.database_url = KeyVaultSecret(
            self,
            "database-url",
            name="database-url",
            content_type="text/uri; postgresql, Entra ID token as password",
            value=url,
            **common,
        )
        self.all = {**generated, "DATABASE_URL": self.database_url}
        # SEC-1 deviations, declared rather than passed (CKV_GW_SEC_74 fails each secret):
        # Key Vault encrypts secrets with its own HSM-protected keys and has no customer key
        # for them (https://learn.microsoft.com/azure/key-vault/general/security-features),
        # and DATABASE_PASSWORD does not exist because the server is Entra ID only (DB-9).
        for secret in self.all.values():
            waive(
                secret,
                "CKV_GW_SEC_74",
                reason="Key Vault encrypts secrets with its own service-managed HSM-protected "
                "keys and offers no customer key for secrets, so they are not encrypted with the "
                "environment's key beyond Key Vault's own; access is limited by the vault's RBAC, "
                "firewall and purge protection instead. DATABASE_PASSWORD is not stored because "
                "the database accepts Entra ID tokens only (DB-9), so no password exists.",
                owner=waivers.OWNER,
                expires=waivers.EXPIRES,
            )
        # What the rotation job rewrites: vault names -> secrets. Generated ones rotate as a
        # group (current name -> its previous and next names); derived ones keep their value.
        self.rotated = {
            **{slots[env][0]: secret for env, secret in generated.items()},
            "database-url": self.database_url,
        }
        self.generated = {name: (f"{name}-previous", f"{name}-next") for name in GENERATED.values()}
        self.vault_name = keys.vault.name
        self.queue_account_name = rotation_account.name

        self.queue = queue = StorageQueue(
            self, "rotation-queue", name="secret-rotation", storage_account_id=rotation_account.id
        )
        network.private_endpoint(
            self,
            "rotation-queue-endpoint",
            name=f"{config.prefix}-rotation-queue",
            resource_id=rotation_account.id,
            subresource="queue",
            dns_zone="privatelink.queue.core.windows.net",
        )
        topic = EventgridSystemTopic(
            self,
            "vault-events",
            name=f"evgt-{config.prefix}-vault",
            location=resource_group.location,
            resource_group_name=resource_group.name,
            topic_type="Microsoft.KeyVault.vaults",
            source_resource_id=keys.vault.id,
            identity=EventgridSystemTopicIdentity(type="SystemAssigned"),
        )
        sender = RoleAssignment(
            self,
            "topic-sends-to-queue",
            scope=queue.resource_manager_id,
            role_definition_name="Storage Queue Data Message Sender",
            principal_id=topic.identity.principal_id,
        )
        EventgridSystemTopicEventSubscription(
            self,
            "near-expiry",
            name="secret-near-expiry",
            resource_group_name=resource_group.name,
            system_topic=topic.name,
            included_event_types=ROTATION_EVENTS,
            delivery_identity=EventgridSystemTopicEventSubscriptionDeliveryIdentity(
                type="SystemAssigned"
            ),
            storage_queue_endpoint=EventgridSystemTopicEventSubscriptionStorageQueueEndpoint(
                storage_account_id=rotation_account.id,
                queue_name=queue.name,
                queue_message_time_to_live_in_seconds=7 * 24 * 3600,
            ),
            retry_policy=EventgridSystemTopicEventSubscriptionRetryPolicy(
                max_delivery_attempts=30, event_time_to_live=1440
            ),
            depends_on=[propagated(self, "topic-sends-to-queue-propagated", [sender])],
        )
