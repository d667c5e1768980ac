"""Customer-managed KMS keys: one for data services, one for CloudWatch Logs.

`data` encrypts RDS, Performance Insights, ElastiCache, S3, Secrets Manager, ECR and SNS;
IAM principals of this account may use it only through those services. `logs` encrypts
log groups and admits only the regional CloudWatch Logs service, for this account's log
groups. Both rotate yearly and wait 30 days before deletion.

Satisfies: SEC-4, DB-2, OBJ-2, OBS-1, DEPLOY-2, DEPLOY-3, DEPLOY-6
"""

from __future__ import annotations

import json
from typing import Any

from cdktf import TerraformProvider
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from constructs import Construct
from constructs.aws import waivers

from synth.config import EnvironmentConfig

DELETION_WINDOW_DAYS = 30
US_EAST_1 = "us-east-1"  # CloudFront's and Route 53's log deliveries (us_east_1_log_group)

# Key administration for the account (delegated to IAM), spelled out instead of `kms:*`
# (IAM-1). kms:PutKeyPolicy keeps the key manageable, so KMS's lockout check passes.
ADMIN_ACTIONS = sorted(
    """
    kms:CancelKeyDeletion kms:CreateAlias kms:DeleteAlias kms:DescribeKey kms:DisableKey
    kms:DisableKeyRotation kms:EnableKey kms:EnableKeyRotation kms:GetKeyPolicy
    kms:GetKeyRotationStatus kms:ListAliases kms:ListGrants kms:ListKeyPolicies
    kms:ListKeyRotations kms:ListResourceTags kms:PutKeyPolicy kms:RevokeGrant
    kms:RotateKeyOnDemand kms:ScheduleKeyDeletion kms:TagResource kms:UntagResource
    kms:UpdateAlias kms:UpdateKeyDescription
    """.split()
)
CRYPTO_ACTIONS = [
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
]
GRANT_ACTIONS = ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"]
# The services that encrypt with the data key on behalf of this account's principals.
DATA_SERVICES = ("rds", "elasticache", "s3", "secretsmanager", "sns", "ecr")


def account_administers(account_id: str) -> dict[str, Any]:
    """The statement every key policy of the stacks starts with: the account (its root
    principal) administers the key, so IAM policies can grant its use and no change of the
    key policy locks the account out ("Default key policy", AWS KMS developer guide)."""
    return {
        "Sid": "AccountAdministersTheKey",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
        "Action": ADMIN_ACTIONS,
        "Resource": "*",
    }


def _policy(statements: list[dict[str, Any]]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, indent=2)


# What another account needs of an S3 bucket's key to read and write objects through S3
# (SSE-KMS with a bucket key: GenerateDataKey on write, Decrypt on read; "Using SSE-KMS",
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html).
S3_OBJECT_CRYPTO_ACTIONS = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]


def logs_use_the_key(sid: str, account_id: str, region: str, log_group: str) -> dict[str, Any]:
    """A key policy statement `sid`: CloudWatch Logs in `region` may use the key for this
    account's log groups named `log_group` (a name, or `*` for all), by the encryption context
    `aws:logs:arn` ("Encrypt log data in CloudWatch Logs using AWS KMS",
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html)."""
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"Service": f"logs.{region}.amazonaws.com"},
        "Action": CRYPTO_ACTIONS,
        "Resource": "*",
        "Condition": {
            "ArnLike": {
                "kms:EncryptionContext:aws:logs:arn": (
                    f"arn:aws:logs:{region}:{account_id}:log-group:{log_group}"
                )
            }
        },
    }


def log_group_key_policy(account_id: str, region: str, log_group_name: str) -> str:
    """Policy of a key that the account administers and CloudWatch Logs in `region` uses for
    the one log group `log_group_name` only (encryption context `aws:logs:arn`; "Encrypt log
    data in CloudWatch Logs using AWS KMS",
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html): the
    keys of the us-east-1 log groups a stack keeps outside its own region (CloudFront's web
    ACL logs, Route 53 query logs)."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                account_administers(account_id),
                logs_use_the_key("CloudWatchLogsUsesTheKey", account_id, region, log_group_name),
            ],
        }
    )


def us_east_1_log_group(
    scope: Construct,
    id_: str,
    *,
    config: EnvironmentConfig,
    account_id: str,
    name: str,
    purpose: str,
    alias: str,
    provider: TerraformProvider,
) -> CloudwatchLogGroup:
    """A log group a stack keeps in us-east-1 (where CloudFront and Route 53 deliver their
    logs), encrypted with a key of its own (SEC-4, `log_group_key_policy`) and kept
    `logs.retention_days` (OBS-1). Construct IDs: `<id_>-key`, `<id_>-key-alias`, `<id_>`;
    `alias` is the key alias's name without `alias/`."""
    key = KmsKey(
        scope,
        f"{id_}-key",
        description=f"{config.prefix}: {purpose} ({US_EAST_1})",
        enable_key_rotation=True,  # SEC-4
        deletion_window_in_days=DELETION_WINDOW_DAYS,
        policy=log_group_key_policy(account_id, US_EAST_1, name),
        provider=provider,
    )
    KmsAlias(
        scope,
        f"{id_}-key-alias",
        name=f"alias/{alias}",
        target_key_id=key.key_id,
        provider=provider,
    )
    log_group = CloudwatchLogGroup(
        scope,
        id_,
        name=name,
        retention_in_days=config.logs.retention_days,  # OBS-1
        kms_key_id=key.arn,
        provider=provider,
    )
    waivers.log_retention(log_group, config)
    return log_group


