"""Secret Manager: the app's secrets by kind, CMEK, each with a real value before the app starts.

- Each secret is replicated only in `gcp.region`, encrypted with the regional secrets key
  (auto replication would need a global key) (SEC-1), and created after the Secret Manager
  agent may use that key (DEPLOY-2).
- One secret per entry of `secrets.catalog` (SEC-5, synth/app.py), its kind as the
  `secret-kind` label; no construct names an application's secret:
  - `generated` X: three secrets X, X_PREVIOUS and X_NEXT of the entry's `bits` random bits
    each, written by the rotator job inside Google Cloud (constructs/gcp/rotation.py);
  - `derived`: a version built from Terraform references to what the stack creates, written
    through the write-only `secret_data_wo` so no secret version's value is in the state; no
    literal. A database URL names its reader's IAM database user (DB-9: each service logs in
    as its own service account), so a database entry read by a service other than the
    default one is that reader's own secret `<prefix>-<entry>_<service>` (label `reader`);
  - `external`: created with NO version, so its value is never in the JSON or the state
    (SEC-3); labelled `value-set` with the entry's `value_set`. The operator adds its value
    with `gcloud secrets versions add` (README, "GCP: the app description") and then sets
    `value_set: true`; until then no service reads it, by reference or by grant
    (`for_service`), because a revision that reads `latest` of a secret without a version
    fails to start (terraform-provider-google#10846; CKV_GW_DEPLOY_44). Once it says so, its
    readers also wait for a step that fails the apply unless the secret's latest version is
    ENABLED (`_value_check`): the flag is the operator's word, and a fresh project, a
    re-created secret or a copied file has no version. Its issuer rotates it, not the stack:
    CKV_GW_SEC_41 fails it and this module waives that with the reason (as
    constructs/aws/secrets.py waives CKV2_AWS_57), and CKV_GW_SEC_43 (no version in the
    stack) likewise.
- Platform wiring, not in the catalog (synth/app.py, PLATFORM_ENVIRONMENT["gcp"]): REDIS_AUTH
  and REDIS_CA_CERT (derived, only with the cache; the Redis AUTH string is in the state all
  the same, as `google_redis_instance.auth_string`, a computed sensitive attribute, so the
  state bucket is private and encrypted; nothing rotates it, which constructs/gcp/cache.py
  waives for CKV_GW_SEC_41 with the reason) and DATABASE_PASSWORD (external: an empty
  break-glass secret no service reads; DB-9 logs in with IAM).
- SEC-2: generated secrets are rotated by the rotator job on a schedule of at most
  `secrets.rotation_days` (constructs/gcp/rotation.py). There is no Secret Manager
  `rotation` schedule: it only publishes a Pub/Sub notice, and a notice nobody consumes
  rotates nothing.
- DEPLOY-5: every secret the app reads has a version before the first revision starts: a
  `google_secret_manager_secret_version` for derived ones, the rotator's first run (a step
  the service depends on) for generated ones, the operator's `gcloud secrets versions add`
  for external ones (read only once `value_set: true` says it ran, and after the step that
  finds the latest version ENABLED). Reading `latest` of a secret without a version fails
  the revision (terraform-provider-google#10846).

Satisfies: SEC-1, SEC-2, SEC-3, SEC-5, DB-9, DEPLOY-2, DEPLOY-5
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from urllib.parse import quote

from cdktf import Fn, Token
from cdktf_cdktf_provider_google.secret_manager_secret import (
    SecretManagerSecret,
    SecretManagerSecretReplication,
    SecretManagerSecretReplicationUserManaged,
    SecretManagerSecretReplicationUserManagedReplicas,
    SecretManagerSecretReplicationUserManagedReplicasCustomerManagedEncryption,
)
from cdktf_cdktf_provider_google.secret_manager_secret_version import SecretManagerSecretVersion
from constructs import Construct
from constructs.gcp import waivers
from constructs.gcp.database import Database, iam_user
from constructs.gcp.keys import Keys
from constructs.gcp.steps import GcloudStep

from synth.app import (
    DEFAULT_SERVICE_NAME,
    DerivedSecret,
    ExternalSecret,
    GeneratedSecret,
    service_suffix,
    unset_external_secrets,
)
from synth.app import Service as ServiceSpec
from synth.config import EnvironmentConfig
from synth.construct_waivers import waive

# Secrets the platform itself keeps, by environment name (README, "GCP: secrets"): not catalog
# entries. DATABASE_PASSWORD is external (break-glass, never read); the cache's are derived.
BREAK_GLASS = ("DATABASE_PASSWORD",)
CACHE_SECRETS = ("REDIS_AUTH", "REDIS_CA_CERT")
PLATFORM_SECRETS = (*BREAK_GLASS, *CACHE_SECRETS)
# The Auth Proxy sidecar listens for the primary on the database port and for read replica 0
# on the next one (constructs/gcp/service.py).
READER_PORT_OFFSET = 1
# The rotated-secrets contract (SEC-1/2, DEPLOY-6): a generated secret X reaches the app as
# X (sign and verify), X_PREVIOUS and X_NEXT (verify only); each is its own secret, its
# `rotation-slot` label saying which, its `rotates` label naming X.
SLOTS = (("", "current"), ("_PREVIOUS", "previous"), ("_NEXT", "next"))


def label_value(name: str) -> str:
    """A label value for an env name (lowercase letters, digits, `-`, `_`)."""
    return name.lower().replace("_", "-")


def reader_key(name: str, service: str) -> str:
    """The key in `Secrets.secrets` of catalog entry `name` as read by `service`: the entry's
    own name, or `<NAME>@<service>` for a reader-specific database URL (see the module)."""
    return name + service_suffix(service, "@")


def per_reader(entry: object) -> bool:
    """A derived database entry: its URL names the reader's IAM database user."""
    return isinstance(entry, DerivedSecret) and entry.component == "database"


