"""Builds CKV_GW_CACHE_1: Redis has the environment's memory, replicas with automatic
failover and allkeys-lru eviction (CACHE-2; floors from synth.config.FLOORS)."""

from typing import Any

from groundwork_policy import (
    GroundworkCheck,
    Stack,
    Verdict,
    address_of,
    blocks,
    combine,
    expect_equal,
    floor_verdicts,
)

# ElastiCache node memory in GB (the provider's published sizes), for the types we allow.
NODE_MEMORY_GB = {
    "cache.t4g.micro": 0.5,
    "cache.t4g.small": 1.37,
    "cache.t4g.medium": 3.09,
    "cache.m7g.large": 6.38,
    "cache.r7g.large": 13.07,
    "cache.r7g.xlarge": 26.32,
    "cache.r7g.2xlarge": 52.82,
    "cache.r7g.4xlarge": 105.81,
}


class CacheSize(GroundworkCheck):
    id = "CKV_GW_CACHE_1"
    name = "Redis has the environment's memory, replicas with failover and allkeys-lru eviction"
    requirement = "CACHE-2"
    severity = "MEDIUM"
    resource_types = ("aws_elasticache_replication_group",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        cache = stack.config.cache
        memory = NODE_MEMORY_GB.get(str(body.get("node_type")))
        replicas = int(body.get("num_cache_clusters", 1)) - 1
        replicated = replicas > 0
        verdicts = [
            expect_equal("replicas (num_cache_clusters - 1)", replicas, cache.replicas,
                         "cache.replicas"),
            *floor_verdicts(stack, "CACHE-2", "cache.replicas", replicas),
            expect_equal("automatic_failover_enabled",
                         body.get("automatic_failover_enabled", False), replicated,
                         "cache.replicas > 0"),
        ]  # fmt: skip
        if memory is None:
            verdicts.append(Verdict.unknown(f"unknown node_type {body.get('node_type')}"))
        else:
            if memory < cache.memory_gb:
                verdicts.append(Verdict.failed(f"{memory} GB is below cache.memory_gb"))
            verdicts += floor_verdicts(stack, "CACHE-2", "cache.memory_gb", memory)
        group = address_of(body.get("parameter_group_name"))
        if not group or not group.startswith("aws_elasticache_parameter_group."):
            return combine([*verdicts, Verdict.unknown("parameter group is not in this stack")])
        parameters = stack.resources("aws_elasticache_parameter_group")[group.split(".", 1)[1]]
        values = {p.get("name"): p.get("value") for p in blocks(parameters, "parameter")}
        verdicts.append(expect_equal("maxmemory-policy", values.get("maxmemory-policy"),
                                     cache.eviction_policy, "cache.eviction_policy"))  # fmt: skip
        return combine(verdicts)


check = CacheSize()
