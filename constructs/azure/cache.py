"""Builds the cache: Azure Cache for Redis, TLS 1.2 only, Entra ID auth, private endpoint only.

Satisfies: CACHE-1, CACHE-2, CACHE-3, NET-2

Sizing (CACHE-2): Basic and Standard caches come in fixed sizes (C0 250 MB, C1 1 GB,
C2 2.5 GB, ...), so the nearest size at or above `memory_gb` is used, never C0 (it shares
a vCPU). No replicas gives Basic (one node, as the table's dev and staging ask); one
replica gives Standard, a primary and a replica with automatic failover. Standard has no
zone redundancy: that needs Premium (6 GB, roughly 10x the price of C1 and most of the
production budget), which the config would have to ask for with `replicas` > 1.

CACHE-1: non-TLS port off, TLS 1.2 minimum, access keys disabled so only Entra ID tokens
authenticate (the app's identity gets a data access policy, in the service). Basic and
Standard keep data in memory only (no persistence); the platform encrypts the nodes'
disks. CACHE-3: public network access off, one private endpoint in the endpoints subnet.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cdktf_cdktf_provider_azurerm.redis_cache import (
    RedisCache,
    RedisCachePatchSchedule,
    RedisCacheRedisConfiguration,
)
from cdktf_cdktf_provider_azurerm.resource_group import ResourceGroup
from constructs import Construct
from constructs.azure import waivers
from constructs.azure.keys import global_name

from synth.config import EnvironmentConfig
from synth.construct_waivers import waive

if TYPE_CHECKING:
    from constructs.azure.network import Network

# Capacity -> GB of the C family (Basic, Standard); P family (Premium) by index + 1.
C_SIZES_GB = {1: 1.0, 2: 2.5, 3: 6.0, 4: 13.0, 5: 26.0, 6: 53.0}
P_SIZES_GB = {1: 6.0, 2: 13.0, 3: 26.0, 4: 53.0, 5: 120.0}
TLS_PORT = 6380


def cache_sku(memory_gb: float, replicas: int) -> tuple[str, str, int]:
    """(sku_name, family, capacity): the smallest cache holding `memory_gb` with `replicas`."""
    sku, family, sizes = (
        ("Basic", "C", C_SIZES_GB)
        if replicas == 0
        else ("Standard", "C", C_SIZES_GB)
        if replicas == 1
        else ("Premium", "P", P_SIZES_GB)
    )
    capacity = next(c for c, gb in sizes.items() if gb >= memory_gb)
    return sku, family, capacity


class Cache(Construct):
    """Redis cache `redis-<prefix>-<hash>`, reachable on port 6380 through its private endpoint."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: EnvironmentConfig,
        resource_group: ResourceGroup,
        network: Network,
    ) -> None:
        super().__init__(scope, id_)
        sku, family, capacity = cache_sku(config.cache.memory_gb, config.cache.replicas)
        self.redis = RedisCache(
            self,
            "redis",
            name=global_name(config, "redis", max_length=63),
            location=resource_group.location,
            resource_group_name=resource_group.name,
            sku_name=sku,
            family=family,
            capacity=capacity,
            replicas_per_primary=config.cache.replicas if sku == "Premium" else None,
            redis_version="6",
            non_ssl_port_enabled=False,
            minimum_tls_version="1.2",
            public_network_access_enabled=False,
            access_keys_authentication_enabled=False,
            redis_configuration=RedisCacheRedisConfiguration(
                active_directory_authentication_enabled=True,
                maxmemory_policy=config.cache.eviction_policy,
            ),
            # Patching restarts nodes; keep it in a quiet window.
            patch_schedule=[
                RedisCachePatchSchedule(
                    day_of_week="Sunday", start_hour_utc=2, maintenance_window="PT5H"
                )
            ],
        )
        if sku == "Basic":  # CKV_AZURE_230 passes Standard and Premium, which replicate
            waive(
                self.redis,
                "CKV_AZURE_230",
                reason="The Basic SKU runs one node without replication; this environment asks "
                "for no replica (cache.replicas is 0), and replication with failover is a "
                "CACHE-2 production rule.",
                owner=waivers.OWNER,
                expires=waivers.EXPIRES,
            )
        self.host = self.redis.hostname
        self.port = TLS_PORT
        network.private_endpoint(
            self,
            "endpoint",
            name=f"{config.prefix}-redis",
            resource_id=self.redis.id,
            subresource="redisCache",
            dns_zone="privatelink.redis.cache.windows.net",
        )
