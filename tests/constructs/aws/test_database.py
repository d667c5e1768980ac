"""Tests the AWS Database construct (DB-1..9, NET-2, OBS-1, IAM-1) per environment.

Each environment's real config (environments/<env>.yaml) drives a small test stack holding
only the database, so sizing differences between dev, staging and production are checked
on exactly what the construct builds.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

# cdktf's Testing is aliased: pytest would try to collect a class named `Test*`.
from cdktf import TerraformOutput, TerraformStack
from cdktf import Testing as CdktfTesting
from cdktf_cdktf_provider_aws.db_instance import DbInstance
from cdktf_cdktf_provider_aws.db_parameter_group import DbParameterGroup
from cdktf_cdktf_provider_aws.db_proxy import DbProxy
from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs.aws.database import Database

from synth.config import load_environment

ROOT = Path(__file__).resolve().parents[3]
KEY = "arn:aws:kms:eu-west-1:111122223333:key/00000000-0000-0000-0000-000000000001"
LOG_KEY = "arn:aws:kms:eu-west-1:111122223333:key/00000000-0000-0000-0000-000000000002"
SUBNETS = ["subnet-0data1", "subnet-0data2"]


class Synthesized:
    """One environment's test stack: its JSON text, parsed form and the construct."""

    def __init__(self, env: str) -> None:
        self.config = load_environment(ROOT / "environments" / f"{env}.yaml", cloud="aws")
        stack = TerraformStack(CdktfTesting.app(), "test")
        AwsProvider(stack, "aws", region=self.config.aws.region)
        self.database = Database(
            stack,
            "database",
            config=self.config,
            subnet_ids=SUBNETS,
            security_group_id="sg-0data",
            kms_key_arn=KEY,
            log_kms_key_arn=LOG_KEY,
        )
        for name in ("endpoint", "log_group_name", "master_user_secret_arn", "connect_arn"):
            TerraformOutput(stack, name, value=getattr(self.database, name))
        self.text = CdktfTesting.synth(stack)
        self.json = json.loads(self.text)

    def resources(self, resource_type: str) -> list[dict[str, Any]]:
        return list(self.json.get("resource", {}).get(resource_type, {}).values())

    def data(self, data_type: str) -> dict[str, dict[str, Any]]:
        return self.json.get("data", {}).get(data_type, {})

    def primary(self) -> dict[str, Any]:
        (primary,) = [
            r for r in self.resources("aws_db_instance") if "replicate_source_db" not in r
        ]
        return primary

    def replicas(self) -> list[dict[str, Any]]:
        return [r for r in self.resources("aws_db_instance") if "replicate_source_db" in r]

    def output(self, name: str) -> str:
        return self.json["output"][name]["value"]

    def policy_statements(self, role_name: str) -> list[dict[str, Any]]:
        """The statements of the inline policy attached to the IAM role `role_name`."""
        (role_ref,) = [
            key
            for key, role in self.json["resource"]["aws_iam_role"].items()
            if role["name"] == role_name
        ]
        (policy,) = [p for p in self.resources("aws_iam_role_policy") if role_ref in p["role"]]
        document = policy["policy"].removeprefix("${data.aws_iam_policy_document.")
        return self.data("aws_iam_policy_document")[document.split(".")[0]]["statement"]


@pytest.fixture(scope="module")
def stacks() -> dict[str, Synthesized]:
    return {env: Synthesized(env) for env in ("dev", "staging", "production")}


ENVS = ("dev", "staging", "production")


@pytest.mark.parametrize("env", ENVS)
def test_db_1_db_2_postgres_version_size_and_encryption_from_config(
    stacks: dict[str, Synthesized], env: str
) -> None:
    synthesized = stacks[env]
    db = synthesized.config.database
    expected: dict[str, Any] = {
        "engine": "postgres",
        "engine_version": str(db.engine_version),
        "instance_class": db.instance.aws,
        "storage_type": "gp3",
        "allocated_storage": db.storage_gb,
        "storage_encrypted": True,
        "kms_key_id": KEY,
        "identifier": f"groundwork-{env}-postgres",
    }
    assert CdktfTesting.to_have_resource_with_properties(
        synthesized.text, DbInstance.TF_RESOURCE_TYPE, expected
    )
    assert int(synthesized.primary()["engine_version"]) >= 15


def test_db_2_storage_autoscales_only_where_config_allows(stacks: dict[str, Synthesized]) -> None:
    assert stacks["production"].primary()["max_allocated_storage"] == 500
    assert "max_allocated_storage" not in stacks["dev"].primary()
    assert "max_allocated_storage" not in stacks["staging"].primary()


