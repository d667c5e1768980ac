"""Builds CKV_GW_CACHE_40: Memorystore has at least the environment's memory (1 GB is its
smallest size), evicts allkeys-lru, and runs STANDARD_HA (a replica with automatic failover)
where the config asks for replicas, with the production floors (CACHE-2)."""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, combine, floor_verdicts, is_reference


class CacheSize(GroundworkCheck):
    id = "CKV_GW_CACHE_40"
    name = "Memorystore size, eviction policy and STANDARD_HA failover match the environment"
    requirement = "CACHE-2"
    severity = "MEDIUM"
    resource_types = ("google_redis_instance",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        cache = stack.config.cache
        verdicts = []
        memory = body.get("memory_size_gb")
        if memory is None or is_reference(memory):
            verdicts.append(Verdict.unknown(f"memory_size_gb is {memory!r}"))
        elif float(memory) < cache.memory_gb:
            verdicts.append(Verdict.failed(f"memory_size_gb {memory} < {cache.memory_gb}"))
        policy = (body.get("redis_configs") or {}).get("maxmemory-policy")
        if policy != cache.eviction_policy:
            verdicts.append(Verdict.failed(f"maxmemory-policy is {policy!r}"))
        ha = body.get("tier") == "STANDARD_HA"
        # STANDARD_HA keeps one replica unless read replicas are switched on.
        replicas = (body.get("replica_count") or 1) if ha else 0
        if cache.replicas and (not ha or replicas < cache.replicas):
            verdicts.append(
                Verdict.failed(
                    f"tier {body.get('tier')} with {replicas} replicas; want {cache.replicas}"
                )
            )
        verdicts.extend(floor_verdicts(stack, "CACHE-2", "cache.memory_gb", memory))
        verdicts.extend(floor_verdicts(stack, "CACHE-2", "cache.replicas", replicas))
        return combine(verdicts or [Verdict.passed(f"{memory} GB, {policy}, {replicas} replicas")])


check = CacheSize()
