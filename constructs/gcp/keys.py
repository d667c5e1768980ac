"""Cloud KMS key ring and one rotating crypto key per data service, usable only by its agent.

The cache's and the bucket's keys (and agents) exist only when a service uses them
(synth/app.py, `config.components`). Each key is granted
`roles/cloudkms.cryptoKeyEncrypterDecrypter` on that key alone, for the
Google service agent that encrypts with it. Enabling an API does not create its agent
(terraform-provider-google#9969), so every agent is created explicitly first
(`ServiceAgents`) and each grant depends on that: Cloud Storage's through the GA data
source `google_storage_project_service_account` (reading it creates the agent), the others
through `gcloud beta services identity create` (constructs/gcp/steps.py), because
`google_project_service_identity` is google-beta only. `grants[purpose]` is what each
encrypted resource must follow (DEPLOY-2): a CMEK resource created before its agent can use
the key fails (https://cloud.google.com/kms/docs/cmek#cmek-integrations); and since a grant
takes up to 7 minutes to be honoured, each resource waits for `ready[purpose]`, a
`time_sleep` after the grant (constructs/gcp/propagation.py), not the grant alone.

Locations (DEPLOY-4): Cloud KMS and Cloud Storage spell multi-regions differently: a bucket
in `EU` takes a key in `europe`, `US` in `us`, `ASIA` in `asia`
(https://cloud.google.com/kms/docs/locations#multi-regional, https://cloud.google.com/
storage/docs/encryption/customer-managed-keys#restrictions: the key must be in the bucket's
location, and a dual-region's key in the multi-region holding it). `kms_location` is that
one mapping.

Destroy (DB-7): crypto keys are `prevent_destroy` exactly where the config asks for deletion
protection (`database.deletion_protection`, as the Cloud SQL instance is), because destroying
a key destroys every byte it encrypted; an environment without it (dev) can be torn down
with `terraform destroy` as the README says. The provider cannot delete either resource:
destroying a `google_kms_crypto_key` schedules all its versions for destruction and removes
it from state, and destroying a `google_kms_key_ring` only removes it from state ("KeyRings
cannot be deleted from Google Cloud Platform": the provider's google_kms_key_ring and
google_kms_crypto_key pages; names of keys deleted in Cloud KMS are never reusable:
https://cloud.google.com/kms/docs/delete-kms-resources). So the ring's name is the bare
prefix, and applying the same environment again needs `terraform import` of the ring and its
keys and a new primary version per key (README, "Destroying an environment").

Satisfies: SEC-4, DB-2, DB-7, OBJ-2, SEC-1, CACHE-1, APP-6, IAM-1, DEPLOY-2, DEPLOY-4
"""

from __future__ import annotations

from functools import cached_property

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_google.data_google_project import DataGoogleProject
from cdktf_cdktf_provider_google.data_google_storage_project_service_account import (
    DataGoogleStorageProjectServiceAccount,
)
from cdktf_cdktf_provider_google.kms_crypto_key import KmsCryptoKey
from cdktf_cdktf_provider_google.kms_crypto_key_iam_member import KmsCryptoKeyIamMember
from cdktf_cdktf_provider_google.kms_key_ring import KmsKeyRing
from cdktf_cdktf_provider_time.sleep import Sleep
from constructs import Construct
from constructs.gcp import waivers
from constructs.gcp.propagation import propagated
from constructs.gcp.steps import GcloudStep

from synth.config import EnvironmentConfig
from synth.construct_waivers import waive
from synth.gcp_needs import AGENT_DOMAINS

# SEC-4: Cloud KMS rotates every key this often (the requirement's ceiling).
ROTATION_PERIOD = f"{90 * 24 * 3600}s"
DESTROY_SCHEDULED = f"{30 * 24 * 3600}s"  # a destroyed version is recoverable for 30 days
ENCRYPTER = "roles/cloudkms.cryptoKeyEncrypterDecrypter"

# purpose -> (API the agent belongs to, agent email domain after `service-<number>@`); the
# domains are synth/gcp_needs.py's, the table the DEPLOY policies read.
_DOMAIN_OF = {api: domain for domain, api in AGENT_DOMAINS.items()}
AGENTS = {
    purpose: (api, _DOMAIN_OF[api])
    for purpose, api in {
        "database": "sqladmin.googleapis.com",
        "cache": "redis.googleapis.com",
        "storage": "storage.googleapis.com",
        "secrets": "secretmanager.googleapis.com",
        "registry": "artifactregistry.googleapis.com",
    }.items()
}

# Purposes that exist only with an optional component (config.components); the others always.
OPTIONAL_PURPOSES = {"cache": "cache", "storage": "object_storage"}

# Agents that encrypt nothing but must exist before their API is used: Service Networking's
# agent peers the VPC for private service access (constructs/gcp/network.py).
AGENT_PURPOSES = {
    **AGENTS,
    "networking": (
        "servicenetworking.googleapis.com",
        _DOMAIN_OF["servicenetworking.googleapis.com"],
    ),
}

# Cloud Storage multi-region -> the Cloud KMS multi-region of the same name.
KMS_MULTI_REGIONS = {"EU": "europe", "US": "us", "ASIA": "asia"}
# Region prefix -> the Cloud Storage multi-region containing it.
STORAGE_MULTI_REGIONS = {"europe": "EU", "us": "US", "asia": "ASIA"}


