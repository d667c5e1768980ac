"""Builds the app's secrets in Key Vault, one per catalog entry, and the near-expiry events that
drive their rotation.

Satisfies: SEC-1, SEC-2, SEC-3, SEC-5, DB-9, DEPLOY-2, DEPLOY-3, DEPLOY-6

- SEC-5: one Key Vault secret per variable of `config.secrets.catalog` (Key Vault names
  allow no underscores, so `JWT_SECRET` is `jwt-secret`), tagged with its catalog name
  (`groundwork-secret`) and kind (`groundwork-secret-kind`); no application's secret is
  named here. Without `secrets:` the catalog is today's JWT_SECRET and DATABASE_URL.
- Rotated secrets contract (SEC-1, SEC-2, DEPLOY-6; the same on every cloud): a generated
  secret `X` reaches its readers as `X` (sign and verify), `X_PREVIOUS` and `X_NEXT` (verify
  only), three Key Vault secrets. The rotation job shifts previous <- current <- next <-
  fresh random for every generated secret and then restarts the revisions of every service
  that reads one, so live replicas are never more than one rotation apart and any two accept
  each other's tokens (constructs/azure/jobs.py).
- Derived secrets hold connection URLs of what the stack creates: `database_url` through
  the server's PgBouncer where it runs one (DB-6), `database_direct_url` to the primary,
  `database_reader_url` to the first read replica, `cache_url` to the cache. None holds a
  credential: every service signs in as its own identity (below), so one URL serves all.
- External secrets (a third party's value, SEC-5) are created empty, with nothing in the
  JSON or the state: `value_wo` is the empty string and `value_wo_version` stays 1. Key
  Vault stores an empty value (a `SetSecret` of "" succeeds on Azure:
  james-gould/azure-keyvault-emulator #386/#387, microsoft/azure-container-apps #1291), and
  azurerm 4.55 accepts it: `value_wo` and `value` are `ExactlyOneOf`, which the plugin SDK
  satisfies with any non-null value, "" included (terraform-plugin-sdk v2.38
  helper/schema/schema.go `validateExactlyOneAttribute`; hashicorp/terraform-provider-azurerm
  internal/services/keyvault/key_vault_secret_resource.go). That file's Read stores no
  `value` when `value_wo_version` is set, and its Update writes a new version only when
  `value` or `value_wo_version` changes (otherwise it patches the latest version's tags,
  content type and expiry), so the operator's `az keyvault secret set` adds the version the
  readers get and no later apply reads or overwrites it (README, "Azure: setting an
  external secret"). A Container App cannot start on the empty version ("Unable to get
  value", microsoft/azure-container-apps #1291), so no service references the secret until
  its entry says `value_set: true` (synth/app.py `unset_external_secrets`); the tag
  `groundwork-value-set` carries that to the gate (CKV_GW_DEPLOY_91). The flag is the
  operator's word: a fresh subscription or a re-created secret starts empty again, so every
  reader also waits for a step that checks the latest version is not empty
  (constructs/azure/steps.py `SecretHasValue`, CKV_GW_DEPLOY_94), whose failure prints
  `set_command`. SEC-2: its issuer rotates it; the rotation job has no role on it and is not
  told its name (`rotated`), so a near-expiry event of it is dropped from the queue untouched
  (constructs/azure/jobs.py), and the expiry set here is on the empty first version only.
  CKV_GW_SEC_71 fails it and this module waives that with the reason (as
  constructs/gcp/secrets.py waives CKV_GW_SEC_41), so the report says SEC-2 waived.
- Key Vault encrypts secrets with its own HSM-protected keys; it offers no customer key for
  secrets, so the vault's access control and purge protection are the environment's key.
- No `database-password`: the server accepts Entra ID tokens only (DB-9), so no password
  exists to store. A service signs in as its managed identity (`AZURE_CLIENT_ID`), as the
  role `PGUSER` names, with a token for `https://ossrdbms-aad.database.windows.net` as the
  password, fetched at connect time (`DATABASE_AUTH=entra-token`); the role is created by
  the service's `database-role` job (constructs/azure/jobs.py). A stored placeholder such as
  `entra-id-token` would be a secret without a value (DEPLOY-6), which is what issue 9 found.
- SEC-3 and DEPLOY-6: each generated secret holds its own real first value with the entry's
  `bits` of randomness and never appears in the JSON, the plan or the state: the write-only
  `value_wo` (Terraform >= 1.11, azurerm 4.x) is built from SHA-256s of `uuid()` results
  (`random_hex`), evaluated by Terraform at apply time. `value_wo_version` stays 1, so later
  applies leave it alone and the rotation job owns later versions. A derived URL holds no
  secret (host, port, database, `sslmode=verify-full`), so it is built from Terraform values.
- SEC-2: every secret expires `config.secrets.rotation_days` after it was written. Key
  Vault has no rotation schedule for secrets; it raises `SecretNearExpiry` 30 days before
  expiry, and an Event Grid subscription delivers those events (and `SecretExpired`) to the
  `secret-rotation` queue, which the `secret-rotation` job (constructs/azure/jobs.py)
  drains, writing a new version with a new expiry. Terraform sets the first expiry only
  (`ignore_changes`), so later rotations do not show up as drift.
- DEPLOY-2: each secret waits for the deployer's Secrets Officer role on the vault; the
  rotation job waits for the queue's private endpoint and its zone's VNet link
  (`queue_path`, CKV_GW_DEPLOY_83).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cdktf import Fn, ITerraformDependable, TerraformResourceLifecycle
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
from constructs.azure.database import POSTGRES_PORT, Database
from constructs.azure.keys import Keys
from constructs.azure.propagation import propagated

from synth.app import (
    DEFAULT_SERVICE_NAME,
    DerivedSecret,
    ExternalSecret,
    GeneratedSecret,
    azure_app_problems,
)
from synth.config import EnvironmentConfig
from synth.construct_waivers import waive

if TYPE_CHECKING:
    from constructs.azure.cache import Cache
    from constructs.azure.network import Network

ROTATION_SLOTS = {
    "": "current: sign and verify",
    "_PREVIOUS": "previous: verify only",
    "_NEXT": "next: verify only",
}
ROTATION_EVENTS = ["Microsoft.KeyVault.SecretNearExpiry", "Microsoft.KeyVault.SecretExpired"]
# Tags on every secret (SEC-5): which catalog entry it holds, its kind, and its rotation slot.
SECRET_TAG, KIND_TAG, SLOT_TAG = "groundwork-secret", "groundwork-secret-kind", "groundwork-slot"
# On external secrets: "true" once the entry says `value_set: true` (the operator has set it),
# the only state in which a service may reference it (CKV_GW_DEPLOY_91).
VALUE_SET_TAG = "groundwork-value-set"
EXTERNAL_CONTENT_TYPE = (
    "text/plain; external: set by the operator with az keyvault secret set; rotated by its issuer"
)


def external_tags(name: str, value_set: bool) -> dict[str, str]:
    """The tags an external secret of catalog entry `name` carries (SEC-5, CKV_GW_DEPLOY_91)."""
    return {SECRET_TAG: name, KIND_TAG: "external", VALUE_SET_TAG: str(value_set).lower()}


def set_command(config: EnvironmentConfig, vault: str, name: str) -> str:
    """The command that gives external secret `name` its value (README, "Azure: setting an
    external secret"). A version made by `az keyvault secret set` inherits neither the
    secret's tags nor its content type (Azure/AzureKeyVault #17), so it passes the ones the
    stack writes on it once its entry is set (TAG-1's and this module's); the value comes
    from a file, out of the shell history."""
    written = {**config.tags, **external_tags(name, True)}
    tags = " ".join(f"{key}={value}" for key, value in written.items())
    return (
        f"az keyvault secret set --vault-name {vault} --name {vault_name(name)} "
        f"--file <file holding the value> --encoding utf-8 "
        f"--content-type '{EXTERNAL_CONTENT_TYPE}' --tags {tags}"
    )


def random_hex(bits: int) -> str:
    """A Terraform expression for `bits` random bits, hex encoded, evaluated at apply time.

    Each SHA-256 of two `uuid()` results carries 256 random bits (each uuid is 128 bits from
    Go's crypto/rand through hashicorp/go-uuid, which sets no version bits;
    https://developer.hashicorp.com/terraform/language/functions/uuid); enough of them are
    joined and the hex cut to `bits / 4` characters, which keeps `bits` bits of randomness.
    """
    one = 'sha256(join("", [uuid(), uuid()]))'
    if bits == 256:
        return f"${{{one}}}"
    parts = -(-bits // 256)
    return f'${{substr(join("", [{", ".join([one] * parts)}]), 0, {bits // 4})}}'


def vault_name(variable: str) -> str:
    """The Key Vault name of an environment variable: Key Vault names allow no underscores."""
    return variable.lower().replace("_", "-")


def app_identity_name(config: EnvironmentConfig, service: str = DEFAULT_SERVICE_NAME) -> str:
    """A service's managed identity, which is also its PostgreSQL role (Entra auth): today's
    `id-<prefix>-app` for the default service, `id-<prefix>-app-<service>` for the others (so
    no service name collides with the stack's other identities, such as `id-<prefix>-gateway`)."""
    if service == DEFAULT_SERVICE_NAME:
        return f"id-{config.prefix}-app"
    return f"id-{config.prefix}-app-{service}"


def refuse_problems(config: EnvironmentConfig) -> None:
    """What the Azure stack cannot build (synth/app.py `azure_app_problems` says why) is
    refused here too, so a construct never builds it, whatever called it."""
    problems = azure_app_problems(config)
    if problems:
        raise ValueError("\n".join(problems))


class Secrets(Construct):
    """One Key Vault secret per catalog variable (SEC-5), and the events that rotate them."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: EnvironmentConfig,
        resource_group: ResourceGroup,
        keys: Keys,
        database: Database,
        cache: Cache | None,
        rotation_account: StorageAccount,
        network: Network,
    ) -> None:
        super().__init__(scope, id_)
        refuse_problems(config)
        hours = config.secrets.rotation_days * 24
        first_expiry = Fn.timeadd(Fn.timestamp(), f"{hours}h")
        common = {
            "key_vault_id": keys.vault.id,
            "expiration_date": first_expiry,
            # The rotation job owns later versions and their expiry (SEC-2).
            "lifecycle": TerraformResourceLifecycle(ignore_changes=["expiration_date"]),
            "depends_on": [keys.deployer_ready],
        }
        # Derived values: connection URLs without a user or password. Each service signs in
        # to the database as its own identity's role, which the platform gives it as PGUSER
        # (libpq and node-postgres read PGUSER when the URL names no user), with a token of
        # that identity as password (DATABASE_AUTH=entra-token), so one URL serves every
        # reader. verify-full: the server's certificate chains to DigiCert Global Root G2 /
        # Microsoft RSA Root CA 2017, public roots
        # (https://learn.microsoft.com/azure/postgresql/flexible-server/concepts-networking-ssl-tls)
        # that Node's bundled store holds; `require` would encrypt without checking who
        # answers. No `sslrootcert=system`: node-postgres reads sslrootcert as a file path
        # and fails with ENOENT (brianc/node-postgres #3101); a libpq client adds it itself.
        dbname = database.database.name
        tls = "sslmode=verify-full"
        derived_values: dict[str, tuple[str, str]] = {
            # Through PgBouncer where the server runs it (DB-6), else to the server itself.
            "database_url": (
                f"postgresql://{database.fqdn}:{database.port}/{dbname}?{tls}",
                "text/uri; postgresql through the pooler, Entra ID token as password",
            ),
            "database_direct_url": (
                f"postgresql://{database.fqdn}:{POSTGRES_PORT}/{dbname}?{tls}",
                "text/uri; postgresql to the primary, Entra ID token as password",
            ),
        }
        if database.replicas:
            derived_values["database_reader_url"] = (
                f"postgresql://{database.replicas[0].fqdn}:{POSTGRES_PORT}/{dbname}?{tls}",
                "text/uri; postgresql to a read replica, Entra ID token as password",
            )
        if cache is not None:
            # Entra ID only (no key): the user is the reader's identity (REDIS_USERNAME).
            derived_values["cache_url"] = (
                f"rediss://{cache.host}:{cache.port}",
                "text/uri; redis over TLS, Entra ID token as password",
            )

        self.all: dict[str, KeyVaultSecret] = {}  # environment variable -> its secret
        self.generated: dict[str, tuple[str, str]] = {}  # current -> (previous, next) names
        self.generated_bytes: dict[str, int] = {}  # current name -> random bytes per value
        self.rotated: dict[str, KeyVaultSecret] = {}  # vault name -> secret the job rewrites
        self.external: dict[str, KeyVaultSecret] = {}  # catalog name -> secret the operator sets
        for name, entry in config.secrets.catalog.items():
            tags = {SECRET_TAG: name, KIND_TAG: entry.kind}
            if isinstance(entry, GeneratedSecret):
                # Current, previous and next, each with its own random first value.
                for suffix, role in ROTATION_SLOTS.items():
                    variable = f"{name}{suffix}"
                    self.all[variable] = self.rotated[vault_name(variable)] = KeyVaultSecret(
                        self,
                        vault_name(variable),
                        name=vault_name(variable),
                        content_type=f"text/plain; {entry.bits} random bits, hex; {role}; "
                        "rotated by the secret-rotation job",
                        value_wo=random_hex(entry.bits),
                        value_wo_version=1,
                        tags={**tags, SLOT_TAG: role.split(":")[0]},
                        **common,
                    )
                current = vault_name(name)
                self.generated[current] = (f"{current}-previous", f"{current}-next")
                self.generated_bytes[current] = entry.bits // 8
            elif isinstance(entry, DerivedSecret):
                if entry.source not in derived_values:
                    raise ValueError(
                        f"secrets.catalog.{name}: source {entry.source} needs a component this "
                        "stack does not create"
                    )
                value, content_type = derived_values[entry.source]
                self.all[name] = self.rotated[vault_name(name)] = KeyVaultSecret(
                    self,
                    vault_name(name),
                    name=vault_name(name),
                    content_type=content_type,
                    value=value,
                    tags=tags,
                    **common,
                )
            elif isinstance(entry, ExternalSecret):
                # Created empty; the operator sets its value (see the module docstring).
                self.all[name] = self.external[name] = KeyVaultSecret(
                    self,
                    vault_name(name),
                    name=vault_name(name),
                    content_type=EXTERNAL_CONTENT_TYPE,
                    value_wo="",
                    value_wo_version=1,
                    tags=external_tags(name, entry.value_set),
                    **common,
                )
                # SEC-2: Key Vault's expiry is on the empty first version only, and the
                # rotation job drops this secret's events (constructs/azure/jobs.py), so
                # nothing in the stack rotates it: CKV_GW_SEC_71 fails it and the gate says
                # why here (as constructs/gcp/secrets.py waives CKV_GW_SEC_41).
                waive(
                    self.external[name],
                    "CKV_GW_SEC_71",
                    reason=f"{name} is an external secret: its issuer rotates it, and the "
                    "operator stores each new value with az keyvault secret set (README, "
                    "'Azure: setting an external secret'); nothing in the stack rotates it, "
                    "because the stack never has its value.",
                    owner=waivers.OWNER,
                    expires=waivers.EXPIRES,
                )
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
        self.vault_name = keys.vault.name
        self.queue_account_name = rotation_account.name

        self.queue = queue = StorageQueue(
            self, "rotation-queue", name="secret-rotation", storage_account_id=rotation_account.id
        )
        queue_endpoint = network.private_endpoint(
            self,
            "rotation-queue-endpoint",
            name=f"{config.prefix}-rotation-queue",
            resource_id=rotation_account.id,
            subresource="queue",
            dns_zone="privatelink.queue.core.windows.net",
        )
        # What the rotation job needs before it reads the queue from the VNet (DEPLOY-2).
        self.queue_path: list[ITerraformDependable] = network.private_path(queue_endpoint)
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