def test_sizing_differs_per_environment(stacks: dict[str, Synthesized]) -> None:
    sizes = {env: stacks[env].primary()["instance_class"] for env in ENVS}
    assert sizes == {
        "dev": "db.t4g.micro",
        "staging": "db.t4g.small",
        "production": "db.t4g.medium",
    }
    storage = {env: stacks[env].primary()["allocated_storage"] for env in ENVS}
    assert storage == {"dev": 20, "staging": 50, "production": 100}


@pytest.mark.parametrize("env", ENVS)
def test_db_3_db_8_parameter_group_forces_tls_and_logs_sessions_and_slow_queries(
    stacks: dict[str, Synthesized], env: str
) -> None:
    synthesized = stacks[env]
    (group,) = synthesized.resources(DbParameterGroup.TF_RESOURCE_TYPE)
    assert group["family"] == f"postgres{synthesized.config.database.engine_version}"
    parameters = {p["name"]: p["value"] for p in group["parameter"]}
    assert parameters["rds.force_ssl"] == "1"
    assert parameters["log_connections"] == "1"
    assert parameters["log_disconnections"] == "1"
    assert int(parameters["log_min_duration_statement"]) > 0
    for instance in synthesized.resources("aws_db_instance"):
        assert "aws_db_parameter_group" in instance["parameter_group_name"]


@pytest.mark.parametrize(("env", "days"), [("dev", 1), ("staging", 7), ("production", 7)])
def test_db_4_backup_retention_gives_point_in_time_recovery(
    stacks: dict[str, Synthesized], env: str, days: int
) -> None:
    # RDS keeps transaction logs for the retention period: PITR needs retention >= 1.
    assert stacks[env].primary()["backup_retention_period"] == days >= 1


def test_db_5_production_is_multi_az_with_one_private_encrypted_replica(
    stacks: dict[str, Synthesized],
) -> None:
    production = stacks["production"]
    assert production.primary()["multi_az"] is True
    (replica,) = production.replicas()
    assert replica["replicate_source_db"].endswith(".identifier}")
    assert replica["identifier"] == "groundwork-production-postgres-replica-1"
    assert replica["storage_encrypted"] is True
    # Same region: RDS refuses KmsKeyId (InvalidParameterCombination) and uses the source's key.
    assert "kms_key_id" not in replica
    assert production.primary()["kms_key_id"] == KEY
    assert replica["publicly_accessible"] is False
    assert replica["instance_class"] == production.primary()["instance_class"]


@pytest.mark.parametrize("env", ["dev", "staging"])
def test_db_5_smaller_tiers_run_single_az_without_replicas(
    stacks: dict[str, Synthesized], env: str
) -> None:
    assert stacks[env].primary()["multi_az"] is False
    assert stacks[env].replicas() == []


@pytest.mark.parametrize("env", ENVS)
def test_db_6_deploy_6_proxy_requires_tls_and_end_to_end_iam_without_secrets(
    stacks: dict[str, Synthesized], env: str
) -> None:
    synthesized = stacks[env]
    assert CdktfTesting.to_have_resource_with_properties(
        synthesized.text,
        DbProxy.TF_RESOURCE_TYPE,
        {
            "engine_family": "POSTGRESQL",
            "require_tls": True,
            "default_auth_scheme": "IAM_AUTH",
            "vpc_subnet_ids": SUBNETS,
            "vpc_security_group_ids": ["sg-0data"],
        },
    )
    (proxy,) = synthesized.resources("aws_db_proxy")
    assert "auth" not in proxy  # no secret is pooled; the app's IAM identity goes through
    (target,) = synthesized.resources("aws_db_proxy_target")
    assert "aws_db_proxy_default_target_group" in target["target_group_name"]
    primary_key = next(
        key
        for key, instance in synthesized.json["resource"]["aws_db_instance"].items()
        if "replicate_source_db" not in instance
    )
    assert target["db_instance_identifier"] == f"${{aws_db_instance.{primary_key}.identifier}}"
    assert synthesized.output("endpoint").startswith("${aws_db_proxy.")
    assert synthesized.database.port == 5432


