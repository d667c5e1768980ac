"""Tests the AWS Secrets construct and its rotation Lambda (SEC-1..3, DB-9, OBS-1, IAM-1).

Each environment's real config drives a small test stack holding the database (whose
master secret is DATABASE_PASSWORD) and the secrets.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest

# cdktf's Testing is aliased: pytest would try to collect a class named `Test*`.
from cdktf import TerraformOutput, TerraformStack
from cdktf import Testing as CdktfTesting
from cdktf_cdktf_provider_aws.lambda_function import LambdaFunction
from cdktf_cdktf_provider_aws.provider import AwsProvider
from cdktf_cdktf_provider_aws.route import Route
from cdktf_cdktf_provider_aws.secretsmanager_secret import SecretsmanagerSecret
from constructs.aws import secrets as secrets_module
from constructs.aws.database import Database
from constructs.aws.secrets import Secrets

from synth.config import load_environment

ROOT = Path(__file__).resolve().parents[3]
KEY = "arn:aws:kms:eu-west-1:111122223333:key/00000000-0000-0000-0000-000000000001"
LOG_KEY = "arn:aws:kms:eu-west-1:111122223333:key/00000000-0000-0000-0000-000000000002"
SUBNETS = ["subnet-0app1", "subnet-0app2"]
ENVS = ("dev", "staging", "production")


def synth(env: str, **aws: Any) -> tuple[Any, str]:
    config = load_environment(ROOT / "environments" / f"{env}.yaml", cloud="aws")
    config = config.model_copy(update={"aws": config.aws.model_copy(update=aws)})
    stack = TerraformStack(CdktfTesting.app(), "test")
    AwsProvider(stack, "aws", region=config.aws.region)
    database = Database(
        stack,
        "database",
        config=config,
        subnet_ids=SUBNETS,
        security_group_id="sg-0data",
        kms_key_arn=KEY,
        log_kms_key_arn=LOG_KEY,
    )
    secrets = Secrets(
        stack,
        "secrets",
        config=config,
        kms_key_arn=KEY,
        log_kms_key_arn=LOG_KEY,
        database=database,
        subnet_ids=SUBNETS,
        vpc_id="vpc-0main",
        egress=[
            Route(
                stack,
                "nat-route",
                route_table_id="rtb-0app",
                destination_cidr_block="0.0.0.0/0",
                nat_gateway_id="nat-0main",
            )
        ],
    )
    for name, arn in secrets.arns.items():
        TerraformOutput(stack, f"arn-{name}", value=arn)
    TerraformOutput(stack, "master-secret", value=database.master_user_secret_arn)
    TerraformOutput(stack, "rotation-function", value=secrets.rotation_function_arn)
    return config, CdktfTesting.synth(stack)


class Synthesized:
    def __init__(self, env: str) -> None:
        self.config, self.text = synth(env)
        self.json = json.loads(self.text)

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        """Resources of a type by their Terraform address (`type.name`)."""
        found = self.json.get("resource", {}).get(resource_type, {})
        return {f"{resource_type}.{name}": body for name, body in found.items()}

    def one(self, resource_type: str) -> dict[str, Any]:
        (body,) = self.resources(resource_type).values()
        return body

    def secret(self, name: str) -> tuple[str, dict[str, Any]]:
        (found,) = [
            (address, body)
            for address, body in self.resources("aws_secretsmanager_secret").items()
            if body["name"] == f"groundwork-{self.config.name}/{name}"
        ]
        return found

    def output(self, name: str) -> str:
        return self.json["output"][name]["value"]

    def statements(self, policy: str) -> list[dict[str, Any]]:
        reference = re.fullmatch(r"\$\{data\.aws_iam_policy_document\.(.+)\.json\}", policy)
        assert reference, policy
        return self.json["data"]["aws_iam_policy_document"][reference[1]]["statement"]


@pytest.fixture(scope="module")
def stacks() -> dict[str, Synthesized]:
    return {env: Synthesized(env) for env in ENVS}


@pytest.mark.parametrize("env", ENVS)
def test_sec_1_app_secrets_are_kms_encrypted_and_recoverable(
    stacks: dict[str, Synthesized], env: str
) -> None:
    synthesized = stacks[env]
    for name in ("JWT_SECRET", "DATABASE_URL"):
        assert CdktfTesting.to_have_resource_with_properties(
            synthesized.text,
            SecretsmanagerSecret.TF_RESOURCE_TYPE,
            {
                "name": f"groundwork-{env}/{name}",
                "kms_key_id": KEY,
                "recovery_window_in_days": 30,
            },
        )


@pytest.mark.parametrize("env", ENVS)
def test_sec_1_deploy_6_the_app_gets_jwt_and_url_never_the_master_password(
    stacks: dict[str, Synthesized], env: str
) -> None:
    synthesized = stacks[env]
    jwt, _ = synthesized.secret("JWT_SECRET")
    url, _ = synthesized.secret("DATABASE_URL")
    master, body = synthesized.secret("DATABASE_PASSWORD")
    assert synthesized.output("arn-JWT_SECRET") == f"${{{jwt}.arn}}"
    assert synthesized.output("arn-DATABASE_URL") == f"${{{url}.arn}}"
    assert "arn-DATABASE_PASSWORD" not in synthesized.json["output"]
    # DATABASE_PASSWORD is the master credential, kept by the database construct (CMK).
    assert synthesized.output("master-secret") == f"${{{master}.arn}}"
    assert body["kms_key_id"] == KEY


@pytest.mark.parametrize("env", ENVS)
def test_sec_3_deploy_6_database_url_names_the_app_role_and_holds_no_password(
    stacks: dict[str, Synthesized], env: str
) -> None:
    synthesized = stacks[env]
    url, _ = synthesized.secret("DATABASE_URL")
    (version,) = [
        v
        for v in synthesized.resources("aws_secretsmanager_secret_version").values()
        if v["secret_id"] == f"${{{url}.id}}"
    ]
    assert re.fullmatch(
        r"postgresql://groundwork_app@\$\{aws_db_proxy\.[^}]+\.endpoint\}:5432"
        r"/groundwork\?sslmode=verify-full",
        version["secret_string"],
    ), version["secret_string"]
    assert "secret_string_wo" not in version


@pytest.mark.parametrize("env", ENVS)
def test_sec_2_jwt_secret_rotates_within_90_days_starting_at_apply(
    stacks: dict[str, Synthesized], env: str
) -> None:
    synthesized = stacks[env]
    jwt, _ = synthesized.secret("JWT_SECRET")
    rotation = synthesized.one("aws_secretsmanager_secret_rotation")
    (function,) = synthesized.resources("aws_lambda_function")
    assert rotation["secret_id"] == f"${{{jwt}.id}}"
    assert rotation["rotation_lambda_arn"] == f"${{{function}.arn}}"
    assert rotation["rotate_immediately"] is True
    days = rotation["rotation_rules"]["automatically_after_days"]
    assert days == synthesized.config.secrets.rotation_days <= 90
    assert synthesized.output("rotation-function") == f"${{{function}.arn}}"
    # The invoke permission and the role policy exist before the first rotation runs.
    (permission,) = synthesized.resources("aws_lambda_permission")
    (policy,) = [
        address
        for address, body in synthesized.resources("aws_iam_role_policy").items()
        if body["name"] == "rotate-jwt-secret"
    ]
    (route,) = synthesized.resources("aws_route")
    # Terraform strips the group's default egress: the function's HTTPS rule comes first too.
    (egress,) = synthesized.resources("aws_vpc_security_group_egress_rule")
    assert set(rotation["depends_on"]) == {permission, policy, route, egress}  # DEPLOY-2


@pytest.mark.parametrize("env", ENVS)
def test_deploy_5_the_apply_waits_for_jwt_secrets_first_version(
    stacks: dict[str, Synthesized], env: str
) -> None:
    synthesized = stacks[env]
    jwt, _ = synthesized.secret("JWT_SECRET")
    (function,) = synthesized.resources("aws_lambda_function")
    (rotation,) = synthesized.resources("aws_secretsmanager_secret_rotation")
    (route,) = synthesized.resources("aws_route")
    invocation = synthesized.one("aws_lambda_invocation")
    assert invocation["function_name"] == f"${{{function}.function_name}}"
    assert '"action" = "awaitCurrent"' in invocation["input"]
    assert f"{jwt}.arn" in invocation["input"]
    (egress,) = synthesized.resources("aws_vpc_security_group_egress_rule")
    assert set(invocation["depends_on"]) == {rotation, route, egress}


def test_sec_2_only_secrets_manager_may_invoke_it_for_the_jwt_secret(
    stacks: dict[str, Synthesized],
) -> None:
    synthesized = stacks["production"]
    jwt, _ = synthesized.secret("JWT_SECRET")
    permission = synthesized.one("aws_lambda_permission")
    assert permission["action"] == "lambda:InvokeFunction"
    assert permission["principal"] == "secretsmanager.amazonaws.com"
    assert permission["source_arn"] == f"${{{jwt}.arn}}"


@pytest.mark.parametrize("env", ENVS)
def test_sec_2_rotation_lambda_is_private_traced_and_bounded(
    stacks: dict[str, Synthesized], env: str
) -> None:
    synthesized = stacks[env]
    assert CdktfTesting.to_have_resource_with_properties(
        synthesized.text,
        LambdaFunction.TF_RESOURCE_TYPE,
        {
            "function_name": f"groundwork-{env}-jwt-rotation",
            "runtime": "python3.12",
            "handler": "jwt_rotation.lambda_handler",
            "timeout": 120,
            "tracing_config": {"mode": "Active"},
        },
    )
    function = synthesized.one("aws_lambda_function")
    # DEPLOY-4: a fresh account's concurrency quota cannot spare a reservation.
    assert "reserved_concurrent_executions" not in function
    assert "environment" not in function  # nothing to leak, nothing to encrypt
    assert function["vpc_config"]["subnet_ids"] == SUBNETS
    (group,) = synthesized.resources("aws_security_group")
    assert function["vpc_config"]["security_group_ids"] == [f"${{{group}.id}}"]
    (log_group,) = [
        (address, body)
        for address, body in synthesized.resources("aws_cloudwatch_log_group").items()
        if body["name"] == f"/aws/lambda/groundwork-{env}-jwt-rotation"
    ]
    assert function["logging_config"]["log_group"] == f"${{{log_group[0]}.name}}"
    assert log_group[1]["kms_key_id"] == LOG_KEY  # OBS-1
    assert log_group[1]["retention_in_days"] == synthesized.config.logs.retention_days


def test_rotation_security_group_allows_https_out_and_nothing_in(
    stacks: dict[str, Synthesized],
) -> None:
    synthesized = stacks["production"]
    (address, group) = next(iter(synthesized.resources("aws_security_group").items()))
    assert group["vpc_id"] == "vpc-0main"
    assert "ingress" not in group or group["ingress"] == []
    assert not synthesized.resources("aws_vpc_security_group_ingress_rule")
    (egress,) = synthesized.resources("aws_vpc_security_group_egress_rule").values()
    assert egress["security_group_id"] == f"${{{address}.id}}"
    assert (egress["ip_protocol"], egress["from_port"], egress["to_port"]) == ("tcp", 443, 443)


def test_iam_1_rotation_role_touches_only_the_jwt_secret_and_key(
    stacks: dict[str, Synthesized],
) -> None:
    synthesized = stacks["production"]
    jwt, _ = synthesized.secret("JWT_SECRET")
    (policy,) = [
        body
        for body in synthesized.resources("aws_iam_role_policy").values()
        if body["name"] == "rotate-jwt-secret"
    ]
    statements = synthesized.statements(policy["policy"])
    # Exactly ecs:UpdateService on exactly the app's service (names; the account and
    # partition come from data sources).
    (restart,) = [s for s in statements if s["sid"] == "RestartTheAppService"]
    (service_arn,) = restart["resources"]
    assert re.fullmatch(
        r"arn:\$\{data\.aws_partition\.secrets_partition_\w+\.partition\}:ecs:eu-west-1:"
        r"\$\{data\.aws_caller_identity\.secrets_account_\w+\.account_id\}"
        r":service/groundwork-production/groundwork-production",
        service_arn,
    )
    assert statements == [
        {
            "sid": "RotateJwtSecret",
            "actions": [
                "secretsmanager:DescribeSecret",
                "secretsmanager:GetSecretValue",
                "secretsmanager:PutSecretValue",
                "secretsmanager:UpdateSecretVersionStage",
            ],
            "resources": [f"${{{jwt}.arn}}"],
        },
        {
            "sid": "UseKeyThroughSecretsManager",
            "actions": ["kms:Decrypt", "kms:GenerateDataKey"],
            "resources": [KEY],
            "condition": [
                {
                    "test": "StringEquals",
                    "variable": "kms:ViaService",
                    "values": ["secretsmanager.eu-west-1.amazonaws.com"],
                }
            ],
        },
        {
            "sid": "RestartTheAppService",
            "actions": ["ecs:UpdateService"],
            "resources": [service_arn],
        },
        {
            "sid": "WriteTraces",
            "actions": ["xray:PutTelemetryRecords", "xray:PutTraceSegments"],
            "resources": ["*"],
        },
    ]
    # No AWS managed policy (AWSLambdaVPCAccessExecutionRole allows logs and ENI actions on
    # `*`): an inline policy scopes the ENI actions to the account and region and the logs to
    # the function's own group.
    assert not [
        body
        for body in synthesized.resources("aws_iam_role_policy_attachment").values()
        if "AWSLambda" in body["policy_arn"]
    ]
    (vpc_policy,) = [
        body
        for body in synthesized.resources("aws_iam_role_policy").values()
        if body["name"] == "vpc-network-and-logs"
    ]
    statements = {s["Sid"]: s for s in json.loads(vpc_policy["policy"])["Statement"]}
    assert statements["FindTheFunctionNetworkInterfaces"]["Resource"] == "*"
    assert set(statements["FindTheFunctionNetworkInterfaces"]["Action"]) == {
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSubnets",
    }
    assert statements["ManageTheFunctionNetworkInterfaces"]["Resource"].endswith(":*/*")
    assert ":ec2:eu-west-1:" in statements["ManageTheFunctionNetworkInterfaces"]["Resource"]
    logs = statements["WriteTheFunctionLogs"]
    assert logs["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert re.fullmatch(r"\$\{aws_cloudwatch_log_group\.[^}]+\.arn\}:\*", logs["Resource"])
    for document in synthesized.json["data"]["aws_iam_policy_document"].values():
        for statement in document["statement"]:
            assert not any("*" in action for action in statement["actions"])


def test_sec_3_asset_path_is_relative_and_hash_is_the_package_content(
    stacks: dict[str, Synthesized],
) -> None:
    synthesized = stacks["production"]
    function = synthesized.one("aws_lambda_function")
    _, content_hash = secrets_module.function_package(
        secrets_module.ROTATION_SOURCE, "jwt-rotation"
    )
    assert function["source_code_hash"] == content_hash
    assert function["filename"].startswith("assets/")
    assert function["filename"].endswith(f"/{content_hash}/archive.zip")
    assert str(ROOT) not in synthesized.text
    assert ".groundwork" not in synthesized.text  # the staging folder stays private


def test_synthesized_json_is_identical_across_runs(stacks: dict[str, Synthesized]) -> None:
    assert synth("production")[1] == stacks["production"].text


def test_rotation_package_holds_only_python_sources(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A `__pycache__` left by a test run changes neither the package nor its hash."""
    staged, content_hash = secrets_module.function_package(
        secrets_module.ROTATION_SOURCE, "jwt-rotation"
    )
    with zipfile.ZipFile(staged) as archive:
        assert archive.namelist() == ["jwt_rotation.py"]
    source = tmp_path / "rotation"
    (source / "__pycache__").mkdir(parents=True)
    (source / "__pycache__" / "jwt_rotation.cpython-312.pyc").write_bytes(b"\x00stale")
    (source / "jwt_rotation.py").write_bytes(
        (secrets_module.ROTATION_SOURCE / "jwt_rotation.py").read_bytes()
    )
    monkeypatch.setattr(secrets_module, "ROTATION_SOURCE", source)
    assert secrets_module.function_package(secrets_module.ROTATION_SOURCE, "jwt-rotation") == (
        staged,
        content_hash,
    )


