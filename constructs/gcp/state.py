"""Builds the Terraform state storage: a versioned, CMEK-encrypted, private GCS bucket.

Satisfies: STATE-2, OBJ-1, OBJ-2, OBJ-3, OBJ-5, SEC-4, IAM-1, DEPLOY-2, DEPLOY-4, DEPLOY-6

The bucket is `<project id>-tfstate`: bucket names are global and project IDs are globally
unique and fixed, so the name is unique and deterministic (the environments' `backend: gcs` can
name it before it exists). OBJ-5 is a declared gap, as on every bucket (constructs/gcp/
storage.py): Cloud Storage's XML API also accepts plain HTTP. Uniform bucket-level access and
enforced public access prevention (OBJ-1), versioning with noncurrent versions deleted after 90
days (OBJ-3), its own rotating Cloud KMS key (state holds every secret Terraform read, so the
key is not the app's) granted to this project's Cloud Storage service agent only (IAM-1), and
`prevent_destroy` on the bucket and the key. Placed like the app's bucket (constructs/gcp/
storage.py): from a production config, a dual-region over `gcp.region` and `gcp.replica_region`
(OBJ-4) with its key in the multi-region holding both. The GCS backend locks with a lock object
in the bucket, so there is nothing else to create; the bucket has no retention policy or
default event-based hold, which would keep the backend from deleting its lock object and old
state (DEPLOY-6).

Requests to the state bucket are recorded as Cloud Storage usage logs in a second bucket,
`<project id>-tfstate-access-logs`, placed, encrypted and versioned like the first and
emptied after the log retention (OBS-1), exactly as the app's bucket logs to its own
access-log bucket (constructs/gcp/storage.py).
"""

from __future__ import annotations

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_google.kms_crypto_key import KmsCryptoKey
from cdktf_cdktf_provider_google.kms_crypto_key_iam_member import KmsCryptoKeyIamMember
from cdktf_cdktf_provider_google.kms_key_ring import KmsKeyRing
from cdktf_cdktf_provider_google.storage_bucket import (
    StorageBucket,
    StorageBucketCustomPlacementConfig,
    StorageBucketEncryption,
    StorageBucketLogging,
    StorageBucketVersioning,
)
from constructs import Construct
from constructs.gcp import waivers
from constructs.gcp.keys import (
    DESTROY_SCHEDULED,
    ENCRYPTER,
    ROTATION_PERIOD,
    ServiceAgents,
    bucket_location,
    kms_location,
    storage_dual_region,
)
from constructs.gcp.propagation import propagated
from constructs.gcp.storage import _lifecycle, access_log_bucket

from synth.config import EnvironmentConfig


class StateStorage(Construct):
    """Attributes: `bucket_name`, `kms_key_id`."""

    def __init__(self, scope: Construct, id_: str, *, config: EnvironmentConfig) -> None:
        super().__init__(scope, id_)
        project = config.gcp.project
        # The Cloud Storage agent is created (GA data source) before it is granted the key.
        agents = ServiceAgents(self, "agents", config=config, purposes=["storage"])
        location = bucket_location(config)
        placement: dict[str, object] = {"location": location}
        if storage_dual_region(config):  # OBJ-4, as for the app's bucket
            placement["custom_placement_config"] = StorageBucketCustomPlacementConfig(
                data_locations=[config.gcp.region.upper(), config.gcp.replica_region.upper()]
            )
        # A key ring can never be deleted; its name is fixed per app. DEPLOY-4: Cloud KMS
        # spells the bucket's multi-region its own way (`EU` -> `europe`).
        ring = KmsKeyRing(
            self, "ring", name=f"{config.app}-tfstate", location=kms_location(location)
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
            member=f"serviceAccount:{agents.email['storage']}",
            depends_on=[agents.created["storage"]],  # type: ignore[list-item]
        )
        # DEPLOY-2: the agent's grant is honoured only once it has propagated.
        ready = propagated(self, "key-propagated", [grant])
        logs = access_log_bucket(
            self,
            name=f"{project}-tfstate-access-logs",
            key_id=key.id,
            retention_days=config.logs.retention_days,
            placement=placement,
            depends_on=[ready],
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
            logging=StorageBucketLogging(log_bucket=logs.name, log_object_prefix="tfstate/"),
            force_destroy=False,
            # Losing the bucket loses every environment's state.
            lifecycle=TerraformResourceLifecycle(prevent_destroy=True),
            depends_on=[ready],  # the agent must be able to use the key before the bucket
        )
        waivers.plain_http_xml_api(bucket)  # OBJ-5, as for the app's buckets
        self.bucket_name = bucket.name
        self.kms_key_id = key.id
