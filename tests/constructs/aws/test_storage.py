"""Tests the AWS Storage construct (OBJ-1..6, SEC-4, IAM-1) per environment.

Each environment's real config drives a small test stack holding only the storage, with
a primary provider and an aliased provider for the replica region.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

# cdktf's Testing is aliased: pytest would try to collect a class named `Test*`.
from cdktf import TerraformOutput, TerraformStack
from cdktf import Testing as CdktfTesting
from cdktf_cdktf_provider_aws.provider import AwsProvider
from cdktf_cdktf_provider_aws.s3_bucket_policy import S3BucketPolicy
from cdktf_cdktf_provider_aws.s3_bucket_public_access_block import (
    S3BucketPublicAccessBlock,
)
from constructs.aws.storage import Storage

from synth.config import load_environment

ROOT = Path(__file__).resolve().parents[3]
KEY = "arn:aws:kms:eu-west-1:111122223333:key/00000000-0000-0000-0000-000000000001"
LOG_BUCKET = "groundwork-logs-111122223333"
ENVS = ("dev", "staging", "production")


class Synthesized:
    def __init__(self, env: str) -> None:
        self.config = load_environment(ROOT / "environments" / f"{env}.yaml", cloud="aws")
        stack = TerraformStack(CdktfTesting.app(), "test")
        AwsProvider(stack, "aws", region=self.config.aws.region)
        replica = AwsProvider(
            stack, "aws-replica", alias="replica", region=self.config.aws.replica_region
        )
        # Stands in for the edge's log bucket policy: S3 log delivery is admitted by it.
        log_policy = S3BucketPolicy(
            stack,
            "log-bucket-policy",
            bucket=LOG_BUCKET,
            policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "logging.s3.amazonaws.com"},
                            "Action": "s3:PutObject",
                            "Resource": f"arn:aws:s3:::{LOG_BUCKET}/s3/*",
                        }
                    ],
                }
            ),
        )
        self.storage = Storage(
            stack,
            "storage",
            config=self.config,
            kms_key_arn=KEY,
            log_bucket_name=LOG_BUCKET,
            log_bucket_ready=[log_policy],
            replica_provider=replica,
        )
        TerraformOutput(stack, "bucket-name", value=self.storage.bucket_name)
        TerraformOutput(stack, "bucket-arn", value=self.storage.bucket_arn)
        self.text = CdktfTesting.synth(stack)
        self.json = json.loads(self.text)

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        found = self.json.get("resource", {}).get(resource_type, {})
        return {f"{resource_type}.{name}": body for name, body in found.items()}

    def buckets(self) -> dict[str, tuple[str, dict[str, Any]]]:
        """Buckets by role: 'assets' or 'replica', told apart by their names."""
        found = {}
        for address, body in self.resources("aws_s3_bucket").items():
            role = "replica" if "-assets-replica-" in body["bucket"] else "assets"
            found[role] = (address, body)
        return found

    def for_bucket(self, resource_type: str, bucket_address: str) -> dict[str, Any]:
        (body,) = [
            body
            for body in self.resources(resource_type).values()
            if body["bucket"] == f"${{{bucket_address}.id}}"
        ]
        return body

    def statements(self, policy: str) -> list[dict[str, Any]]:
        reference = re.fullmatch(r"\$\{data\.aws_iam_policy_document\.(.+)\.json\}", policy)
        assert reference, policy
        return self.json["data"]["aws_iam_policy_document"][reference[1]]["statement"]


@pytest.fixture(scope="module")
def stacks() -> dict[str, Synthesized]:
    return {env: Synthesized(env) for env in ENVS}


def protected_buckets(synthesized: Synthesized) -> list[tuple[str, dict[str, Any]]]:
    return list(synthesized.buckets().values())


@pytest.mark.parametrize("env", ENVS)
def test_bucket_name_is_deterministic_and_account_scoped(
    stacks: dict[str, Synthesized], env: str
) -> None:
    synthesized = stacks[env]
    address, assets = synthesized.buckets()["assets"]
    assert re.fullmatch(
        rf"groundwork-{env}-assets-\$\{{data\.aws_caller_identity\.[^}}]+\.account_id\}}",
        assets["bucket"],
    )
    assert assets["force_destroy"] is False
    assert synthesized.json["output"]["bucket-name"]["value"] == f"${{{address}.bucket}}"
    assert synthesized.json["output"]["bucket-arn"]["value"] == f"${{{address}.arn}}"


@pytest.mark.parametrize("env", ENVS)
def test_obj_1_every_bucket_blocks_public_access_and_acls(
    stacks: dict[str, Synthesized], env: str
) -> None:
    synthesized = stacks[env]
    assert CdktfTesting.to_have_resource_with_properties(
        synthesized.text,
        S3BucketPublicAccessBlock.TF_RESOURCE_TYPE,
        {
            "block_public_acls": True,
            "block_public_policy": True,
            "ignore_public_acls": True,
            "restrict_public_buckets": True,
        },
    )
    for address, _ in protected_buckets(synthesized):
        block = synthesized.for_bucket("aws_s3_bucket_public_access_block", address)
        assert all(
            block[flag] is True
            for flag in (
                "block_public_acls",
                "block_public_policy",
                "ignore_public_acls",
                "restrict_public_buckets",
            )
        )
        ownership = synthesized.for_bucket("aws_s3_bucket_ownership_controls", address)
        assert ownership["rule"] == {"object_ownership": "BucketOwnerEnforced"}


@pytest.mark.parametrize("env", ENVS)
def test_obj_2_assets_are_encrypted_with_the_environment_key(
    stacks: dict[str, Synthesized], env: str
) -> None:
    synthesized = stacks[env]
    address, _ = synthesized.buckets()["assets"]
    encryption = synthesized.for_bucket(
        "aws_s3_bucket_server_side_encryption_configuration", address
    )
    assert encryption["rule"] == [
        {
            "apply_server_side_encryption_by_default": {
                "sse_algorithm": "aws:kms",
                "kms_master_key_id": KEY,
            },
            "bucket_key_enabled": True,
        }
    ]


@pytest.mark.parametrize("env", ENVS)
def test_obj_3_versioning_and_lifecycle_on_every_bucket(
    stacks: dict[str, Synthesized], env: str
) -> None:
    synthesized = stacks[env]
    for address, _ in protected_buckets(synthesized):
        versioning = synthesized.for_bucket("aws_s3_bucket_versioning", address)
        assert versioning["versioning_configuration"] == {"status": "Enabled"}
        (rule,) = synthesized.for_bucket("aws_s3_bucket_lifecycle_configuration", address)["rule"]
        assert rule["status"] == "Enabled"
        assert rule["filter"] == [{"prefix": ""}]  # every object
        assert rule["noncurrent_version_expiration"] == [{"noncurrent_days": 90}]
        assert rule["abort_incomplete_multipart_upload"] == [{"days_after_initiation": 7}]


@pytest.mark.parametrize("env", ENVS)
def test_obj_5_every_bucket_denies_requests_without_tls(
    stacks: dict[str, Synthesized], env: str
) -> None:
    synthesized = stacks[env]
    for address, _ in protected_buckets(synthesized):
        policy = synthesized.for_bucket("aws_s3_bucket_policy", address)
        (insecure, *_) = synthesized.statements(policy["policy"])
        assert insecure["effect"] == "Deny"
        assert insecure["principals"] == [{"type": "*", "identifiers": ["*"]}]
        assert insecure["actions"] == ["s3:*"]
        assert insecure["resources"] == [f"${{{address}.arn}}", f"${{{address}.arn}}/*"]
        assert insecure["condition"] == [
            {"test": "Bool", "variable": "aws:SecureTransport", "values": ["false"]}
        ]


@pytest.mark.parametrize("env", ENVS)
def test_obj_6_access_logs_go_to_the_log_bucket_under_the_bucket_name(
    stacks: dict[str, Synthesized], env: str
) -> None:
    synthesized = stacks[env]
    address, _ = synthesized.buckets()["assets"]
    logging = synthesized.for_bucket("aws_s3_bucket_logging", address)
    assert logging["target_bucket"] == LOG_BUCKET
    assert logging["target_prefix"] == f"s3/${{{address}.bucket}}/"
    # DEPLOY-2: S3 delivers only once the log bucket's policy admits logging.s3.amazonaws.com.
    (policy,) = synthesized.resources("aws_s3_bucket_policy").keys() - {
        a for a, b in synthesized.resources("aws_s3_bucket_policy").items() if "${" in b["bucket"]
    }
    assert logging["depends_on"] == [policy]


@pytest.mark.parametrize("env", ["dev", "staging"])
def test_obj_4_only_production_replicates(stacks: dict[str, Synthesized], env: str) -> None:
    synthesized = stacks[env]
    assert set(synthesized.buckets()) == {"assets"}
    assert not synthesized.resources("aws_s3_bucket_replication_configuration")
    assert not synthesized.resources("aws_kms_key")
    assert synthesized.storage.replica_bucket_arn is None


def test_obj_4_sec_4_production_replicates_to_a_protected_bucket_in_the_replica_region(
    stacks: dict[str, Synthesized],
) -> None:
    production = stacks["production"]
    assets_address, _ = production.buckets()["assets"]
    replica_address, replica = production.buckets()["replica"]
    assert production.config.aws.replica_region != production.config.aws.region
    assert re.fullmatch(
        r"groundwork-production-assets-replica-\$\{data\.aws_caller_identity\.[^}]+\.account_id\}",
        replica["bucket"],
    )
    (key_address, key) = next(iter(production.resources("aws_kms_key").items()))
    assert key["enable_key_rotation"] is True  # SEC-4
    # The key, the replica bucket and all of its protections live in the replica region.
    assert key["provider"] == "aws.replica"
    assert replica["provider"] == "aws.replica"
    for resource_type in (
        "aws_s3_bucket_public_access_block",
        "aws_s3_bucket_ownership_controls",
        "aws_s3_bucket_server_side_encryption_configuration",
        "aws_s3_bucket_versioning",
        "aws_s3_bucket_lifecycle_configuration",
        "aws_s3_bucket_policy",
    ):
        assert production.for_bucket(resource_type, replica_address)["provider"] == "aws.replica"
        assert "provider" not in production.for_bucket(resource_type, assets_address)
    encryption = production.for_bucket(
        "aws_s3_bucket_server_side_encryption_configuration", replica_address
    )
    assert encryption["rule"][0]["apply_server_side_encryption_by_default"] == {
        "sse_algorithm": "aws:kms",
        "kms_master_key_id": f"${{{key_address}.arn}}",
    }

    (replication,) = production.resources("aws_s3_bucket_replication_configuration").values()
    assert replication["bucket"] == f"${{{assets_address}.id}}"
    (rule,) = replication["rule"]
    assert rule["status"] == "Enabled"
    assert rule["source_selection_criteria"] == {"sse_kms_encrypted_objects": {"status": "Enabled"}}
    assert rule["destination"]["bucket"] == f"${{{replica_address}.arn}}"
    assert rule["destination"]["encryption_configuration"] == {
        "replica_kms_key_id": f"${{{key_address}.arn}}"
    }
    versioning = {
        address
        for address, body in production.resources("aws_s3_bucket_versioning").items()
        if body["bucket"] in (f"${{{assets_address}.id}}", f"${{{replica_address}.id}}")
    }
    assert versioning <= set(replication["depends_on"])
    assert len(versioning) == 2


def test_iam_1_replication_role_is_limited_to_the_two_buckets_and_keys(
    stacks: dict[str, Synthesized],
) -> None:
    production = stacks["production"]
    assets, _ = production.buckets()["assets"]
    replica, _ = production.buckets()["replica"]
    (key_address,) = production.resources("aws_kms_key")
    (replication,) = production.resources("aws_s3_bucket_replication_configuration").values()
    (role_address, _) = next(iter(production.resources("aws_iam_role").items()))
    assert replication["role"] == f"${{{role_address}.arn}}"
    (policy,) = production.resources("aws_iam_role_policy").values()
    statements = {s["sid"]: s for s in production.statements(policy["policy"])}
    assert statements["ReadReplicationConfiguration"]["resources"] == [f"${{{assets}.arn}}"]
    assert statements["ReadSourceVersions"]["resources"] == [f"${{{assets}.arn}}/*"]
    assert statements["WriteReplicas"]["resources"] == [f"${{{replica}.arn}}/*"]
    assert statements["DecryptSourceObjects"]["resources"] == [KEY]
    assert statements["EncryptReplicas"]["resources"] == [f"${{{key_address}.arn}}"]
    regions = {
        sid: next(c for c in statements[sid]["condition"] if c["variable"] == "kms:ViaService")
        for sid in ("DecryptSourceObjects", "EncryptReplicas")
    }
    assert regions["DecryptSourceObjects"]["values"] == ["s3.eu-west-1.amazonaws.com"]
    assert regions["EncryptReplicas"]["values"] == ["s3.eu-central-1.amazonaws.com"]
    for statement in statements.values():
        assert statement.get("effect", "Allow") == "Allow"
        assert not any("*" in action for action in statement["actions"])
