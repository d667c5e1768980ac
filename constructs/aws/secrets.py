"""Builds the app's secrets in Secrets Manager and the Lambda that rotates JWT_SECRET.

Satisfies: SEC-1, SEC-2, SEC-3, DB-9, OBS-1, IAM-1, DEPLOY-2, DEPLOY-4, DEPLOY-5, DEPLOY-6

- JWT_SECRET has no value in Terraform at all: the rotation function generates every
  version inside AWS, the first ones at apply (`rotate_immediately`), then every
  `config.secrets.rotation_days` (SEC-2). `rotate_immediately` only starts that first
  rotation, so the apply then invokes the function once more (`awaitCurrent`) and the app's
  service waits for that invocation: it starts with real keys (DEPLOY-5). Both wait for the
  app subnets' NAT route, the function's only way to the Secrets Manager and ECS APIs.
- The rotated-secret contract (DEPLOY-6, the same on every cloud): the app reads one secret
  at three staging labels, `JWT_SECRET` (AWSCURRENT: sign and verify), `JWT_SECRET_PREVIOUS`
  (AWSPREVIOUS) and `JWT_SECRET_NEXT` (the custom label NEXT), the last two verify only.
  ECS takes a label as `valueFrom` `<secret ARN>::<version-stage>:` ("Pass Secrets Manager
  secrets through Amazon ECS environment variables",
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html).
  Labels on one secret rather than three secrets: Secrets Manager moves AWSPREVIOUS itself
  when AWSCURRENT moves, one rotation schedule and one KMS grant cover all three, and the
  shift happens in one rotation instead of three writes that could stop half-way. A
  rotation shifts previous <- current <- next <- fresh (constructs/aws/rotation), then
  forces a new deployment of the app's service (`ecs:UpdateService` on that service only),
  so tasks are never more than one rotation apart and accept each other's tokens.
- DATABASE_URL holds no secret (the app's own role, proxy host, port, database, TLS mode;
  the password is an IAM token the app signs itself), so its value may be built from
  Terraform tokens. The master password (`<prefix>/DATABASE_PASSWORD`) belongs to the
  database construct and is never given to the app (DEPLOY-6).
- The function reserves no concurrency by default: a new account's Lambda quota can be as
  low as 10, and Lambda refuses a reservation that leaves fewer than 10 unreserved
  ("Lambda quotas", https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).
  `aws.reserved_concurrency` sets one where the quota was raised (DEPLOY-4).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from cdktf import AssetType, Fn, ITerraformDependable, TerraformAsset
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementCondition,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.lambda_function import (
    LambdaFunction,
    LambdaFunctionLoggingConfig,
    LambdaFunctionTracingConfig,
    LambdaFunctionVpcConfig,
)
from cdktf_cdktf_provider_aws.lambda_invocation import LambdaInvocation
from cdktf_cdktf_provider_aws.lambda_permission import LambdaPermission
from cdktf_cdktf_provider_aws.secretsmanager_secret import SecretsmanagerSecret
from cdktf_cdktf_provider_aws.secretsmanager_secret_rotation import (
    SecretsmanagerSecretRotation,
    SecretsmanagerSecretRotationRotationRules,
)
from cdktf_cdktf_provider_aws.secretsmanager_secret_version import SecretsmanagerSecretVersion
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from constructs import Construct
from constructs.aws import waivers
from constructs.aws.database import Database
from constructs.aws.lambda_vpc import vpc_function_policy

from synth.config import EnvironmentConfig
from synth.construct_waivers import waive

ROTATION_SOURCE = Path(__file__).resolve().parent / "rotation"
STAGING_DIR = Path(__file__).resolve().parents[2] / ".groundwork" / "assets"
# Staging labels of JWT_SECRET's previous and next keys, and the tag naming the service
# its rotation function restarts (constructs/aws/rotation/jwt_rotation.py).
PREVIOUS_STAGE = "AWSPREVIOUS"
NEXT_STAGE = "NEXT"
RESTART_TAG = "restarts-ecs-service"
# Deleted secrets stay recoverable this long; the maximum Secrets Manager allows.
RECOVERY_WINDOW_DAYS = 30


def function_package(source: Path, name: str) -> tuple[str, str]:
    """A function's `*.py` files from `source`, staged by content hash; (directory, hash).

    Packaging the source folder itself would ship (and hash) whatever `__pycache__` a
    test run left there, so the synthesized JSON would depend on the machine's history.
    The copy lives in the project's git-ignored `.groundwork/`, not a shared temp folder
    someone else could have filled, and is rebuilt if it no longer matches the source.
    """
    sources = {file.name: file.read_bytes() for file in sorted(source.glob("*.py"))}
    digest = hashlib.sha256()
    for file_name, content in sources.items():
        digest.update(file_name.encode() + b"\0" + content + b"\0")
    content_hash = digest.hexdigest()
    staged = STAGING_DIR / f"{name}-{content_hash}"
    if staged.is_dir() and {f.name: f.read_bytes() for f in staged.iterdir()} == sources:
        return str(staged), content_hash
    STAGING_DIR.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(dir=STAGING_DIR, prefix=".building-"))
    for file_name, content in sources.items():
        (building / file_name).write_bytes(content)
    shutil.rmtree(staged, ignore_errors=True)
    try:
        os.rename(building, staged)
    except OSError:  # a parallel synth staged the same content first
        shutil.rmtree(building)
    return str(staged), content_hash


class Secrets(Construct):
    """JWT_SECRET and DATABASE_URL, KMS-encrypted, JWT_SECRET generated and rotated by Lambda.

    Attributes: `arns` (secret name -> ARN, for the app's task definition and role),
    `rotation_function_arn` and `ready` (what the app's service waits for: every secret has
    its first value).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: EnvironmentConfig,
        kms_key_arn: str,
        log_kms_key_arn: str,
        database: Database,
        subnet_ids: Sequence[str],
        vpc_id: str,
        egress: Sequence[ITerraformDependable] = (),
        service: tuple[str, str] | None = None,
    ) -> None:
        """`service`: (cluster, service) names of the ECS service that reads JWT_SECRET,
        which the rotation function restarts after each rotation."""
        super().__init__(scope, id)
        partition = DataAwsPartition(self, "partition").partition
        account_id = DataAwsCallerIdentity(self, "account").account_id
        secretsmanager = f"secretsmanager.{config.aws.region}.amazonaws.com"

        def secret(
            name: str, description: str, tags: dict[str, str] | None = None
        ) -> SecretsmanagerSecret:
            return SecretsmanagerSecret(
                self,
                name.lower().replace("_", "-"),
                name=f"{config.prefix}/{name}",
                description=description,
                kms_key_id=kms_key_arn,  # SEC-1
                recovery_window_in_days=RECOVERY_WINDOW_DAYS,
                tags=tags,
            )

        # The tag tells the rotation function which service to restart (names, not
        # references: the service waits for this secret's first rotation).
        jwt = secret(
            "JWT_SECRET",
            "JWT signing key; generated and rotated by Lambda (SEC-2)",
            {RESTART_TAG: f"{service[0]}/{service[1]}"} if service else None,
        )
        url = secret("DATABASE_URL", "PostgreSQL URL via RDS Proxy, without the password")
        waive(
            url,
            "CKV2_AWS_57",
            reason="DATABASE_URL holds no secret value, only host, port, user and database; the "
            "app signs in with short-lived IAM auth tokens, so there is no password to rotate.",
            owner=waivers.OWNER,
            expires=waivers.EXPIRES,
        )
        url_value = SecretsmanagerSecretVersion(
            self,
            "database-url-value",
            secret_id=url.id,
            # The app's own role; its password is an IAM token it signs. RDS Proxy serves an
            # ACM certificate from a public CA ("RDS Proxy uses certificates from AWS
            # Certificate Manager", https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy.howitworks.html#rds-proxy-security.tls),
            # so node-postgres with `sslmode=verify-full` verifies it against Node's trusted
            # roots. No `sslrootcert`: node-postgres reads it as a file path, and `system` (a
            # libpq 16+ value) then fails with ENOENT (brianc/node-postgres#3101;
            # CKV_GW_DEPLOY_34).
            secret_string=(
                f"postgresql://{database.app_username}@{database.endpoint}:{database.port}"
                f"/{database.db_name}?sslmode=verify-full"
            ),
        )
        # The three keys of the rotated-secret contract: one secret, three staging labels.
        jwt_arn = jwt.arn  # one token string, so the app's IAM policy lists it once
        self.arns = {
            "JWT_SECRET": jwt_arn,
            "JWT_SECRET_PREVIOUS": jwt_arn,
            "JWT_SECRET_NEXT": jwt_arn,
            "DATABASE_URL": url.arn,
        }
        self.references = {
            **self.arns,
            "JWT_SECRET_PREVIOUS": f"{jwt_arn}::{PREVIOUS_STAGE}:",
            "JWT_SECRET_NEXT": f"{jwt_arn}::{NEXT_STAGE}:",
        }

        function_name = f"{config.prefix}-jwt-rotation"
        log_group = CloudwatchLogGroup(
            self,
            "rotation-logs",
            name=f"/aws/lambda/{function_name}",
            retention_in_days=config.logs.retention_days,  # OBS-1
            kms_key_id=log_kms_key_arn,
        )
        waivers.log_retention(log_group, config)
        role = IamRole(
            self,
            "rotation-role",
            name=function_name,
            description="Rotates JWT_SECRET and nothing else (SEC-2)",
            assume_role_policy=DataAwsIamPolicyDocument(
                self,
                "rotation-trust",
                statement=[
                    DataAwsIamPolicyDocumentStatement(
                        actions=["sts:AssumeRole"],
                        principals=[
                            DataAwsIamPolicyDocumentStatementPrincipals(
                                type="Service", identifiers=["lambda.amazonaws.com"]
                            )
                        ],
                    )
                ],
            ).json,
        )
        # Its ENIs and its own log group only, not AWS's managed AWSLambdaVPCAccessExecutionRole
        # (logs and ENI actions on `*`): constructs/aws/lambda_vpc.py (IAM-1).
        vpc_access = IamRolePolicy(
            self,
            "rotation-vpc-access",
            name="vpc-network-and-logs",
            role=role.name,
            policy=vpc_function_policy(partition, config.aws.region, account_id, log_group.arn),
        )
        permissions = IamRolePolicy(
            self,
            "rotation-policy",
            name="rotate-jwt-secret",
            role=role.name,
            policy=DataAwsIamPolicyDocument(
                self,
                "rotation-permissions",
                statement=[
                    DataAwsIamPolicyDocumentStatement(
                        sid="RotateJwtSecret",
                        actions=[
                            "secretsmanager:DescribeSecret",
                            "secretsmanager:GetSecretValue",
                            "secretsmanager:PutSecretValue",
                            "secretsmanager:UpdateSecretVersionStage",
                        ],
                        resources=[jwt.arn],
                    ),
                    DataAwsIamPolicyDocumentStatement(
                        sid="UseKeyThroughSecretsManager",
                        actions=["kms:Decrypt", "kms:GenerateDataKey"],
                        resources=[kms_key_arn],
                        condition=[
                            DataAwsIamPolicyDocumentStatementCondition(
                                test="StringEquals",
                                variable="kms:ViaService",
                                values=[secretsmanager],
                            )
                        ],
                    ),
                    *(
                        [
                            # Exactly one action on exactly the service that reads the keys
                            # ("Actions, resources, and condition keys for Amazon ECS":
                            # UpdateService takes the service ARN,
                            # https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerservice.html).
                            DataAwsIamPolicyDocumentStatement(
                                sid="RestartTheAppService",
                                actions=["ecs:UpdateService"],
                                resources=[
                                    f"arn:{partition}:ecs:{config.aws.region}:{account_id}"
                                    f":service/{service[0]}/{service[1]}"
                                ],
                            )
                        ]
                        if service
                        else []
                    ),
                    # X-Ray has no resource-level permissions for these two actions.
                    DataAwsIamPolicyDocumentStatement(
                        sid="WriteTraces",
                        actions=["xray:PutTelemetryRecords", "xray:PutTraceSegments"],
                        resources=["*"],
                    ),
                ],
            ).json,
        )

        security_group = SecurityGroup(
            self,
            "rotation-sg",
            name=f"{function_name}-lambda",
            # Kept as first written: a security group's description forces its replacement,
            # which waits on the function's ENIs. The egress rule below says what it allows.
            description="JWT rotation Lambda: HTTPS out to the Secrets Manager API only",
            vpc_id=vpc_id,
        )
        # Outbound only; reaches the regional Secrets Manager and ECS endpoints through the
        # VPC's egress (NAT). No ingress: Lambda is invoked by the API.
        # Terraform strips aws_security_group's default allow-all egress
        # (https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/security_group):
        # until this rule exists the function reaches nothing, so the rotation waits for it.
        egress_rule = VpcSecurityGroupEgressRule(
            self,
            "rotation-egress-https",
            security_group_id=security_group.id,
            description="HTTPS to the Secrets Manager and ECS APIs",
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            cidr_ipv4="0.0.0.0/0",
        )

        # cdktf zips it into cdktf.out and refers to it by a stack-relative path.
        package, package_hash = function_package(ROTATION_SOURCE, "jwt-rotation")
        code = TerraformAsset(
            self, "rotation-code", path=package, type=AssetType.ARCHIVE, asset_hash=package_hash
        )
        function = LambdaFunction(
            self,
            "rotation",
            function_name=function_name,
            description=f"Rotates {config.prefix}/JWT_SECRET",
            role=role.arn,
            runtime="python3.12",
            handler="jwt_rotation.lambda_handler",
            filename=code.path,
            source_code_hash=code.asset_hash,
            memory_size=128,
            timeout=120,  # `awaitCurrent` polls for up to 100 s
            # None by default: a fresh account's quota cannot spare a reservation (DEPLOY-4).
            reserved_concurrent_executions=config.aws.reserved_concurrency or None,
            vpc_config=LambdaFunctionVpcConfig(
                subnet_ids=list(subnet_ids), security_group_ids=[security_group.id]
            ),
            tracing_config=LambdaFunctionTracingConfig(mode="Active"),
            logging_config=LambdaFunctionLoggingConfig(log_format="JSON", log_group=log_group.name),
            # Lambda checks the ENI permissions when it creates a VPC function.
            depends_on=[log_group, vpc_access, permissions],
        )
        waivers.lambda_function(
            function,
            config,
            dead_letter_reason="Secrets Manager invokes rotation functions synchronously, so a "
            "dead-letter queue would never receive anything; failures surface as failed rotations.",
        )
        self.rotation_function_arn = function.arn
        permission = LambdaPermission(
            self,
            "rotation-invoke",
            statement_id="SecretsManagerRotatesJwtSecret",
            action="lambda:InvokeFunction",
            function_name=function.function_name,
            principal="secretsmanager.amazonaws.com",
            source_arn=jwt.arn,
        )
        rotation = SecretsmanagerSecretRotation(
            self,
            "jwt-rotation",
            secret_id=jwt.id,
            rotation_lambda_arn=function.arn,
            rotation_rules=SecretsmanagerSecretRotationRotationRules(
                automatically_after_days=config.secrets.rotation_days  # SEC-2
            ),
            # The first version is generated now, so JWT_SECRET has a value after apply.
            rotate_immediately=True,
            # The function reaches Secrets Manager only through the NAT route (DEPLOY-2).
            depends_on=[permission, permissions, egress_rule, *egress],
        )
        # rotate_immediately starts the first rotation and returns; this waits for its end.
        jwt_ready = LambdaInvocation(
            self,
            "jwt-first-version",
            function_name=function.function_name,
            # The labels are part of the input so that a change of the contract re-runs it
            # (aws_lambda_invocation invokes again when its input changes).
            input=Fn.jsonencode(
                {
                    "action": "awaitCurrent",
                    "SecretId": jwt.arn,
                    "labels": ["AWSCURRENT", PREVIOUS_STAGE, NEXT_STAGE],
                }
            ),
            depends_on=[rotation, egress_rule, *egress],
        )
        self.ready: list[ITerraformDependable] = [url_value, jwt_ready]
