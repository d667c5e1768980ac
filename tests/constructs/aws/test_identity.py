"""Identity: optional Cognito user pool, 12+ character passwords, MFA available (AUTH-1)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cdktf import TerraformStack
from cdktf import Testing as CdktfTesting
from cdktf_cdktf_provider_aws.cognito_user_pool import CognitoUserPool
from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs.aws.identity import Identity
from matrix import resources_of

from synth.config import load_environment

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def synthesized() -> str:
    config = load_environment(ROOT / "environments" / "dev.yaml")
    stack = TerraformStack(CdktfTesting.app(), "test")
    AwsProvider(stack, "aws", region=config.aws.region)
    Identity(stack, "identity", config=config)
    return CdktfTesting.synth(stack)


def test_password_policy_needs_12_characters_of_every_class_auth_1(synthesized: str) -> None:
    assert CdktfTesting.to_have_resource_with_properties(
        synthesized,
        CognitoUserPool.TF_RESOURCE_TYPE,
        {
            "name": "groundwork-dev-users",
            "password_policy": {
                "minimum_length": 12,
                "require_lowercase": True,
                "require_uppercase": True,
                "require_numbers": True,
                "require_symbols": True,
            },
        },
    )


def test_mfa_is_available_and_risky_sign_ins_are_blocked_auth_1(synthesized: str) -> None:
    assert CdktfTesting.to_have_resource_with_properties(
        synthesized,
        CognitoUserPool.TF_RESOURCE_TYPE,
        {
            "mfa_configuration": "OPTIONAL",
            "software_token_mfa_configuration": {"enabled": True},
            "user_pool_add_ons": {"advanced_security_mode": "ENFORCED"},
            "deletion_protection": "ACTIVE",
        },
    )


def test_user_pool_exists_only_where_auth_is_enabled_auth_1(
    matrix: dict[tuple[str, str], Any],
) -> None:
    # The shipped environments leave the optional component off.
    for env in ("dev", "staging", "production"):
        assert resources_of(matrix["aws", env], "aws_cognito_user_pool") == []


def test_the_stack_adds_the_user_pool_when_the_config_enables_it_auth_1() -> None:
    from stacks.aws import AwsStack

    config = load_environment(ROOT / "environments" / "dev.yaml")
    config = config.model_copy(
        update={"features": config.features.model_copy(update={"auth_enabled": True})}
    )
    stack = AwsStack(CdktfTesting.app(), config)
    assert CdktfTesting.to_have_resource(
        CdktfTesting.synth(stack), CognitoUserPool.TF_RESOURCE_TYPE
    )
