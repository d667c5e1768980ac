"""Registry: private ECR repository, scan on push, immutable tags, KMS, lifecycle (APP-6)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cdktf import TerraformStack
from cdktf import Testing as CdktfTesting
from cdktf_cdktf_provider_aws.ecr_repository import EcrRepository
from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs.aws.registry import Registry
from matrix import resources_of

from synth.config import load_environment

ROOT = Path(__file__).resolve().parents[3]
DATA_KEY = "arn:aws:kms:eu-west-1:111122223333:key/data"


@pytest.fixture(scope="module")
def synthesized() -> str:
    config = load_environment(ROOT / "environments" / "dev.yaml")
    stack = TerraformStack(CdktfTesting.app(), "test")
    AwsProvider(stack, "aws", region=config.aws.region)
    Registry(stack, "registry", config=config, kms_key_arn=DATA_KEY)
    return CdktfTesting.synth(stack)


def test_repository_scans_on_push_with_immutable_tags_and_kms_app_6(synthesized: str) -> None:
    assert CdktfTesting.to_have_resource_with_properties(
        synthesized,
        EcrRepository.TF_RESOURCE_TYPE,
        {
            "name": "groundwork-dev",
            "image_tag_mutability": "IMMUTABLE",
            "image_scanning_configuration": {"scan_on_push": True},
            "encryption_configuration": [{"encryption_type": "KMS", "kms_key": DATA_KEY}],
            "force_delete": False,
        },
    )


def test_lifecycle_expires_untagged_images_and_never_a_release_app_6_deploy_6(
    synthesized: str,
) -> None:
    """No `tagStatus: any` count rule: 30 newer pushes would expire the running release."""
    [lifecycle] = resources_of(json.loads(synthesized), "aws_ecr_lifecycle_policy")
    rules = json.loads(lifecycle["policy"])["rules"]
    assert rules == [
        {
            "rulePriority": 1,
            "description": "Expire untagged images after 7 days",
            "selection": {
                "tagStatus": "untagged",
                "countType": "sinceImagePushed",
                "countUnit": "days",
                "countNumber": 7,
            },
            "action": {"type": "expire"},
        }
    ]


def test_disposable_tags_expire_one_pattern_per_rule_deploy_6() -> None:
    """ECR selects an image only if it matches every pattern of a rule's tagPatternList, so
    each configured pattern is a rule of its own."""
    config = load_environment(ROOT / "environments" / "dev.yaml", cloud="aws")
    aws = config.aws.model_copy(
        update={"disposable_image_tags": ["pr-*", "ci-*-build"], "disposable_image_days": 10}
    )
    config = config.model_copy(update={"aws": aws})
    stack = TerraformStack(CdktfTesting.app(), "test")
    AwsProvider(stack, "aws", region=config.aws.region)
    Registry(stack, "registry", config=config, kms_key_arn=DATA_KEY)
    [lifecycle] = resources_of(json.loads(CdktfTesting.synth(stack)), "aws_ecr_lifecycle_policy")
    rules = json.loads(lifecycle["policy"])["rules"]
    assert [(r["rulePriority"], r["selection"]["tagStatus"]) for r in rules] == [
        (1, "untagged"),
        (2, "tagged"),
        (3, "tagged"),
    ]
    assert [r["selection"]["tagPatternList"] for r in rules[1:]] == [["pr-*"], ["ci-*-build"]]
    assert {r["selection"]["countNumber"] for r in rules[1:]} == {10}
