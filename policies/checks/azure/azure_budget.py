"""Builds CKV_GW_COST_70: the environment's monthly budget is the environment's amount, notifies
at 80 % forecast and 100 % actual, and covers every resource group the environment bills to: its
own groups and each Container Apps environment's infrastructure group (COST-1). A resource-group
budget covers one group, so where the stack has more it must be a subscription budget filtered
to all of them (issue 9)."""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks, combine, expect_equal

THRESHOLDS = {(80, "Forecasted"), (100, "Actual")}


class AzureBudget(GroundworkCheck):
    id = "CKV_GW_COST_70"
    name = "Monthly budget for the config's amount, 80 % forecast and 100 % actual alerts"
    requirement = "COST-1"
    severity = "MEDIUM"
    resource_types = (
        "azurerm_consumption_budget_resource_group",
        "azurerm_consumption_budget_subscription",
    )

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
        verdicts.append(self._coverage(body, stack))
        return combine(verdicts)

    def _coverage(self, body: dict[str, Any], stack: Stack) -> Verdict:
        groups = {g.get("name") for g in stack.resources("azurerm_resource_group").values()}
        groups |= {
            e.get("infrastructure_resource_group_name")
            for e in stack.resources("azurerm_container_app_environment").values()
            if e.get("infrastructure_resource_group_name")
        }
        if self._address[0] == "azurerm_consumption_budget_resource_group":
            if len(groups) > 1:
                return Verdict.failed(f"a resource-group budget covers one of {sorted(groups)}")
            return Verdict.passed("covers the stack's one resource group")
        covered: set[Any] = set()
        for budget_filter in blocks(body, "filter"):
            for dimension in blocks(budget_filter, "dimension"):
                if dimension.get("name") == "ResourceGroupName":
                    covered |= set(dimension.get("values") or [])
        if not covered:
            return Verdict.passed("covers the whole subscription")
        uncovered = sorted(str(g) for g in groups - covered)
        if uncovered:
            return Verdict.failed(f"does not cover resource groups {uncovered}")
        return Verdict.passed(f"covers {sorted(str(g) for g in groups)}")


check = AzureBudget()
