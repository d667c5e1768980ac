"""The environment's monthly cost budget, e-mailing at 80 % forecast and 100 % actual.

Satisfies: COST-1
"""

from __future__ import annotations

from cdktf_cdktf_provider_aws.budgets_budget import (
    BudgetsBudget,
    BudgetsBudgetCostFilter,
    BudgetsBudgetNotification,
)
from constructs import Construct

from synth.config import EnvironmentConfig

# (threshold %, what it is measured against)
NOTIFICATIONS = ((80, "FORECASTED"), (100, "ACTUAL"))


class Budget(Construct):
    """A monthly COST budget of `config.budget.monthly_usd` for this environment."""

    def __init__(self, scope: Construct, id_: str, *, config: EnvironmentConfig) -> None:
        super().__init__(scope, id_)
        budget = BudgetsBudget(
            self,
            "monthly",
            name=f"{config.prefix}-monthly",
            budget_type="COST",
            time_unit="MONTHLY",
            limit_amount=str(config.budget.monthly_usd),
            limit_unit="USD",
            # Several environments may share an account: count only this one's resources.
            # The `environment` tag must be activated as a cost allocation tag (once per
            # payer account) for the filter to see any cost.
            cost_filter=[
                BudgetsBudgetCostFilter(
                    name="TagKeyValue", values=[f"user:environment${config.name}"]
                )
            ],
            notification=[
                BudgetsBudgetNotification(
                    comparison_operator="GREATER_THAN",
                    threshold=threshold,
                    threshold_type="PERCENTAGE",
                    notification_type=kind,
                    subscriber_email_addresses=[config.alert_email],
                )
                for threshold, kind in NOTIFICATIONS
            ],
        )
        self.budget_name = budget.name
