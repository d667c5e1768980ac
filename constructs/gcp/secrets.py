"""Secret Manager: JWT_SECRET, DATABASE_URL and DATABASE_PASSWORD, CMEK, with rotation notices.

- Each secret is replicated only in `gcp.region`, encrypted with the regional secrets key
  (auto replication would need a global key) (SEC-1).
- SEC-2: every secret has a `rotation` period of `secrets.rotation_days` (≤ 90) and
  publishes `SECRET_ROTATE` to the `<prefix>-secret-rotation` topic (CMEK, region-pinned).
  The first rotation time is set once at creation and then owned by Secret Manager.
- SEC-3: Terraform creates the secrets, never a version with a literal value. DATABASE_URL
  holds no credential (IAM user, private host, port, database, TLS), so its version is
  built from Terraform references. JWT_SECRET's versions are written by the rotation
  subscriber (or once by an operator), and DATABASE_PASSWORD stays empty: the app logs in
  with IAM (DB-9); the secret is reserved for a break-glass password set outside Terraform.

Satisfies: SEC-1, SEC-2, SEC-3, DB-9
"""

from __future__ import annotations

from urllib.parse import quote

from cdktf import Fn, TerraformResourceLifecycle
from cdktf_cdktf_provider_google.project_service import ProjectService
from cdktf_cdktf_provider_google.pubsub_topic import PubsubTopic, PubsubTopicMessageStoragePolicy
from cdktf_cdktf_provider_google.pubsub_topic_iam_member import PubsubTopicIamMember
from cdktf_cdktf_provider_google.secret_manager_secret import (
    SecretManagerSecret,
    SecretManagerSecretReplication,
    SecretManagerSecretReplicationUserManaged,
    SecretManagerSecretReplicationUserManagedReplicas,
    SecretManagerSecretReplicationUserManagedReplicasCustomerManagedEncryption,
    SecretManagerSecretRotation,
    SecretManagerSecretTopics,
)
from cdktf_cdktf_provider_google.secret_manager_secret_version import SecretManagerSecretVersion
from constructs import Construct
from constructs.gcp.database import Database, iam_user
from constructs.gcp.keys import Keys

from synth.config import EnvironmentConfig

NAMES = ("JWT_SECRET", "DATABASE_URL", "DATABASE_PASSWORD")


class Secrets(Construct):
    """`secrets[NAME]` for each of NAMES; `add(name)` creates another one the same way."""

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
        self._api = ProjectService(
            self, "secretmanager-api", service="secretmanager.googleapis.com",
            disable_on_destroy=False,
        )  # fmt: skip
        self.topic = PubsubTopic(
            self,
            "rotation-topic",
            name=f"{config.prefix}-secret-rotation",
            kms_key_name=keys.keys["pubsub"].id,
            message_storage_policy=PubsubTopicMessageStoragePolicy(
                allowed_persistence_regions=[config.gcp.region]
            ),
        )
        # Secret Manager's agent publishes the rotation notices (and nothing else).
        self._publisher = PubsubTopicIamMember(
            self,
            "rotation-publisher",
            topic=self.topic.name,
            role="roles/pubsub.publisher",
            member=f"serviceAccount:{keys.agent('secrets')}",
        )
        self.secrets = {name: self.add(name) for name in NAMES}
        user = quote(iam_user(config), safe="")
        url = (
            f"postgresql://{user}@{database.private_ip}:{database.port}/"
            f"{database.database_name}?sslmode=require"
        )
        SecretManagerSecretVersion(
            self, "database-url", secret=self.secrets["DATABASE_URL"].id, secret_data=url
        )

    def add(self, name: str) -> SecretManagerSecret:
        """A CMEK-encrypted, regional secret `<prefix>-<name>` with rotation notices."""
        config = self._config
        days = config.secrets.rotation_days
        return SecretManagerSecret(
            self,
            name.lower(),
            secret_id=f"{config.prefix}-{name.lower().replace('_', '-')}",
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
            rotation=SecretManagerSecretRotation(  # SEC-2
                rotation_period=f"{days * 24 * 3600}s",
                next_rotation_time=Fn.timeadd(Fn.timestamp(), f"{days * 24}h"),
            ),
            topics=[SecretManagerSecretTopics(name=self.topic.id)],
            lifecycle=TerraformResourceLifecycle(ignore_changes=["rotation[0].next_rotation_time"]),
            depends_on=[self._api, self._publisher],
        )
