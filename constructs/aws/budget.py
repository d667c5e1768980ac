"""The environment's monthly cost budget, e-mailing at 80 % forecast and 100 % actual.

An AWS budget counts the costs of the account it is in. An environment alone in its account
(`aws.account_shared` false, the default) gets a budget with no filter: its account's costs
are its own, and the budget counts them from the first day. Where other environments deploy
into the account too (`aws.account_shared: true`; the loader requires it of every
environment of the files that shares one, `synth.config.aws_shared_accounts`), the budget
counts only the costs tagged `environment: <name>`. A user-defined tag counts nothing until
it is activated as a cost allocation tag, which AWS allows only once tagged resources exist
(up to 24 hours) and, in an AWS Organizations member account, only from the management
account ("Activating user-defined cost allocation tags",
https://docs.aws.amazon.com/awsaccountbilling/latest/aboutv2/activating-tags.html). The
stack cannot do that, so such a budget fails CKV_GW_DEPLOY_106 and declares the waiver that
points to README "A fresh AWS account", step 8.

Satisfies: COST-1
"""

from __future__ import annotations

from cdktf_cdktf_provider_aws.budgets_budget import (
    BudgetsBudget,
    BudgetsBudgetCostFilter,
    BudgetsBudgetNotification,
)
from constructs import Construct
from constructs.aws import waivers

from synth.config import EnvironmentConfig
from synth.construct_waivers import waive

# (threshold %, what it is measured against)
NOTIFICATIONS = ((80, "FORECASTED"), (100, "ACTUAL"))
# The tag key every resource carries with the environment's name (`EnvironmentConfig.tags`).
ENVIRONMENT_TAG = "environment"


class Budget(Construct):
    """A monthly COST budget of `config.budget.monthly_usd` for this environment."""

    def __init__(self, scope: Construct, id_: str, *, config: EnvironmentConfig) -> None:
        super().__init__(scope, id_)
        shared = config.aws.account_shared
        budget = BudgetsBudget(
            self,
            "monthly",
            name=f"{config.prefix}-monthly",
            budget_type="COST",
            time_unit="MONTHLY",
            limit_amount=str(config.budget.monthly_usd),
            limit_unit="USD",
            # Alone in its account, the account's costs are the environment's: no filter.
            cost_filter=(
                [
                    BudgetsBudgetCostFilter(
                        name="TagKeyValue",
                        values=[f"user:{ENVIRONMENT_TAG}${config.name}"],
                    )
                ]
                if shared
                else None
            ),
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
        if shared:
            waive(
                budget,
                "CKV_GW_DEPLOY_106",
                reason="Other environments deploy into this account (aws.account_shared), so "
                f"the budget counts only costs tagged {ENVIRONMENT_TAG}={config.name}, and "
                f"AWS counts them only once the {ENVIRONMENT_TAG} tag is activated as a cost "
                "allocation tag by hand from the management account, after tagged resources "
                "exist (README 'A fresh AWS account' step 8).",
                owner=waivers.OWNER,
                expires=waivers.EXPIRES,
            )
        self.budget_name = budget.name
