"""Builds the Terraform state storage: a versioned, KMS-encrypted, private S3 bucket,
replicated to a second region and access-logged.

Satisfies: STATE-1, STATE-2, OBJ-1, OBJ-2, OBJ-3, OBJ-4, OBJ-5, OBJ-6, SEC-4, IAM-1, DEPLOY-2,
DEPLOY-3, DEPLOY-5

The bucket is `<app>-tfstate-<account id>`: S3 names are global, the account ID makes it
unique without a random suffix, and the environments' S3 backends can be pointed at it
before it exists because the name is known in advance. It has its own rotating key (state
holds every secret Terraform ever read, so it is not shared with the app's data), the same
protections as the app's bucket (public access block, BucketOwnerEnforced, SSE-KMS,
versioning, lifecycle, TLS-only policy) and `prevent_destroy`. Locking needs no DynamoDB
table: the S3 backend sets `use_lockfile` (Terraform >= 1.10), a lock object in this bucket.

Losing the region must not lose every environment's state: every object is replicated to
`<app>-tfstate-replica-<account id>` in `aws.replica_region` (the bootstrap config's, which
is the production environment's), re-encrypted there with a key of that region; replica
bucket and key are protected the same way (`prevent_destroy`). The replication is the
assets bucket's (`storage.replicate`), so the two cannot drift apart.

Who read or wrote the state is recorded: S3 server access logs of the state bucket go to
`<app>-tfstate-logs-<account id>-<region>` (under `s3/<bucket>/`), and those of the replica
to the same kind of bucket in the replica region, because S3 delivers access logs only to a
bucket of the source's region and account. Log buckets are SSE-S3 (S3 does not deliver
server access logs to an SSE-KMS bucket) and keep logs for `logs.retention_days`; they are
the workload log bucket's (`storage.access_log_bucket`). Logging starts only after the log
bucket's policy admits `logging.s3.amazonaws.com` (DEPLOY-2).

Environments in other accounts keep their state here too (STATE-1, DEPLOY-3): the bootstrap
is one per app and cloud, in the production environment's account, and dev or staging
usually live in accounts of their own. A cross-account request needs both sides to allow it
("Bucket owner granting cross-account bucket permissions",
https://docs.aws.amazon.com/AmazonS3/latest/userguide/example-walkthroughs-managing-access-example2.html;
"Allowing users in other accounts to use a KMS key",
https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-accounts.html),
so for every tenant (`config.aws_state_tenants`: each AWS environment whose S3 backend names
this bucket, or whose state is still local and may follow the `state_backend` output) of
another `aws.account_id`, the bucket policy grants that account its own state key only
(`<key>*`: state and lock file; listing under that prefix) and the key policy lets it
encrypt and decrypt through S3 for this bucket's objects only. Its deploy role still needs
the same actions in its own IAM policy. CKV_GW_DEPLOY_35 checks every tenant is reachable.
"""

from __future__ import annotations

from cdktf import TerraformProvider, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementCondition,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from cdktf_cdktf_provider_aws.s3_bucket_logging import S3BucketLoggingA
from constructs import Construct
from constructs.aws import waivers
from constructs.aws.keys import DELETION_WINDOW_DAYS, s3_only_key_policy, sid
from constructs.aws.storage import (
    S3_LOG_PREFIX,
    LogBucket,
    _ProtectedBucket,
    access_log_bucket,
    replicate,
)

from synth.config import AwsStateTenant, EnvironmentConfig

LABEL = "tfstate"
# What Terraform's S3 backend does with its own state object and lock file (`use_lockfile`
# writes and deletes `<key>.tflock`): "S3 Bucket Permissions",
# https://developer.hashicorp.com/terraform/language/backend/s3#s3-bucket-permissions.
STATE_OBJECT_ACTIONS = ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"]


