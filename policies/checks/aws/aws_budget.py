"""Builds CKV_GW_COST_1: a monthly USD budget of `budget.monthly_usd`, notifying at 80 %
forecast and 100 % actual (COST-1)."""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks, combine, expect_equal

NOTIFICATIONS = {("FORECASTED", 80.0), ("ACTUAL", 100.0)}


class MonthlyBudget(GroundworkCheck):
    id = "CKV_GW_COST_1"
    name = "Monthly budget is the environment's amount with 80 % forecast and 100 % alerts"
    requirement = "COST-1"
    severity = "MEDIUM"
    resource_types = ("aws_budgets_budget",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        seen = {
            (n.get("notification_type"), float(n.get("threshold", -1)))
            for n in blocks(body, "notification")
            if n.get("threshold_type", "PERCENTAGE") == "PERCENTAGE"
        }
        verdicts = [
            expect_equal("budget_type", body.get("budget_type"), "COST", "COST-1"),
            expect_equal("time_unit", body.get("time_unit"), "MONTHLY", "COST-1"),
            expect_equal("limit_unit", body.get("limit_unit"), "USD", "COST-1"),
            expect_equal("limit_amount", body.get("limit_amount"),
                         float(stack.config.budget.monthly_usd), "budget.monthly_usd"),
        ]  # fmt: skip
        verdicts += [
            Verdict.failed(f"no {kind} notification at {threshold:g} %")
            for kind, threshold in sorted(NOTIFICATIONS - seen)
        ]
        return combine(verdicts)


check = MonthlyBudget()
