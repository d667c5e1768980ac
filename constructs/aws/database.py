"""Builds the PostgreSQL database: RDS instance, read replicas, parameter group and RDS Proxy.

Satisfies: DB-1, DB-2, DB-3, DB-4, DB-5, DB-6, DB-7, DB-8, DB-9, NET-2, OBS-1, IAM-1

Backups (DB-4): RDS keeps transaction logs for the whole `backup_retention_period`, so
point-in-time recovery is inherent to any retention of one day or more; there is no
separate switch on AWS. The master password is generated and rotated by RDS in Secrets
Manager (`manage_master_user_password`), so it never appears in Terraform (DB-9, SEC-3).
Clients connect through the proxy with TLS and IAM authentication (`connect_arn`).
"""

from __future__ import annotations

from collections.abc import Sequence

from cdktf import Fn, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementCondition,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from cdktf_cdktf_provider_aws.db_instance import DbInstance
from cdktf_cdktf_provider_aws.db_parameter_group import DbParameterGroup, DbParameterGroupParameter
from cdktf_cdktf_provider_aws.db_proxy import DbProxy, DbProxyAuth
from cdktf_cdktf_provider_aws.db_proxy_default_target_group import (
    DbProxyDefaultTargetGroup,
    DbProxyDefaultTargetGroupConnectionPoolConfig,
)
from cdktf_cdktf_provider_aws.db_proxy_target import DbProxyTarget
from cdktf_cdktf_provider_aws.db_subnet_group import DbSubnetGroup
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from constructs import Construct

from synth.config import EnvironmentConfig

PORT = 5432
# RDS exports these to CloudWatch (DB-8); each lands in /aws/rds/instance/<id>/<export>.
LOG_EXPORTS = ("postgresql", "upgrade")
SLOW_QUERY_MS = 1000
MONITORING_INTERVAL_SECONDS = 60
PERFORMANCE_INSIGHTS_RETENTION_DAYS = 7  # the free tier
CA_CERTIFICATE = "rds-ca-rsa2048-g1"


def _assume_role_policy(scope: Construct, id: str, service: str) -> str:
    return DataAwsIamPolicyDocument(
        scope,
        id,
        statement=[
            DataAwsIamPolicyDocumentStatement(
                actions=["sts:AssumeRole"],
                principals=[
                    DataAwsIamPolicyDocumentStatementPrincipals(
                        type="Service", identifiers=[service]
                    )
                ],
            )
        ],
    ).json


