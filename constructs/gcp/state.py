"""Builds the Terraform state storage: a versioned, CMEK-encrypted, private GCS bucket.

Satisfies: STATE-2, OBJ-1, OBJ-2, OBJ-3, OBJ-5, SEC-4, IAM-1

The bucket is `<project id>-tfstate`: bucket names are global and project IDs are globally
unique and fixed, so the name is unique and deterministic (the environments' `backend: gcs`
can name it before it exists). Uniform bucket-level access and enforced public access
prevention (OBJ-1), versioning with noncurrent versions deleted after 90 days (OBJ-3), its
own rotating Cloud KMS key (state holds every secret Terraform read, so the key is not the
app's) granted to this project's Cloud Storage service agent only (IAM-1), and
`prevent_destroy` on the bucket and the key. Placed like the app's bucket (constructs/gcp/
storage.py): from a production config, a dual-region over `gcp.region` and
`gcp.replica_region` (OBJ-4) with its key in the multi-region holding both. The GCS backend
locks with a lock object in the bucket, so there is nothing else to create.
"""

from __future__ import annotations

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_google.data_google_project import DataGoogleProject
from cdktf_cdktf_provider_google.kms_crypto_key import KmsCryptoKey
from cdktf_cdktf_provider_google.kms_crypto_key_iam_member import KmsCryptoKeyIamMember
from cdktf_cdktf_provider_google.kms_key_ring import KmsKeyRing
from cdktf_cdktf_provider_google.project_service import ProjectService
from cdktf_cdktf_provider_google.storage_bucket import (
    StorageBucket,
    StorageBucketCustomPlacementConfig,
    StorageBucketEncryption,
    StorageBucketVersioning,
)
from constructs import Construct
from constructs.gcp.keys import (
    AGENTS,
    DESTROY_SCHEDULED,
    ENCRYPTER,
    ROTATION_PERIOD,
    multi_region,
    storage_dual_region,
)
from constructs.gcp.storage import _lifecycle

from synth.config import EnvironmentConfig


class StateStorage(Construct):
    """Attributes: `bucket_name`, `kms_key_id`."""

    def __init__(self, scope: Construct, id_: str, *, config: EnvironmentConfig) -> None:
        super().__init__(scope, id_)
        project = config.gcp.project
        number = DataGoogleProject(self, "project", project_id=project).number
        kms_api = ProjectService(
            self, "kms-api", service="cloudkms.googleapis.com", disable_on_destroy=False
        )
        storage_api, agent_domain = AGENTS["storage"]
        # The storage service agent exists only once the API is enabled.
        api = ProjectService(self, "storage-api", service=storage_api, disable_on_destroy=False)
        location = config.gcp.region
        placement: dict[str, object] = {"location": location.upper()}
        if storage_dual_region(config):  # OBJ-4, as for the app's bucket
            location = multi_region(config.gcp.region, config.gcp.replica_region)
            placement = {
                "location": location.upper(),
                "custom_placement_config": StorageBucketCustomPlacementConfig(
                    data_locations=[config.gcp.region.upper(), config.gcp.replica_region.upper()]
                ),
            }
        # A key ring can never be deleted; its name is fixed per app.
        ring = KmsKeyRing(
            self, "ring", name=f"{config.app}-tfstate", location=location, depends_on=[kms_api]
        )
        key = KmsCryptoKey(
            self,
            "key",
            name="tfstate",
            key_ring=ring.id,
            purpose="ENCRYPT_DECRYPT",
            rotation_period=ROTATION_PERIOD,  # SEC-4
            destroy_scheduled_duration=DESTROY_SCHEDULED,
            lifecycle=TerraformResourceLifecycle(prevent_destroy=True),
        )
        grant = KmsCryptoKeyIamMember(
            self,
            "key-agent",
            crypto_key_id=key.id,
            role=ENCRYPTER,
            member=f"serviceAccount:service-{number}@{agent_domain}",
            depends_on=[api],
        )
        bucket = StorageBucket(
            self,
            "bucket",
            name=f"{project}-tfstate",
            **placement,
            uniform_bucket_level_access=True,  # OBJ-1
            public_access_prevention="enforced",  # OBJ-1
            encryption=StorageBucketEncryption(default_kms_key_name=key.id),  # OBJ-2
            versioning=StorageBucketVersioning(enabled=True),  # OBJ-3
            lifecycle_rule=_lifecycle(),  # OBJ-3
            force_destroy=False,
            # Losing the bucket loses every environment's state.
            lifecycle=TerraformResourceLifecycle(prevent_destroy=True),
            depends_on=[grant],  # the agent must be able to use the key before the bucket
        )
        self.bucket_name = bucket.name
        self.kms_key_id = key.id
