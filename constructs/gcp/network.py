"""The environment's VPC: three regional subnet tiers, Cloud NAT, private service access, firewall.

GCP subnets are regional (they span every zone), so each NET-1 tier is one subnet, on the
tier's first block of `plan_subnets`; the tier's other zone blocks stay reserved, so the
address plan is the same on every cloud. Zonal placement (Cloud SQL standby and replica,
Memorystore replica) spreads across the region's zones inside these subnets.

- public: nothing of ours runs here today (the global load balancer lives outside the VPC);
  it exists so internet-facing workloads have a tier without private data routes.
- app: Cloud Run instances (direct VPC egress, network tag `app`, plus `uses-postgres` /
  `uses-redis` for the components a service uses); egress via Cloud NAT.
- data: reserved for self-managed data services; Cloud SQL and Memorystore sit in the
  Google-managed producer network reached by private service access (NET-2), on the
  last quarter of the environment's range (`psa_range`), so nothing overlaps.

Cloud NAT is a regional, distributed service with no per-zone gateway to lose, so
`nat_gateways: per_zone` (zone-redundant egress) and `single` both map to one Cloud NAT;
`per_zone` additionally reserves one static egress address per zone.

Firewall (NET-3): ingress and egress both end in a logged deny-all at low priority; above
them only the load balancer/health-check ranges reach the app port, and the app reaches
PostgreSQL through the Cloud SQL connector port (3307, the only path
TRUSTED_CLIENT_CERTIFICATE_REQUIRED admits: constructs/gcp/database.py) and Redis over TLS
(6378) in the private-service range, and HTTPS (443) outside.
Internet → load balancer on 443/80 is the global forwarding rules (constructs/gcp/edge.py).

Satisfies: NET-1, NET-2, NET-3, NET-4, DEPLOY-2, DEPLOY-6
"""

from __future__ import annotations

import ipaddress

from cdktf_cdktf_provider_google.compute_address import ComputeAddress
from cdktf_cdktf_provider_google.compute_firewall import (
    ComputeFirewall,
    ComputeFirewallAllow,
    ComputeFirewallDeny,
    ComputeFirewallLogConfig,
)
from cdktf_cdktf_provider_google.compute_global_address import ComputeGlobalAddress
from cdktf_cdktf_provider_google.compute_network import ComputeNetwork
from cdktf_cdktf_provider_google.compute_router import ComputeRouter
from cdktf_cdktf_provider_google.compute_router_nat import (
    ComputeRouterNat,
    ComputeRouterNatLogConfig,
    ComputeRouterNatSubnetwork,
)
from cdktf_cdktf_provider_google.compute_subnetwork import (
    ComputeSubnetwork,
    ComputeSubnetworkLogConfig,
)
from cdktf_cdktf_provider_google.project_iam_member import ProjectIamMember
from cdktf_cdktf_provider_google.service_networking_connection import (
    ServiceNetworkingConnection,
)
from constructs import Construct
from constructs.gcp import waivers
from constructs.gcp.keys import ServiceAgents
from constructs.subnets import TIERS, plan_subnets

from synth.config import EnvironmentConfig
from synth.construct_waivers import waive
from synth.gcp_needs import AGENT_PROJECT_ROLES

ANYWHERE = "0.0.0.0/0"
POSTGRES_PORT = 5432  # the Auth Proxy sidecar's local port; never leaves the instance
# Cloud SQL connectors (the Auth Proxy) reach the server on 3307, mTLS with IAM login.
CLOUD_SQL_CONNECTOR_PORT = 3307
# Memorystore serves Redis over TLS (CACHE-1) on 6378; its plaintext 6379 stays unused.
REDIS_TLS_PORT = 6378
# NET-3's letter is app -> database 5432 and cache 6379; these rules open the GCP ports of
# the same two paths, so CKV_GW_NET_42 fails them and the rule carries this reason.
OFF_LETTER_REASONS = {
    "allow-app-to-postgres": "NET-3 names app -> database on 5432; on GCP the app reaches "
    "PostgreSQL through the Cloud SQL Auth Proxy sidecar, which connects to the instance's "
    "server-side proxy on 3307 with mTLS and IAM login, never to 5432 "
    "(https://cloud.google.com/sql/docs/postgres/sql-proxy), so 3307 is the "
    "database path and 5432 stays closed.",
    "allow-app-to-redis": "NET-3 names app -> cache on 6379; Memorystore for Redis with "
    "in-transit encryption (CACHE-1) serves on 6378 only "
    "(https://cloud.google.com/memorystore/docs/redis/in-transit-encryption), so 6378 is the "
    "cache path and plaintext 6379 stays closed.",
}
APP_TAG = "app"
# Per component, the network tag a service carries when it uses it (NET-3, IAM-1): the egress
# rule to that component targets the tag, so a service that does not use the cache cannot
# reach Redis (firewall rules select Cloud Run instances by their Direct VPC egress network
# tags: https://cloud.google.com/run/docs/configuring/vpc-direct-vpc#network-tags).
COMPONENT_TAGS = {"database": "uses-postgres", "cache": "uses-redis"}
# Google Front End and health-check source ranges (documented, fixed by Google).
LOAD_BALANCER_RANGES = ("35.191.0.0/16", "130.211.0.0/22")
LOWEST_PRIORITY = 65534  # the implied rules sit at 65535; ours must win over them


