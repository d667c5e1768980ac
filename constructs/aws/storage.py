"""Builds the app's object storage: a private, KMS-encrypted, versioned S3 bucket.

Satisfies: OBJ-1, OBJ-2, OBJ-3, OBJ-4, OBJ-5, OBJ-6, SEC-4, IAM-1

Production (OBJ-4 is a production rule) replicates every object to a bucket in
`config.aws.replica_region`, encrypted there with a key of that region and protected the
same way. Bucket names must be globally unique, so they end in the account ID.
"""

from __future__ import annotations

from typing import Any

from cdktf import TerraformProvider
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementCondition,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfiguration,
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationRuleExpiration,
    S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
)
from cdktf_cdktf_provider_aws.s3_bucket_logging import S3BucketLoggingA
from cdktf_cdktf_provider_aws.s3_bucket_ownership_controls import (
    S3BucketOwnershipControls,
    S3BucketOwnershipControlsRule,
)
from cdktf_cdktf_provider_aws.s3_bucket_policy import S3BucketPolicy
from cdktf_cdktf_provider_aws.s3_bucket_public_access_block import S3BucketPublicAccessBlock
from cdktf_cdktf_provider_aws.s3_bucket_replication_configuration import (
    S3BucketReplicationConfigurationA,
    S3BucketReplicationConfigurationRule,
    S3BucketReplicationConfigurationRuleDeleteMarkerReplication,
    S3BucketReplicationConfigurationRuleDestination,
    S3BucketReplicationConfigurationRuleDestinationEncryptionConfiguration,
    S3BucketReplicationConfigurationRuleFilter,
    S3BucketReplicationConfigurationRuleSourceSelectionCriteria,
    S3BucketReplicationConfigurationRuleSourceSelectionCriteriaSseKmsEncryptedObjects,
)
from cdktf_cdktf_provider_aws.s3_bucket_server_side_encryption_configuration import (
    S3BucketServerSideEncryptionConfigurationA,
    S3BucketServerSideEncryptionConfigurationRuleA,
    S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA,
)
from cdktf_cdktf_provider_aws.s3_bucket_versioning import (
    S3BucketVersioningA,
    S3BucketVersioningVersioningConfiguration,
)
from constructs import Construct
from constructs.aws import waivers
from constructs.aws.keys import DELETION_WINDOW_DAYS, s3_only_key_policy

from synth.config import EnvironmentConfig
from synth.construct_waivers import waive

NONCURRENT_VERSION_DAYS = 90  # OBJ-3
ABORT_MULTIPART_DAYS = 7  # OBJ-3


