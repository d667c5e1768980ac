"""Builds the secret catalog (SEC-5) in Secrets Manager and the Lambda that rotates its
generated secrets.

Satisfies: SEC-1, SEC-2, SEC-3, SEC-5, DB-9, OBS-1, IAM-1, DEPLOY-2, DEPLOY-4, DEPLOY-5, DEPLOY-6

Every catalog entry is one secret `<prefix>/<NAME>`, tagged `secret-kind` with its kind:
- generated: no value in Terraform at all. One rotation function generates every version
  inside AWS (`secret-bits` long), the first ones at apply (`rotate_immediately`), then every
  `config.secrets.rotation_days` (SEC-2). `rotate_immediately` only starts that first
  rotation, so the apply then invokes the function once more (`awaitCurrent`) and the
  services wait for that invocation: they start with real keys (DEPLOY-5). Both wait for the
  app subnets' NAT route, the function's only way to the Secrets Manager and ECS APIs.
  The rotated-secret contract (DEPLOY-6, the same on every cloud): a reader of X reads one
  secret at three staging labels, `X` (AWSCURRENT: sign and verify), `X_PREVIOUS`
  (AWSPREVIOUS) and `X_NEXT` (the custom label NEXT), the last two verify only. ECS takes a
  label as `valueFrom` `<secret ARN>::<version-stage>:` ("Pass Secrets Manager secrets
  through Amazon ECS environment variables",
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html).
  Labels on one secret rather than three secrets: Secrets Manager moves AWSPREVIOUS itself
  when AWSCURRENT moves, one rotation schedule and one KMS grant cover all three, and the
  shift happens in one rotation instead of three writes that could stop half-way. A
  rotation shifts previous <- current <- next <- fresh (constructs/aws/rotation), then
  forces a new deployment of every service reading the secret (`ecs:UpdateService` on those
  services only), so tasks are never more than one rotation apart.
- derived (`database_url`, `database_direct_url`, `database_reader_url`, `cache_url`): no
  secret in them (the app's own role or cache user, host, port, TLS; the password is an IAM
  token the app signs itself), so the value is built from Terraform tokens. The direct and
  reader URLs name an instance endpoint (the primary, the first replica), whose RDS CA their
  readers' tasks fetch before the app starts (constructs/aws/service.py). The master password
  (`<prefix>/DATABASE_PASSWORD`) belongs to the database construct and is never given to the
  app (DEPLOY-6).
- external: created empty, no version, so no value is in the JSON or state; the operator
  sets it with `aws secretsmanager put-secret-value` (README, AWS), then says
  `value_set: true` in the catalog. Tagged `value-set` (`true`/`false`) from that field: no
  task reads it while the tag says false (constructs/aws/service.py; CKV_GW_DEPLOY_38).
  `value_set: true` is the operator's word, not a fact: in a fresh account, a copied
  environment file, after the secret was re-created, or when the command was forgotten, the
  secret has no version, and ECS fails every task reading it. So each such secret gets a
  check (`value_checks`): a `data "aws_secretsmanager_secret_versions"` whose postcondition
  wants a version labelled AWSCURRENT, and every task definition reading the secret depends
  on it (CKV_GW_DEPLOY_103). The data source calls ListSecretVersionIds, which returns
  version IDs and staging labels, never the value ("ListSecretVersionIds",
  https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_ListSecretVersionIds.html;
  hashicorp/terraform-provider-aws internal/service/secretsmanager/secret_versions_data_source.go,
  docs https://registry.terraform.io/providers/hashicorp/aws/6.25.0/docs/data-sources/secretsmanager_secret_versions),
  so no value enters the plan or state. Terraform checks a data source's postcondition
  right after reading it ("Custom Conditions",
  https://developer.hashicorp.com/terraform/language/expressions/custom-conditions#postconditions,
  Terraform 1.2+, below the stack's 1.11.1 floor): when the secret exists unchanged the
  read, and so the failure, happens in the plan; when the same apply creates or changes the
  secret (a fresh account; the flip of its `value-set` tag) Terraform defers the read to the
  apply (a reference to a managed resource with pending changes is an implied `depends_on`,
  hashicorp/terraform#27171, PR #27267), where it fails before the task definition that
  depends on it is created or replaced, so the running revision stays.
- The function reserves no concurrency by default: a new account's Lambda quota can be as
  low as 10, and Lambda refuses a reservation that leaves fewer than 10 unreserved
  ("Lambda quotas", https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).
  `aws.reserved_concurrency` sets one where the quota was raised (DEPLOY-4).
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from cdktf import (
    AssetType,
    Fn,
    ITerraformDependable,
    Postcondition,
    TerraformAsset,
    TerraformResourceLifecycle,
)
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementCondition,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from cdktf_cdktf_provider_aws.data_aws_secretsmanager_secret_versions import (
    DataAwsSecretsmanagerSecretVersions,
)
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

from synth.app import (
    DEFAULT_CATALOG,
    GENERATED_VARIANTS,
    DerivedSecret,
    GeneratedSecret,
    secret_variables,
)
from synth.aws_app import (
    INSTANCE_SOURCES,
    RESTART_TAG,
    SECRET_BITS_TAG,
    SECRET_KIND_TAG,
    SECRET_VALUE_SET_TAG,
    restart_tag,
    secret_name,
)
from synth.config import EnvironmentConfig
from synth.construct_waivers import waive

ROTATION_SOURCE = Path(__file__).resolve().parent / "rotation"
STAGING_DIR = Path(__file__).resolve().parents[2] / ".groundwork" / "assets"
# Staging labels of a generated secret's previous and next keys
# (constructs/aws/rotation/jwt_rotation.py).
PREVIOUS_STAGE = "AWSPREVIOUS"
NEXT_STAGE = "NEXT"
CACHE_PORT = 6379
DERIVED_DESCRIPTIONS = {
    "database_url": "PostgreSQL URL via RDS Proxy, without the password",
    "database_direct_url": "PostgreSQL URL of the primary instance, without the password",
    "database_reader_url": "PostgreSQL URL of a read replica, without the password",
    "cache_url": "Redis URL (TLS, IAM user), without a password",
}
# Deleted secrets stay recoverable this long; the maximum Secrets Manager allows.
RECOVERY_WINDOW_DAYS = 30
# The staging label ECS reads when `valueFrom` names the whole secret ("Pass Secrets Manager
# secrets through Amazon ECS environment variables",
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html).
CURRENT_STAGE = "AWSCURRENT"
# Some listed version carries it. A secret without versions lists none (a null or empty
# `versions`; a splat over null is empty), so the condition is false, never an error.
HAS_CURRENT_VERSION = f'${{contains(flatten(self.versions[*].version_stages), "{CURRENT_STAGE}")}}'


def value_missing_message(config: EnvironmentConfig, name: str) -> str:
    """What the plan (or apply) says when an external secret marked set has no value."""
    secret = secret_name(config, name)
    return (
        f"The catalog entry {name} (kind external) says value_set: true, but the secret "
        f"{secret} has no version labelled {CURRENT_STAGE}, so ECS could not start a task "
        f"reading it. Set its value first (aws secretsmanager put-secret-value --region "
        f"{config.aws.region} --secret-id {secret} --secret-string file://<file>; README, "
        "External secrets: setting their values), or set value_set: false on the entry."
    )


# Lambda takes its code as a .zip (`filename`; CreateFunction's ZipFile,
# https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html). It is built here
# and handed to cdktf as a file, which cdktf copies in-process: cdktf's AssetType.ARCHIVE zips
# with a new Node process per asset (cdktf/lib/private/fs.js, `execSync`), about 0.15 s and
# 60 MB each, two per AWS stack (issue 13). The stack refers to it by the same path as an
# archive asset, `assets/<stack>/<hash>/archive.zip`.
ARCHIVE_NAME = "archive.zip"
# Every entry's time and mode are fixed, so the same sources give the same bytes on any
# machine (1980-01-01 is the earliest time a zip entry can hold).
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
ZIP_MODE = 0o100644 << 16


def _zip(sources: Mapping[str, bytes]) -> bytes:
    """`sources` ({file name: content}) as zip bytes: entries in name order, deflated."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for file_name in sorted(sources):
            entry = zipfile.ZipInfo(file_name, date_time=ZIP_TIME)
            entry.external_attr = ZIP_MODE
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, sources[file_name])
    return buffer.getvalue()


