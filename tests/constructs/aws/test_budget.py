"""Budget: a monthly cost budget per environment, 80 % forecast and 100 % actual (COST-1)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cdktf import TerraformStack
from cdktf import Testing as CdktfTesting
from matrix import resources_of

from synth.config import load_environment
from synth.providers import load_provider

load_provider("aws")  # before any binding import: the full package import takes ~30 s

from cdktf_cdktf_provider_aws.budgets_budget import BudgetsBudget  # noqa: E402
from cdktf_cdktf_provider_aws.provider import AwsProvider  # noqa: E402
from constructs.aws.budget import Budget  # noqa: E402

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def synthesized() -> str:
    config = load_environment(ROOT / "environments" / "dev.yaml")
    stack = TerraformStack(CdktfTesting.app(), "test")
    AwsProvider(stack, "aws", region=config.aws.region)
    Budget(stack, "budget", config=config)
    return CdktfTesting.synth(stack)


def test_monthly_cost_budget_notifies_at_80_forecast_and_100_actual_cost_1(
    synthesized: str,
) -> None:
    assert CdktfTesting.to_have_resource_with_properties(
        synthesized,
        BudgetsBudget.TF_RESOURCE_TYPE,
        {"budget_type": "COST", "time_unit": "MONTHLY", "limit_amount": "50", "limit_unit": "USD"},
    )
    [budget] = resources_of(json.loads(synthesized), "aws_budgets_budget")
    notifications = {
        (n["threshold"], n["notification_type"], n["threshold_type"]): n[
            "subscriber_email_addresses"
        ]
        for n in budget["notification"]
    }
    assert notifications == {
        (80, "FORECASTED", "PERCENTAGE"): ["alerts-dev@example.com"],
        (100, "ACTUAL", "PERCENTAGE"): ["alerts-dev@example.com"],
    }
    assert budget["cost_filter"] == [{"name": "TagKeyValue", "values": ["user:environment$dev"]}]


@pytest.mark.parametrize(
    ("env", "amount"), [("dev", "50"), ("staging", "100"), ("production", "600")]
)
def test_budget_amount_follows_the_environment_cost_1(
    matrix: dict[tuple[str, str], Any], env: str, amount: str
) -> None:
    [budget] = resources_of(matrix["aws", env], "aws_budgets_budget")
    assert budget["limit_amount"] == amount
