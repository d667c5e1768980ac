"""Keys: Cloud KMS keys rotating within 90 days, each usable only by its service agent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cdktf import TerraformStack
from cdktf import Testing as CdktfTesting
from cdktf_cdktf_provider_google.kms_crypto_key import KmsCryptoKey
from cdktf_cdktf_provider_google.provider import GoogleProvider
from constructs.gcp.keys import AGENT_PURPOSES, AGENTS, Keys, kms_location, multi_region
from matrix import resources_of

from synth.config import load_environment

ROOT = Path(__file__).resolve().parents[3]


def synth(env: str) -> dict[str, Any]:
    config = load_environment(ROOT / "environments" / f"{env}.yaml", cloud="gcp")
    stack = TerraformStack(CdktfTesting.app(), "test")
    GoogleProvider(stack, "google", project=config.gcp.project, region=config.gcp.region)
    Keys(stack, "keys", config=config)
    return json.loads(CdktfTesting.synth(stack))


@pytest.fixture(scope="module")
def dev() -> dict[str, Any]:
    return synth("dev")


@pytest.fixture(scope="module")
def production() -> dict[str, Any]:
    return synth("production")


def test_every_key_rotates_within_90_days_sec_4(dev: dict[str, Any]) -> None:
    keys = resources_of(dev, KmsCryptoKey.TF_RESOURCE_TYPE)
    assert sorted(k["name"] for k in keys) == sorted(AGENTS)
    for key in keys:
        assert int(key["rotation_period"].removesuffix("s")) <= 90 * 86400
        assert key["purpose"] == "ENCRYPT_DECRYPT"


def test_keys_are_protected_from_destroy_as_the_database_is_db_7(
    dev: dict[str, Any], production: dict[str, Any]
) -> None:
    # dev has no deletion protection and is torn down with `terraform destroy` (README).
    for key in resources_of(dev, KmsCryptoKey.TF_RESOURCE_TYPE):
        assert key["lifecycle"]["prevent_destroy"] is False
    for key in resources_of(production, KmsCryptoKey.TF_RESOURCE_TYPE):
        assert key["lifecycle"]["prevent_destroy"] is True


def test_each_key_is_granted_only_to_its_own_service_agent_iam_1_db_2_obj_2(
    dev: dict[str, Any],
) -> None:
    grants = resources_of(dev, "google_kms_crypto_key_iam_member")
    assert len(grants) == len(AGENTS)
    keys = dev["resource"]["google_kms_crypto_key"]
    for grant in grants:
        assert grant["role"] == "roles/cloudkms.cryptoKeyEncrypterDecrypter"
        key_name = keys[grant["crypto_key_id"].split(".")[1]]["name"]
        if key_name == "storage":  # the GA data source that creates the agent names it
            assert "data.google_storage_project_service_account." in grant["member"]
            assert any("google_storage_project_service_account" in d for d in grant["depends_on"])
            continue
        assert grant["member"].endswith("@" + AGENTS[key_name][1])
        assert grant["member"].startswith("serviceAccount:service-${")
        # DEPLOY-2: the grant waits for the step that creates its agent.
        [step] = grant["depends_on"]
        assert step.startswith("terraform_data.keys_agents_")
        created = dev["resource"]["terraform_data"][step.split(".")[1]]["input"]["gcloud"]
        assert created == [
            "beta",
            "services",
            "identity",
            "create",
            f"--service={AGENTS[key_name][0]}",
        ]


def test_each_agent_is_created_by_a_gcloud_identity_step_deploy_2(dev: dict[str, Any]) -> None:
    steps = resources_of(dev, "terraform_data")
    services = sorted(s["input"]["gcloud"][-1] for s in steps)
    assert services == sorted(
        f"--service={api}" for p, (api, _) in AGENT_PURPOSES.items() if p != "storage"
    )
    for step in steps:
        command = step["provisioner"][0]["local-exec"]["command"]
        assert command.startswith("gcloud beta services identity create --service=")
        assert "--project=groundwork-dev" in command


def test_rings_are_regional_and_production_storage_key_is_in_the_multi_region_obj_4(
    dev: dict[str, Any], production: dict[str, Any]
) -> None:
    assert [r["location"] for r in resources_of(dev, "google_kms_key_ring")] == ["europe-west1"]
    rings = {r["location"] for r in resources_of(production, "google_kms_key_ring")}
    # DEPLOY-4: Cloud KMS calls the multi-region holding an EU bucket `europe`, not `eu`.
    assert rings == {"europe-west1", "europe"}
    [storage] = [
        k for k in resources_of(production, "google_kms_crypto_key") if k["name"] == "storage"
    ]
    assert "ring-multi-region" in storage["key_ring"]


def test_multi_region_needs_both_regions_on_one_continent() -> None:
    assert multi_region("us-east1", "us-west1") == "US"
    assert kms_location(multi_region("europe-west1", "europe-west4")) == "europe"
    assert kms_location("EUROPE-WEST1") == "europe-west1"
    with pytest.raises(ValueError, match="multi-region"):
        multi_region("europe-west1", "us-east1")