# How cdktf writes a token into a string: BEGIN_STRING_TOKEN_MARKER, a key of VALID_KEY_CHARS,
# END_TOKEN_MARKER (cdktf 0.21, packages/cdktf/lib/tokens/private/encoding.ts).
STRING_TOKEN = re.compile(r"(\$\{TfToken\[[a-zA-Z0-9:._-]+\]\})")


def digest_number(value: str) -> float:
    """48 bits of the value's SHA-256 as a number, computed by Terraform at apply time.

    `value` is a cdktf token, text with tokens, or a raw `${expression}` (the CA bundle's
    splat), whose expression is hashed as it stands. Text with tokens is hashed as
    `join("", [text, reference, ...])`, the same string as the template `"text${reference}"`:
    cdktf warns "You're using escape sequences (${...}) with CDKTF Built-in functions ... the
    output may be incorrect" for a template inside a function, once per use.
    """
    if value.startswith("${") and value.endswith("}") and not value.startswith("${TfToken["):
        return Token.as_number(f"${{parseint(substr(sha256({value[2:-1]}), 0, 12), 16)}}")
    parts = [part for part in STRING_TOKEN.split(value) if part]
    hashed = parts[0] if len(parts) == 1 else Fn.join("", parts)
    return Token.as_number(Fn.parseint(Fn.substr(Fn.sha256(hashed), 0, 12), 16))


