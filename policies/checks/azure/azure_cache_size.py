"""Builds CKV_GW_CACHE_71: Azure Cache for Redis has at least the configured memory, allkeys-lru
eviction, and where the environment asks for replicas a replicated SKU (Standard or Premium:
a primary and a replica with automatic failover) (CACHE-2; floors from synth.config.FLOORS)."""

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

# Azure's cache sizes in GB per family and capacity (Basic/Standard: C, Premium: P).
SIZES_GB = {
    "C": {0: 0.25, 1: 1, 2: 2.5, 3: 6, 4: 13, 5: 26, 6: 53},
    "P": {1: 6, 2: 13, 3: 26, 4: 53, 5: 120},
}
REPLICATED = {"Standard", "Premium"}


class AzureCacheSize(GroundworkCheck):
    id = "CKV_GW_CACHE_71"
    name = "Redis memory, allkeys-lru eviction and replication follow the config"
    requirement = "CACHE-2"
    severity = "MEDIUM"
    resource_types = ("azurerm_redis_cache",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        cache = stack.config.cache
        size = SIZES_GB.get(str(body.get("family")), {}).get(int(body.get("capacity", -1)))
        sku = body.get("sku_name")
        config = (blocks(body, "redis_configuration") or [{}])[0]
        # Standard and Premium keep one replica with automatic failover.
        replicas = 1 if sku in REPLICATED else 0
        verdicts = [
            expect_equal("maxmemory_policy", config.get("maxmemory_policy"), cache.eviction_policy,
                         "cache.eviction_policy"),
            *floor_verdicts(stack, "CACHE-2", "cache.memory_gb", size),
            *floor_verdicts(stack, "CACHE-2", "cache.replicas", replicas),
        ]  # fmt: skip
        if size is None or size < cache.memory_gb:
            sized = f"{body.get('family')}{body.get('capacity')}"
            wanted = f"cache.memory_gb wants {cache.memory_gb}"
            verdicts.append(Verdict.failed(f"{sized} is {size} GB; {wanted}"))
        if cache.replicas > 0 and sku not in REPLICATED:
            verdicts.append(
                Verdict.failed(f"sku {sku} has no replica; cache.replicas is {cache.replicas}")
            )
        return combine(verdicts)


check = AzureCacheSize()