class Database(Construct):
    """RDS PostgreSQL behind an RDS Proxy, private, encrypted and logged.

    Attributes: `endpoint` (the proxy's), `port`, `identifier`, `log_group_name`,
    `master_user_secret_arn`, `db_name`, `username`, `proxy_arn` and `connect_arn` (the
    `rds-db:connect` resource for IAM authentication through the proxy).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: EnvironmentConfig,
        subnet_ids: Sequence[str],
        security_group_id: str,
        kms_key_arn: str,
        log_kms_key_arn: str,
    ) -> None:
        super().__init__(scope, id)
        db = config.database
        self.identifier = f"{config.prefix}-postgres"
        self.port = PORT
        # Postgres names allow letters, digits and underscores; the app name may hold '-'.
        self.db_name = config.app.replace("-", "_")
        self.username = f"{self.db_name}_admin"
        partition = DataAwsPartition(self, "partition").partition
        account_id = DataAwsCallerIdentity(self, "account").account_id

        subnet_group = DbSubnetGroup(
            self,
            "subnet-group",
            name=self.identifier,
            description=f"Private data subnets of {config.prefix} (NET-2)",
            subnet_ids=list(subnet_ids),
        )
        parameters = DbParameterGroup(
            self,
            "parameters",
            name=f"{self.identifier}{db.engine_version}",
            family=f"postgres{db.engine_version}",
            description=f"TLS only; session and slow-query logging for {self.identifier}",
            parameter=[
                DbParameterGroupParameter(name="rds.force_ssl", value="1"),  # DB-3
                DbParameterGroupParameter(name="log_connections", value="1"),  # DB-8
                DbParameterGroupParameter(name="log_disconnections", value="1"),
                DbParameterGroupParameter(
                    name="log_min_duration_statement", value=str(SLOW_QUERY_MS)
                ),
                # Schema changes are audited; data statements are not logged (volume, PII).
                DbParameterGroupParameter(name="log_statement", value="ddl"),
            ],
            # A new name (engine upgrade) needs the new group in place before the swap.
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        )

        monitoring_role = IamRole(
            self,
            "monitoring-role",
            name=f"{self.identifier}-monitoring",
            description="RDS enhanced monitoring publishes OS metrics to CloudWatch (DB-8)",
            assume_role_policy=_assume_role_policy(
                self, "monitoring-trust", "monitoring.rds.amazonaws.com"
            ),
        )
        # AWS's managed service-role policy: logs:CreateLogGroup/PutLogEvents on RDSOSMetrics.
        IamRolePolicyAttachment(
            self,
            "monitoring-policy",
            role=monitoring_role.name,
            policy_arn=f"arn:{partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole",
        )

        # Construct ID -> RDS identifier of the primary and each read replica.
        instances = {"primary": self.identifier} | {
            f"replica-{n}": f"{self.identifier}-replica-{n}" for n in range(1, db.read_replicas + 1)
        }
        # Created here, encrypted and with our retention, before RDS would create them
        # unencrypted and kept forever (OBS-1).
        log_groups = {
            (instance_id, export): CloudwatchLogGroup(
                self,
                f"logs-{role}-{export}",
                name=f"/aws/rds/instance/{instance_id}/{export}",
                retention_in_days=config.logs.retention_days,
                kms_key_id=log_kms_key_arn,
            )
            for role, instance_id in instances.items()
            for export in LOG_EXPORTS
        }
        self.log_group_name = log_groups[self.identifier, "postgresql"].name

        def observed(instance_id: str) -> dict[str, object]:
            """Settings every instance shares: placement, encryption, logging, insights."""
            return {
                "identifier": instance_id,
                "instance_class": db.instance.aws,
                "storage_type": "gp3",
                "storage_encrypted": True,  # DB-2
                "kms_key_id": kms_key_arn,
                "db_subnet_group_name": subnet_group.name,
                "vpc_security_group_ids": [security_group_id],
                "publicly_accessible": False,  # NET-2
                "port": PORT,
                "ca_cert_identifier": CA_CERTIFICATE,
                "parameter_group_name": parameters.name,
                "iam_database_authentication_enabled": True,
                "enabled_cloudwatch_logs_exports": list(LOG_EXPORTS),
                "performance_insights_enabled": True,  # DB-8
                "performance_insights_kms_key_id": kms_key_arn,
                "performance_insights_retention_period": PERFORMANCE_INSIGHTS_RETENTION_DAYS,
                "monitoring_interval": MONITORING_INTERVAL_SECONDS,
                "monitoring_role_arn": monitoring_role.arn,
                "auto_minor_version_upgrade": True,
                "copy_tags_to_snapshot": True,
                "deletion_protection": db.deletion_protection,  # DB-7
                "depends_on": [
                    group for (owner, _), group in log_groups.items() if owner == instance_id
                ],
            }

        primary = DbInstance(
            self,
            "primary",
            **observed(self.identifier),
            engine="postgres",
            engine_version=str(db.engine_version),  # DB-1: major only, minors auto-upgrade
            db_name=self.db_name,
            username=self.username,
            # DB-9: RDS generates, stores and rotates the password in Secrets Manager.
            manage_master_user_password=True,
            master_user_secret_kms_key_id=kms_key_arn,
            allocated_storage=db.storage_gb,
            # Storage autoscaling only where the config allows growth.
            max_allocated_storage=db.max_storage_gb if db.max_storage_gb > db.storage_gb else None,
            multi_az=db.high_availability,  # DB-5
            backup_retention_period=db.backup_retention_days,  # DB-4, with PITR
            backup_window="02:00-03:00",
            maintenance_window="sun:03:30-sun:04:30",
            # DB-7: a protected database leaves a final snapshot and its backups behind.
            skip_final_snapshot=not db.deletion_protection,
            final_snapshot_identifier=f"{self.identifier}-final",
            delete_automated_backups=not db.deletion_protection,
            lifecycle=(
                TerraformResourceLifecycle(prevent_destroy=True) if db.deletion_protection else None
            ),
        )
        self.instance_arn = primary.arn
        self.master_user_secret_arn = primary.master_user_secret.get(0).secret_arn

        for role, replica_id in list(instances.items())[1:]:
            # DB-5: same-region replica; it inherits engine, credentials and backups policy
            # from the primary, and RDS refuses final snapshots of replicas.
            DbInstance(
                self,
                role,
                **observed(replica_id),
                replicate_source_db=primary.identifier,
                skip_final_snapshot=True,
            )

        proxy_role = IamRole(
            self,
            "proxy-role",
            name=f"{self.identifier}-proxy",
            description="RDS Proxy reads the RDS-managed master secret (DB-6)",
            assume_role_policy=_assume_role_policy(self, "proxy-trust", "rds.amazonaws.com"),
        )
        IamRolePolicy(
            self,
            "proxy-policy",
            name="read-master-secret",
            role=proxy_role.name,
            policy=DataAwsIamPolicyDocument(
                self,
                "proxy-permissions",
                statement=[
                    DataAwsIamPolicyDocumentStatement(
                        sid="ReadMasterSecret",
                        actions=["secretsmanager:GetSecretValue"],
                        resources=[self.master_user_secret_arn],
                    ),
                    DataAwsIamPolicyDocumentStatement(
                        sid="DecryptMasterSecret",
                        actions=["kms:Decrypt"],
                        resources=[kms_key_arn],
                        condition=[
                            DataAwsIamPolicyDocumentStatementCondition(
                                test="StringEquals",
                                variable="kms:ViaService",
                                values=[f"secretsmanager.{config.aws.region}.amazonaws.com"],
                            )
                        ],
                    ),
                ],
            ).json,
        )
        proxy = DbProxy(
            self,
            "proxy",
            name=self.identifier,
            engine_family="POSTGRESQL",
            role_arn=proxy_role.arn,
            vpc_subnet_ids=list(subnet_ids),
            vpc_security_group_ids=[security_group_id],
            require_tls=True,  # DB-3
            idle_client_timeout=1800,
            auth=[
                DbProxyAuth(
                    auth_scheme="SECRETS",
                    secret_arn=self.master_user_secret_arn,
                    iam_auth="REQUIRED",
                    description="RDS-managed master user",
                )
            ],
        )
        target_group = DbProxyDefaultTargetGroup(
            self,
            "proxy-pool",
            db_proxy_name=proxy.name,
            connection_pool_config=DbProxyDefaultTargetGroupConnectionPoolConfig(
                max_connections_percent=90,  # leave room for admin and replication sessions
                max_idle_connections_percent=50,
                connection_borrow_timeout=120,
            ),
        )
        DbProxyTarget(
            self,
            "proxy-target",
            db_proxy_name=proxy.name,
            target_group_name=target_group.name,
            db_instance_identifier=primary.identifier,
        )
        self.endpoint = proxy.endpoint
        self.proxy_arn = proxy.arn
        # IAM authentication through the proxy: dbuser:<proxy resource id>/<user>.
        proxy_resource_id = Fn.element(Fn.split(":", proxy.arn), 6)
        self.connect_arn = (
            f"arn:{partition}:rds-db:{config.aws.region}:{account_id}:dbuser:"
            f"{proxy_resource_id}/{self.username}"
        )
