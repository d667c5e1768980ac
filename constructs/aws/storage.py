"""Builds the app's object storage: a private, KMS-encrypted, versioned S3 bucket.

Satisfies: OBJ-1, OBJ-2, OBJ-3, OBJ-4, OBJ-5, OBJ-6, SEC-4, IAM-1, DEPLOY-2

Production (OBJ-4 is a production rule) replicates every object to a bucket in
`config.aws.replica_region`, encrypted there with a key of that region and protected the
same way. Bucket names must be globally unique, so they end in the account ID.

Shared with the other AWS constructs: `replicate` (replica key, bucket, role and rule; also
the Terraform state's, constructs/aws/state.py) and `access_log_bucket` (the SSE-S3 bucket
S3 server access logs go to; the edge's and the state's).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
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
# Where S3 server access logs go in an access-log bucket: `s3/<source bucket name>/`.
S3_LOG_PREFIX = "s3"


class _ProtectedBucket:
    """A bucket with OBJ-1, OBJ-2, OBJ-3 and OBJ-5 applied; `provider` picks its region;
    `grants(bucket_arn)` adds Allow statements to its policy."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        kms_key_arn: str,
        provider: TerraformProvider | None = None,
        grants: Callable[[str], list[DataAwsIamPolicyDocumentStatement]] | None = None,
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
            policy=_tls_only_policy(
                scope,
                f"{id}-tls-only",
                self.bucket.arn,
                grants(self.bucket.arn) if grants else [],
            ),
            # S3 rejects a policy while the public access block is still being applied.
            depends_on=[self.public_access_block],
            **on,
        )


