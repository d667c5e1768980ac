"""Builds CKV_GW_COST_40: a monthly billing budget of the environment's `budget.monthly_usd`
alerts at 80 % of forecast and 100 % of actual spend (COST-1)."""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks, combine, expect_equal


class Budget(GroundworkCheck):
    id = "CKV_GW_COST_40"
    name = "Monthly budget of budget.monthly_usd with 80 % forecast and 100 % actual alerts"
    requirement = "COST-1"
    severity = "MEDIUM"
    resource_types = ("google_billing_budget",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        amount = (blocks(body, "amount") or [{}])[0]
        specified = (blocks(amount, "specified_amount") or [{}])[0]
        period = (blocks(body, "budget_filter") or [{}])[0].get("calendar_period", "MONTH")
        rules = {
            (r.get("spend_basis", "CURRENT_SPEND"), float(r.get("threshold_percent", -1)))
            for r in blocks(body, "threshold_rules")
        }
        verdicts = [
            expect_equal("amount.units", specified.get("units"), stack.config.budget.monthly_usd,
                         "budget.monthly_usd"),
            expect_equal("currency", specified.get("currency_code"), "USD", "COST-1"),
            expect_equal("calendar_period", period, "MONTH", "COST-1"),
        ]  # fmt: skip
        for basis, percent in (("FORECASTED_SPEND", 0.8), ("CURRENT_SPEND", 1.0)):
            if (basis, percent) not in rules:
                verdicts.append(Verdict.failed(f"no {basis} alert at {percent:.0%}"))
        return combine(verdicts)


check = Budget()
