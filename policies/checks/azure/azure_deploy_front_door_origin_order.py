"""Builds CKV_GW_DEPLOY_98: every Front Door origin, and every route that uses it, waits for
the Application Gateway it sends traffic to (DEPLOY-2).

An origin names its backend by host name (`origin.<domain>`, never an IP: CKV_GW_DEPLOY_96),
which Terraform cannot see as a reference, so nothing orders the origin after the gateway
unless the stack says so. Created first, the origin and its routes go live at once: Front
Door's health probes and the first requests reach a gateway that is still being built (an
Application Gateway takes minutes to provision) and answer 5xx, which the OBS-2 alerts report
as an outage of a stack that is only being created. Waiting for the gateway's public IP is not
enough: the IP exists minutes before the gateway listens on it.

Judged on `azurerm_cdn_frontdoor_origin` whose `host_name` a gateway of the stack answers
(one of its HTTPS listeners' host names) or that refers to one of its public IPs, and on
`azurerm_cdn_frontdoor_route`, through the origins it names (`cdn_frontdoor_origin_ids`) or,
if it names none, every origin of its origin group.
"""

from __future__ import annotations

from typing import Any

from azure_cdn import gateway_hosts
from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, blocks

ORIGIN = "azurerm_cdn_frontdoor_origin"
ROUTE = "azurerm_cdn_frontdoor_route"


def gateways_of(stack: Stack, origin: dict[str, Any]) -> set[str]:
    """The stack's Application Gateways an origin sends traffic to (addresses)."""
    host = origin.get("host_name")
    found = {gateway for gateway, hosts in gateway_hosts(stack).items() if host in hosts}
    ip = address_of(host)
    for name, gateway in stack.resources("azurerm_application_gateway").items():
        if ip and any(
            address_of(frontend.get("public_ip_address_id")) == ip
            for frontend in blocks(gateway, "frontend_ip_configuration")
        ):
            found.add(f"azurerm_application_gateway.{name}")
    return found


def origins_of(stack: Stack, route: dict[str, Any]) -> list[str]:
    """The origins (addresses) a route sends to."""
    named = [address_of(o) for o in route.get("cdn_frontdoor_origin_ids") or []]
    if named:
        return [o for o in named if o]
    group = address_of(route.get("cdn_frontdoor_origin_group_id"))
    return [
        f"{ORIGIN}.{name}"
        for name, origin in stack.resources(ORIGIN).items()
        if address_of(origin.get("cdn_frontdoor_origin_group_id")) == group
    ]


class FrontDoorWaitsForGateway(GroundworkCheck):
    id = "CKV_GW_DEPLOY_98"
    name = "Front Door origins and their routes wait for the gateway they send traffic to"
    requirement = "DEPLOY-2"
    severity = "MEDIUM"
    resource_types = (ORIGIN, ROUTE)
    needs_config = False

    def _targets(self, body: dict[str, Any], stack: Stack) -> set[str]:
        if self._address[0] == ORIGIN:
            return gateways_of(stack, body)
        origins = stack.resources(ORIGIN)
        return {
            gateway
            for origin in origins_of(stack, body)
            for gateway in gateways_of(stack, origins.get(origin.split(".", 1)[1], {}))
        }

    def applies(self, body: dict[str, Any], stack: Stack) -> bool:
        return bool(self._targets(body, stack))

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        targets = sorted(self._targets(body, stack))
        early = [g for g in targets if not stack.graph.needs(self.address, g)]
        if early:
            return Verdict.failed(
                f"goes live before {early} exists: probes and requests reach a gateway that "
                "is still being built"
            )
        return Verdict.passed(f"waits for {targets}")


check = FrontDoorWaitsForGateway()
