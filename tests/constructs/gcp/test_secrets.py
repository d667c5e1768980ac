"""Secrets: CMEK Secret Manager secrets by kind, a real rotator, and no secret value in the JSON."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from cdktf import TerraformStack
from cdktf import Testing as CdktfTesting
from cdktf_cdktf_provider_google.provider import GoogleProvider
from conftest import resources_of
from constructs.gcp.database import Database
from constructs.gcp.keys import Keys
from constructs.gcp.network import Network
from constructs.gcp.rotation import Rotation
from constructs.gcp.secrets import Secrets

from synth.config import load_environment

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def stack() -> dict[str, Any]:
    config = load_environment(ROOT / "environments" / "production.yaml", cloud="gcp")
    stack = TerraformStack(CdktfTesting.app(), "test")
    GoogleProvider(stack, "google", project=config.gcp.project, region=config.gcp.region)
    keys = Keys(stack, "keys", config=config)
    network = Network(stack, "network", config=config, agents=keys.agents)
    database = Database(stack, "database", config=config, keys=keys, network=network)
    secrets = Secrets(stack, "secrets", config=config, keys=keys, database=database)
    Rotation(stack, "rotation", config=config, secrets=secrets)
    return json.loads(CdktfTesting.synth(stack))


def test_the_secrets_exist_by_kind_encrypted_after_their_key_grant_sec_1_sec_5_deploy_2(
    stack: dict[str, Any],
) -> None:
    secrets = {s["secret_id"]: s for s in resources_of(stack, "google_secret_manager_secret")}
    assert {i: s["labels"]["secret-kind"] for i, s in secrets.items()} == {
        "groundwork-production-jwt-secret": "generated",
        "groundwork-production-jwt-secret-previous": "generated",
        "groundwork-production-jwt-secret-next": "generated",
        "groundwork-production-database-url": "derived",
        "groundwork-production-database-password": "external",
    }
    for secret in secrets.values():
        [replica] = secret["replication"]["user_managed"]["replicas"]
        assert replica["location"] == "europe-west1"
        key = replica["customer_managed_encryption"]["kms_key_name"]
        assert "google_kms_crypto_key.keys_secrets" in key
        # DEPLOY-2: after the agent's grant, propagated (constructs/gcp/propagation.py).
        [sleep] = [d for d in secret["depends_on"] if d.startswith("time_sleep.")]
        triggers = stack["resource"]["time_sleep"][sleep.split(".", 1)[1]]["triggers"]
        assert "google_kms_crypto_key_iam_member.keys_secrets-agent" in str(triggers)
        assert "rotation" not in secret and "topics" not in secret  # no notice nobody reads


def test_the_generated_secret_is_rotated_by_a_scheduled_job_sec_2(stack: dict[str, Any]) -> None:
    [job] = resources_of(stack, "google_cloud_run_v2_job")
    assert job["name"] == "groundwork-production-rotate"
    [container] = job["template"]["template"]["containers"]
    assert container["image"] == "gcr.io/google.com/cloudsdktool/google-cloud-cli:573.0.0-slim"
    script = container["command"][-1]
    assert "head -c 48 /dev/urandom" in script
    assert "versions add '${google_secret_manager_secret.secrets_jwt_secret_" in script
    grants = {
        (r["role"], r["secret_id"].split(".")[1].rsplit("_", 1)[0])
        for r in resources_of(stack, "google_secret_manager_secret_iam_member")
        if "rotation_identity" in r["member"]
    }
    slots = ("secrets_jwt_secret", "secrets_jwt_secret_previous", "secrets_jwt_secret_next")
    assert grants == {
        *(("roles/secretmanager.secretVersionAdder", s) for s in slots),
        *(("roles/secretmanager.viewer", s) for s in slots),
        # it reads only the values it shifts: current and next
        ("roles/secretmanager.secretAccessor", "secrets_jwt_secret"),
        ("roles/secretmanager.secretAccessor", "secrets_jwt_secret_next"),
    }
    [schedule] = resources_of(stack, "google_cloud_scheduler_job")
    assert schedule["schedule"] == "0 3 1 * *"  # monthly: within rotation_days (90)
    assert "google_cloud_run_v2_job.rotation_job_" in schedule["http_target"]["uri"]
    assert schedule["http_target"]["uri"].endswith(":run")


def test_the_rotator_shifts_current_previous_next_then_rolls_the_service_deploy_6(
    stack: dict[str, Any],
) -> None:
    secrets = {
        s["secret_id"]: s["labels"]
        for s in resources_of(stack, "google_secret_manager_secret")
        if s["labels"]["secret-kind"] == "generated"
    }
    assert {i: (lb["rotation-slot"], lb["rotates"]) for i, lb in secrets.items()} == {
        "groundwork-production-jwt-secret": ("current", "jwt-secret"),
        "groundwork-production-jwt-secret-previous": ("previous", "jwt-secret"),
        "groundwork-production-jwt-secret-next": ("next", "jwt-secret"),
    }
    [job] = resources_of(stack, "google_cloud_run_v2_job")
    script = job["template"]["template"]["containers"][0]["command"][-1]
    ref = r"'\$\{google_secret_manager_secret\.secrets_jwt_secret%s_[0-9A-F]{8}\.secret_id\}'"
    current, previous, following = (ref % s for s in ("", "_previous", "_next"))
    shift = script.index("then", script.index('if [ "$seeded" = 0 ]'))

    def at(pattern: str, start: int) -> int:
        found = re.compile(pattern).search(script, start)
        assert found, pattern
        return found.start()

    # Both values are read once, before any write (F8: safe to repeat).
    read_current = at(f"c=.*--secret={current}", shift)
    read_next = at(f"x=.*--secret={following}", shift)
    half_done = script.index('if [ "$c" = "$x" ]; then', shift)
    full = script.index("else ", half_done)
    end = script.index("; fi", full)
    assert read_current < read_next < half_done
    # A run that stopped after current <- next only finishes: next <- fresh, nothing else.
    finish = script[half_done:full]
    assert re.search(f"versions add {following}", finish)
    assert not re.search(f"versions add ({current}|{previous})", finish)
    # Otherwise previous <- current, current <- next, next <- fresh, from the values read.
    to_previous = at(f'v="\\$c"; until .*versions add {previous}', full)
    to_current = at(f'v="\\$x"; until .*versions add {current}', full)
    to_next = at(f"versions add {following}", to_current)
    restart = script.index("gcloud run services update groundwork-production ", end)
    assert full < to_previous < to_current < to_next < end < restart
    assert job["template"]["template"]["max_retries"] == 0
    assert "--update-labels=secrets-rotated=" in script[restart:]


def test_the_first_apply_runs_the_rotator_once_deploy_5(stack: dict[str, Any]) -> None:
    [step] = [
        s
        for s in resources_of(stack, "terraform_data")
        if s["input"]["gcloud"][:3] == ["run", "jobs", "execute"]
    ]
    assert "--wait" in step["input"]["gcloud"]
    assert any(d.startswith("google_cloud_run_v2_job.rotation_job_") for d in step["depends_on"])


def test_only_derived_secrets_have_versions_and_the_url_has_no_credential_sec_3_db_9(
    stack: dict[str, Any],
) -> None:
    [version] = resources_of(stack, "google_secret_manager_secret_version")
    assert "database_url" in version["secret"]
    assert "secret_data" not in version  # SEC-3: write-only, not kept in the state
    url = version["secret_data_wo"]
    # DEPLOY-6: the Auth Proxy sidecar on localhost; no private IP, no password.
    assert url.startswith(
        "postgresql://groundwork-production-app%40groundwork-production.iam@127.0.0.1:5432/${"
    )
    assert url.count(":") == 2  # scheme and port only: no user:password pair


def test_the_version_number_hashes_the_url_without_a_template_in_a_function(
    stack: dict[str, Any],
) -> None:
    """`secret_data_wo_version` is sha256 of the same string as `secret_data_wo`, its text and
    its reference joined: a `"text${reference}"` template inside a function makes cdktf warn
    that the output may be incorrect (once per derived secret, on every synthesis)."""
    [version] = resources_of(stack, "google_secret_manager_secret_version")
    text, reference = re.fullmatch(r"(.*)\$\{(.*)\}", version["secret_data_wo"]).groups()
    assert version["secret_data_wo_version"] == (
        f'${{parseint(substr(sha256(join("", ["{text}", {reference}])), 0, 12), 16)}}'
    )