def function_package(source: Path, name: str) -> tuple[str, str]:
    """A function's `*.py` files from `source` zipped (`_zip`) and staged by content hash:
    (the zip's path, `.groundwork/assets/<name>-<hash>/archive.zip`; the hash, hex SHA-256
    of each file's name and content), for `TerraformAsset(type=AssetType.FILE)`.

    Packaging the source folder itself would ship (and hash) whatever `__pycache__` a
    test run left there, so the synthesized JSON would depend on the machine's history.
    The zip lives in the project's git-ignored `.groundwork/`, not a shared temp folder
    someone else could have filled, and is written again if its bytes are not the zip of
    the sources; it is replaced whole (a parallel synthesis never reads half of one).
    """
    sources = {file.name: file.read_bytes() for file in sorted(source.glob("*.py"))}
    digest = hashlib.sha256()
    for file_name, content in sources.items():
        digest.update(file_name.encode() + b"\0" + content + b"\0")
    content_hash = digest.hexdigest()
    staged = STAGING_DIR / f"{name}-{content_hash}" / ARCHIVE_NAME
    archive = _zip(sources)
    if staged.is_file() and staged.read_bytes() == archive:
        return str(staged), content_hash
    staged.parent.mkdir(parents=True, exist_ok=True)
    handle, building = tempfile.mkstemp(dir=staged.parent, prefix=".building-")
    with os.fdopen(handle, "wb") as stream:
        stream.write(archive)
    os.replace(building, staged)
    return str(staged), content_hash


