"""Budget and identity: a monthly budget per environment (COST-1); Identity Platform (AUTH-1)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cdktf import TerraformStack
from cdktf import Testing as CdktfTesting
from cdktf_cdktf_provider_google.provider import GoogleProvider
from conftest import resources_of
from constructs.gcp.identity import Identity

from synth.config import load_environment

ROOT = Path(__file__).resolve().parents[3]


def test_monthly_budget_at_80_forecast_and_100_actual_cost_1(
    matrix: dict[tuple[str, str], Any],
) -> None:
    for env, usd, account in (
        ("dev", "50", "000000-000000-000001"),
        ("staging", "100", "000000-000000-000002"),
        ("production", "600", "000000-000000-000003"),
    ):
        [budget] = resources_of(matrix["gcp", env], "google_billing_budget")
        assert budget["billing_account"] == account
        assert budget["amount"]["specified_amount"] == {"currency_code": "USD", "units": usd}
        rules = [(r["threshold_percent"], r["spend_basis"]) for r in budget["threshold_rules"]]
        assert rules == [(0.8, "FORECASTED_SPEND"), (1, "CURRENT_SPEND")]
        assert budget["all_updates_rule"]["monitoring_notification_channels"]


def test_identity_is_off_by_default_auth_1(matrix: dict[tuple[str, str], Any]) -> None:
    for env in ("dev", "staging", "production"):
        assert not resources_of(matrix["gcp", env], "google_identity_platform_config")


def test_identity_platform_has_mfa_and_password_sign_in_when_enabled_auth_1() -> None:
    config = load_environment(ROOT / "environments" / "dev.yaml", cloud="gcp")
    config = config.model_copy(
        update={"features": config.features.model_copy(update={"auth_enabled": True})}
    )
    stack = TerraformStack(CdktfTesting.app(), "test")
    GoogleProvider(stack, "google", project=config.gcp.project, region=config.gcp.region)
    Identity(stack, "identity", config=config)
    document = json.loads(CdktfTesting.synth(stack))
    [identity] = resources_of(document, "google_identity_platform_config")
    assert identity["mfa"]["state"] == "ENABLED"
    assert identity["sign_in"]["email"] == {"enabled": True, "password_required": True}
    # The provider has no password policy: a step after the config enforces 12+ characters.
    [step] = resources_of(document, "terraform_data")
    policy = step["input"]["password_policy"]["passwordPolicyConfig"]
    assert policy["passwordPolicyEnforcementState"] == "ENFORCE"
    assert policy["passwordPolicyVersions"] == [
        {"customStrengthOptions": {"minPasswordLength": 12}}
    ]
    assert step["depends_on"] == [
        f"google_identity_platform_config.{next(iter(document['resource']['google_identity_platform_config']))}"
    ]
    command = step["provisioner"][0]["local-exec"]["command"]
    assert "--fail-with-body -X PATCH" in command
    assert (
        "https://identitytoolkit.googleapis.com/admin/v2/projects/groundwork-dev/config"
        "?updateMask=passwordPolicyConfig"
    ) in command
