"""A monthly Cloud Billing budget for the project, alerting at 80 % forecast and 100 % actual.

The budget lives on `gcp.billing_account` and is filtered to this project. Its amount is
in USD, so the billing account must bill in USD (Cloud Billing rejects another currency).
Alerts go to the billing account's admins and to the environment's e-mail channel.

Satisfies: COST-1, DEPLOY-2, DEPLOY-4
"""

from __future__ import annotations

from cdktf_cdktf_provider_google.billing_budget import (
    BillingBudget,
    BillingBudgetAllUpdatesRule,
    BillingBudgetAmount,
    BillingBudgetAmountSpecifiedAmount,
    BillingBudgetBudgetFilter,
    BillingBudgetThresholdRules,
)
from cdktf_cdktf_provider_google.provider import GoogleProvider
from constructs import Construct
from constructs.gcp.keys import Keys
from constructs.gcp.observability import Observability

from synth.config import EnvironmentConfig

# COST-1: (fraction of the budget, what is compared with it).
THRESHOLDS = ((0.8, "FORECASTED_SPEND"), (1.0, "CURRENT_SPEND"))


class Budget(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: EnvironmentConfig,
        keys: Keys,
        observability: Observability,
    ) -> None:
        super().__init__(scope, id_)
        # The Billing Budget API refuses user credentials without a quota project
        # ("API requires a quota project"): this provider sends the stack's project as the
        # quota project, where enable_apis turns the API on (https://registry.terraform.io/
        # providers/hashicorp/google/6.50.0/docs/guides/provider_reference#user_project_override).
        billing = GoogleProvider(
            self,
            "billing-provider",
            alias="billing",
            project=config.gcp.project,
            region=config.gcp.region,
            user_project_override=True,
            billing_project=config.gcp.project,
        )
        # TAG-1 on every provider configuration, aliases included (the guard judges each).
        billing.add_override("default_labels", config.tags)
        BillingBudget(
            self,
            "monthly",
            billing_account=config.gcp.billing_account,
            display_name=f"{config.prefix} monthly",
            budget_filter=BillingBudgetBudgetFilter(
                projects=[f"projects/{keys.project_number}"], calendar_period="MONTH"
            ),
            amount=BillingBudgetAmount(
                specified_amount=BillingBudgetAmountSpecifiedAmount(
                    currency_code="USD", units=str(config.budget.monthly_usd)
                )
            ),
            threshold_rules=[
                BillingBudgetThresholdRules(threshold_percent=percent, spend_basis=basis)
                for percent, basis in THRESHOLDS
            ],
            all_updates_rule=BillingBudgetAllUpdatesRule(
                monitoring_notification_channels=[observability.notification_channel.id],
                disable_default_iam_recipients=False,
            ),
            provider=billing,
        )
