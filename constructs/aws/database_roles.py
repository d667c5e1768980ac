"""Builds the first-deploy step that creates the app's own database role (DEPLOY-6).

Satisfies: DEPLOY-2, DEPLOY-5, DEPLOY-6, IAM-1, OBS-1

The app signs in as `<db>_app` with IAM tokens through RDS Proxy, never as the master user.
That role has to exist in PostgreSQL before the app starts, and only the master user can
create it. So the apply runs a one-off Fargate task (`<prefix>-db-roles`, psql from the public
`postgres:<major>-alpine` image on ECR Public) that signs in to the primary as the master
user, with the password ECS injects from the master secret, and runs idempotent SQL in one
transaction under an advisory lock (the provider may retry the invocation while a first task
still runs, hashicorp/terraform-provider-aws#45773), then verifies the privileges:

- `CREATE ROLE <db>_app LOGIN` if missing, `GRANT rds_iam` (IAM tokens, "Creating a database
  account using IAM authentication",
  https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.DBAccounts.html);
- `CONNECT` and `TEMPORARY` on the database, `USAGE` and `CREATE` on schema `public`, so its
  migrations create (and own) the app's tables; nothing more.

Terraform cannot run an ECS task itself, so `aws_lambda_invocation` calls a small function
(`constructs/aws/db_roles/db_roles.py`) that starts the task, waits for it to stop and fails
the apply unless psql exited 0. The invocation waits for the database, the master secret's
value and the app subnets' NAT route (the task pulls its image through it), and the app's
service waits for the invocation. The invocation's input carries the script's sha256, not
the script (cdktf would paste it into `jsonencode(...)` unescaped, hashicorp/terraform-cdk#1165,
and Terraform would refuse the configuration), so changing the SQL re-runs it on the next
apply, and the primary's `resource_id`, so a replaced instance gets its role again. The task
uses only public images, so it works before any release exists (DEPLOY-5).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

from cdktf import AssetType, Fn, ITerraformDependable, TerraformAsset
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.ecs_task_definition import (
    EcsTaskDefinition,
    EcsTaskDefinitionRuntimePlatform,
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
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from constructs import Construct
from constructs.aws import waivers
from constructs.aws.database import Database
from constructs.aws.lambda_vpc import vpc_function_policy
from constructs.aws.secrets import function_package
from constructs.aws.service import container_insights_cluster

from synth.config import EnvironmentConfig

FUNCTION_SOURCE = Path(__file__).resolve().parent / "db_roles"
CONTAINER = "psql"
POSTGRES_IMAGE = "public.ecr.aws/docker/library/postgres"  # Docker official image on ECR Public
# psql reads this from stdin: variables are quoted by psql (:'x' literal, :"x" identifier);
# psql does not substitute them inside dollar quotes, so the DO blocks read transaction-local
# settings instead. One transaction, so a failure leaves nothing half granted.
# `aws_lambda_invocation` may be retried by the provider while the first task still runs
# (hashicorp/terraform-provider-aws#45773), so two of these may run at once: the advisory lock
# makes the second wait for the first to commit, and CREATE ROLE catches duplicate_object
# (SQLSTATE 42710, https://www.postgresql.org/docs/current/errcodes-appendix.html) in case
# anything else created the role meanwhile. The last block verifies every privilege the app
# needs, one at a time (has_*_privilege with a list is true if ANY is held,
# https://www.postgresql.org/docs/current/functions-info.html), and fails psql otherwise.
ROLE_SQL = """\\set ON_ERROR_STOP on
BEGIN;
SELECT pg_advisory_xact_lock(hashtext('groundwork-db-roles'));
SELECT set_config('groundwork.app', :'app', true), set_config('groundwork.db', :'db', true);
DO $roles$
BEGIN
  EXECUTE format('CREATE ROLE %I LOGIN', current_setting('groundwork.app'));
EXCEPTION WHEN duplicate_object THEN
  RAISE NOTICE 'role % exists', current_setting('groundwork.app');
END
$roles$;
GRANT rds_iam TO :"app";
GRANT CONNECT, TEMPORARY ON DATABASE :"db" TO :"app";
GRANT USAGE, CREATE ON SCHEMA public TO :"app";
DO $verify$
DECLARE
  app text := current_setting('groundwork.app');
  db text := current_setting('groundwork.db');
BEGIN
  IF NOT (pg_has_role(app, 'rds_iam', 'MEMBER')
      AND has_database_privilege(app, db, 'CONNECT')
      AND has_database_privilege(app, db, 'TEMPORARY')
      AND has_schema_privilege(app, 'public', 'USAGE')
      AND has_schema_privilege(app, 'public', 'CREATE')) THEN
    RAISE EXCEPTION 'role % lacks a privilege it needs', app;
  END IF;
