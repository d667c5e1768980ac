"""Builds the app's secrets in Key Vault and the near-expiry events that drive their rotation.

Satisfies: SEC-1, SEC-2, SEC-3, DB-9

- SEC-1: `jwt-secret`, `database-url` and `database-password` (Key Vault names allow no
  underscores; the app maps them to JWT_SECRET, DATABASE_URL and DATABASE_PASSWORD). Key
  Vault encrypts secrets with its own HSM-protected keys; it offers no customer key for
  secrets, so the vault's access control and purge protection are the environment's key.
- SEC-3: the two secret values are write-only arguments (`value_wo`, azurerm 4.x), so no
  value is kept in state, and what Terraform writes is a marker, not a secret:
  `jwt-secret` starts as `pending-rotation` and the rotation process writes the first
  real value (>= 256 random bits) right after the first apply; `database-password` holds
  `entra-id-token` because the server accepts no password at all (DB-9): the app signs in
  with a token of its managed identity. `database-url` holds no secret (user, host, port,
  database, `sslmode=require`), so it is built from Terraform values.
- SEC-2: every secret expires `config.secrets.rotation_days` after it was written. Key
  Vault has no rotation schedule for secrets; it raises `SecretNearExpiry` 30 days before
  expiry, and an Event Grid subscription delivers those events (and `SecretExpired`) to
  the `secret-rotation` queue, which the rotation job consumes: it writes a new version
  with a new expiry. Terraform sets the first expiry only (`ignore_changes`), so later
  rotations do not show up as drift. The job reads the queue through a private endpoint.
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
from constructs.azure.database import Database
from constructs.azure.keys import Keys

from synth.config import EnvironmentConfig

if TYPE_CHECKING:
    from constructs.azure.network import Network

ROTATION_EVENTS = ["Microsoft.KeyVault.SecretNearExpiry", "Microsoft.KeyVault.SecretExpired"]
# Markers Terraform writes (write-only); neither is a secret. See the module docstring.
PENDING = "pending-rotation"
ENTRA_TOKEN = "entra-id-token"


def app_identity_name(config: EnvironmentConfig) -> str:
    """The app's managed identity, which is also its PostgreSQL role (Entra auth)."""
    return f"id-{config.prefix}-app"


class Secrets(Construct):
    """Key Vault secrets `jwt-secret`, `database-url`, `database-password`; rotation events."""

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
            "depends_on": keys.deployer_roles,
        }
        url = (
            f"postgresql://{app_identity_name(config)}@{database.fqdn}:{database.port}"
            f"/{database.database.name}?sslmode=require"
        )
        self.jwt_secret = KeyVaultSecret(
            self,
            "jwt-secret",
            name="jwt-secret",
            content_type="text/plain; >= 256 random bits, written by the rotation job",
            value_wo=PENDING,
            value_wo_version=1,
            **common,
        )
        self.database_url = KeyVaultSecret(
            self,
            "database-url",
            name="database-url",
            content_type="text/uri; postgresql, Entra ID token as password",
            value=url,
            **common,
        )
        self.database_password = KeyVaultSecret(
            self,
            "database-password",
            name="database-password",
            content_type="text/plain; Entra ID authentication, no static password",
            value_wo=ENTRA_TOKEN,
            value_wo_version=1,
            **common,
        )
        self.all = {
            "JWT_SECRET": self.jwt_secret,
            "DATABASE_URL": self.database_url,
            "DATABASE_PASSWORD": self.database_password,
        }

        queue = StorageQueue(
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
            depends_on=[sender],
        )
