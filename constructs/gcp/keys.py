"""Cloud KMS key ring and one rotating crypto key per data service, usable only by its agent.

Each key is granted `roles/cloudkms.cryptoKeyEncrypterDecrypter` on that key alone, for the
Google service agent that encrypts with it (the documented `service-<number>@...` emails;
the GA provider has no `google_project_service_identity`). The APIs are enabled here
because a service agent exists only once its API is. A key ring can never be deleted, so
its name is the bare prefix; crypto keys are `prevent_destroy` because destroying one
destroys every byte it encrypted.

Keys live in the region of the data they encrypt: everything is regional except the
production object bucket (OBJ-4), a configurable dual-region whose key must be in the
multi-region that contains both regions (`eu`, `us` or `asia`).

Satisfies: SEC-4, DB-2, OBJ-2, SEC-1, CACHE-1, APP-6, IAM-1
"""

from __future__ import annotations

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_google.data_google_project import DataGoogleProject
from cdktf_cdktf_provider_google.kms_crypto_key import KmsCryptoKey
from cdktf_cdktf_provider_google.kms_crypto_key_iam_member import KmsCryptoKeyIamMember
from cdktf_cdktf_provider_google.kms_key_ring import KmsKeyRing
from cdktf_cdktf_provider_google.project_service import ProjectService
from constructs import Construct

from synth.config import EnvironmentConfig

# SEC-4: Cloud KMS rotates every key this often (the requirement's ceiling).
ROTATION_PERIOD = f"{90 * 24 * 3600}s"
DESTROY_SCHEDULED = f"{30 * 24 * 3600}s"  # a destroyed version is recoverable for 30 days
ENCRYPTER = "roles/cloudkms.cryptoKeyEncrypterDecrypter"

# purpose -> (API the agent belongs to, agent email domain after `service-<number>@`).
AGENTS = {
    "database": ("sqladmin.googleapis.com", "gcp-sa-cloud-sql.iam.gserviceaccount.com"),
    "cache": ("redis.googleapis.com", "cloud-redis.iam.gserviceaccount.com"),
    "storage": ("storage.googleapis.com", "gs-project-accounts.iam.gserviceaccount.com"),
    "secrets": ("secretmanager.googleapis.com", "gcp-sa-secretmanager.iam.gserviceaccount.com"),
    "registry": (
        "artifactregistry.googleapis.com",
        "gcp-sa-artifactregistry.iam.gserviceaccount.com",
    ),
    "pubsub": ("pubsub.googleapis.com", "gcp-sa-pubsub.iam.gserviceaccount.com"),
}

# Dual-region buckets take their key from the multi-region containing both regions.
MULTI_REGIONS = {"europe": "eu", "us": "us", "asia": "asia"}


def multi_region(region: str, replica_region: str) -> str:
    """The Cloud Storage multi-region (`eu`, `us`, `asia`) that holds both regions."""
    continents = {region.split("-")[0], replica_region.split("-")[0]}
    if len(continents) != 1 or (continent := continents.pop()) not in MULTI_REGIONS:
        raise ValueError(
            f"gcp.region {region} and gcp.replica_region {replica_region} must share a "
            "Cloud Storage multi-region (europe-*, us-* or asia-*) to form a dual-region (OBJ-4)"
        )
    return MULTI_REGIONS[continent]


def storage_dual_region(config: EnvironmentConfig) -> bool:
    """OBJ-4: production object storage is geo-redundant (a dual-region bucket)."""
    return config.tier == "production"


class Keys(Construct):
    """`keys[purpose]` for database, cache, storage, secrets, registry and pubsub."""

    def __init__(self, scope: Construct, id_: str, *, config: EnvironmentConfig) -> None:
        super().__init__(scope, id_)
        project = config.gcp.project
        self.project_number = DataGoogleProject(self, "project", project_id=project).number
        kms_api = ProjectService(
            self, "kms-api", service="cloudkms.googleapis.com", disable_on_destroy=False
        )
        apis = {
            api: ProjectService(
                self, f"api-{api.split('.')[0]}", service=api, disable_on_destroy=False
            )
            for api, _ in AGENTS.values()
        }
        regional = KmsKeyRing(
            self, "ring", name=config.prefix, location=config.gcp.region, depends_on=[kms_api]
        )
        rings = {"regional": regional}
        if storage_dual_region(config):
            rings["multi-region"] = KmsKeyRing(
                self,
                "ring-multi-region",
                name=config.prefix,
                location=multi_region(config.gcp.region, config.gcp.replica_region),
                depends_on=[kms_api],
            )

        self.keys: dict[str, KmsCryptoKey] = {}
        for purpose, (api, _) in AGENTS.items():
            ring = rings["multi-region"] if purpose == "storage" and len(rings) > 1 else regional
            key = KmsCryptoKey(
                self,
                purpose,
                name=purpose,
                key_ring=ring.id,
                purpose="ENCRYPT_DECRYPT",
                rotation_period=ROTATION_PERIOD,  # SEC-4
                destroy_scheduled_duration=DESTROY_SCHEDULED,
                lifecycle=TerraformResourceLifecycle(prevent_destroy=True),
            )
            KmsCryptoKeyIamMember(
                self,
                f"{purpose}-agent",
                crypto_key_id=key.id,
                role=ENCRYPTER,
                member=f"serviceAccount:{self.agent(purpose)}",
                depends_on=[apis[api]],
            )
            self.keys[purpose] = key

    def agent(self, purpose: str) -> str:
        """Email of the Google service agent that encrypts with `keys[purpose]`."""
        return f"service-{self.project_number}@{AGENTS[purpose][1]}"