class Secrets(Construct):
    """`secrets[NAME]`; `add(name, kind)` creates another one the same way, `derive(name,
    value)` adds a derived secret with its version."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: EnvironmentConfig,
        keys: Keys,
        database: Database,
    ) -> None:
        super().__init__(scope, id_)
        self._config = config
        self._key_id = keys.keys["secrets"].id
        self._key_ready = keys.ready["secrets"]
        self.secrets: dict[str, SecretManagerSecret] = {}
        self.versions: dict[str, SecretManagerSecretVersion] = {}
        # `rotated[X]` = (X, X_PREVIOUS, X_NEXT): the three env names of one generated secret.
        self.rotated: dict[str, tuple[str, str, str]] = {}
        # `value_checks[X]`: the step that fails the apply unless external secret X, labelled
        # set, has an ENABLED latest version; every reader of X depends on it (DEPLOY-5).
        self.value_checks: dict[str, GcloudStep] = {}
        catalog = config.secrets.catalog
        for name, entry in catalog.items():
            if isinstance(entry, GeneratedSecret):
                for suffix, slot in SLOTS:
                    labels = {"rotation-slot": slot, "rotates": label_value(name)}
                    self.add(name + suffix, "generated", labels)
                self.rotated[name] = tuple(name + suffix for suffix, _ in SLOTS)  # type: ignore[assignment]
        self.generated = tuple(n for names in self.rotated.values() for n in names)
        # External entries: no version here; read only once their entry says value_set.
        self.unset = unset_external_secrets(config)
        for name, entry in catalog.items():
            if isinstance(entry, ExternalSecret):
                self._external(name, entry)
        for name in BREAK_GLASS:
            # F6: SEC-1 asks for it stored; it is, in name only (no version), so
            # CKV_GW_SEC_43 fails and this waiver makes the gate say so.
            glass = self.add(name, "external")
            waive(
                glass,
                "CKV_GW_SEC_43",
                reason=f"{name} is a break-glass secret with no version: the app logs in to "
                "Cloud SQL with IAM (DB-9) and never reads it. An operator who needs a "
                "password login sets one (gcloud sql users set-password) and stores it as a "
                "version of this secret.",
                owner=waivers.OWNER,
                expires=waivers.EXPIRES,
            )
            # SEC-2: nothing of the stack rotates an external secret (CKV_GW_SEC_41).
            waive(
                glass,
                "CKV_GW_SEC_41",
                reason=f"{name} is a break-glass secret with no version and no reader, so "
                "there is nothing to rotate; an operator who sets a password for a break-glass "
                "login rotates it by hand (gcloud sql users set-password, then a new version "
                "of this secret).",
                owner=waivers.OWNER,
                expires=waivers.EXPIRES,
            )
        for name, entry in catalog.items():
            if not per_reader(entry):
                continue
            for service in config.services:
                if name in service.secrets:
                    self.derive(
                        name,
                        database_url(config, database, service, entry.source),  # type: ignore[union-attr]
                        reader=service.name,
                    )

    def _external(self, name: str, entry: ExternalSecret) -> None:
        """An external secret, created empty: the operator gives it its value (README)."""
        value_set = "true" if entry.value_set else "false"
        secret = self.add(name, "external", {"value-set": value_set})
        waive(
            secret,
            "CKV_GW_SEC_41",
            reason=f"{name} is an external credential: its issuer creates and rotates it, and "
            "the operator stores each new value with gcloud secrets versions add and rolls "
            "its readers (README, GCP: the app description); no job of the stack can obtain "
            "it.",
            owner=waivers.OWNER,
            expires=waivers.EXPIRES,
        )
        waive(
            secret,
            "CKV_GW_SEC_43",
            reason=f"{name} is external: the stack never writes its value, so none is in the "
            "JSON or state (SEC-3); the operator adds it with gcloud secrets versions add, and "
            "no service reads it before its entry says value_set: true (CKV_GW_DEPLOY_44).",
            owner=waivers.OWNER,
            expires=waivers.EXPIRES,
        )
        if entry.value_set and any(name in s.secrets for s in self._config.services):
            self.value_checks[name] = self._value_check(name, secret)

    def _value_check(self, name: str, secret: SecretManagerSecret) -> GcloudStep:
        """DEPLOY-5: the apply stops before any reader of `name` is created or updated unless
        the secret's latest version exists and is ENABLED.

        `value_set: true` is the operator's word, not a fact: in a fresh project, after the
        secret is re-created, or in a copied environment file the secret has no version, and
        a revision reading `latest` of it fails ("versions/latest was not found",
        terraform-provider-google#10846), leaving the service tainted and its NEG, backend,
        URL map and alerts uncreated (and the failed template in state, #22565). The step
        reads only the version's metadata (`gcloud secrets versions describe`, state
        ENABLED / DISABLED / DESTROYED: https://cloud.google.com/secret-manager/docs/
        reference/rest/v1/projects.secrets.versions#State), never its payload: the data
        source `google_secret_manager_secret_version` would read the value into the state
        (6.50 has no `fetch_secret_data = false` on the regional one, and the global one
        always fetches it). The secret is a global resource with one user-managed replica,
        so no `--location` (that flag addresses regional secrets). It runs again when the
        secret is re-created (`create_time`) or its readers change.
        """
        config = self._config
        project = config.gcp.project
        secret_id = f"{config.prefix}-{label_value(name)}"
        readers = sorted(s.name for s in config.services if name in s.secrets)
        args = [
            "secrets", "versions", "describe", "latest", f"--secret={secret_id}",
            "--format=value(state)",
        ]  # fmt: skip
        refusal = (
            f"{name} (secrets.catalog) says value_set: true, but secret {secret_id} has no "
            "ENABLED latest version, so its readers could not start. Add its value with "
            f"gcloud secrets versions add {secret_id} --data-file=FILE --project={project} "
            "(README, GCP: the app description) and apply again, or set value_set: false."
        )
        describe = GcloudStep.command(project, args, None)
        script = (
            f"state=$({describe}) || state=missing; "
            f'if [ "$state" != ENABLED ]; then echo {shlex.quote(refusal)} '
            '"(latest version: $state)" >&2; exit 1; fi'
        )
        return GcloudStep(
            self,
            f"{name.lower()}-has-value",
            project=project,
            does=f"fail the apply unless {name}'s latest version exists and is ENABLED "
            "(value_set: true), before any reader uses it",
            args=args,
            apis=("secretmanager.googleapis.com",),
            role="roles/secretmanager.admin",  # secretmanager.versions.get
            triggers={"secret": secret.create_time, "readers": ",".join(readers)},
            depends_on=[secret],
            script=script,
        )

    def for_service(self, service: ServiceSpec) -> dict[str, SecretManagerSecret]:
        """The secrets `service` reads, by the environment variable it reads each as: not an
        external secret whose value is not set yet (DEPLOY-5, DEPLOY-6; synth/app.py)."""
        readable: dict[str, SecretManagerSecret] = {}
        for name in service.secrets:
            if name in self.unset:
                continue
            if name in self.rotated:
                readable.update(
                    {variable: self.secrets[variable] for variable in self.rotated[name]}
                )
            else:
                readable[name] = self.secrets[self._key(name, service)]
        return readable

    def _key(self, name: str, service: ServiceSpec) -> str:
        entry = self._config.secrets.catalog.get(name)
        return reader_key(name, service.name) if per_reader(entry) else name

    def version_keys(self, service: ServiceSpec, variables: Iterable[str]) -> list[str]:
        """The keys in `versions` of what `service` reads as `variables` (DEPLOY-5: it starts
        only after each has a version)."""
        keys = [self._key(name, service) if name in service.secrets else name for name in variables]
        return [key for key in keys if key in self.versions]

    def reads_replica(self, service: ServiceSpec) -> bool:
        """`service` reads a database_reader_url entry (its proxy then reaches replica 0)."""
        catalog = self._config.secrets.catalog
        return any(
            isinstance(catalog.get(name), DerivedSecret)
            and catalog[name].source == "database_reader_url"  # type: ignore[union-attr]
            for name in service.secrets
        )

    def add(
        self,
        name: str,
        kind: str,
        labels: dict[str, str] | None = None,
        reader: str = DEFAULT_SERVICE_NAME,
    ) -> SecretManagerSecret:
        """A CMEK-encrypted, regional secret `<prefix>-<name>` labelled with its kind (or
        `<prefix>-<name>_<reader>`, labelled `reader`, for another service's own copy)."""
        config = self._config
        secret_id = f"{config.prefix}-{name.lower().replace('_', '-')}"
        id_ = name.lower()
        if reader != DEFAULT_SERVICE_NAME:
            # `_` never occurs in an entry's part of the ID, so no entry's ID can equal this.
            secret_id, id_ = f"{secret_id}_{reader}", f"{reader}-{id_}"
            labels = {**(labels or {}), "reader": reader}
        secret = SecretManagerSecret(
            self,
            id_,
            secret_id=secret_id,
            labels={"secret-kind": kind, **(labels or {})},  # SEC-5
            replication=SecretManagerSecretReplication(
                user_managed=SecretManagerSecretReplicationUserManaged(
                    replicas=[
                        SecretManagerSecretReplicationUserManagedReplicas(
                            location=config.gcp.region,
                            customer_managed_encryption=(
                                SecretManagerSecretReplicationUserManagedReplicasCustomerManagedEncryption(
                                    kms_key_name=self._key_id
                                )
                            ),
                        )
                    ]
                )
            ),
            depends_on=[self._key_ready],  # DEPLOY-2: the agent may use the key (propagated)
        )
        self.secrets[reader_key(name, reader)] = secret
        return secret

    def derive(
        self, name: str, value: str, reader: str = DEFAULT_SERVICE_NAME
    ) -> SecretManagerSecret:
        """A derived secret whose one version is `value` (Terraform references only).

        SEC-3: the value goes in `secret_data_wo`, a write-only argument that Terraform sends
        and never stores in the plan or state (hashicorp/google 6.50; Terraform >= 1.11,
        judged by CKV_GW_DEPLOY_2; https://registry.terraform.io/providers/hashicorp/google/
        latest/docs/guides/using_write_only_attributes; GoogleCloudPlatform/magic-modules
        #12800). A write-only value is sent again only when `secret_data_wo_version` changes,
        so that number is derived from the value: 48 bits of its SHA-256. A new CA bundle or
        URL then adds a new version, as `secret_data` did. The state keeps only that prefix
        of a digest, of values that are public (the CA), hold no credential (the URL), or
        are a 122-bit random UUID Memorystore already keeps in the instance's own state.
        """
        secret = self.add(name, "derived", reader=reader)
        key = reader_key(name, reader)
        self.versions[key] = SecretManagerSecretVersion(
            self,
            f"{secret.node.id}-version",
            secret=secret.id,
            secret_data_wo=value,
            secret_data_wo_version=digest_number(value),
        )
        return secret


def database_url(
    config: EnvironmentConfig, database: Database, service: ServiceSpec, source: str
) -> str:
    """A derived database URL for `service` (DEPLOY-6): the Auth Proxy sidecar on localhost
    does mTLS and the IAM login (constructs/gcp/database.py), so the URL holds no credential
    and no private IP, only the reader's IAM user. Cloud SQL has no pooler in front of the
    primary here (the app's pool is DATABASE_POOL_MAX, DB-6), so `database_url` and
    `database_direct_url` both reach the primary; `database_reader_url` reaches read replica
    0 through the sidecar's second port."""
    user = quote(iam_user(config, service.name), safe="")
    port = database.port + (READER_PORT_OFFSET if source == "database_reader_url" else 0)
    return f"postgresql://{user}@127.0.0.1:{port}/{database.database_name}"