def _tls_only_policy(
    scope: Construct,
    id: str,
    bucket_arn: str,
    grants: list[DataAwsIamPolicyDocumentStatement],
) -> str:
    """OBJ-5: deny every request without TLS, or with TLS older than 1.2; `grants` first."""
    everyone = [DataAwsIamPolicyDocumentStatementPrincipals(type="*", identifiers=["*"])]
    resources = [bucket_arn, f"{bucket_arn}/*"]
    return DataAwsIamPolicyDocument(
        scope,
        id,
        statement=[
            *grants,
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


@dataclass(frozen=True)
class LogBucket:
    """What `access_log_bucket` built: the bucket and the policy log delivery needs."""

    bucket: S3Bucket
    policy: S3BucketPolicy


def access_log_bucket(
    scope: Construct,
    id: str,
    *,
    name: str,
    account_id: str,
    retention_days: int,
    writers: str = "S3 server access logs",
    statements: Callable[[str], list[dict[str, Any]]] | None = None,
    provider: TerraformProvider | None = None,
) -> LogBucket:
    """OBJ-6: a bucket S3 server access logs (under `s3/`) can be delivered to, in the region
    of `provider`; a source bucket can only log to a bucket of its own region and account.

    Private (public access block, BucketOwnerEnforced: delivery is authorised by the bucket
    policy, not ACLs), SSE-S3, versioned, logs expired after `retention_days` (OBS-1), TLS
    only (OBJ-5). `statements(bucket_arn)` adds policy statements for other log writers
    (`writers` names them all in the SSE-S3 waiver), placed before the S3 one.
    """
    on = {"provider": provider} if provider else {}
    bucket = S3Bucket(scope, id, bucket=name, force_destroy=False, **on)
    waivers.no_event_subscriber(bucket)
    waive(
        bucket,
        "CKV_AWS_144",
        reason="Access logs are operational data that expire with the log retention, so a "
        "cross-region copy is not worth its cost.",
        owner=waivers.OWNER,
        expires=waivers.EXPIRES,
    )
    waive(
        bucket,
        "CKV_AWS_145",
        reason=f"{writers} can only be delivered to a bucket encrypted with SSE-S3, not SSE-KMS.",
        owner=waivers.OWNER,
        expires=waivers.EXPIRES,
    )
    S3BucketPublicAccessBlock(
        scope,
        f"{id}-public-access",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        **on,
    )
    # Delivery is authorised by the bucket policy below, so ACLs can stay disabled.
    S3BucketOwnershipControls(
        scope,
        f"{id}-ownership",
        bucket=bucket.id,
        rule=S3BucketOwnershipControlsRule(object_ownership="BucketOwnerEnforced"),
        **on,
    )
    # SSE-S3, not SSE-KMS: the destination of S3 server access logs can only use SSE-S3
    # default encryption ("Enabling Amazon S3 server access logging",
    # https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html,
    # quoted in aws/aws-cdk#23513; the LoggingEnabled API reference says the same of table
    # buckets' log targets), and ALB access logs only SSE-S3 too.
    S3BucketServerSideEncryptionConfigurationA(
        scope,
        f"{id}-encryption",
        bucket=bucket.id,
        rule=[
            S3BucketServerSideEncryptionConfigurationRuleA(
                apply_server_side_encryption_by_default=(
                    S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                        sse_algorithm="AES256"
                    )
                )
            )
        ],
        **on,
    )
    S3BucketVersioningA(
        scope,
        f"{id}-versioning",
        bucket=bucket.id,
        versioning_configuration=S3BucketVersioningVersioningConfiguration(status="Enabled"),
        **on,
    )
    S3BucketLifecycleConfiguration(
        scope,
        f"{id}-lifecycle",
        bucket=bucket.id,
        rule=[
            S3BucketLifecycleConfigurationRule(
                id="expire-logs",
                status="Enabled",
                filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                expiration=[
                    S3BucketLifecycleConfigurationRuleExpiration(days=retention_days)  # OBS-1
                ],
                noncurrent_version_expiration=[
                    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(noncurrent_days=7)
                ],
                abort_incomplete_multipart_upload=[
                    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(
                        days_after_initiation=7
                    )
                ],
            )
        ],
        **on,
    )
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            *(statements(bucket.arn) if statements else []),
            {
                "Sid": "S3ServerAccessLogs",
                "Effect": "Allow",
                "Principal": {"Service": "logging.s3.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": f"{bucket.arn}/{S3_LOG_PREFIX}/*",
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
            },
            {
                "Sid": "DenyInsecureTransport",  # OBJ-5
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [bucket.arn, f"{bucket.arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ],
    }
    bucket_policy = S3BucketPolicy(
        scope, f"{id}-policy", bucket=bucket.id, policy=json.dumps(policy, indent=2), **on
    )
    return LogBucket(bucket=bucket, policy=bucket_policy)


class Storage(Construct):
    """The app's assets bucket, access-logged, replicated to a second region in production.

    `log_bucket_ready`: what admits S3's log delivery to `log_bucket_name` (its bucket policy).
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
        log_bucket_ready: list[Any],
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
            target_prefix=f"{S3_LOG_PREFIX}/{self.bucket_name}/",
            # S3 delivers only once the log bucket's policy admits logging.s3.amazonaws.com
            # (DEPLOY-2, CKV_GW_DEPLOY_28), as for the state bucket's logs.
            depends_on=log_bucket_ready,
        )
        waivers.no_event_subscriber(assets.bucket)
        self.replica_bucket_arn: str | None = None
        if config.tier == "production":
            replica = replicate(
                self,
                "assets",
                prefix=config.prefix,
                account_id=account_id,
                region=config.aws.region,
                replica_region=config.aws.replica_region,
                source=assets,
                source_key_arn=kms_key_arn,
                provider=replica_provider,
            )
            self.replica_bucket_arn = replica.bucket.bucket.arn
        else:
            waive(
                assets.bucket,
                "CKV_AWS_144",
                reason="Cross-region replication is an OBJ-4 production rule; this tier keeps "
                "its assets in one region.",
                owner=waivers.OWNER,
                expires=waivers.EXPIRES,
            )


@dataclass(frozen=True)
class Replica:
    """What `replicate` built: the replica bucket (with its protections) and its key."""

    bucket: _ProtectedBucket
    key: KmsKey
    configuration: S3BucketReplicationConfigurationA


def replicate(
    scope: Construct,
    label: str,
    *,
    prefix: str,
    account_id: str,
    region: str,
    replica_region: str,
    source: _ProtectedBucket,
    source_key_arn: str,
    provider: TerraformProvider,
    replica_log_bucket: str | None = None,
    replica_log_ready: list[Any] | None = None,
) -> Replica:
    """OBJ-4 / STATE-2: a replica bucket and key in `replica_region` (through `provider`) and
    the rule that replicates every object of `source` (in `region`, encrypted with
    `source_key_arn`) to it, re-encrypted there with the replica key.

    Names: bucket `<prefix>-<label>-replica-<account>`, key alias
    `alias/<prefix>-<label>-replica`, role `<prefix>-<label>-replication`. With
    `replica_log_bucket` (a bucket in the replica region: S3 access logs stay in their
    region) the replica's server access logs go there under `s3/<replica name>/`, after
    `replica_log_ready` (its bucket policy); without it the missing log is waived as a gap.
    """
    key = KmsKey(
        scope,
        "replica-key",
        provider=provider,
        description=f"{prefix}: S3 replica of the {label} bucket",
        enable_key_rotation=True,  # SEC-4
        deletion_window_in_days=DELETION_WINDOW_DAYS,
        policy=s3_only_key_policy(account_id, replica_region),
    )
    KmsAlias(
        scope,
        "replica-key-alias",
        provider=provider,
        name=f"alias/{prefix}-{label}-replica",
        target_key_id=key.key_id,
    )
    replica = _ProtectedBucket(
        scope,
        "replica",
        name=f"{prefix}-{label}-replica-{account_id}",
        kms_key_arn=key.arn,
        provider=provider,
    )
    waivers.no_event_subscriber(replica.bucket)
    if replica_log_bucket is not None:
        S3BucketLoggingA(
            scope,
            "replica-access-logs",
            provider=provider,
            bucket=replica.bucket.id,
            target_bucket=replica_log_bucket,  # OBJ-6
            target_prefix=f"{S3_LOG_PREFIX}/{replica.bucket.bucket}/",
            depends_on=replica_log_ready,
        )
    else:
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
        scope,
        "replication-role",
        name=f"{prefix}-{label}-replication",
        description=f"S3 replicates the {label} bucket to its replica (OBJ-4)",
        assume_role_policy=DataAwsIamPolicyDocument(
            scope,
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
        scope,
        "replication-policy",
        name=f"replicate-{label}",
        role=role.name,
        policy=DataAwsIamPolicyDocument(
            scope,
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
    configuration = S3BucketReplicationConfigurationA(
        scope,
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
                    S3BucketReplicationConfigurationRuleDeleteMarkerReplication(status="Enabled")
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
    return Replica(bucket=replica, key=key, configuration=configuration)
