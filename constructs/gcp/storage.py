"""Cloud Storage: the app's private, CMEK-encrypted, versioned bucket and its access-log bucket.

Bucket names are global, so they are `<project id>-<purpose>`: project IDs are globally
unique and fixed, which makes the names unique and deterministic without a random suffix.

- OBJ-1: uniform bucket-level access (no ACLs) and public access prevention enforced.
- OBJ-2: default KMS key from constructs/gcp/keys.py (every tier, not only production).
- OBJ-3: versioning; noncurrent versions deleted 90 days after they became noncurrent;
  incomplete multipart (XML API) uploads aborted after 7 days.
- OBJ-4: production is a configurable dual-region over `gcp.region` and
  `gcp.replica_region` (both copies written by Google; no replication job to run).
- OBJ-5: not enforceable, declared as a waiver on every bucket (CKV_GW_OBJ_44): the JSON
  API accepts HTTPS only, but the XML API endpoints accept HTTP or HTTPS
  (https://cloud.google.com/storage/docs/request-endpoints), and no bucket setting or IAM
  condition refuses HTTP (no counterpart of S3's aws:SecureTransport). What remains: the app
  and Terraform use the HTTPS JSON API, and uniform access plus enforced public access
  prevention (CKV_GW_OBJ_43) mean only authenticated, IAM-admitted callers are served.
- OBJ-6: usage (access) logs go to `<project id>-access-logs`, writable by Google's
  `cloud-storage-analytics@google.com` group only, kept for the log retention.

Satisfies: OBJ-1, OBJ-2, OBJ-3, OBJ-4, OBJ-5, OBJ-6, DEPLOY-2, DEPLOY-4
"""

from __future__ import annotations

from cdktf_cdktf_provider_google.storage_bucket import (
    StorageBucket,
    StorageBucketCustomPlacementConfig,
    StorageBucketEncryption,
    StorageBucketLifecycleRule,
    StorageBucketLifecycleRuleAction,
    StorageBucketLifecycleRuleCondition,
    StorageBucketLogging,
    StorageBucketVersioning,
)
from cdktf_cdktf_provider_google.storage_bucket_iam_member import StorageBucketIamMember
from constructs import Construct
from constructs.gcp import waivers
from constructs.gcp.keys import Keys, bucket_location, storage_dual_region

from synth.config import EnvironmentConfig
from synth.construct_waivers import waive

NONCURRENT_DAYS = 90  # OBJ-3
ABORT_UPLOAD_DAYS = 7  # OBJ-3
LOG_WRITER = "group:cloud-storage-analytics@google.com"  # Google's usage-log writer


def _lifecycle(expire_days: int | None = None) -> list[StorageBucketLifecycleRule]:
    rules = [
        StorageBucketLifecycleRule(
            action=StorageBucketLifecycleRuleAction(type="Delete"),
            condition=StorageBucketLifecycleRuleCondition(
                days_since_noncurrent_time=NONCURRENT_DAYS, with_state="ARCHIVED"
            ),
        ),
        StorageBucketLifecycleRule(
            action=StorageBucketLifecycleRuleAction(type="AbortIncompleteMultipartUpload"),
            condition=StorageBucketLifecycleRuleCondition(age=ABORT_UPLOAD_DAYS),
        ),
    ]
    if expire_days is not None:
        # OBS-1: `ANY`, not `LIVE`: in a versioned bucket deleting a live object keeps it as a
        # noncurrent version, which the 90-day rule above would keep for ~90 days more. Age
        # counts from the object's creation, so one rule deletes the live object and then its
        # noncurrent version once `expire_days` have passed
        # (https://cloud.google.com/storage/docs/lifecycle#age, #isLive).
        rules.append(
            StorageBucketLifecycleRule(
                action=StorageBucketLifecycleRuleAction(type="Delete"),
                condition=StorageBucketLifecycleRuleCondition(age=expire_days, with_state="ANY"),
            )
        )
    return rules


def access_log_bucket(
    scope: Construct,
    *,
    name: str,
    key_id: str,
    retention_days: int,
    placement: dict[str, object],
    depends_on: list[object],
) -> StorageBucket:
    """OBJ-6: a bucket that receives other buckets' usage logs (construct IDs `access-logs`
    and `access-logs-writer` in `scope`): private, CMEK-encrypted and versioned like the
    buckets it serves, its logs kept for `retention_days`, writable by Google's usage-log
    writer only. `depends_on` is what must exist first (the storage agent's key grant)."""
    logs = StorageBucket(
        scope,
        "access-logs",
        name=name,
        uniform_bucket_level_access=True,  # OBJ-1
        public_access_prevention="enforced",  # OBJ-1
        encryption=StorageBucketEncryption(default_kms_key_name=key_id),  # OBJ-2
        versioning=StorageBucketVersioning(enabled=True),  # OBJ-3
        lifecycle_rule=_lifecycle(expire_days=retention_days),
        force_destroy=False,
        depends_on=depends_on,
        **placement,
    )
    waivers.plain_http_xml_api(logs)  # OBJ-5
    waive(
        logs,
        "CKV_GCP_62",
        reason="This is the access-log bucket itself; logging its own access into itself "
        "would loop.",
        owner=waivers.OWNER,
        expires=waivers.EXPIRES,
    )
    StorageBucketIamMember(
        scope,
        "access-logs-writer",
        bucket=logs.name,
        role="roles/storage.objectCreator",
        member=LOG_WRITER,
    )
    return logs


class Storage(Construct):
    """`bucket_name` (the app's objects) and `log_bucket_name` (their access logs)."""

    def __init__(
        self, scope: Construct, id_: str, *, config: EnvironmentConfig, keys: Keys
    ) -> None:
        super().__init__(scope, id_)
        project = config.gcp.project
        placement: dict[str, object] = {"location": bucket_location(config)}
        if storage_dual_region(config):  # OBJ-4
            placement["custom_placement_config"] = StorageBucketCustomPlacementConfig(
                data_locations=[config.gcp.region.upper(), config.gcp.replica_region.upper()]
            )
        encryption = StorageBucketEncryption(default_kms_key_name=keys.keys["storage"].id)

        def bucket(id_: str, name: str, **settings: object) -> StorageBucket:
            created = StorageBucket(
                self,
                id_,
                name=name,
                uniform_bucket_level_access=True,  # OBJ-1
                public_access_prevention="enforced",  # OBJ-1
                encryption=encryption,  # OBJ-2
                versioning=StorageBucketVersioning(enabled=True),  # OBJ-3
                force_destroy=False,
                depends_on=[keys.ready["storage"]],  # DEPLOY-2: the agent may use the key
                **placement,
                **settings,
            )
            waivers.plain_http_xml_api(created)  # OBJ-5
            return created

        logs = access_log_bucket(
            self,
            name=f"{project}-access-logs",
            key_id=keys.keys["storage"].id,
            retention_days=config.logs.retention_days,
            placement=placement,
            depends_on=[keys.ready["storage"]],  # DEPLOY-2: the agent may use the key
        )
        self.bucket = bucket(
            "assets",
            f"{project}-assets",
            lifecycle_rule=_lifecycle(),
            logging=StorageBucketLogging(log_bucket=logs.name, log_object_prefix="assets/"),
        )
        self.bucket_name = self.bucket.name
        self.log_bucket_name = logs.name
