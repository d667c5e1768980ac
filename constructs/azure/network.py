"""Builds the VNet: three subnet tiers, NAT egress, NSGs with the NET-3 whitelist, flow logs.

Satisfies: NET-1, NET-2, NET-3, NET-4, DEPLOY-1, DEPLOY-2, DEPLOY-5, DEPLOY-6, CDN-1

Subnets (NET-1) come from `constructs/subnets.py`. Azure subnets are regional and span
every availability zone, so each tier is one subnet (the first zone slot of the plan)
rather than one per zone; zonal resources (gateway, database, cache) pick their zones.

- `public`: the Application Gateway (AppGW v2 needs a subnet of its own).
- `app`: the Container Apps environment, delegated to `Microsoft.App/environments`
  (workload-profile environments need at least a /27; the plan gives a /20).
- `data`: the PostgreSQL flexible server, delegated to `Microsoft.DBforPostgreSQL`.
- `endpoints` (data tier, a spare block of the plan): private endpoints of Key Vault,
  Storage, Redis and the registry.

Egress: a Standard NAT gateway is zonal and a subnet takes only one NAT gateway, while a
Container Apps environment uses exactly one subnet. So `nat_gateways: per_zone` cannot
mean one gateway per zone for the app subnet on Azure: both settings build one NAT gateway
(pinned to zone 1, with a zonal Standard public IP) on the app subnet; the data subnet and
private endpoints need no egress and the Application Gateway subnet does not support one.

NSGs (NET-3) are the rules of `ingress_rules()`, as data, plus two explicit denies per
subnet (all other VNet and Internet traffic) except the app subnet. The `VirtualNetwork` tag
of the first deny includes the host address 168.63.129.16 that `AzureLoadBalancer` stands for,
so Azure's default AllowAzureLoadBalancerInBound (65001) would never be reached: every subnet
with the denies allows `AzureLoadBalancer` explicitly before them, as Application Gateway v2
health probing requires (CKV_GW_DEPLOY_84 fails an NSG that denies it first). The two
all-ports allows (this one and the Container Apps subnet's own traffic) are NET-3 deviations
the platform requires, declared as waivers of CKV_GW_NET_71 on the rules.

No NSG has an outbound rule, so Azure's default outbound rules (AllowVnetOutBound,
AllowInternetOutBound) admit what PostgreSQL needs from the data subnet: Azure Storage for
WAL archival and Microsoft Entra ID for its Entra authentication (concepts-networking-private:
"make sure to allow traffic ... to Azure storage ... allow outbound traffic to Microsoft Entra
ID"). Microsoft documents no route, NAT gateway or service endpoint for these paths of a
VNet-integrated server, only that a route table must not send them to an appliance; the data
subnet has none. CKV_GW_DEPLOY_84 fails an NSG that denies them.

The app subnet follows Microsoft's NSG rules for workload-profile Container Apps environments
(https://learn.microsoft.com/azure/container-apps/firewall-integration, "NSG allow rules",
Inbound): the client (here the gateway subnet) reaches the subnet on 80 and 443 and on
30000-32676, whose ports the platform picks dynamically when it creates the environment (the
edge proxy's 31080/31443 among them); `AzureLoadBalancer` reaches the same range; and the
subnet's own addresses reach each other on every port and protocol (envoy, the replicas on
the app port, the jobs). The same page warns that deny rules with a priority below 65000
"might cause service interruption", so the app subnet has no deny rule of its own: Azure's
default `DenyAllInBound` (65500) refuses the internet, and `AllowVnetInBound` (65000) admits
the VNet, whose other subnets hold only the gateway, the database and private endpoints.
CKV_GW_DEPLOY_84 fails an app subnet NSG that blocks one of these paths.

Flow logs (NET-4) are VNet flow logs (NSG flow logs are retired) through the region's
Network Watcher into the log storage account, kept for `config.logs.retention_days`, with
traffic analytics into the Log Analytics workspace. The watcher is created here, not read:
Azure enables `NetworkWatcher_<location>` in `NetworkWatcherRG` only when the first VNet
of a region is created, so a fresh subscription has none at plan time and a data source
would fail (DEPLOY-5; https://learn.microsoft.com/azure/network-watcher/network-watcher-create).
The VNet waits for it, so Azure's automatic enablement finds the region's one watcher
(one per region and subscription) and creates no second one. A subscription that already
has a watcher in the region imports it (README, "Azure: before the first apply").

Private DNS zone links are children of their zone, so their names need to be unique per
zone only: `link-vnet-<prefix>`, which fits 80 characters at the longest names (DEPLOY-1).
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import ITerraformDependable
from cdktf_cdktf_provider_azurerm.log_analytics_workspace import LogAnalyticsWorkspace
from cdktf_cdktf_provider_azurerm.nat_gateway import NatGateway
from cdktf_cdktf_provider_azurerm.nat_gateway_public_ip_association import (
    NatGatewayPublicIpAssociation,
)
from cdktf_cdktf_provider_azurerm.network_security_group import NetworkSecurityGroup
from cdktf_cdktf_provider_azurerm.network_security_rule import NetworkSecurityRule
from cdktf_cdktf_provider_azurerm.network_watcher import NetworkWatcher
from cdktf_cdktf_provider_azurerm.network_watcher_flow_log import (
    NetworkWatcherFlowLog,
    NetworkWatcherFlowLogRetentionPolicy,
    NetworkWatcherFlowLogTrafficAnalytics,
)
from cdktf_cdktf_provider_azurerm.private_dns_zone import PrivateDnsZone
from cdktf_cdktf_provider_azurerm.private_dns_zone_virtual_network_link import (
    PrivateDnsZoneVirtualNetworkLink,
)
from cdktf_cdktf_provider_azurerm.private_endpoint import (
    PrivateEndpoint,
    PrivateEndpointPrivateDnsZoneGroup,
    PrivateEndpointPrivateServiceConnection,
)
from cdktf_cdktf_provider_azurerm.public_ip import PublicIp
from cdktf_cdktf_provider_azurerm.resource_group import ResourceGroup
from cdktf_cdktf_provider_azurerm.storage_account import StorageAccount
from cdktf_cdktf_provider_azurerm.subnet import (
    Subnet,
    SubnetDelegation,
    SubnetDelegationServiceDelegation,
)
from cdktf_cdktf_provider_azurerm.subnet_nat_gateway_association import (
    SubnetNatGatewayAssociation,
)
from cdktf_cdktf_provider_azurerm.subnet_network_security_group_association import (
    SubnetNetworkSecurityGroupAssociation,
)
from cdktf_cdktf_provider_azurerm.virtual_network import VirtualNetwork
from constructs import Construct
from constructs.azure import waivers
from constructs.subnets import plan_subnets

from synth.config import EnvironmentConfig
from synth.construct_waivers import waive

HTTPS, HTTP, POSTGRES, PGBOUNCER = 443, 80, 5432, 6432
REDIS_TLS = 10000  # Azure Managed Redis: its database, TLS only (constructs/azure/cache.py)
# Container Apps (workload profiles): the range the platform allocates its load balancer's
# ports from (https://learn.microsoft.com/azure/container-apps/firewall-integration).
CONTAINER_APPS_DYNAMIC_PORTS = "30000-32676"
# Application Gateway v2 infrastructure: Azure's GatewayManager must reach this range.
GATEWAY_MANAGER_PORTS = "65200-65535"
SUBNETS = ("public", "app", "data", "endpoints")
DELEGATIONS = {
    "app": (
        "Microsoft.App/environments",
        ["Microsoft.Network/virtualNetworks/subnets/join/action"],
    ),
    "data": (
        "Microsoft.DBforPostgreSQL/flexibleServers",
        ["Microsoft.Network/virtualNetworks/subnets/join/action"],
    ),
}


@dataclass(frozen=True)
class IngressRule:
    """One NET-3 allow rule: `source` (a subnet name or a service tag) to `ports` of `subnet`."""

    subnet: str
    name: str
    source: str
    ports: tuple[str, ...]
    why: str
    protocol: str = "Tcp"
    # Destination Any instead of the subnet's prefix: Application Gateway v2 validates its
    # subnet's NSG and accepts the GatewayManager and AzureLoadBalancer allows only "with the
    # destination subnet as Any" (configuration-infrastructure; a narrower destination was
    # refused, MicrosoftDocs/azure-docs #46877, #59107). An NSG on a subnet filters only that
    # subnet's traffic, so Any admits nothing more.
    any_destination: bool = False


# CDN-1: Front Door reaches its origins from the addresses of this service tag ("Secure
# traffic to Azure Front Door origins", https://learn.microsoft.com/azure/frontdoor/
# origin-security); it covers every customer's Front Door, so the gateway's WAF also checks
# the X-Azure-FDID header (constructs/azure/edge.py).
FRONT_DOOR_TAG = "AzureFrontDoor.Backend"


def ingress_rules(*, cache: bool = True, front_door: bool = False) -> tuple[IngressRule, ...]:
    """NET-3 as data: every inbound allow rule of every subnet; app -> cache only where the
    stack has a cache (`config.uses_cache`, APP-7). Behind Front Door (`cdn_enabled`, CDN-1)
    the gateway admits Front Door on 443 instead of the Internet on 443 and 80 (Front Door
    redirects HTTP to HTTPS itself and forwards HTTPS only)."""
    edge = (
        (IngressRule("public", "https-from-front-door", FRONT_DOOR_TAG, (str(HTTPS),), "CDN-1"),)
        if front_door
        else (
            IngressRule("public", "https-from-internet", "Internet", (str(HTTPS),), "EDGE-1"),
            IngressRule("public", "http-redirect", "Internet", (str(HTTP),), "only redirects"),
        )
    )
    rules = (
        *edge,
        IngressRule(
            "public",
            "gateway-manager",
            "GatewayManager",
            (GATEWAY_MANAGER_PORTS,),
            "AppGW v2 infrastructure",
            any_destination=True,
        ),
        # Microsoft's inbound rules for a workload-profile environment (module docstring):
        # the client (the gateway) on 80, 443 and the dynamic range, the platform's load
        # balancer on the dynamic range, and everything within the subnet.
        IngressRule(
            "app",
            "client-from-gateway",
            "public",
            (str(HTTP), str(HTTPS), CONTAINER_APPS_DYNAMIC_PORTS),
            "Container Apps client",
        ),
        IngressRule(
            "app",
            "load-balancer",
            "AzureLoadBalancer",
            (CONTAINER_APPS_DYNAMIC_PORTS,),
            "Container Apps load balancer",
        ),
        IngressRule("app", "within-subnet", "app", ("*",), "Container Apps subnet", "*"),
        IngressRule(
            "data", "postgres-from-app", "app", (str(POSTGRES), str(PGBOUNCER)), "DB, PgBouncer"
        ),
        # Flexible Server's high availability needs 5432 and 6432 within its subnet
        # (MicrosoftDocs/azure-docs #91402, quoting concepts-networking; PgBouncer runs on 6432).
        IngressRule(
            "data", "postgres-ha", "data", (str(POSTGRES), str(PGBOUNCER)), "HA standby, replicas"
        ),
        IngressRule("endpoints", "redis-from-app", "app", (str(REDIS_TLS),), "cache"),
        IngressRule("endpoints", "https-from-app", "app", (str(HTTPS),), "vault, blob, registry"),
        # The gateway reads its TLS certificate from Key Vault through the private endpoint.
        IngressRule("endpoints", "https-from-gateway", "public", (str(HTTPS),), "certificate"),
        # Every subnet with DENY_RULES: the `VirtualNetwork` tag those denies name includes the
        # host's virtual IP 168.63.129.16 (service-tags-overview; "the virtual IP address of the
        # host"), which is exactly `AzureLoadBalancer`, where Azure's health probes come from.
        # So the deny at 4000 would override Azure's default AllowAzureLoadBalancerInBound
        # (65001); Application Gateway requires "Traffic from the AzureLoadBalancer tag with the
        # destination subnet as Any must be allowed" (https://learn.microsoft.com/azure/
        # application-gateway/configuration-infrastructure#network-security-groups).
        *(
            IngressRule(
                subnet, "load-balancer", "AzureLoadBalancer", ("*",), "Azure probes", "*", True
            )
            for subnet in ("public", "data", "endpoints")
        ),
    )
    return tuple(rule for rule in rules if cache or rule.name != "redis-from-app")


# NET-3 forbids all-ports rules; these are the platform's documented exceptions, declared as
# waivers of CKV_GW_NET_71 on the rule (README "Waivers"), not admitted silently by the policy.
ALL_PORTS_WAIVERS = {
    "within-subnet": "Container Apps workload-profile environments require every port and "
    "protocol between the addresses of their own subnet (learn.microsoft.com/azure/"
    "container-apps/firewall-integration); source and destination are that subnet only.",
    "load-balancer": "Azure health probes come from the host address 168.63.129.16 "
    "(AzureLoadBalancer) on ports the platform picks, and Application Gateway requires that "
    "tag to reach its subnet on any port; the tag carries only probe traffic, never clients.",
}


# Explicit denies after the allows: all other VNet traffic (which Azure's default
# AllowVnetInBound would admit) and all Internet traffic. Not on the app subnet, where
# Microsoft warns that deny rules below 65000 may interrupt Container Apps.
NO_DENY_RULES = ("app",)
DENY_RULES = (
    ("deny-vnet-inbound", "VirtualNetwork", 4000),
    ("deny-internet-inbound", "Internet", 4001),
)


class Network(Construct):
    """VNet `vnet-<prefix>` with subnets `snet-<prefix>-{public,app,data,endpoints}`."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: EnvironmentConfig,
        resource_group: ResourceGroup,
        workspace: LogAnalyticsWorkspace,
        flow_log_account: StorageAccount,
    ) -> None:
        super().__init__(scope, id_)
        self._config = config
        self._resource_group = resource_group
        # DEPLOY-5: the region's watcher exists before the VNet (see the module docstring).
        self.watcher = NetworkWatcher(
            self,
            "watcher",
            name=f"nw-{config.prefix}",
            location=resource_group.location,
            resource_group_name=resource_group.name,
        )
        plan = plan_subnets(config.network.cidr, config.network.zones)
        self.cidrs = {
            "public": plan.public[0],
            "app": plan.app[0],
            "data": plan.data[0],
            "endpoints": plan.spare[0],
        }
        self.vnet = VirtualNetwork(
            self,
            "vnet",
            name=f"vnet-{config.prefix}",
            location=resource_group.location,
            resource_group_name=resource_group.name,
            address_space=[config.network.cidr],
            depends_on=[self.watcher],
        )
        if config.network.nat_gateways == "per_zone" and config.network.zones > 1:
            waive(
                self.vnet,
                "CKV_GW_NET_74",
                reason="Azure attaches one NAT gateway per subnet and a Standard NAT gateway is "
                "zonal, so egress runs through one zone until a zone-redundant NAT SKU is "
                "available in the pinned azurerm provider.",
                owner=waivers.OWNER,
                expires=waivers.GAP_EXPIRES,
            )
        self.subnets: dict[str, Subnet] = {}
        self.security_groups: dict[str, NetworkSecurityGroup] = {}
        # Each association is a PUT on its subnet, and a rule changes what the subnet admits:
        # what is placed in the subnet waits for all of them (`placed_after`, CKV_GW_DEPLOY_89).
        self.associations: dict[str, list[ITerraformDependable]] = {}
        for name in SUBNETS:
            delegation = DELEGATIONS.get(name)
            subnet = Subnet(
                self,
                f"{name}-subnet",
                name=f"snet-{config.prefix}-{name}",
                resource_group_name=resource_group.name,
                virtual_network_name=self.vnet.name,
                address_prefixes=[self.cidrs[name]],
                # No implicit internet egress: the app subnet leaves through the NAT gateway.
                default_outbound_access_enabled=False,
                # NSGs apply to private endpoints too.
                private_endpoint_network_policies="Enabled",
                delegation=[
                    SubnetDelegation(
                        name=delegation[0].split("/")[-1],
                        service_delegation=SubnetDelegationServiceDelegation(
                            name=delegation[0], actions=delegation[1]
                        ),
                    )
                ]
                if delegation
                else None,
            )
            nsg = NetworkSecurityGroup(
                self,
                f"{name}-nsg",
                name=f"nsg-{config.prefix}-{name}",
                location=resource_group.location,
                resource_group_name=resource_group.name,
            )
            self.associations[name] = [
                SubnetNetworkSecurityGroupAssociation(
                    self,
                    f"{name}-nsg-association",
                    subnet_id=subnet.id,
                    network_security_group_id=nsg.id,
                )
            ]
            self.subnets[name] = subnet
            self.security_groups[name] = nsg
        self._rules(config)
        self._egress(config)
        self._flow_logs(config, workspace, flow_log_account)
        self._dns_zones: dict[str, PrivateDnsZone] = {}
        self.dns_zone_links: dict[str, PrivateDnsZoneVirtualNetworkLink] = {}
        # construct path of each private endpoint -> the VNet link of the zone it registers in
        self._endpoint_links: dict[str, PrivateDnsZoneVirtualNetworkLink] = {}

    def placed_after(self, subnet: str) -> list[ITerraformDependable]:
        """What a resource placed in `subnet` must depend on besides the subnet itself.

        Its NSG's rules, so the resource starts behind the complete rule set: Application
        Gateway v2 refuses a subnet whose NSG blocks GatewayManager on 65200-65535
        (`ApplicationGatewaySubnetInboundTrafficBlockedByNetworkSecurityGroup`;
        configuration-infrastructure), which a deny created before its allow would do. And
        its NSG and NAT gateway associations, which update the subnet after it exists: a
        resource placed in it meanwhile fails with "Cannot proceed with operation because
        resource ... subnets/... is not in Succeeded state ... PutSubnetOperation"
        (hashicorp/terraform-provider-azurerm #17649; "AnotherOperationInProgress",
        pulumi/pulumi-azure-native #699). DEPLOY-2, CKV_GW_DEPLOY_89.
        """
        return list(self.associations[subnet])

    @property
    def public_subnet(self) -> Subnet:
        return self.subnets["public"]

    @property
    def app_subnet(self) -> Subnet:
        return self.subnets["app"]

    @property
    def data_subnet(self) -> Subnet:
        return self.subnets["data"]

    @property
    def endpoints_subnet(self) -> Subnet:
        return self.subnets["endpoints"]

    def _rules(self, config: EnvironmentConfig) -> None:
        priorities: dict[str, int] = {}
        for rule in ingress_rules(cache=config.uses_cache, front_door=config.features.cdn_enabled):
            priority = priorities[rule.subnet] = priorities.get(rule.subnet, 90) + 10
            source = self.cidrs.get(rule.source, rule.source)
            created = self._rule(
                rule.subnet,
                NetworkSecurityRule(
                    self,
                    f"{rule.subnet}-allow-{rule.name}",
                    name=f"allow-{rule.name}",
                    description=f"NET-3: {rule.why}",
                    resource_group_name=self._resource_group.name,
                    network_security_group_name=self.security_groups[rule.subnet].name,
                    priority=priority,
                    direction="Inbound",
                    access="Allow",
                    protocol=rule.protocol,
                    source_address_prefix=source,
                    source_port_range="*",
                    destination_address_prefix="*"
                    if rule.any_destination
                    else self.cidrs[rule.subnet],
                    # Every port is `*` in the single-range attribute, not a one-item list.
                    destination_port_range="*" if rule.ports == ("*",) else None,
                    destination_port_ranges=None if rule.ports == ("*",) else list(rule.ports),
                ),
            )
            if rule.ports == ("*",):
                waive(
                    created,
                    "CKV_GW_NET_71",
                    reason=ALL_PORTS_WAIVERS[rule.name],
                    owner=waivers.OWNER,
                    expires=waivers.EXPIRES,
                )
            if rule.name == "http-redirect":
                waive(
                    created,
                    "CKV_AZURE_160",
                    reason="Port 80 is open only so the gateway's HTTP listener can answer with a "
                    "permanent redirect to HTTPS, which NET-3 and EDGE-1 allow.",
                    owner=waivers.OWNER,
                    expires=waivers.EXPIRES,
                )
        for subnet in (s for s in SUBNETS if s not in NO_DENY_RULES):
            for name, source, priority in DENY_RULES:
                self._rule(
                    subnet,
                    NetworkSecurityRule(
                        self,
                        f"{subnet}-{name}",
                        name=name,
                        description="NET-3: deny everything not allowed above",
                        resource_group_name=self._resource_group.name,
                        network_security_group_name=self.security_groups[subnet].name,
                        priority=priority,
                        direction="Inbound",
                        access="Deny",
                        protocol="*",
                        source_address_prefix=source,
                        source_port_range="*",
                        destination_address_prefix="*",
                        destination_port_range="*",
                    ),
                )

    def _rule(self, subnet: str, rule: NetworkSecurityRule) -> NetworkSecurityRule:
        """Record `rule` of `subnet`'s NSG among what the subnet's residents wait for."""
        self.associations[subnet].append(rule)
        return rule

    def _egress(self, config: EnvironmentConfig) -> None:
        rg = self._resource_group
        ip = PublicIp(
            self,
            "nat-ip",
            name=f"pip-{config.prefix}-nat",
            location=rg.location,
            resource_group_name=rg.name,
            allocation_method="Static",
            sku="Standard",
            zones=["1"],
        )
        self.nat_gateway = NatGateway(
            self,
            "nat",
            name=f"ng-{config.prefix}",
            location=rg.location,
            resource_group_name=rg.name,
            sku_name="Standard",
            zones=["1"],
            idle_timeout_in_minutes=4,
        )
        NatGatewayPublicIpAssociation(
            self,
            "nat-ip-association",
            nat_gateway_id=self.nat_gateway.id,
            public_ip_address_id=ip.id,
        )
        self.associations["app"].append(
            SubnetNatGatewayAssociation(
                self,
                "nat-app-association",
                subnet_id=self.app_subnet.id,
                nat_gateway_id=self.nat_gateway.id,
            )
        )

    def _flow_logs(
        self, config: EnvironmentConfig, workspace: LogAnalyticsWorkspace, account: StorageAccount
    ) -> None:
        watcher = self.watcher
        retention = config.logs.retention_days
        flow_log = NetworkWatcherFlowLog(
            self,
            "flow-log",
            name=f"fl-{config.prefix}-vnet",
            network_watcher_name=watcher.name,
            resource_group_name=watcher.resource_group_name,
            location=config.azure.location,
            target_resource_id=self.vnet.id,
            storage_account_id=account.id,
            enabled=True,
            version=2,
            retention_policy=NetworkWatcherFlowLogRetentionPolicy(enabled=True, days=retention),
            traffic_analytics=NetworkWatcherFlowLogTrafficAnalytics(
                enabled=True,
                workspace_id=workspace.workspace_id,
                workspace_region=workspace.location,
                workspace_resource_id=workspace.id,
                interval_in_minutes=10,
            ),
        )
        if retention < 90:  # CKV_AZURE_12 wants 90 days or more
            waive(
                flow_log,
                "CKV_AZURE_12",
                reason=f"Flow logs are kept for the environment's log retention, {retention} days "
                "here (NET-4 and OBS-1, logs.retention_days), a cost trade-off the sizing table "
                "sets.",
                owner=waivers.OWNER,
                expires=waivers.EXPIRES,
            )

    def private_endpoint(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        resource_id: str,
        subresource: str,
        dns_zone: str,
    ) -> PrivateEndpoint:
        """A private endpoint in the endpoints subnet, registered in `dns_zone` (NET-2)."""
        zone = self.dns_zone(dns_zone)
        endpoint = PrivateEndpoint(
            scope,
            id_,
            name=f"pe-{name}",
            location=self._resource_group.location,
            resource_group_name=self._resource_group.name,
            subnet_id=self.endpoints_subnet.id,
            private_service_connection=PrivateEndpointPrivateServiceConnection(
                name=f"psc-{name}",
                private_connection_resource_id=resource_id,
                subresource_names=[subresource],
                is_manual_connection=False,
            ),
            private_dns_zone_group=PrivateEndpointPrivateDnsZoneGroup(
                name="default", private_dns_zone_ids=[zone.id]
            ),
            depends_on=self.placed_after("endpoints"),
        )
        self._endpoint_links[endpoint.node.path] = self.dns_zone_links[dns_zone]
        return endpoint

    def private_path(self, endpoint: PrivateEndpoint) -> list[ITerraformDependable]:
        """What a client in the VNet waits for before it reaches the service behind
        `endpoint` (one `private_endpoint` made; DEPLOY-2, CKV_GW_DEPLOY_83): the endpoint,
        and the VNet link of its zone, which makes the service's host name resolve to it."""
        return [endpoint, self._endpoint_links[endpoint.node.path]]

    def dns_zone(self, name: str) -> PrivateDnsZone:
        """A private DNS zone linked to the VNet (created on first use)."""
        if name not in self._dns_zones:
            zone_id = name.replace(".", "-")
            zone = PrivateDnsZone(
                self, f"zone-{zone_id}", name=name, resource_group_name=self._resource_group.name
            )
            self.dns_zone_links[name] = PrivateDnsZoneVirtualNetworkLink(
                self,
                f"zone-{zone_id}-link",
                name=f"link-vnet-{self._config.prefix}",
                private_dns_zone_name=zone.name,
                resource_group_name=self._resource_group.name,
                virtual_network_id=self.vnet.id,
                # A privatelink zone answers for every resource of its service that has a
                # private endpoint anywhere; without fallback, a name the zone has no record
                # for (another tenant's storage account, a vault outside this stack) is
                # NXDOMAIN inside the VNet. `NxDomainRedirect` resolves those publicly
                # (https://learn.microsoft.com/azure/dns/private-dns-fallback).
                resolution_policy="NxDomainRedirect" if name.startswith("privatelink.") else None,
            )
            self._dns_zones[name] = zone
        return self._dns_zones[name]
