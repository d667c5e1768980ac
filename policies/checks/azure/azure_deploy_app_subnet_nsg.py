"""Builds CKV_GW_DEPLOY_84: every subnet's NSG admits the paths the platform in it requires
(DEPLOY-6: after the apply the app works).

Every subnet with an NSG: `AzureLoadBalancer` (the host address 168.63.129.16, where Azure's
health probes come from) is admitted. Azure's default AllowAzureLoadBalancerInBound (65001) does
that only if no rule before it denies the tag, and a deny of `VirtualNetwork` does: that tag
includes "the virtual IP address of the host" (https://learn.microsoft.com/azure/
virtual-network/service-tags-overview). Application Gateway: "Traffic from the
AzureLoadBalancer tag with the destination subnet as Any must be allowed", and GatewayManager
must reach 65200-65535 (https://learn.microsoft.com/azure/application-gateway/
configuration-infrastructure#network-security-groups), both "with the destination subnet as
Any": v2's validation refuses a narrower destination (MicrosoftDocs/azure-docs #46877, #59107).
"Outbound Internet connectivity can't be blocked ... Don't create other outbound rules that
deny any outbound connectivity" (same page; v2 refuses TCP denies, MicrosoftDocs/azure-docs
#84599), so a gateway subnet's NSG has no outbound deny.

Container Apps (workload profiles; https://learn.microsoft.com/azure/container-apps/
firewall-integration, "NSG allow rules"): the clients (here every Application Gateway's subnet)
reach the environment's subnet on 80, 443 and 30000-32676; `AzureLoadBalancer` reaches the same
range; the subnet's own addresses reach each other on every port and protocol. The page also
warns that deny rules with a priority below 65000 "might cause service interruption".

PostgreSQL Flexible Server (VNet-integrated, delegated subnet): high availability needs
destination ports 5432 and 6432 within the subnet and outbound Azure Storage (WAL archival),
and a server with Entra authentication needs outbound Microsoft Entra ID
(https://learn.microsoft.com/azure/postgresql/flexible-server/concepts-networking-private;
MicrosoftDocs/azure-docs #91402, which quotes the 5432/6432 sentence).

An NSG that blocks one of these leaves the app unreachable or the database without HA although
the apply succeeds. The rule: each NSG associated with a subnet (its own rules, inline or
`azurerm_network_security_rule`, then Azure's default rules, in priority order, first match per
port as NSGs evaluate) admits every flow the subnet's services require.
"""

import ipaddress
from typing import Any

from groundwork_policy import (
    GroundworkCheck,
    Stack,
    Verdict,
    address_of,
    azure_delegated_to,
    blocks,
    combine,
)

CONTAINER_APPS = "Microsoft.App/environments"
POSTGRES = "Microsoft.DBforPostgreSQL/flexibleServers"
DYNAMIC = (30000, 32676)
ALL_PORTS = (0, 65535)
GATEWAY_MANAGER = (65200, 65535)
# https://learn.microsoft.com/azure/virtual-network/network-security-groups-overview#default-security-rules
DEFAULT_RULES = {
    "Inbound": (
        {"priority": 65000, "access": "Allow", "peer": ["VirtualNetwork"], "protocol": "*"},
        {"priority": 65001, "access": "Allow", "peer": ["AzureLoadBalancer"], "protocol": "*"},
        {"priority": 65500, "access": "Deny", "peer": ["*"], "protocol": "*"},
    ),
    "Outbound": (
        {"priority": 65000, "access": "Allow", "peer": ["VirtualNetwork"], "protocol": "*"},
        {"priority": 65001, "access": "Allow", "peer": ["Internet"], "protocol": "*"},
        {"priority": 65500, "access": "Deny", "peer": ["*"], "protocol": "*"},
    ),
}
ANY = {"*", "Any", "any", "0.0.0.0/0", "Internet"}
# Service tags of public Azure services: the `Internet` tag covers them, `VirtualNetwork` not.
PUBLIC_TAGS = {"GatewayManager", "Storage", "AzureActiveDirectory"}
# On an Application Gateway subnet these must be allowed "with the destination subnet as Any":
# v2 refuses the subnet otherwise (ApplicationGatewaySubnetInboundTrafficBlockedByNetwork-
# SecurityGroup, MicrosoftDocs/azure-docs #46877 and #59107, where a narrower destination failed
# and Any succeeded).
GATEWAY_ANY_TARGET = {"GatewayManager", "AzureLoadBalancer"}


def _list(body: dict[str, Any], one: str, many: str) -> list[str]:
    values = [body[one]] if body.get(one) not in (None, "") else []
    return [str(v) for v in values + list(body.get(many) or [])]