class _ProtectedBucket:
    """A bucket with OBJ-1, OBJ-2, OBJ-3 and OBJ-5 applied; `provider` picks its region."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        kms_key_arn: str,
        provider: TerraformProvider | None = None,
    ) -> None:
        on = {"provider": provider} if provider else {}
        self.bucket = S3Bucket(scope, id, bucket=name, force_destroy=False, **on)
        bucket = self.bucket.id
        self.public_access_block = S3BucketPublicAccessBlock(
            scope,
            f"{id}-public-access-block",
            bucket=bucket,
            block_public_acls=True,  # OBJ-1
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            **on,
        )
        # ACLs off: the account owns every object, whoever uploads it.
        S3BucketOwnershipControls(
            scope,
            f"{id}-ownership",
            bucket=bucket,
            rule=S3BucketOwnershipControlsRule(object_ownership="BucketOwnerEnforced"),
            **on,
        )
        S3BucketServerSideEncryptionConfigurationA(
            scope,
            f"{id}-encryption",
            bucket=bucket,
            rule=[
                S3BucketServerSideEncryptionConfigurationRuleA(
                    apply_server_side_encryption_by_default=(
                        S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                            sse_algorithm="aws:kms", kms_master_key_id=kms_key_arn
                        )
                    ),
                    bucket_key_enabled=True,  # one data key per bucket, not per object
                )
            ],
            **on,
        )
        self.versioning = S3BucketVersioningA(
            scope,
            f"{id}-versioning",
            bucket=bucket,
            versioning_configuration=S3BucketVersioningVersioningConfiguration(status="Enabled"),
            **on,
        )
        S3BucketLifecycleConfiguration(
            scope,
            f"{id}-lifecycle",
            bucket=bucket,
            rule=[
                S3BucketLifecycleConfigurationRule(
                    id="expire-noncurrent-versions",
                    status="Enabled",
                    filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                    noncurrent_version_expiration=[
                        S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(
                            noncurrent_days=NONCURRENT_VERSION_DAYS
                        )
                    ],
                    # Delete markers left without any version behind them.
                    expiration=[
                        S3BucketLifecycleConfigurationRuleExpiration(
                            expired_object_delete_marker=True
                        )
                    ],
                    abort_incomplete_multipart_upload=[
                        S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(
                            days_after_initiation=ABORT_MULTIPART_DAYS
                        )
                    ],
                )
            ],
            depends_on=[self.versioning],
            **on,
        )
        S3BucketPolicy(
            scope,
            f"{id}-policy",
            bucket=bucket,
            policy=_tls_only_policy(scope, f"{id}-tls-only", self.bucket.arn),
            # S3 rejects a policy while the public access block is still being applied.
            depends_on=[self.public_access_block],
            **on,
        )


def _tls_only_policy(scope: Construct, id: str, bucket_arn: str) -> str:
    """OBJ-5: deny every request without TLS, or with TLS older than 1.2."""
    everyone = [DataAwsIamPolicyDocumentStatementPrincipals(type="*", identifiers=["*"])]
    resources = [bucket_arn, f"{bucket_arn}/*"]
    return DataAwsIamPolicyDocument(
        scope,
        id,
        statement=[
            DataAwsIamPolicyDocumentStatement(
                sid="DenyInsecureTransport",
                effect="Deny",
                principals=everyone,
                actions=["s3:*"],
                resources=resources,
                condition=[
                    DataAwsIamPolicyDocumentStatementCondition(
                        test="Bool", variable="aws:SecureTransport", values=["false"]
                    )
                ],
            ),
            DataAwsIamPolicyDocumentStatement(
                sid="DenyOutdatedTls",
                effect="Deny",
                principals=everyone,
                actions=["s3:*"],
                resources=resources,
                condition=[
                    DataAwsIamPolicyDocumentStatementCondition(
                        test="NumericLessThan", variable="s3:TlsVersion", values=["1.2"]
                    )
                ],
            ),
        ],
    ).json


class Storage(Construct):
    """The app's assets bucket, access-logged, replicated to a second region in production.

    Attributes: `bucket_name`, `bucket_arn`; in production also `replica_bucket_arn`.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: EnvironmentConfig,
        kms_key_arn: str,
        log_bucket_name: str,
        replica_provider: TerraformProvider,
    ) -> None:
        super().__init__(scope, id)
        # Globally unique yet deterministic: no random suffix, one bucket per account.
        account_id = DataAwsCallerIdentity(self, "account").account_id
        assets = _ProtectedBucket(
            self, "assets", name=f"{config.prefix}-assets-{account_id}", kms_key_arn=kms_key_arn
        )
        self.bucket_name = assets.bucket.bucket
        self.bucket_arn = assets.bucket.arn
        S3BucketLoggingA(
            self,
            "assets-access-logs",
            bucket=assets.bucket.id,
            target_bucket=log_bucket_name,  # OBJ-6
            target_prefix=f"s3/{self.bucket_name}/",
        )
        waivers.no_event_subscriber(assets.bucket)
        self.replica_bucket_arn: str | None = None
        if config.tier == "production":
            self.replica_bucket_arn = self._replicate(
                config, account_id, assets, kms_key_arn, replica_provider
            )
        else:
            waive(
                assets.bucket,
                "CKV_AWS_144",
                reason="Cross-region replication is an OBJ-4 production rule; this tier keeps "
                "its assets in one region.",
                owner=waivers.OWNER,
                expires=waivers.EXPIRES,
            )

    def _replicate(
        self,
        config: EnvironmentConfig,
        account_id: str,
        source: _ProtectedBucket,
        source_key_arn: str,
        provider: TerraformProvider,
    ) -> str:
        """OBJ-4: a replica bucket and key in the replica region, and the replication rule."""
        region, replica_region = config.aws.region, config.aws.replica_region
        key = KmsKey(
            self,
            "replica-key",
            provider=provider,
            description=f"{config.prefix}: S3 replica of the assets bucket",
            enable_key_rotation=True,  # SEC-4
            deletion_window_in_days=DELETION_WINDOW_DAYS,
            policy=s3_only_key_policy(account_id, replica_region),
        )
        KmsAlias(
            self,
            "replica-key-alias",
            provider=provider,
            name=f"alias/{config.prefix}-assets-replica",
            target_key_id=key.key_id,
        )
        replica = _ProtectedBucket(
            self,
            "replica",
            name=f"{config.prefix}-assets-replica-{account_id}",
            kms_key_arn=key.arn,
            provider=provider,
        )
        waivers.no_event_subscriber(replica.bucket)
        waive(
            replica.bucket,
            "CKV_AWS_18",
            reason="S3 access logs must go to a bucket in the same region and the stack has no "
            "log bucket in the replica region, nor a trail recording the replica's data events, "
            "so access to the replica is not logged; only the replication role writes to it.",
            owner=waivers.OWNER,
            expires=waivers.GAP_EXPIRES,
        )

        role = IamRole(
            self,
            "replication-role",
            name=f"{config.prefix}-assets-replication",
            description="S3 replicates the assets bucket to its replica (OBJ-4)",
            assume_role_policy=DataAwsIamPolicyDocument(
                self,
                "replication-trust",
                statement=[
                    DataAwsIamPolicyDocumentStatement(
                        actions=["sts:AssumeRole"],
                        principals=[
                            DataAwsIamPolicyDocumentStatementPrincipals(
                                type="Service", identifiers=["s3.amazonaws.com"]
                            )
                        ],
                    )
                ],
            ).json,
        )
        source_arn, replica_arn = source.bucket.arn, replica.bucket.arn

        def via_s3(in_region: str, bucket_arn: str) -> list[Any]:
            # With a bucket key the encryption context is the bucket ARN, else the object's.
            return [
                DataAwsIamPolicyDocumentStatementCondition(
                    test="StringEquals",
                    variable="kms:ViaService",
                    values=[f"s3.{in_region}.amazonaws.com"],
                ),
                DataAwsIamPolicyDocumentStatementCondition(
                    test="StringLike",
                    variable="kms:EncryptionContext:aws:s3:arn",
                    values=[bucket_arn, f"{bucket_arn}/*"],
                ),
            ]

        permissions = IamRolePolicy(
            self,
            "replication-policy",
            name="replicate-assets",
            role=role.name,
            policy=DataAwsIamPolicyDocument(
                self,
                "replication-permissions",
                statement=[
                    DataAwsIamPolicyDocumentStatement(
                        sid="ReadReplicationConfiguration",
                        actions=["s3:GetReplicationConfiguration", "s3:ListBucket"],
                        resources=[source_arn],
                    ),
                    DataAwsIamPolicyDocumentStatement(
                        sid="ReadSourceVersions",
                        actions=[
                            "s3:GetObjectVersionAcl",
                            "s3:GetObjectVersionForReplication",
                            "s3:GetObjectVersionTagging",
                        ],
                        resources=[f"{source_arn}/*"],
                    ),
                    DataAwsIamPolicyDocumentStatement(
                        sid="WriteReplicas",
                        actions=["s3:ReplicateDelete", "s3:ReplicateObject", "s3:ReplicateTags"],
                        resources=[f"{replica_arn}/*"],
                    ),
                    DataAwsIamPolicyDocumentStatement(
                        sid="DecryptSourceObjects",
                        actions=["kms:Decrypt"],
                        resources=[source_key_arn],
                        condition=via_s3(region, source_arn),
                    ),
                    DataAwsIamPolicyDocumentStatement(
                        sid="EncryptReplicas",
                        actions=["kms:Encrypt", "kms:GenerateDataKey"],
                        resources=[key.arn],
                        condition=via_s3(replica_region, replica_arn),
                    ),
                ],
            ).json,
        )
        S3BucketReplicationConfigurationA(
            self,
            "replication",
            bucket=source.bucket.id,
            role=role.arn,
            rule=[
                S3BucketReplicationConfigurationRule(
                    id="replicate-everything",
                    status="Enabled",
                    filter=S3BucketReplicationConfigurationRuleFilter(prefix=""),
                    # Deletes stay deletes in the replica; versioning keeps what they hide.
                    delete_marker_replication=(
                        S3BucketReplicationConfigurationRuleDeleteMarkerReplication(
                            status="Enabled"
                        )
                    ),
                    source_selection_criteria=S3BucketReplicationConfigurationRuleSourceSelectionCriteria(
                        sse_kms_encrypted_objects=S3BucketReplicationConfigurationRuleSourceSelectionCriteriaSseKmsEncryptedObjects(
                            status="Enabled"
                        )
                    ),
                    destination=S3BucketReplicationConfigurationRuleDestination(
                        bucket=replica_arn,
                        storage_class="STANDARD",
                        encryption_configuration=S3BucketReplicationConfigurationRuleDestinationEncryptionConfiguration(
                            replica_kms_key_id=key.arn
                        ),
                    ),
                )
            ],
            # S3 refuses replication until both buckets are versioned.
            depends_on=[source.versioning, replica.versioning, permissions],
        )
        return replica_arn
