"""Builds the monthly cost budget of the environment's resource groups.

Satisfies: COST-1

`config.budget.monthly_usd` per month for everything the environment runs: its resource
group `rg-<prefix>` and the group Azure creates for the Container Apps environment's
infrastructure (`rg-<prefix>-cae`, load balancer and public IPs, billed there). A
resource-group budget covers one group only, so this is a subscription budget filtered to
those two groups (https://learn.microsoft.com/azure/cost-management-billing/costs/tutorial-acm-create-budgets),
notifying `config.alert_email` and the alert action group at 80 % of the
forecast and at 100 % of the actual spend. Budgets are in the billing currency, USD for
the subscriptions this targets. Azure wants the first day of a month as start date: it
is the month of the first apply, and later applies leave it alone (`ignore_changes`).
"""

from __future__ import annotations

from cdktf import Fn, TerraformResourceLifecycle
from cdktf_cdktf_provider_azurerm.consumption_budget_subscription import (
    ConsumptionBudgetSubscription,
    ConsumptionBudgetSubscriptionFilter,
    ConsumptionBudgetSubscriptionFilterDimension,
    ConsumptionBudgetSubscriptionNotification,
    ConsumptionBudgetSubscriptionTimePeriod,
)
from cdktf_cdktf_provider_azurerm.resource_group import ResourceGroup
from constructs import Construct

from synth.config import EnvironmentConfig

# (percent, threshold_type): COST-1's two notifications.
NOTIFICATIONS = ((80, "Forecasted"), (100, "Actual"))


class Budget(Construct):
    """Budget `budget-<prefix>` on the environment's resource groups `resource_group_names`."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: EnvironmentConfig,
        resource_group: ResourceGroup,
        resource_group_names: list[str],
        action_group_id: str,
    ) -> None:
        super().__init__(scope, id_)
        self.budget = ConsumptionBudgetSubscription(
            self,
            "budget",
            name=f"budget-{config.prefix}",
            subscription_id=f"/subscriptions/{config.azure.subscription_id}",
            filter=ConsumptionBudgetSubscriptionFilter(
                dimension=[
                    ConsumptionBudgetSubscriptionFilterDimension(
                        name="ResourceGroupName", operator="In", values=resource_group_names
                    )
                ]
            ),
            depends_on=[resource_group],
            amount=config.budget.monthly_usd,
            time_grain="Monthly",
            time_period=ConsumptionBudgetSubscriptionTimePeriod(
                start_date=Fn.formatdate("YYYY-MM-01'T'00:00:00Z", Fn.timestamp())
            ),
            notification=[
                ConsumptionBudgetSubscriptionNotification(
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