def test_the_package_is_the_same_zip_on_every_machine_and_is_rewritten_when_damaged() -> None:
    """The zip Lambda gets holds the handler's source as it is, its bytes depend on nothing
    but the sources (fixed times and modes), and a damaged staged copy is replaced."""
    staged, _ = secrets_module.function_package(secrets_module.ROTATION_SOURCE, "jwt-rotation")
    source = (secrets_module.ROTATION_SOURCE / "jwt_rotation.py").read_bytes()
    with zipfile.ZipFile(staged) as archive:
        (entry,) = archive.infolist()
        assert archive.read(entry) == source
        assert entry.date_time == (1980, 1, 1, 0, 0, 0)
        assert entry.external_attr >> 16 == 0o100644
    assert Path(staged).read_bytes() == secrets_module._zip({"jwt_rotation.py": source})
    Path(staged).write_bytes(b"damaged")
    again, _ = secrets_module.function_package(secrets_module.ROTATION_SOURCE, "jwt-rotation")
    assert again == staged
    assert Path(staged).read_bytes() == secrets_module._zip({"jwt_rotation.py": source})


def test_deploy_4_reserved_concurrency_only_when_the_config_says_the_quota_allows() -> None:
    _, text = synth("staging", reserved_concurrency=5)
    (function,) = json.loads(text)["resource"]["aws_lambda_function"].values()
    assert function["reserved_concurrent_executions"] == 5


@pytest.mark.parametrize("env", ENVS)
def test_deploy_6_jwt_secret_is_handed_over_as_current_previous_and_next(
    stacks: dict[str, Synthesized], env: str
) -> None:
    """The rotated-secret contract: one secret at three staging labels, ECS `valueFrom`
    `<arn>::<stage>:`; the secret's tag names the service its rotation function restarts."""
    synthesized = stacks[env]
    jwt, _ = synthesized.secret("JWT_SECRET")
    for name in ("JWT_SECRET", "JWT_SECRET_PREVIOUS", "JWT_SECRET_NEXT"):
        assert synthesized.output(f"arn-{name}") == f"${{{jwt}.arn}}"
    _, body = synthesized.secret("JWT_SECRET")
    assert body["tags"] == {
        "restarts-ecs-service": f"groundwork-{env}/groundwork-{env}",
        "secret-kind": "generated",  # SEC-5
        "secret-bits": "384",
    }