def psa_range(cidr: str) -> ipaddress.IPv4Network:
    """The last quarter of the environment's range: no tier or spare zone block uses it."""
    return list(ipaddress.IPv4Network(cidr).subnets(prefixlen_diff=2))[-1]


class Network(Construct):
    """VPC `<prefix>`, subnets `<prefix>-<tier>`, NAT, private service access, firewall."""

    def __init__(
        self, scope: Construct, id_: str, *, config: EnvironmentConfig, agents: ServiceAgents
    ) -> None:
        super().__init__(scope, id_)
        prefix = config.prefix
        region = config.gcp.region
        vpc = ComputeNetwork(
            self,
            "vpc",
            name=prefix,
            auto_create_subnetworks=False,
            routing_mode="REGIONAL",
            description=f"{prefix}: public, app and data tiers (NET-1)",
        )
        self.network_id = vpc.id
        self.network_name = vpc.name

        plan = plan_subnets(config.network.cidr, config.network.zones)
        self.subnets: dict[str, ComputeSubnetwork] = {}
        for tier in TIERS:
            self.subnets[tier] = ComputeSubnetwork(
                self,
                f"{tier}-subnet",
                name=f"{prefix}-{tier}",
                network=vpc.id,
                region=region,
                ip_cidr_range=getattr(plan, tier)[0],
                private_ip_google_access=True,  # Google APIs without public IPs
                log_config=ComputeSubnetworkLogConfig(  # NET-4
                    aggregation_interval="INTERVAL_5_SEC",
                    flow_sampling=1.0,
                    metadata="INCLUDE_ALL_METADATA",
                ),
                description=f"{prefix} {tier} tier",
            )
        self.app_subnet_id = self.subnets["app"].id
        self.app_tag = APP_TAG

        # NET-2: Cloud SQL and Memorystore get private addresses from this peered range.
        private = psa_range(config.network.cidr)
        self.psa_cidr = str(private)
        address = ComputeGlobalAddress(
            self,
            "psa-range",
            name=f"{prefix}-private-services",
            purpose="VPC_PEERING",
            address_type="INTERNAL",
            address=str(private.network_address),
            prefix_length=private.prefixlen,
            network=vpc.id,
            description="Private service access for Cloud SQL and Memorystore (NET-2)",
        )
        self.psa_range_name = address.name
        # DEPLOY-2: the connection is made by Service Networking's agent, which enabling the
        # API does not reliably create or grant; without it the connection fails "Error code
        # 7, Required 'compute.globalAddresses.list' permission" (terraform-provider-google
        # #14720, #11195). The agent is created by the identity step (constructs/gcp/keys.py)
        # and granted roles/servicenetworking.serviceAgent before the connection.
        api = "servicenetworking.googleapis.com"
        agent_grant = ProjectIamMember(
            self,
            "service-networking-agent",
            project=config.gcp.project,
            role=AGENT_PROJECT_ROLES[api],
            member=f"serviceAccount:{agents.email['networking']}",
            depends_on=[agents.created["networking"]],  # type: ignore[list-item]
        )
        self.private_services = ServiceNetworkingConnection(
            self,
            "psa",
            network=vpc.id,
            service="servicenetworking.googleapis.com",
            reserved_peering_ranges=[address.name],
            # Destroying the connection fails while a producer (Cloud SQL keeps its side for
            # up to days after the instance is deleted, so it can be restored) still uses it:
            # "Producer services ... are still using this connection" (provider #16275,
            # #19908). ABANDON only drops the connection from Terraform state on destroy; it
            # calls no API, so the VPC peering `servicenetworking-googleapis-com` stays on the
            # network and `google_compute_network` still cannot be deleted (magic-modules
            # #18476, which adds REMOVE_PEERING in a provider after 6.50). What ABANDON buys
            # is a destroy that stops at the network, not at this connection. To finish
            # destroying an environment, an operator removes the peering and runs the
            # destroy again (README: "Destroying an environment"):
            #   gcloud compute networks peerings delete servicenetworking-googleapis-com \
            #     --network=<prefix> --project=<project>
            deletion_policy="ABANDON",
            depends_on=[agents.created["networking"], agent_grant],  # type: ignore[list-item]
        )

        self._nat(config, vpc)
        self._firewall(config, vpc)

    def _nat(self, config: EnvironmentConfig, vpc: ComputeNetwork) -> None:
        prefix = config.prefix
        router = ComputeRouter(
            self, "router", name=prefix, network=vpc.id, region=config.gcp.region
        )
        per_zone = config.network.nat_gateways == "per_zone"
        # per_zone: static, known egress addresses, one per zone; single: Google-allocated.
        addresses = [
            ComputeAddress(
                self,
                f"nat-{index}-ip",
                name=f"{prefix}-nat-{index}",
                region=config.gcp.region,
                address_type="EXTERNAL",
            ).self_link
            for index in range(config.network.zones if per_zone else 0)
        ]
        ComputeRouterNat(
            self,
            "nat",
            name=prefix,
            router=router.name,
            region=config.gcp.region,
            nat_ip_allocate_option="MANUAL_ONLY" if per_zone else "AUTO_ONLY",
            nat_ips=addresses or None,
            # Only the app tier leaves the VPC; public and data subnets get no NAT.
            source_subnetwork_ip_ranges_to_nat="LIST_OF_SUBNETWORKS",
            subnetwork=[
                ComputeRouterNatSubnetwork(
                    name=self.subnets["app"].id, source_ip_ranges_to_nat=["ALL_IP_RANGES"]
                )
            ],
            enable_endpoint_independent_mapping=False,
            log_config=ComputeRouterNatLogConfig(enable=True, filter="ERRORS_ONLY"),
        )

    def tags_for(self, uses: frozenset[str]) -> list[str]:
        """A service's network tags: the app tier's, and one per component it uses."""
        return [APP_TAG, *(tag for c, tag in COMPONENT_TAGS.items() if c in uses)]

    def _firewall(self, config: EnvironmentConfig, vpc: ComputeNetwork) -> None:
        """NET-3 as data: (name, direction, priority, ports, peers, description, tag)."""
        ports = sorted({str(s.port) for s in config.services if s.route is not None})
        private = [self.psa_cidr]
        rules = [
            ("allow-lb-to-app", "INGRESS", 1000, ports, list(LOAD_BALANCER_RANGES),
             "Load balancer and health checks to the app port", APP_TAG),
            ("allow-app-to-postgres", "EGRESS", 1000, [str(CLOUD_SQL_CONNECTOR_PORT)], private,
             "App's Cloud SQL Auth Proxy to PostgreSQL over private service access",
             COMPONENT_TAGS["database"]),
            *([("allow-app-to-redis", "EGRESS", 1000, [str(REDIS_TLS_PORT)], private,
                "App to Memorystore Redis over private service access",
                COMPONENT_TAGS["cache"])] if config.uses_cache else []),
            ("allow-app-https-out", "EGRESS", 1000, ["443"], [ANYWHERE],
             "App to Google APIs and HTTPS services through Cloud NAT", APP_TAG),
        ]  # fmt: skip
        for name, direction, priority, ports, peers, description, tag in rules:
            ingress = direction == "INGRESS"
            rule = ComputeFirewall(
                self,
                name,
                name=f"{config.prefix}-{name}",
                network=vpc.id,
                direction=direction,
                priority=priority,
                allow=[ComputeFirewallAllow(protocol="tcp", ports=ports)],
                source_ranges=peers if ingress else None,
                destination_ranges=None if ingress else peers,
                target_tags=[tag],
                description=f"{description} (NET-3)",
                log_config=ComputeFirewallLogConfig(metadata="INCLUDE_ALL_METADATA"),
            )
            if name in OFF_LETTER_REASONS:
                # NET-3 names 5432 and 6379; CKV_GW_NET_42 fails the GCP ports, and this says why.
                waive(
                    rule,
                    "CKV_GW_NET_42",
                    reason=OFF_LETTER_REASONS[name],
                    owner=waivers.OWNER,
                    expires=waivers.EXPIRES,
                )
        for direction in ("INGRESS", "EGRESS"):
            ingress = direction == "INGRESS"
            ComputeFirewall(
                self,
                f"deny-all-{direction.lower()}",
                name=f"{config.prefix}-deny-all-{direction.lower()}",
                network=vpc.id,
                direction=direction,
                priority=LOWEST_PRIORITY,
                deny=[ComputeFirewallDeny(protocol="all")],
                source_ranges=[ANYWHERE] if ingress else None,
                destination_ranges=None if ingress else [ANYWHERE],
                description="Everything not allowed above is denied and logged (NET-3)",
                log_config=ComputeFirewallLogConfig(metadata="INCLUDE_ALL_METADATA"),
            )