END
$verify$;
COMMIT;
"""


def _trust(service: str, account_id: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": service},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
                }
            ],
        },
        indent=2,
    )


class DatabaseRoles(Construct):
    """`ready`: the invocation after which the app's database role exists."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: EnvironmentConfig,
        database: Database,
        subnet_ids: Sequence[str],
        security_group_id: str,
        vpc_id: str,
        kms_key_arn: str,
        log_kms_key_arn: str,
        egress: Sequence[ITerraformDependable] = (),
        security_group_rules: Sequence[ITerraformDependable] = (),
    ) -> None:
        super().__init__(scope, id_)
        region = config.aws.region
        name = f"{config.prefix}-db-roles"
        account_id = DataAwsCallerIdentity(self, "account").account_id
        cluster = container_insights_cluster(self, "cluster", name, config, log_kms_key_arn)

        task_logs = CloudwatchLogGroup(
            self,
            "task-logs",
            name=f"/ecs/{name}/{CONTAINER}",
            retention_in_days=config.logs.retention_days,  # OBS-1
            kms_key_id=log_kms_key_arn,
        )
        waivers.log_retention(task_logs, config)
        execution_role = IamRole(
            self,
            "execution-role",
            name=f"{name}-execution",
            description="ECS agent of the role task: write its logs, inject the master password",
            assume_role_policy=_trust("ecs-tasks.amazonaws.com", account_id),
        )
        execution_policy = IamRolePolicy(
            self,
            "execution-policy",
            name="logs-master-secret",
            role=execution_role.id,
            policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "WriteTheTaskLogs",
                            "Effect": "Allow",
                            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                            "Resource": f"{task_logs.arn}:*",
                        },
                        {
                            "Sid": "ReadTheMasterSecret",
                            "Effect": "Allow",
                            "Action": ["secretsmanager:GetSecretValue"],
                            "Resource": database.master_user_secret_arn,
                        },
                        {
                            "Sid": "DecryptTheMasterSecret",
                            "Effect": "Allow",
                            "Action": ["kms:Decrypt"],
                            "Resource": kms_key_arn,
                            "Condition": {
                                "StringEquals": {
                                    "kms:ViaService": f"secretsmanager.{region}.amazonaws.com"
                                }
                            },
                        },
                    ],
                },
                indent=2,
            ),
        )
        script = (
            f"psql -v app={database.app_username} -v db={database.db_name} <<'SQL'\n{ROLE_SQL}SQL"
        )
        container = {
            "name": CONTAINER,
            # The engine's major version, from ECR Public: no registry of ours, no release.
            "image": f"{POSTGRES_IMAGE}:{config.database.engine_version}-alpine",
            "essential": True,
            "entryPoint": ["sh", "-c"],
            "command": [script],
            "environment": [
                {"name": "PGHOST", "value": database.address},
                {"name": "PGPORT", "value": str(database.port)},
                {"name": "PGDATABASE", "value": database.db_name},
                {"name": "PGUSER", "value": database.username},
                # rds.force_ssl: TLS always; the image has no RDS CA bundle to verify with.
                {"name": "PGSSLMODE", "value": "require"},
            ],
            "secrets": [
                {"name": "PGPASSWORD", "valueFrom": f"{database.master_user_secret_arn}:password::"}
            ],
            "readonlyRootFilesystem": True,
            "logConfiguration": {
                "logDriver": "awslogs",
                "options": {
                    "awslogs-group": task_logs.name,
                    "awslogs-region": region,
                    "awslogs-stream-prefix": CONTAINER,
                },
            },
        }
        task = EcsTaskDefinition(
            self,
            "task",
            family=name,
            requires_compatibilities=["FARGATE"],
            network_mode="awsvpc",
            cpu="256",
            memory="512",
            runtime_platform=EcsTaskDefinitionRuntimePlatform(
                operating_system_family="LINUX", cpu_architecture="X86_64"
            ),
            execution_role_arn=execution_role.arn,
            container_definitions=json.dumps([container], indent=2),
            depends_on=[execution_policy],
        )

        function_logs = CloudwatchLogGroup(
            self,
            "function-logs",
            name=f"/aws/lambda/{name}",
            retention_in_days=config.logs.retention_days,  # OBS-1
            kms_key_id=log_kms_key_arn,
        )
        waivers.log_retention(function_logs, config)
        function_role = IamRole(
            self,
            "function-role",
            name=name,
            description="Runs the one-off role task and waits for it (DEPLOY-6)",
            assume_role_policy=_trust("lambda.amazonaws.com", account_id),
        )
        # Its ENIs and its own log group only, not AWS's managed AWSLambdaVPCAccessExecutionRole
        # (logs and ENI actions on `*`): constructs/aws/lambda_vpc.py (IAM-1).
        vpc_access = IamRolePolicy(
            self,
            "function-vpc-access",
            name="vpc-network-and-logs",
            role=function_role.id,
            policy=vpc_function_policy("aws", region, account_id, function_logs.arn),
        )
        family = f"arn:aws:ecs:{region}:{account_id}:task-definition/{name}:*"
        function_policy = IamRolePolicy(
            self,
            "function-policy",
            name="run-role-task",
            role=function_role.id,
            policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "RunTheRoleTask",
                            "Effect": "Allow",
                            "Action": ["ecs:RunTask"],
                            "Resource": family,
                            "Condition": {"ArnEquals": {"ecs:cluster": cluster.arn}},
                        },
                        {
                            "Sid": "WatchTheRoleTask",
                            "Effect": "Allow",
                            "Action": ["ecs:DescribeTasks"],
                            "Resource": f"arn:aws:ecs:{region}:{account_id}:task/{name}/*",
                        },
                        {
                            "Sid": "HandTheExecutionRoleToEcs",
                            "Effect": "Allow",
                            "Action": ["iam:PassRole"],
                            "Resource": execution_role.arn,
                            "Condition": {
                                "StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}
                            },
                        },
                        {
                            "Sid": "XRayTraces",  # no resource-level permissions for these
                            "Effect": "Allow",
                            "Action": ["xray:PutTelemetryRecords", "xray:PutTraceSegments"],
                            "Resource": "*",
                        },
                    ],
                },
                indent=2,
            ),
        )
        security_group = SecurityGroup(
            self,
            "function-sg",
            name=f"{name}-lambda",
            description="Role-task Lambda: HTTPS out to the ECS API only",
            vpc_id=vpc_id,
        )
        # Terraform strips aws_security_group's default allow-all egress
        # (https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/security_group):
        # the invocation waits for this rule, or the function cannot reach the ECS API.
        egress_rule = VpcSecurityGroupEgressRule(
            self,
            "function-egress-https",
            security_group_id=security_group.id,
            description="HTTPS to the ECS API",
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            cidr_ipv4="0.0.0.0/0",
        )
        package, package_hash = function_package(FUNCTION_SOURCE, "db-roles")
        code = TerraformAsset(
            self, "code", path=package, type=AssetType.FILE, asset_hash=package_hash
        )
        function = LambdaFunction(
            self,
            "function",
            function_name=name,
            description=f"Creates {database.app_username} in {database.identifier} on deploy",
            role=function_role.arn,
            runtime="python3.12",
            handler="db_roles.lambda_handler",
            filename=code.path,
            source_code_hash=code.asset_hash,
            memory_size=128,
            timeout=900,  # waits for the Fargate task: image pull, start, psql
            reserved_concurrent_executions=config.aws.reserved_concurrency or None,
            vpc_config=LambdaFunctionVpcConfig(
                subnet_ids=list(subnet_ids), security_group_ids=[security_group.id]
            ),
            tracing_config=LambdaFunctionTracingConfig(mode="Active"),
            logging_config=LambdaFunctionLoggingConfig(
                log_format="JSON", log_group=function_logs.name
            ),
            depends_on=[function_logs, vpc_access, function_policy],
        )
        waivers.lambda_function(
            function,
            config,
            dead_letter_reason="Terraform invokes the role-task function synchronously and "
            "fails the apply on its error, so a dead-letter queue would never receive anything.",
        )
        self.ready = LambdaInvocation(
            self,
            "run",
            function_name=function.function_name,
            input=Fn.jsonencode(
                {
                    "cluster": cluster.arn,
                    "taskDefinition": task.arn,
                    "subnets": list(subnet_ids),
                    "securityGroups": [security_group_id],
                    # A digest, not the SQL: cdktf pastes strings into the jsonencode(...)
                    # expression without escaping backslashes and quotes
                    # (hashicorp/terraform-cdk#1165), which Terraform refuses to parse
                    # (CKV_GW_DEPLOY_3). A new script still changes the input and re-runs it.
                    "scriptSha256": hashlib.sha256(script.encode()).hexdigest(),
                    # The primary's DbiResourceId: a replaced instance (same identifier, same
                    # endpoint, so the task definition does not change) gets a new one, so the
                    # input changes and the role is created again in the new, empty database;
                    # the invocation re-runs only when its input changes (aws_lambda_invocation
                    # docs). The function ignores the key.
                    "database": database.primary.resource_id,
                }
            ),
            # The primary and its password exist; the task reaches ECR Public through NAT.
            # The security-group rules of both paths too: the function's HTTPS out, and the
            # task's (app group) HTTPS out, PostgreSQL out and the database's ingress from it.
            depends_on=[
                database.primary,
                database.master_secret_value,
                *egress,
                egress_rule,
                *security_group_rules,
            ],
        )
