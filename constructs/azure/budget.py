"""Builds the monthly cost budget of the environment's resource group.

Satisfies: COST-1

`config.budget.monthly_usd` per month for `rg-<prefix>` (everything of the environment
lives there), notifying `config.alert_email` and the alert action group at 80 % of the
forecast and at 100 % of the actual spend. Budgets are in the billing currency, USD for
the subscriptions this targets. Azure wants the first day of a month as start date: it
is the month of the first apply, and later applies leave it alone (`ignore_changes`).
"""

from __future__ import annotations

from cdktf import Fn, TerraformResourceLifecycle
from cdktf_cdktf_provider_azurerm.consumption_budget_resource_group import (
    ConsumptionBudgetResourceGroup,
    ConsumptionBudgetResourceGroupNotification,
    ConsumptionBudgetResourceGroupTimePeriod,
)
from cdktf_cdktf_provider_azurerm.resource_group import ResourceGroup
from constructs import Construct

from synth.config import EnvironmentConfig

# (percent, threshold_type): COST-1's two notifications.
NOTIFICATIONS = ((80, "Forecasted"), (100, "Actual"))


class Budget(Construct):
    """Budget `budget-<prefix>` on the environment's resource group."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: EnvironmentConfig,
        resource_group: ResourceGroup,
        action_group_id: str,
    ) -> None:
        super().__init__(scope, id_)
        self.budget = ConsumptionBudgetResourceGroup(
            self,
            "budget",
            name=f"budget-{config.prefix}",
            resource_group_id=resource_group.id,
            amount=config.budget.monthly_usd,
            time_grain="Monthly",
            time_period=ConsumptionBudgetResourceGroupTimePeriod(
                start_date=Fn.formatdate("YYYY-MM-01'T'00:00:00Z", Fn.timestamp())
            ),
            notification=[
                ConsumptionBudgetResourceGroupNotification(
                    enabled=True,
                    operator="GreaterThanOrEqualTo",
                    threshold=percent,
                    threshold_type=kind,
                    contact_emails=[config.alert_email],
                    contact_groups=[action_group_id],
                )
                for percent, kind in NOTIFICATIONS
            ],
            lifecycle=TerraformResourceLifecycle(ignore_changes=["time_period"]),
        )