def tenant_grants(
    tenants: list[AwsStateTenant], bucket_arn: str
) -> list[DataAwsIamPolicyDocumentStatement]:
    """Bucket-policy statements letting each tenant account use its own state key only: read,
    write and delete `<key>*` (the state and its lock file), and list the bucket under that
    prefix. Listing the default workspace prefix `env:` is not granted: Terraform >= 1.7
    ignores AccessDenied there (hashicorp/terraform#34511)."""
    statements = []
    for tenant in tenants:
        principal = [
            DataAwsIamPolicyDocumentStatementPrincipals(
                type="AWS", identifiers=[f"arn:aws:iam::{tenant.account_id}:root"]
            )
        ]
        statements += [
            DataAwsIamPolicyDocumentStatement(
                sid=sid(tenant.environment, "StateObjects"),
                principals=principal,
                actions=STATE_OBJECT_ACTIONS,
                resources=[f"{bucket_arn}/{tenant.key}*"],
            ),
            DataAwsIamPolicyDocumentStatement(
                sid=sid(tenant.environment, "StateListing"),
                principals=principal,
                actions=["s3:ListBucket"],
                resources=[bucket_arn],
                condition=[
                    DataAwsIamPolicyDocumentStatementCondition(
                        test="StringLike", variable="s3:prefix", values=[f"{tenant.key}*"]
                    )
                ],
            ),
        ]
    return statements


class StateStorage(Construct):
    """Attributes: `bucket_name`, `bucket_arn`, `kms_key_arn`, `region`,
    `replica_bucket_name`, `replica_region`, `log_bucket_name`."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: EnvironmentConfig,
        replica_provider: TerraformProvider,
    ) -> None:
        super().__init__(scope, id_)
        region, replica_region = config.aws.region, config.aws.replica_region
        account_id = DataAwsCallerIdentity(self, "account").account_id
        # Losing the bucket or its key loses every environment's state.
        protected = TerraformResourceLifecycle(prevent_destroy=True)
        name = f"{config.app}-{LABEL}-{account_id}"
        # STATE-1, DEPLOY-3: environments of other accounts keep their state here; each may
        # use its own key and nothing else (same-account ones need only their IAM policies).
        tenants = [
            tenant
            for tenant in config.aws_state_tenants
            if tenant.account_id is not None and tenant.account_id != config.aws.account_id
        ]
        key = KmsKey(
            self,
            "key",
            description=f"{config.app}: Terraform state",
            enable_key_rotation=True,  # SEC-4
            deletion_window_in_days=DELETION_WINDOW_DAYS,
            # IAM-1: administration spelled out; use only through S3, by this account and,
            # for this bucket's objects, by the tenant accounts.
            policy=s3_only_key_policy(
                account_id,
                region,
                object_users={t.environment: str(t.account_id) for t in tenants},
                bucket_arn=f"arn:aws:s3:::{name}",
            ),
            lifecycle=protected,
        )
        KmsAlias(self, "key-alias", name=f"alias/{config.app}-{LABEL}", target_key_id=key.key_id)
        state = _ProtectedBucket(
            self,
            "bucket",
            name=name,
            kms_key_arn=key.arn,
            grants=lambda bucket_arn: tenant_grants(tenants, bucket_arn),
        )
        state.bucket.lifecycle = protected
        waivers.no_event_subscriber(state.bucket)

        # OBJ-6: one SSE-S3 log bucket per region, since access logs stay in their region.
        def log_bucket(id_: str, in_region: str, provider: TerraformProvider | None) -> LogBucket:
            return access_log_bucket(
                self,
                id_,
                name=f"{config.app}-{LABEL}-logs-{account_id}-{in_region}",
                account_id=account_id,
                retention_days=config.logs.retention_days,  # OBS-1
                provider=provider,
            )

        logs = log_bucket("logs", region, None)
        replica_logs = log_bucket("replica-logs", replica_region, replica_provider)
        S3BucketLoggingA(
            self,
            "access-logs",
            bucket=state.bucket.id,
            target_bucket=logs.bucket.bucket,
            target_prefix=f"{S3_LOG_PREFIX}/{state.bucket.bucket}/",
            # S3 delivers only once the log bucket's policy admits logging.s3.amazonaws.com.
            depends_on=[logs.policy],
        )

        # OBJ-4 / STATE-2: a copy of every state object in the replica region.
        replica = replicate(
            self,
            LABEL,
            prefix=config.app,
            account_id=account_id,
            region=region,
            replica_region=replica_region,
            source=state,
            source_key_arn=key.arn,
            provider=replica_provider,
            replica_log_bucket=replica_logs.bucket.bucket,
            replica_log_ready=[replica_logs.policy],
        )
        replica.bucket.bucket.lifecycle = protected
        replica.key.lifecycle = protected

        self.bucket_name = state.bucket.bucket
        self.bucket_arn = state.bucket.arn
        self.kms_key_arn = key.arn
        self.region = region
        self.replica_bucket_name = replica.bucket.bucket.bucket
        self.replica_region = replica_region
        self.log_bucket_name = logs.bucket.bucket
