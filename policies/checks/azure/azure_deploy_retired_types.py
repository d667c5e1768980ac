"""Builds CKV_GW_DEPLOY_85: no resource type or SKU that Azure no longer lets a new
subscription create (DEPLOY-4).

A retiring service first stops taking new customers: the plan is fine, and the create call of
the first apply in a fresh subscription is refused. Each row below is a resource type (and the
SKUs it covers, or all) with the Microsoft notice that stops its creation:

- `azurerm_redis_cache` (Azure Cache for Redis Basic, Standard, Premium): since 2026-04-01 only
  a tenant that already had an Azure Cache for Redis instance may create one; all three retire
  on 2028-09-30 (https://learn.microsoft.com/azure/azure-cache-for-redis/retirement-faq,
  https://learn.microsoft.com/azure/azure-cache-for-redis/cache-whats-new). Use Azure Managed
  Redis (`azurerm_managed_redis`).
- `azurerm_redis_enterprise_cluster` with an Enterprise or Enterprise Flash SKU: retired on
  2027-03-31 in favour of Azure Managed Redis (same notice); a new one would be migrated or
  removed within months.
- `azurerm_managed_redis` (Azure Managed Redis) is the successor and is judged only so the rule
  runs on every stack that has a cache.
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict

RETIREMENT_FAQ = "https://learn.microsoft.com/azure/azure-cache-for-redis/retirement-faq"
# resource type -> (SKU attribute or None for every SKU, SKU prefixes refused, why, source)
REFUSED: dict[str, tuple[str | None, tuple[str, ...], str, str]] = {
    "azurerm_redis_cache": (
        None, (), "Azure Cache for Redis takes no new customers since 2026-04-01",
        RETIREMENT_FAQ,
    ),
    "azurerm_redis_enterprise_cluster": (
        "sku_name", ("Enterprise_", "EnterpriseFlash_"),
        "Azure Cache for Redis Enterprise retires on 2027-03-31", RETIREMENT_FAQ,
    ),
    # The successor: judged so the rule is evaluated (and passes) on a stack that uses it.
    "azurerm_managed_redis": ("sku_name", (), "", RETIREMENT_FAQ),
}  # fmt: skip


class RetiredTypes(GroundworkCheck):
    id = "CKV_GW_DEPLOY_85"
    name = "No resource type or SKU that Azure no longer lets a new subscription create"
    requirement = "DEPLOY-4"
    severity = "HIGH"
    resource_types = tuple(REFUSED)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        attribute, prefixes, why, source = REFUSED[self._address[0]]
        if attribute is None:
            return Verdict.failed(f"{why} ({source})")
        sku = body.get(attribute)
        if not isinstance(sku, str):
            return Verdict.unknown(f"{attribute} {sku!r} cannot be resolved")
        if sku.startswith(prefixes):
            return Verdict.failed(f"{attribute} {sku}: {why} ({source})")
        return Verdict.passed(f"{attribute} {sku} is still offered")


check = RetiredTypes()
