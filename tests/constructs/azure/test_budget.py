"""Budget: monthly amount per environment, 80 % forecast and 100 % actual notices (COST-1)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cdktf import Testing as CdktfTesting
from matrix import resources_of

from stacks import stack_class
from synth.config import load_environment

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(("env", "amount"), [("dev", 50), ("production", 600)])
def test_budget_notifies_at_80_forecast_and_100_actual_cost_1(env: str, amount: int) -> None:
    config = load_environment(ROOT / "environments" / f"{env}.yaml", cloud="azure")
    stack = json.loads(CdktfTesting.synth(stack_class("azure")(CdktfTesting.app(), config)))
    (budget,) = resources_of(stack, "azurerm_consumption_budget_subscription")
    assert budget["amount"] == amount == config.budget.monthly_usd
    assert budget["time_grain"] == "Monthly"
    notices = {(n["threshold"], n["threshold_type"]) for n in budget["notification"]}
    assert notices == {(80, "Forecasted"), (100, "Actual")}
    for notice in budget["notification"]:
        assert notice["contact_emails"] == [config.alert_email]


def test_budget_covers_the_environment_and_container_apps_groups_cost_1() -> None:
    config = load_environment(ROOT / "environments" / "production.yaml", cloud="azure")
    stack = json.loads(CdktfTesting.synth(stack_class("azure")(CdktfTesting.app(), config)))
    (budget,) = resources_of(stack, "azurerm_consumption_budget_subscription")
    assert budget["subscription_id"] == f"/subscriptions/{config.azure.subscription_id}"
    (dimension,) = budget["filter"]["dimension"]
    assert dimension == {
        "name": "ResourceGroupName",
        "operator": "In",
        "values": ["rg-groundwork-production", "rg-groundwork-production-cae"],
    }