# Construct IDs of the rotation of the catalog entry that today's single service has always
# had, kept so that existing environments see no replacement (synth/app.py, DEFAULT_CATALOG).
LEGACY_GENERATED = next(
    name for name, entry in DEFAULT_CATALOG.items() if entry["kind"] == "generated"
)


def _construct_id(name: str) -> str:
    return name.lower().replace("_", "-")


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


class Secrets(Construct):
    """The secret catalog (SEC-5) in Secrets Manager, KMS-encrypted, each tagged with its kind:
    generated ones generated and rotated by one Lambda, derived ones written from the
    components the stack creates, external ones created empty.

    Attributes: `arns` (variable -> ARN, for the task definitions and roles), `references`
    (variable -> `valueFrom`), `variables` (catalog name -> its variables), `value_checks`
    (catalog name -> the check that an external secret marked `value_set: true` has an
    AWSCURRENT version, which its readers' task definitions depend on),
    `rotation_function_arn` and `ready` (what the services wait for:
    every generated and derived secret has its first value).
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
        cache_endpoint: str | None = None,
        cache_username: str | None = None,
    ) -> None:
        super().__init__(scope, id)
        partition = DataAwsPartition(self, "partition").partition
        account_id = DataAwsCallerIdentity(self, "account").account_id
        secretsmanager = f"secretsmanager.{config.aws.region}.amazonaws.com"

        def secret(name: str, description: str, tags: dict[str, str]) -> SecretsmanagerSecret:
            return SecretsmanagerSecret(
                self,
                _construct_id(name),
                name=secret_name(config, name),
                description=description,
                kms_key_id=kms_key_arn,  # SEC-1
                recovery_window_in_days=RECOVERY_WINDOW_DAYS,
                tags=tags,
            )

        self.arns: dict[str, str] = {}
        self.references: dict[str, str] = {}
        self.variables: dict[str, tuple[str, ...]] = {}
        self.ready: list[ITerraformDependable] = []
        self.value_checks: dict[str, DataAwsSecretsmanagerSecretVersions] = {}
        generated: dict[str, SecretsmanagerSecret] = {}
        for name, entry in config.secrets.catalog.items():
            kind = {SECRET_KIND_TAG: entry.kind}
            if isinstance(entry, GeneratedSecret):
                # The tag tells the rotation function which services to restart (names, not
                # references: the services wait for this secret's first rotation).
                restarts = restart_tag(config, name)
                created = secret(
                    name,
                    entry.description or f"{name}: generated and rotated by Lambda (SEC-2, SEC-5)",
                    {
                        **({RESTART_TAG: restarts} if restarts else {}),
                        **kind,
                        SECRET_BITS_TAG: str(entry.bits),
                    },
                )
                generated[name] = created
                arn = created.arn  # one token string, so an IAM policy lists it once
                self.arns |= {f"{name}{suffix}": arn for suffix in GENERATED_VARIANTS}
                self.references |= {
                    name: arn,
                    f"{name}_PREVIOUS": f"{arn}::{PREVIOUS_STAGE}:",
                    f"{name}_NEXT": f"{arn}::{NEXT_STAGE}:",
                }
            elif isinstance(entry, DerivedSecret):
                description = entry.description or DERIVED_DESCRIPTIONS[entry.source]
                created = secret(name, description, kind)
                parts = (
                    "host, port, user and database"
                    if entry.component == "database"
                    else ("host, port and user")
                )
                waive(
                    created,
                    "CKV2_AWS_57",
                    reason=f"{name} holds no secret value, only {parts}; the app signs in with "
                    "short-lived IAM auth tokens, so there is no password to rotate.",
                    owner=waivers.OWNER,
                    expires=waivers.EXPIRES,
                )
                self.ready.append(
                    SecretsmanagerSecretVersion(
                        self,
                        f"{_construct_id(name)}-value",
                        secret_id=created.id,
                        secret_string=self._derived_value(
                            entry.source, database, cache_endpoint, cache_username
                        ),
                    )
                )
                self.arns[name] = self.references[name] = created.arn
            else:
                # SEC-5: created empty; the operator sets the value with the command in the
                # README ("AWS: external secrets"). No version here, so no value is ever in
                # the Terraform JSON or state.
                # The tag says whether the operator has set it (`value_set`), so the gate
                # can tell from the JSON alone that a task reads an empty one
                # (CKV_GW_DEPLOY_38); changing it updates the secret in place.
                created = secret(
                    name,
                    entry.description,
                    {**kind, SECRET_VALUE_SET_TAG: str(entry.value_set).lower()},
                )
                waive(
                    created,
                    "CKV2_AWS_57",
                    reason=f"{name} is an external credential: its issuer creates and rotates "
                    "it, and the operator stores each new value with put-secret-value "
                    "(README, AWS external secrets); no rotation function can obtain it.",
                    owner=waivers.OWNER,
                    expires=waivers.EXPIRES,
                )
                if entry.value_set:
                    # Metadata only: version IDs and labels, never the value (module doc).
                    self.value_checks[name] = DataAwsSecretsmanagerSecretVersions(
                        self,
                        f"{_construct_id(name)}-has-value",
                        secret_id=created.id,
                        lifecycle=TerraformResourceLifecycle(
                            postcondition=[
                                Postcondition(
                                    condition=HAS_CURRENT_VERSION,
                                    error_message=value_missing_message(config, name),
                                )
                            ]
                        ),
                    )
                self.arns[name] = self.references[name] = created.arn
            self.variables[name] = secret_variables(name, entry)
        self.references = {**self.arns, **self.references}
        self.rotation_function_arn: str | None = None
        if generated:
            self._rotation(
                config,
                generated,
                partition=partition,
                account_id=account_id,
                secretsmanager=secretsmanager,
                kms_key_arn=kms_key_arn,
                log_kms_key_arn=log_kms_key_arn,
                subnet_ids=subnet_ids,
                vpc_id=vpc_id,
                egress=egress,
            )

    @staticmethod
    def _derived_value(
        source: str,
        database: Database,
        cache_endpoint: str | None,
        cache_username: str | None,
    ) -> str:
        """A derived secret's value: no password in it, so it may be built from tokens."""
        if source == "database_url":
            # The app's own role; its password is an IAM token it signs. RDS Proxy serves an
            # ACM certificate from a public CA ("RDS Proxy uses certificates from AWS
            # Certificate Manager", https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy.howitworks.html#rds-proxy-security.tls),
            # so node-postgres with `sslmode=verify-full` verifies it against Node's trusted
            # roots. No `sslrootcert`: node-postgres reads it as a file path, and `system` (a
            # libpq 16+ value) then fails with ENOENT (brianc/node-postgres#3101;
            # CKV_GW_DEPLOY_34).
            return (
                f"postgresql://{database.app_username}@{database.endpoint}:{database.port}"
                f"/{database.db_name}?sslmode=verify-full"
            )
        if source == "cache_url":
            # TLS (`rediss`), the IAM-authenticated user; its password is an IAM token the
            # app signs ("Authenticating with IAM",
            # https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/auth-iam.html).
            if cache_endpoint is None or cache_username is None:
                raise ValueError("cache_url needs the cache, which this stack does not create")
            return f"rediss://{cache_username}@{cache_endpoint}:{CACHE_PORT}"
        if source in INSTANCE_SOURCES:
            # An instance endpoint: the primary's, or the first replica's (node-postgres's URL
            # parser takes one host, so one URL cannot spread reads over several replicas;
            # README, AWS). Its certificate is signed by the RDS CA, which the reader's tasks
            # fetch before the app starts and name in NODE_EXTRA_CA_CERTS
            # (constructs/aws/service.py, CKV_GW_DEPLOY_101), so `verify-full` verifies it with
            # no `sslrootcert` in the URL (CKV_GW_DEPLOY_34). The same role and IAM token as
            # through the proxy (constructs/aws/database.py).
            if source == "database_reader_url" and not database.replica_addresses:
                raise ValueError("database_reader_url needs database.read_replicas >= 1")
            host = (
                database.address
                if source == "database_direct_url"
                else database.replica_addresses[0]
            )
            return (
                f"postgresql://{database.app_username}@{host}:{database.port}"
                f"/{database.db_name}?sslmode=verify-full"
            )
        raise ValueError(f"derived source {source!r} is not available on AWS")

    def _rotation(
        self,
        config: EnvironmentConfig,
        generated: Mapping[str, SecretsmanagerSecret],
        *,
        partition: str,
        account_id: str,
        secretsmanager: str,
        kms_key_arn: str,
        log_kms_key_arn: str,
        subnet_ids: Sequence[str],
        vpc_id: str,
        egress: Sequence[ITerraformDependable],
    ) -> None:
        """One Lambda rotates every generated secret (the rotated-secret contract)."""
        # The ECS services its rotations restart, `<cluster>/<service>`: the same list each
        # secret's RESTART_TAG carries (synth/aws_app.py, restart_tag, the one source).
        restarted = sorted(
            {service for name in generated for service in restart_tag(config, name).split()}
        )
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
            description=f"Rotates the generated secrets of {config.prefix}, nothing else (SEC-2)",
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
                        resources=[secret.arn for secret in generated.values()],
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
                            # Exactly one action on exactly the services that read the keys
                            # ("Actions, resources, and condition keys for Amazon ECS":
                            # UpdateService takes the service ARN,
                            # https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerservice.html).
                            DataAwsIamPolicyDocumentStatement(
                                sid="RestartTheAppService",
                                actions=["ecs:UpdateService"],
                                resources=[
                                    f"arn:{partition}:ecs:{config.aws.region}:{account_id}"
                                    f":service/{service}"
                                    for service in restarted
                                ],
                            )
                        ]
                        if restarted
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

        # cdktf copies it into cdktf.out and refers to it by a stack-relative path.
        package, package_hash = function_package(ROTATION_SOURCE, "jwt-rotation")
        code = TerraformAsset(
            self, "rotation-code", path=package, type=AssetType.FILE, asset_hash=package_hash
        )
        function = LambdaFunction(
            self,
            "rotation",
            function_name=function_name,
            # The secrets it rotates are those with secret-kind=generated: a list here would
            # outgrow the 256 characters a Lambda description holds (CreateFunction,
            # https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html).
            description=f"Rotates the generated secrets of {config.prefix} (SEC-2)",
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
        for name, secret in generated.items():
            legacy = name == LEGACY_GENERATED
            stem = _construct_id(name)
            permission = LambdaPermission(
                self,
                "rotation-invoke" if legacy else f"rotation-invoke-{stem}",
                statement_id=f"SecretsManagerRotates{_camel(name)}",
                action="lambda:InvokeFunction",
                function_name=function.function_name,
                principal="secretsmanager.amazonaws.com",
                source_arn=secret.arn,
            )
            rotation = SecretsmanagerSecretRotation(
                self,
                "jwt-rotation" if legacy else f"{stem}-rotation",
                secret_id=secret.id,
                rotation_lambda_arn=function.arn,
                rotation_rules=SecretsmanagerSecretRotationRotationRules(
                    automatically_after_days=config.secrets.rotation_days  # SEC-2
                ),
                # The first version is generated now, so the secret has a value after apply.
                rotate_immediately=True,
                # The function reaches Secrets Manager only through the NAT route (DEPLOY-2).
                depends_on=[permission, permissions, egress_rule, *egress],
            )
            # rotate_immediately starts the first rotation and returns; this waits for its end.
            self.ready.append(
                LambdaInvocation(
                    self,
                    "jwt-first-version" if legacy else f"{stem}-first-version",
                    function_name=function.function_name,
                    # The labels are part of the input so that a change of the contract re-runs
                    # it (aws_lambda_invocation invokes again when its input changes).
                    input=Fn.jsonencode(
                        {
                            "action": "awaitCurrent",
                            "SecretId": secret.arn,
                            "labels": ["AWSCURRENT", PREVIOUS_STAGE, NEXT_STAGE],
                        }
                    ),
                    depends_on=[rotation, egress_rule, *egress],
                )
            )
