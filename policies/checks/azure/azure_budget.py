"""Builds CKV_GW_COST_70: the resource group's monthly budget is the environment's amount and
notifies at 80 % forecast and 100 % actual (COST-1)."""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks, combine, expect_equal

THRESHOLDS = {(80, "Forecasted"), (100, "Actual")}


class AzureBudget(GroundworkCheck):
    id = "CKV_GW_COST_70"
    name = "Monthly budget for the config's amount, 80 % forecast and 100 % actual alerts"
    requirement = "COST-1"
    severity = "MEDIUM"
    resource_types = ("azurerm_consumption_budget_resource_group",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        verdicts = [
            expect_equal("amount", body.get("amount"), stack.config.budget.monthly_usd,
                         "budget.monthly_usd"),
            expect_equal("time_grain", body.get("time_grain"), "Monthly", "COST-1"),
        ]  # fmt: skip
        notified = {
            (n.get("threshold"), n.get("threshold_type", "Actual"))
            for n in blocks(body, "notification")
            if n.get("enabled", True) is True
            and (n.get("contact_emails") or n.get("contact_groups"))
        }
        missing = THRESHOLDS - notified
        if missing:
            verdicts.append(Verdict.failed(f"no notification at {sorted(missing)}"))
        return combine(verdicts)


check = AzureBudget()
