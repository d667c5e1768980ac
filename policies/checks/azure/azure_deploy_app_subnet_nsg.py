"""Builds CKV_GW_DEPLOY_84: every Container Apps subnet's NSG admits what the platform needs
(DEPLOY-6: after the apply the app works).

Microsoft's inbound NSG rules for a workload-profile environment
(https://learn.microsoft.com/azure/container-apps/firewall-integration, "NSG allow rules"):
the clients (here every Application Gateway's subnet) reach the environment's subnet on 80, 443
and 30000-32676, a range whose ports the platform picks when it creates the environment;
`AzureLoadBalancer` reaches the same range; the subnet's own addresses reach each other on every
port and protocol. The page also warns that deny rules with a priority below 65000 "might cause
service interruption and unexpected behavior". An NSG that blocks any of these leaves the app
unreachable (the gateway's backend is unhealthy) although the apply succeeds.

The rule: for every subnet delegated to Microsoft.App/environments, each NSG associated with it
(its own rules, inline or `azurerm_network_security_rule`, then Azure's default inbound rules
AllowVnetInBound 65000, AllowAzureLoadBalancerInBound 65001 and DenyAllInBound 65500, in
priority order) admits every one of those flows, and has no inbound deny rule below 65000.
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
DYNAMIC = (30000, 32676)
ALL_PORTS = (0, 65535)
# https://learn.microsoft.com/azure/virtual-network/network-security-groups-overview#default-security-rules
DEFAULT_RULES = (
    {"priority": 65000, "access": "Allow", "source": ["VirtualNetwork"], "protocol": "*"},
    {"priority": 65001, "access": "Allow", "source": ["AzureLoadBalancer"], "protocol": "*"},
    {"priority": 65500, "access": "Deny", "source": ["*"], "protocol": "*"},
)
ANY = {"*", "Any", "any", "0.0.0.0/0", "Internet"}


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
    """Whether a rule's source prefixes include the flow's source (a CIDR or service tag)."""
    flow = _network(source)
    for prefix in prefixes:
        if prefix in ANY - {"Internet"} or prefix == source:
            return True
        if flow is not None and prefix == "VirtualNetwork" and flow.is_private:
            return True
        rule = _network(prefix)
        same_family = flow is not None and rule is not None and flow.version == rule.version
        if same_family and flow.subnet_of(rule):  # type: ignore[arg-type,union-attr]
            return True
    return False


def _admitted(rules: list[dict[str, Any]], source: str, protocol: str, ports: set[int]) -> bool:
    """First match wins per port, in priority order (how NSGs evaluate inbound traffic)."""
    open_ports = set(ports)
    for rule in sorted(rules, key=lambda r: int(r["priority"])):
        if str(rule["protocol"]).lower() not in ("*", "any", protocol.lower()):
            continue
        if not _matches(rule["source"], source):
            continue
        hit = open_ports & rule["ports"]
        if hit and rule["access"] == "Deny":
            return False
        open_ports -= hit
        if not open_ports:
            return True
    return not open_ports


class AppSubnetNsgAdmitsPlatform(GroundworkCheck):
    id = "CKV_GW_DEPLOY_84"
    name = "Every Container Apps subnet's NSG admits the paths Container Apps requires"
    requirement = "DEPLOY-6"
    severity = "HIGH"
    resource_types = ("azurerm_subnet",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        if not azure_delegated_to(body, CONTAINER_APPS):
            return Verdict.passed("not a Container Apps subnet")
        own = [str(p) for p in body.get("address_prefixes") or []]
        if len(own) != 1:
            return Verdict.unknown(f"address_prefixes {own} is not one prefix")
        flows = [(own[0], "Tcp", ALL_PORTS, "the subnet itself"), (own[0], "Udp", ALL_PORTS, "")]
        flows.append(("AzureLoadBalancer", "Tcp", DYNAMIC, "the platform's load balancer"))
        for gateway in _gateway_prefixes(stack):
            for ports in ((80, 80), (443, 443), DYNAMIC):
                flows.append((gateway, "Tcp", ports, "the gateway"))
        verdicts = []
        for nsg_name, rules in _nsgs(self._address[1], stack).items():
            for rule in rules:
                if rule["access"] == "Deny" and int(rule["priority"]) < 65000:
                    verdicts.append(
                        Verdict.failed(
                            f"{nsg_name} denies at priority {rule['priority']}; Container Apps "
                            "warns deny rules below 65000 may interrupt the service"
                        )
                    )
            for source, protocol, (low, high), _ in flows:
                ports = set(range(low, high + 1))
                if not _admitted(rules + _defaults(), source, protocol, ports):
                    verdicts.append(
                        Verdict.failed(f"{nsg_name} blocks {protocol} {source} to {low}-{high}")
                    )
        return combine(verdicts or [Verdict.passed("admits every path Container Apps requires")])


def _defaults() -> list[dict[str, Any]]:
    return [dict(rule, ports=set(range(ALL_PORTS[0], ALL_PORTS[1] + 1))) for rule in DEFAULT_RULES]


def _rule(body: dict[str, Any]) -> dict[str, Any] | None:
    if body.get("direction") != "Inbound":
        return None
    return {
        "priority": body.get("priority", 0),
        "access": body.get("access"),
        "protocol": body.get("protocol", "*"),
        "source": _list(body, "source_address_prefix", "source_address_prefixes"),
        "ports": _ports(body),
    }


def _nsgs(subnet: str, stack: Stack) -> dict[str, list[dict[str, Any]]]:
    """Inbound rules of each NSG associated with `subnet`, keyed by the NSG's address."""
    found: dict[str, list[dict[str, Any]]] = {}
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
        found[nsg] = [r for r in map(_rule, bodies) if r is not None]
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


check = AppSubnetNsgAdmitsPlatform()
