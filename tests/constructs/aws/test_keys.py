"""Keys: customer-managed KMS keys with rotation and scoped key policies (SEC-4, DB-2, OBJ-2)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cdktf import TerraformStack
from cdktf import Testing as CdktfTesting
from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs.aws.keys import Keys

from synth.config import EnvironmentConfig, load_environment

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def config() -> EnvironmentConfig:
    return load_environment(ROOT / "environments" / "dev.yaml")


@pytest.fixture(scope="module")
def synthesized(config: EnvironmentConfig) -> str:
    stack = TerraformStack(CdktfTesting.app(), "test")
    AwsProvider(stack, "aws", region=config.aws.region)
    Keys(stack, "keys", config=config)
    return CdktfTesting.synth(stack)


def keys_by_alias(synthesized: str) -> dict[str, dict[str, Any]]:
    stack = json.loads(synthesized)
    keys = stack["resource"]["aws_kms_key"]
    aliases = stack["resource"]["aws_kms_alias"].values()
    return {alias["name"]: keys[alias["target_key_id"].split(".")[1]] for alias in aliases}


def test_both_keys_rotate_and_wait_30_days_sec_4(synthesized: str) -> None:
    for purpose in ("data", "logs"):
        assert CdktfTesting.to_have_resource_with_properties(
            synthesized, KmsAlias.TF_RESOURCE_TYPE, {"name": f"alias/groundwork-dev-{purpose}"}
        )
    keys = keys_by_alias(synthesized)
    assert set(keys) == {"alias/groundwork-dev-data", "alias/groundwork-dev-logs"}
    for key in keys.values():
        assert key["enable_key_rotation"] is True
        assert key["deletion_window_in_days"] == 30
    assert CdktfTesting.to_have_resource_with_properties(
        synthesized, KmsKey.TF_RESOURCE_TYPE, {"enable_key_rotation": True}
    )


def test_key_policies_have_no_wildcard_action_or_principal_iam_1(synthesized: str) -> None:
    for key in keys_by_alias(synthesized).values():
        for statement in json.loads(key["policy"])["Statement"]:
            actions = statement["Action"]
            assert all("*" not in action for action in actions), statement["Sid"]
            assert statement["Principal"] != "*"
            assert "*" not in json.dumps(statement["Principal"])


def test_data_key_is_used_only_through_the_data_services_db_2_obj_2(synthesized: str) -> None:
    policy = json.loads(keys_by_alias(synthesized)["alias/groundwork-dev-data"]["policy"])
    usage = next(
        s for s in policy["Statement"] if "kms:Decrypt" in s["Action"] and "AWS" in s["Principal"]
    )
    services = usage["Condition"]["StringEquals"]["kms:ViaService"]
    assert {s.split(".")[0] for s in services} == {
        "rds",
        "elasticache",
        "s3",
        "secretsmanager",
        "sns",
        "ecr",
    }
    assert all(s.endswith(".eu-west-1.amazonaws.com") for s in services)
    assert "kms:CallerAccount" in usage["Condition"]["StringEquals"]


def test_logs_key_admits_only_regional_cloudwatch_logs_with_context_obs_1(
    synthesized: str,
) -> None:
    policy = json.loads(keys_by_alias(synthesized)["alias/groundwork-dev-logs"]["policy"])
    services = [s for s in policy["Statement"] if "Service" in s["Principal"]]
    assert [s["Principal"]["Service"] for s in services] == ["logs.eu-west-1.amazonaws.com"]
    condition = services[0]["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
    assert condition.startswith("arn:aws:logs:eu-west-1:")
