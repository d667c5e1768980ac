"""Secrets: CMEK Secret Manager secrets with rotation, and no secret value in the JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cdktf import TerraformStack
from cdktf import Testing as CdktfTesting
from conftest import resources_of

from synth.config import load_environment
from synth.providers import load_provider

load_provider("gcp")

from cdktf_cdktf_provider_google.provider import GoogleProvider  # noqa: E402
from constructs.gcp.database import Database  # noqa: E402
from constructs.gcp.keys import Keys  # noqa: E402
from constructs.gcp.network import Network  # noqa: E402
from constructs.gcp.secrets import Secrets  # noqa: E402

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def stack() -> dict[str, Any]:
    config = load_environment(ROOT / "environments" / "production.yaml", cloud="gcp")
    stack = TerraformStack(CdktfTesting.app(), "test")
    GoogleProvider(stack, "google", project=config.gcp.project, region=config.gcp.region)
    keys = Keys(stack, "keys", config=config)
    network = Network(stack, "network", config=config)
    database = Database(stack, "database", config=config, keys=keys, network=network)
    Secrets(stack, "secrets", config=config, keys=keys, database=database)
    return json.loads(CdktfTesting.synth(stack))


def test_the_three_secrets_exist_encrypted_with_the_secrets_key_sec_1(
    stack: dict[str, Any],
) -> None:
    secrets = {s["secret_id"]: s for s in resources_of(stack, "google_secret_manager_secret")}
    assert set(secrets) == {
        "groundwork-production-jwt-secret",
        "groundwork-production-database-url",
        "groundwork-production-database-password",
    }
    for secret in secrets.values():
        [replica] = secret["replication"]["user_managed"]["replicas"]
        assert replica["location"] == "europe-west1"
        key = replica["customer_managed_encryption"]["kms_key_name"]
        assert "google_kms_crypto_key.keys_secrets" in key


def test_every_secret_rotates_within_90_days_and_notifies_a_topic_sec_2(
    stack: dict[str, Any],
) -> None:
    for secret in resources_of(stack, "google_secret_manager_secret"):
        assert int(secret["rotation"]["rotation_period"].removesuffix("s")) <= 90 * 86400
        assert "google_pubsub_topic" in secret["topics"][0]["name"]
        assert secret["lifecycle"]["ignore_changes"] == ["rotation[0].next_rotation_time"]
    [topic] = resources_of(stack, "google_pubsub_topic")
    assert "google_kms_crypto_key.keys_pubsub" in topic["kms_key_name"]
    [publisher] = resources_of(stack, "google_pubsub_topic_iam_member")
    assert publisher["role"] == "roles/pubsub.publisher"
    assert "gcp-sa-secretmanager" in publisher["member"]


def test_only_database_url_has_a_version_and_it_has_no_credential_sec_3_db_9(
    stack: dict[str, Any],
) -> None:
    [version] = resources_of(stack, "google_secret_manager_secret_version")
    assert "database_url" in version["secret"]
    url = version["secret_data"]
    assert url.startswith("postgresql://groundwork-production-app%40groundwork-production.iam@${")
    assert url.count(":") == 2  # scheme and port only: no user:password pair
