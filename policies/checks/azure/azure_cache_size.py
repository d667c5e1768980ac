"""Builds CKV_GW_CACHE_71: Azure Managed Redis has at least the configured memory, allkeys-lru
eviction (`AllKeysLRU`), and where the environment asks for a replica, high availability (a
replica per shard with automatic failover) (CACHE-2; floors from synth.config.FLOORS).

Sizes: https://learn.microsoft.com/azure/redis/overview (the Balanced SKUs the stacks use; any
other SKU is not in the table and fails); high availability:
https://learn.microsoft.com/azure/redis/high-availability.
"""

from typing import Any

from groundwork_policy import (
    GroundworkCheck,
    Stack,
    Verdict,
    blocks,
    combine,
    expect_equal,
    floor_verdicts,
)

# GB of memory per Balanced SKU.
SIZES_GB = {
    "Balanced_B0": 0.5, "Balanced_B1": 1, "Balanced_B3": 3, "Balanced_B5": 6, "Balanced_B10": 12,
    "Balanced_B20": 24, "Balanced_B50": 60, "Balanced_B100": 120,
}  # fmt: skip
EVICTION = {"allkeys-lru": "AllKeysLRU"}


class AzureCacheSize(GroundworkCheck):
    id = "CKV_GW_CACHE_71"
    name = "Managed Redis memory, allkeys-lru eviction and high availability follow the config"
    requirement = "CACHE-2"
    severity = "MEDIUM"
    resource_types = ("azurerm_managed_redis",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        cache = stack.config.cache
        size = SIZES_GB.get(str(body.get("sku_name")))
        database = (blocks(body, "default_database") or [{}])[0]
        available = body.get("high_availability_enabled")
        replicas = 1 if available is True else 0
        verdicts = (
            []
            if isinstance(available, bool)
            else [Verdict.unknown(f"high_availability_enabled is {available!r}; set it explicitly")]
        )
        verdicts += [
            expect_equal("eviction_policy", database.get("eviction_policy"),
                         EVICTION[cache.eviction_policy], "cache.eviction_policy"),
            *floor_verdicts(stack, "CACHE-2", "cache.memory_gb", size),
            *floor_verdicts(stack, "CACHE-2", "cache.replicas", replicas),
        ]  # fmt: skip
        if size is None or size < cache.memory_gb:
            wanted = f"cache.memory_gb wants {cache.memory_gb}"
            verdicts.append(Verdict.failed(f"{body.get('sku_name')} is {size} GB; {wanted}"))
        if cache.replicas > 0 and replicas == 0:
            verdicts.append(
                Verdict.failed(f"high availability is off; cache.replicas is {cache.replicas}")
            )
        return combine(verdicts)


check = AzureCacheSize()