def test_db_6_iam_1_proxy_role_may_only_connect_as_the_app_role(
    stacks: dict[str, Synthesized],
) -> None:
    production = stacks["production"]
    statements = production.policy_statements("groundwork-production-postgres-proxy")
    (statement,) = statements
    assert statement["sid"] == "ConnectAsTheAppRole"
    assert statement["actions"] == ["rds-db:connect"]
    (resource,) = statement["resources"]
    assert ":dbuser:${aws_db_instance." in resource
    assert resource.endswith(".resource_id}/groundwork_app")
    # The proxy exists only after its role may connect and its log group exists.
    (proxy,) = production.resources("aws_db_proxy")
    assert any("aws_iam_role_policy." in d for d in proxy["depends_on"])
    assert any("aws_cloudwatch_log_group." in d for d in proxy["depends_on"])


@pytest.mark.parametrize("env", ["staging", "production"])
def test_db_7_protected_tiers_keep_a_final_snapshot_and_prevent_destroy(
    stacks: dict[str, Synthesized], env: str
) -> None:
    primary = stacks[env].primary()
    assert primary["deletion_protection"] is True
    assert primary["skip_final_snapshot"] is False
    assert primary["final_snapshot_identifier"] == f"groundwork-{env}-postgres-final"
    assert primary["copy_tags_to_snapshot"] is True
    assert primary["delete_automated_backups"] is False
    assert primary["lifecycle"] == {"prevent_destroy": True}


def test_db_7_dev_database_is_disposable_because_its_config_says_so(
    stacks: dict[str, Synthesized],
) -> None:
    dev = stacks["dev"]
    assert dev.config.database.deletion_protection is False
    primary = dev.primary()
    assert primary["deletion_protection"] is False
    assert primary["skip_final_snapshot"] is True
    assert "lifecycle" not in primary


@pytest.mark.parametrize("env", ENVS)
def test_db_8_insights_monitoring_and_log_exports_on_every_instance(
    stacks: dict[str, Synthesized], env: str
) -> None:
    synthesized = stacks[env]
    for instance in synthesized.resources("aws_db_instance"):
        assert instance["performance_insights_enabled"] is True
        assert instance["performance_insights_kms_key_id"] == KEY
        assert instance["monitoring_interval"] == 60
        assert "aws_iam_role" in instance["monitoring_role_arn"]
        assert instance["enabled_cloudwatch_logs_exports"] == ["postgresql", "upgrade"]
        assert instance["iam_database_authentication_enabled"] is True
        assert instance["auto_minor_version_upgrade"] is True
    (attachment,) = synthesized.resources("aws_iam_role_policy_attachment")
    assert attachment["policy_arn"].endswith(
        ":iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
    )


@pytest.mark.parametrize("env", ENVS)
def test_obs_1_deploy_2_log_groups_aws_writes_are_precreated_encrypted_with_retention(
    stacks: dict[str, Synthesized], env: str
) -> None:
    synthesized = stacks[env]
    groups = {g["name"]: g for g in synthesized.resources("aws_cloudwatch_log_group")}
    instances = [i["identifier"] for i in synthesized.resources("aws_db_instance")]
    assert set(groups) == {
        f"/aws/rds/instance/{identifier}/{export}"
        for identifier in instances
        for export in ("postgresql", "upgrade")
    } | {"RDSOSMetrics", f"/aws/rds/proxy/groundwork-{env}-postgres"}
    for group in groups.values():
        assert group["kms_key_id"] == LOG_KEY
        assert group["retention_in_days"] == synthesized.config.logs.retention_days
    assert synthesized.database.identifier == f"groundwork-{env}-postgres"
    assert synthesized.output("log_group_name").endswith(".name}")
    # Each instance waits for its export groups, RDSOSMetrics and the monitoring policy.
    for instance in synthesized.resources("aws_db_instance"):
        waits = instance["depends_on"]
        assert sum("aws_cloudwatch_log_group." in d for d in waits) == 3
        assert any("aws_iam_role_policy_attachment." in d for d in waits)


def test_deploy_2_a_shared_rds_os_metrics_group_is_looked_up_not_created() -> None:
    config = load_environment(ROOT / "environments" / "staging.yaml", cloud="aws")
    config = config.model_copy(
        update={"aws": config.aws.model_copy(update={"rds_os_metrics_log_group": "exists"})}
    )
    stack = TerraformStack(CdktfTesting.app(), "shared")
    AwsProvider(stack, "aws", region=config.aws.region)
    Database(stack, "database", config=config, subnet_ids=SUBNETS, security_group_id="sg-0data",
             kms_key_arn=KEY, log_kms_key_arn=LOG_KEY)  # fmt: skip
    document = json.loads(CdktfTesting.synth(stack))
    names = [g["name"] for g in document["resource"]["aws_cloudwatch_log_group"].values()]
    assert "RDSOSMetrics" not in names
    (lookup,) = document["data"]["aws_cloudwatch_log_group"].values()
    assert lookup["name"] == "RDSOSMetrics"
    (primary,) = document["resource"]["aws_db_instance"].values()
    assert any(d.startswith("data.aws_cloudwatch_log_group.") for d in primary["depends_on"])