def multi_region(region: str, replica_region: str) -> str:
    """The Cloud Storage multi-region (`EU`, `US`, `ASIA`) that holds both regions."""
    continents = {region.split("-")[0], replica_region.split("-")[0]}
    if len(continents) != 1 or (continent := continents.pop()) not in STORAGE_MULTI_REGIONS:
        raise ValueError(
            f"gcp.region {region} and gcp.replica_region {replica_region} must share a "
            "Cloud Storage multi-region (europe-*, us-* or asia-*) to form a dual-region (OBJ-4)"
        )
    return STORAGE_MULTI_REGIONS[continent]


def kms_location(storage_location: str) -> str:
    """The Cloud KMS location of a key for a bucket in `storage_location`."""
    return KMS_MULTI_REGIONS.get(storage_location.upper(), storage_location.lower())


def storage_dual_region(config: EnvironmentConfig) -> bool:
    """OBJ-4: production object storage is geo-redundant (a dual-region bucket)."""
    return config.tier == "production"


def bucket_location(config: EnvironmentConfig) -> str:
    """Where the app's (and the state's) bucket lives, in Cloud Storage's spelling."""
    if storage_dual_region(config):
        return multi_region(config.gcp.region, config.gcp.replica_region)
    return config.gcp.region.upper()


class ServiceAgents(Construct):
    """`email[purpose]` of each agent and `created[purpose]`, what creates it (DEPLOY-2)."""

    def __init__(
        self, scope: Construct, id_: str, *, config: EnvironmentConfig, purposes: list[str]
    ) -> None:
        super().__init__(scope, id_)
        project = config.gcp.project
        self._project = project
        self.email: dict[str, str] = {}
        self.created: dict[str, object] = {}
        for purpose in purposes:
            api, domain = AGENT_PURPOSES[purpose]
            if purpose == "storage":
                # Reading the project's Cloud Storage service account creates it (GA).
                storage = DataGoogleStorageProjectServiceAccount(self, "storage", project=project)
                self.email[purpose] = storage.email_address
                self.created[purpose] = storage
                continue
            self.created[purpose] = GcloudStep(
                self,
                purpose,
                project=project,
                does=f"create the {api} service agent",
                args=["beta", "services", "identity", "create", f"--service={api}"],
                apis=(api, "serviceusage.googleapis.com"),
                role="roles/serviceusage.serviceUsageAdmin",
                triggers={"service": api},
            )
            self.email[purpose] = f"service-{self.project_number}@{domain}"

    @cached_property
    def project_number(self) -> str:
        """The project number the agents' emails are built from (read only if needed)."""
        return DataGoogleProject(self, "project", project_id=self._project).number


class Keys(Construct):
    """`keys[purpose]`, `grants[purpose]` and `ready[purpose]` (what a CMEK resource depends
    on: the grant, propagated) for database, cache, storage, secrets, registry; `agents` also
    creates Service Networking's agent (no key), which the network grants."""

    def __init__(self, scope: Construct, id_: str, *, config: EnvironmentConfig) -> None:
        super().__init__(scope, id_)
        # Only the components the stack creates get a key and an agent (synth/app.py: the
        # cache and the bucket are optional).
        purposes = [p for p in AGENTS if OPTIONAL_PURPOSES.get(p, "database") in config.components]
        self.agents = ServiceAgents(
            self, "agents", config=config, purposes=[*purposes, "networking"]
        )
        self.project_number = self.agents.project_number
        regional = KmsKeyRing(self, "ring", name=config.prefix, location=config.gcp.region)
        rings = {config.gcp.region: regional}
        storage_kms = kms_location(bucket_location(config))
        if storage_kms not in rings and "storage" in purposes:
            rings[storage_kms] = KmsKeyRing(
                self, "ring-multi-region", name=config.prefix, location=storage_kms
            )

        self.keys: dict[str, KmsCryptoKey] = {}
        self.grants: dict[str, KmsCryptoKeyIamMember] = {}
        self.ready: dict[str, Sleep] = {}
        for purpose in purposes:
            ring = rings[storage_kms] if purpose == "storage" else regional
            key = KmsCryptoKey(
                self,
                purpose,
                name=purpose,
                key_ring=ring.id,
                purpose="ENCRYPT_DECRYPT",
                rotation_period=ROTATION_PERIOD,  # SEC-4
                destroy_scheduled_duration=DESTROY_SCHEDULED,
                # DB-7: protected as the database is; dev stays destroyable (README).
                lifecycle=TerraformResourceLifecycle(
                    prevent_destroy=config.database.deletion_protection
                ),
            )
            if not config.database.deletion_protection:
                waive(
                    key,
                    "CKV_GCP_82",
                    reason="This environment has no deletion protection "
                    "(database.deletion_protection false; DB-7's floor starts at staging) and is "
                    "torn down with terraform destroy as the README documents, so its keys are "
                    "destroyable with it; a destroyed key's versions stay restorable for 30 days "
                    "(destroy_scheduled_duration).",
                    owner=waivers.OWNER,
                    expires=waivers.EXPIRES,
                )
            self.grants[purpose] = KmsCryptoKeyIamMember(
                self,
                f"{purpose}-agent",
                crypto_key_id=key.id,
                role=ENCRYPTER,
                member=f"serviceAccount:{self.agents.email[purpose]}",
                depends_on=[self.agents.created[purpose]],  # type: ignore[list-item]
            )
            self.ready[purpose] = propagated(self, f"{purpose}-propagated", [self.grants[purpose]])
            self.keys[purpose] = key

    def agent(self, purpose: str) -> str:
        """Email of the Google service agent that encrypts with `keys[purpose]`."""
        return self.agents.email[purpose]
