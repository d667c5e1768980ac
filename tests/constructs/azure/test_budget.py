"""Budget: monthly amount per environment, 80 % forecast and 100 % actual notices (COST-1)."""

from __future__ import annotations

import pytest
from matrix import resources_of, shipped_stack


@pytest.mark.parametrize(("env", "amount"), [("dev", 50), ("production", 600)])
def test_budget_notifies_at_80_forecast_and_100_actual_cost_1(env: str, amount: int) -> None:
    shipped = shipped_stack("azure", env)
    config, stack = shipped.config, shipped.document()
    (budget,) = resources_of(stack, "azurerm_consumption_budget_subscription")
    assert budget["amount"] == amount == config.budget.monthly_usd
    assert budget["time_grain"] == "Monthly"
    notices = {(n["threshold"], n["threshold_type"]) for n in budget["notification"]}
    assert notices == {(80, "Forecasted"), (100, "Actual")}
    for notice in budget["notification"]:
        assert notice["contact_emails"] == [config.alert_email]


def test_budget_covers_the_environment_and_container_apps_groups_cost_1() -> None:
    shipped = shipped_stack("azure", "production")
    config, stack = shipped.config, shipped.document()
    (budget,) = resources_of(stack, "azurerm_consumption_budget_subscription")
    assert budget["subscription_id"] == f"/subscriptions/{config.azure.subscription_id}"
    (dimension,) = budget["filter"]["dimension"]
    assert dimension == {
        "name": "ResourceGroupName",
        "operator": "In",
        "values": ["rg-groundwork-production", "rg-groundwork-production-cae"],
    }