def sid(*words: str) -> str:
    """A policy statement ID from words that may hold hyphens (Sids are alphanumeric)."""
    return "".join(part[:1].upper() + part[1:] for w in words for part in w.split("-"))


def s3_only_key_policy(
    account_id: str,
    region: str,
    *,
    object_users: dict[str, str] | None = None,
    bucket_arn: str | None = None,
) -> str:
    """Policy of a key the account administers and uses only through S3 in `region` (IAM-1).

    `object_users` ({name: account ID}) are other accounts that may use it through S3 for the
    objects of `bucket_arn` only (encryption context `aws:s3:arn`, the bucket's ARN with a
    bucket key, else the object's)."""
    root = f"arn:aws:iam::{account_id}:root"  # the config admits commercial regions only
    users = [
        {
            "Sid": sid(name, "UsesTheKeyThroughS3"),
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
            "Action": S3_OBJECT_CRYPTO_ACTIONS,
            "Resource": "*",
            "Condition": {
                "StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"},
                "StringLike": {"kms:EncryptionContext:aws:s3:arn": [bucket_arn, f"{bucket_arn}/*"]},
            },
        }
        for name, account in sorted((object_users or {}).items())
    ]
    return _policy(
        [
            account_administers(account_id),
            {
                "Sid": "AccountUsesTheKeyThroughS3",
                "Effect": "Allow",
                "Principal": {"AWS": root},
                "Action": CRYPTO_ACTIONS,
                "Resource": "*",
                "Condition": {
                    "StringEquals": {
                        "kms:CallerAccount": account_id,
                        "kms:ViaService": f"s3.{region}.amazonaws.com",
                    }
                },
            },
            *users,
        ]
    )


class Keys(Construct):
    """`data` and `logs` KMS keys with aliases `alias/<prefix>-data` and `-logs`."""

    def __init__(self, scope: Construct, id_: str, *, config: EnvironmentConfig) -> None:
        super().__init__(scope, id_)
        region = config.aws.region
        account_id = DataAwsCallerIdentity(self, "account").account_id
        # The config admits commercial regions only, so the ARN partition is `aws`.
        root = f"arn:aws:iam::{account_id}:root"
        admin = account_administers(account_id)

        data_policy = _policy(
            [
                admin,
                {
                    "Sid": "AccountUsesTheKeyThroughDataServices",
                    "Effect": "Allow",
                    "Principal": {"AWS": root},
                    "Action": CRYPTO_ACTIONS,
                    "Resource": "*",
                    "Condition": {
                        "StringEquals": {
                            "kms:CallerAccount": account_id,
                            "kms:ViaService": [
                                f"{service}.{region}.amazonaws.com" for service in DATA_SERVICES
                            ],
                        }
                    },
                },
                {
                    "Sid": "DataServicesHoldGrantsForTheirResources",
                    "Effect": "Allow",
                    "Principal": {"AWS": root},
                    "Action": GRANT_ACTIONS,
                    "Resource": "*",
                    "Condition": {
                        "StringEquals": {
                            "kms:CallerAccount": account_id,
                            "kms:ViaService": [
                                f"{service}.{region}.amazonaws.com" for service in DATA_SERVICES
                            ],
                        },
                        "Bool": {"kms:GrantIsForAWSResource": "true"},
                    },
                },
                {
                    # CloudWatch alarms publish to the SNS topic this key encrypts (OBS-3).
                    "Sid": "CloudWatchPublishesToEncryptedTopics",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudwatch.amazonaws.com"},
                    "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
                },
            ]
        )
        self.data = self._key(
            config,
            "data",
            description=f"{config.prefix}: RDS, ElastiCache, S3, Secrets Manager, ECR, SNS",
            policy=data_policy,
        )

        logs_policy = _policy(
            [
                admin,
                logs_use_the_key(
                    "CloudWatchLogsEncryptsThisAccountsLogGroups", account_id, region, "*"
                ),
            ]
        )
        self.logs = self._key(
            config,
            "logs",
            description=f"{config.prefix}: CloudWatch Logs",
            policy=logs_policy,
        )

    def _key(self, config: EnvironmentConfig, purpose: str, **settings: str) -> KmsKey:
        key = KmsKey(
            self,
            purpose,
            enable_key_rotation=True,  # SEC-4
            deletion_window_in_days=DELETION_WINDOW_DAYS,
            **settings,
        )
        KmsAlias(
            self,
            f"{purpose}-alias",
            name=f"alias/{config.prefix}-{purpose}",
            target_key_id=key.key_id,
        )
        return key