def _ports(rule: dict[str, Any]) -> set[int]:
    ports: set[int] = set()
    for item in _list(rule, "destination_port_range", "destination_port_ranges"):
        if item == "*":
            return set(range(ALL_PORTS[0], ALL_PORTS[1] + 1))
        low, _, high = item.partition("-")
        ports |= set(range(int(low), int(high or low) + 1))
    return ports


def _network(value: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(value, strict=False)
    except ValueError:
        return None


def _matches(prefixes: list[str], source: str) -> bool:
    """Whether a rule's peer prefixes include the flow's peer (a CIDR or service tag)."""
    flow = _network(source)
    for prefix in prefixes:
        if prefix in ANY - {"Internet"} or prefix == source:
            return True
        if source in PUBLIC_TAGS and (prefix == "Internet" or prefix.split(".")[0] == source):
            return True  # `Storage.WestEurope` is a regional part of `Storage`
        if flow is not None and prefix == "VirtualNetwork" and flow.is_private:
            return True
        if prefix == "VirtualNetwork" and source == "AzureLoadBalancer":
            return True  # the tag includes the host address 168.63.129.16 (module docstring)
        rule = _network(prefix)
        same_family = flow is not None and rule is not None and flow.version == rule.version
        if same_family and flow.subnet_of(rule):  # type: ignore[arg-type,union-attr]
            return True
    return False


def _admitted(
    rules: list[dict[str, Any]], source: str, protocol: str, ports: set[int], any_target: bool
) -> bool:
    """First match wins per port, in priority order (how NSGs evaluate inbound traffic).

    `any_target`: only an allow whose destination is Any counts (Application Gateway's
    validation, module docstring); a deny counts whatever its destination."""
    open_ports = set(ports)
    for rule in sorted(rules, key=lambda r: int(r["priority"])):
        if str(rule["protocol"]).lower() not in ("*", "any", protocol.lower()):
            continue
        if not _matches(rule["peer"], source):
            continue
        hit = open_ports & rule["ports"]
        if hit and rule["access"] == "Deny":
            return False
        if any_target and not set(rule.get("target", ["*"])) & {"*", "Any", "any"}:
            continue
        open_ports -= hit
        if not open_ports:
            return True
    return not open_ports


class SubnetNsgAdmitsPlatform(GroundworkCheck):
    id = "CKV_GW_DEPLOY_84"
    name = "Every subnet's NSG admits the paths its platform services require"
    requirement = "DEPLOY-6"
    severity = "HIGH"
    resource_types = ("azurerm_subnet",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        nsgs = _nsgs(self._address[1], stack)
        if not nsgs:
            return Verdict.passed("no NSG: Azure admits the platform's paths")
        own = [str(p) for p in body.get("address_prefixes") or []]
        if len(own) != 1:
            return Verdict.unknown(f"address_prefixes {own} is not one prefix")
        flows = _flows(self.address, body, own[0], stack)
        container_apps = azure_delegated_to(body, CONTAINER_APPS)
        gateway = _gateway_subnet(self.address, stack)
        verdicts = []
        for nsg_name, rules in nsgs.items():
            for rule in rules["Inbound"] if container_apps else []:
                if rule["access"] == "Deny" and int(rule["priority"]) < 65000:
                    verdicts.append(
                        Verdict.failed(
                            f"{nsg_name} denies at priority {rule['priority']}; Container Apps "
                            "warns deny rules below 65000 may interrupt the service"
                        )
                    )
            for rule in rules["Outbound"] if gateway else []:
                if rule["access"] == "Deny":
                    verdicts.append(
                        Verdict.failed(
                            f"{nsg_name} denies outbound at priority {rule['priority']}; "
                            "Application Gateway's outbound connectivity can't be blocked"
                        )
                    )
            for direction, peer, protocol, (low, high), why in flows:
                ports = set(range(low, high + 1))
                any_target = gateway and peer in GATEWAY_ANY_TARGET
                candidates = rules[direction] + _defaults(direction)
                if not _admitted(candidates, peer, protocol, ports, any_target):
                    way = "from" if direction == "Inbound" else "to"
                    verdicts.append(
                        Verdict.failed(
                            f"{nsg_name} blocks {direction} {protocol} {way} {peer} on "
                            f"{low}-{high} ({why})"
                        )
                    )
        return combine(verdicts or [Verdict.passed("admits every path the platform requires")])


Flow = tuple[str, str, str, tuple[int, int], str]


def _flows(address: str, body: dict[str, Any], own: str, stack: Stack) -> list[Flow]:
    """(direction, peer, protocol, ports, why) of every path the subnet's services need."""
    flows: list[Flow] = [("Inbound", "AzureLoadBalancer", "Tcp", ALL_PORTS, "Azure health probes")]
    if azure_delegated_to(body, CONTAINER_APPS):
        flows += [("Inbound", own, p, ALL_PORTS, "Container Apps subnet") for p in ("Tcp", "Udp")]
        for gateway in _gateway_prefixes(stack):
            for ports in ((80, 80), (443, 443), DYNAMIC):
                flows.append(("Inbound", gateway, "Tcp", ports, "Container Apps client"))
    if _gateway_subnet(address, stack):
        flows.append(("Inbound", "GatewayManager", "Tcp", GATEWAY_MANAGER, "Application Gateway"))
    if azure_delegated_to(body, POSTGRES):
        for port in (5432, 6432):
            flows.append(("Inbound", own, "Tcp", (port, port), "PostgreSQL HA"))
        flows.append(("Outbound", "Storage", "Tcp", (443, 443), "PostgreSQL WAL archival"))
        if _entra_servers(address, stack):
            flows.append(("Outbound", "AzureActiveDirectory", "Tcp", (443, 443), "Entra auth"))
    return flows


def _gateway_subnet(address: str, stack: Stack) -> bool:
    return any(
        address_of(config.get("subnet_id")) == address
        for gateway in stack.resources("azurerm_application_gateway").values()
        for config in blocks(gateway, "gateway_ip_configuration")
    )


def _entra_servers(address: str, stack: Stack) -> bool:
    """Whether a flexible server in the subnet authenticates with Microsoft Entra ID."""
    return any(
        address_of(server.get("delegated_subnet_id")) == address
        and any(a.get("active_directory_auth_enabled") for a in blocks(server, "authentication"))
        for server in stack.resources("azurerm_postgresql_flexible_server").values()
    )


def _defaults(direction: str) -> list[dict[str, Any]]:
    every = set(range(ALL_PORTS[0], ALL_PORTS[1] + 1))
    return [dict(rule, ports=every) for rule in DEFAULT_RULES[direction]]


def _rule(body: dict[str, Any]) -> dict[str, Any] | None:
    direction = body.get("direction")
    if direction not in DEFAULT_RULES:
        return None
    side, other = ("source", "destination") if direction == "Inbound" else ("destination", "source")
    return {
        "direction": direction,
        "priority": body.get("priority", 0),
        "access": body.get("access"),
        "protocol": body.get("protocol", "*"),
        "peer": _list(body, f"{side}_address_prefix", f"{side}_address_prefixes"),
        "target": _list(body, f"{other}_address_prefix", f"{other}_address_prefixes") or ["*"],
        "ports": _ports(body),
    }


def _nsgs(subnet: str, stack: Stack) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """`{direction: rules}` of each NSG associated with `subnet`, keyed by the NSG's address."""
    found: dict[str, dict[str, list[dict[str, Any]]]] = {}
    associations = stack.resources("azurerm_subnet_network_security_group_association")
    for association in associations.values():
        if address_of(association.get("subnet_id")) != f"azurerm_subnet.{subnet}":
            continue
        nsg = address_of(association.get("network_security_group_id"))
        if nsg is None or not nsg.startswith("azurerm_network_security_group."):
            continue
        nsg_body = stack.resources("azurerm_network_security_group").get(nsg.split(".", 1)[1], {})
        bodies = blocks(nsg_body, "security_rule")
        bodies += [
            rule
            for rule in stack.resources("azurerm_network_security_rule").values()
            if address_of(rule.get("network_security_group_name")) == nsg
        ]
        rules = [r for r in map(_rule, bodies) if r is not None]
        found[nsg] = {d: [r for r in rules if r["direction"] == d] for d in DEFAULT_RULES}
    return found


def _gateway_prefixes(stack: Stack) -> list[str]:
    """The address prefixes of every Application Gateway's subnet: the environment's clients."""
    subnets = stack.resources("azurerm_subnet")
    prefixes = []
    for gateway in stack.resources("azurerm_application_gateway").values():
        for config in blocks(gateway, "gateway_ip_configuration"):
            subnet = address_of(config.get("subnet_id"))
            if subnet and subnet.startswith("azurerm_subnet."):
                body = subnets.get(subnet.split(".", 1)[1], {})
                prefixes += [str(p) for p in body.get("address_prefixes") or []]
    return prefixes


check = SubnetNsgAdmitsPlatform()