@pytest.mark.parametrize("env", ENVS)
def test_db_9_sec_3_master_password_is_write_only_from_an_ephemeral_generator(
    stacks: dict[str, Synthesized], env: str
) -> None:
    synthesized = stacks[env]
    primary = synthesized.primary()
    (generator,) = synthesized.json["ephemeral"]["aws_secretsmanager_random_password"]
    reference = f"${{ephemeral.aws_secretsmanager_random_password.{generator}.random_password}}"
    assert primary["password_wo"] == reference
    assert primary["password_wo_version"] == synthesized.config.aws.master_password_version
    assert "manage_master_user_password" not in primary
    for instance in synthesized.resources("aws_db_instance"):
        assert "password" not in instance
    (secret,) = synthesized.resources("aws_secretsmanager_secret")
    assert secret["name"] == f"groundwork-{env}/DATABASE_PASSWORD"
    assert secret["kms_key_id"] == KEY
    (version,) = synthesized.resources("aws_secretsmanager_secret_version")
    assert "secret_string" not in version
    # A bare reference inside jsonencode: "$${...}" would store the text, not the password.
    assert version["secret_string_wo"] == (
        '${jsonencode({username = "groundwork_admin", password = '
        f"ephemeral.aws_secretsmanager_random_password.{generator}.random_password}})}}"
    )
    assert "$${" not in json.dumps(synthesized.json)
    assert version["secret_string_wo_version"] == primary["password_wo_version"]
    # Written after the instance takes the password, and replaced whenever the instance is
    # (write-only values travel only on create or a version change: provider #42582).
    (primary_name,) = [
        name
        for name, body in synthesized.json["resource"]["aws_db_instance"].items()
        if "replicate_source_db" not in body
    ]
    assert f"aws_db_instance.{primary_name}" in version["depends_on"]
    assert version["lifecycle"]["replace_triggered_by"] == [
        f"aws_db_instance.{primary_name}.resource_id"
    ]
    assert synthesized.output("master_user_secret_arn").startswith("${aws_secretsmanager_secret.")


def test_db_5_deploy_4_deploy_6_production_replica_of_a_write_only_source_follows_autoscaling(
    stacks: dict[str, Synthesized],
) -> None:
    production = stacks["production"]
    (replica,) = production.replicas()
    primary = production.primary()
    assert "manage_master_user_password" not in primary  # RDS refuses replicas otherwise
    assert replica["max_allocated_storage"] == primary["max_allocated_storage"] == 500


@pytest.mark.parametrize("env", ENVS)
def test_net_2_database_is_private_in_the_data_subnets(
    stacks: dict[str, Synthesized], env: str
) -> None:
    synthesized = stacks[env]
    (subnet_group,) = synthesized.resources("aws_db_subnet_group")
    assert subnet_group["subnet_ids"] == SUBNETS
    for instance in synthesized.resources("aws_db_instance"):
        assert instance["publicly_accessible"] is False
        assert instance["vpc_security_group_ids"] == ["sg-0data"]
    assert "aws_db_subnet_group" in synthesized.primary()["db_subnet_group_name"]


def test_deploy_4_same_region_replicas_inherit_the_primary_subnet_group(
    stacks: dict[str, Synthesized],
) -> None:
    """RDS refuses a subnet group on a replica of a same-region source named by identifier
    (DBSubnetGroupNotAllowedFault); the replica lands in the primary's group."""
    (replica,) = stacks["production"].replicas()
    assert "aws_db_instance" in replica["replicate_source_db"]
    assert replica["replicate_source_db"].endswith(".identifier}")
    assert "db_subnet_group_name" not in replica


def test_connect_arn_names_the_proxy_and_the_app_role(stacks: dict[str, Synthesized]) -> None:
    connect = stacks["production"].output("connect_arn")
    assert ":rds-db:eu-west-1:" in connect
    assert connect.endswith("/groundwork_app")  # never the master user (DEPLOY-6)
    assert "aws_db_proxy." in connect
