"""Builds the cache: Azure Managed Redis, TLS only, Entra ID auth, private endpoint only.

Satisfies: CACHE-1, CACHE-2, CACHE-3, NET-2, DEPLOY-2, DEPLOY-4

Why Azure Managed Redis (DEPLOY-4): Microsoft is retiring every Azure Cache for Redis SKU
(Basic, Standard and Premium on 2028-09-30, Enterprise and Enterprise Flash on 2027-03-31)
and since 2026-04-01 only a tenant that already had an Azure Cache for Redis instance may
create new Basic/Standard/Premium caches; a fresh subscription of a new customer is refused
(https://learn.microsoft.com/azure/azure-cache-for-redis/retirement-faq,
https://learn.microsoft.com/azure/azure-cache-for-redis/cache-whats-new). The successor,
Azure Managed Redis (`Microsoft.Cache/redisEnterprise`, `azurerm_managed_redis` since
azurerm 4.50), is what a new subscription can create.

Sizing (CACHE-2): Balanced SKUs come in fixed sizes (B0 0.5 GB, B1 1 GB, B3 3 GB, B5 6 GB,
...), so the nearest size at or above `memory_gb` is used
(https://learn.microsoft.com/azure/redis/overview#tiers-and-skus-at-a-glance). With
`replicas` 0 the cache runs without high availability (one node, as dev and staging ask);
with 1 it is highly available: each shard has a replica and fails over automatically
(https://learn.microsoft.com/azure/redis/high-availability). Managed Redis has exactly one
replica per shard, so more than one is refused here.

CACHE-1: the database speaks TLS only (`client_protocol = "Encrypted"`; Managed Redis accepts
TLS 1.2 and 1.3 only, https://learn.microsoft.com/azure/redis/tls-configuration), on port
10000. Access keys are off, so only Entra ID tokens authenticate; azurerm 4.55 has no
resource for the database's access policy assignment (hashicorp/terraform-provider-azurerm
#30938, added by #30980 after 4.55), so the `cache-access` job (constructs/azure/jobs.py)
assigns the `default` policy to the app's identity. Managed Redis encrypts data at rest with
platform-managed keys (CACHE-1 asks no customer key). Eviction is `AllKeysLRU`, the
`allkeys-lru` of the config. Clustering is `EnterpriseCluster`: one endpoint that a
non-cluster-aware client uses as it would a single Redis
(https://learn.microsoft.com/azure/redis/architecture#cluster-policies).
CACHE-3: public network access off, one private endpoint (subresource `redisEnterprise`,
zone `privatelink.redis.azure.net`,
https://learn.microsoft.com/azure/private-link/private-endpoint-dns#databases); `private_path`
is that endpoint and the zone's VNet link, which every app that uses the cache waits for
(DEPLOY-2, CKV_GW_DEPLOY_83).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cdktf import ITerraformDependable
from cdktf_cdktf_provider_azurerm.managed_redis import ManagedRedis, ManagedRedisDefaultDatabase
from cdktf_cdktf_provider_azurerm.resource_group import ResourceGroup
from constructs import Construct
from constructs.azure.keys import global_name

from synth.config import EnvironmentConfig

if TYPE_CHECKING:
    from constructs.azure.network import Network

# Balanced SKUs and their memory in GB (https://learn.microsoft.com/azure/redis/overview).
BALANCED_SIZES_GB = {
    "Balanced_B0": 0.5,
    "Balanced_B1": 1.0,
    "Balanced_B3": 3.0,
    "Balanced_B5": 6.0,
    "Balanced_B10": 12.0,
    "Balanced_B20": 24.0,
    "Balanced_B50": 60.0,
    "Balanced_B100": 120.0,
}
TLS_PORT = 10000  # Managed Redis serves its database on 10000 (TLS), never 6379/6380
# The config's eviction names (Redis's own) and Managed Redis's spelling of them.
EVICTION_POLICIES = {"allkeys-lru": "AllKeysLRU"}
DNS_ZONE = "privatelink.redis.azure.net"


def cache_sku(memory_gb: float, replicas: int) -> tuple[str, bool]:
    """(sku_name, high_availability): the smallest Balanced SKU holding `memory_gb`."""
    if replicas > 1:
        raise ValueError(
            f"cache.replicas: {replicas} is not possible on Azure Managed Redis, which keeps "
            "exactly one replica per shard when high availability is on; use 0 or 1"
        )
    sku = next(s for s, gb in BALANCED_SIZES_GB.items() if gb >= memory_gb)
    return sku, replicas == 1


class Cache(Construct):
    """Managed Redis `redis-<prefix>-<hash>`, on port 10000 through its private endpoint."""

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
        sku, high_availability = cache_sku(config.cache.memory_gb, config.cache.replicas)
        self.redis = ManagedRedis(
            self,
            "redis",
            name=global_name(config, "redis", max_length=60),
            location=resource_group.location,
            resource_group_name=resource_group.name,
            sku_name=sku,
            high_availability_enabled=high_availability,
            public_network_access="Disabled",
            default_database=ManagedRedisDefaultDatabase(
                access_keys_authentication_enabled=False,
                client_protocol="Encrypted",
                clustering_policy="EnterpriseCluster",
                eviction_policy=EVICTION_POLICIES[config.cache.eviction_policy],
            ),
        )
        self.host = self.redis.hostname
        self.port = TLS_PORT
        self.endpoint = network.private_endpoint(
            self,
            "endpoint",
            name=f"{config.prefix}-redis",
            resource_id=self.redis.id,
            subresource="redisEnterprise",
            dns_zone=DNS_ZONE,
        )
        # What a client in the VNet waits for before it connects (DEPLOY-2).
        self.private_path: list[ITerraformDependable] = network.private_path(self.endpoint)
