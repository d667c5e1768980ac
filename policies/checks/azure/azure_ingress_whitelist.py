"""Builds CKV_GW_NET_71: NSG allow rules admit only the NET-3 paths: the internet reaches only
the gateway's 443 (and 80, which redirects), Azure's GatewayManager its control ports, and
nothing allows all ports (NET-3). Internet is any set of prefixes that covers 0.0.0.0/0 or
::/0, or the "*" / "Internet" / "Any" sources (synth/cidrs.py).

No all-ports rule passes, whatever its source. Two are required by the platform (a Container
Apps subnet reaching itself on every port, https://learn.microsoft.com/azure/container-apps/
firewall-integration; `AzureLoadBalancer` probes on any port, https://learn.microsoft.com/azure/
application-gateway/configuration-infrastructure): they fail here and the construct that builds
them declares a reasoned waiver (constructs/azure/network.py), so the report shows the NET-3
deviation instead of a pass."""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict

from synth.cidrs import covers_internet, internet_with

INTERNET_PORTS = {"443", "80"}
# Application Gateway v2 needs these from the GatewayManager service tag (not the internet).
GATEWAY_MANAGER_PORTS = "65200-65535"


def _values(body: dict[str, Any], one: str, many: str) -> list[str]:
    values = [body[one]] if body.get(one) is not None else []
    return [str(v) for v in values + list(body.get(many) or [])]


class AzureIngressWhitelist(GroundworkCheck):
    id = "CKV_GW_NET_71"
    name = "NSG inbound allow rules admit only the whitelisted NET-3 paths"
    requirement = "NET-3"
    severity = "HIGH"
    resource_types = ("azurerm_network_security_rule",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        direction, access = body.get("direction"), body.get("access")
        if direction is None or access is None:
            return Verdict.failed("direction and access must be explicit")
        if direction != "Inbound" or access != "Allow":
            return Verdict.passed(f"{direction} {access}")
        ports = _values(body, "destination_port_range", "destination_port_ranges")
        sources = _values(body, "source_address_prefix", "source_address_prefixes")
        if not sources:
            return Verdict.failed("no source is set")
        if not ports or "*" in ports:
            return Verdict.failed(f"allows all ports ({ports})")
        peers: list[str] = []
        if not covers_internet(sources):
            # Prefixes split over several allow rules of one NSG on the same ports add up.
            for peer in stack.resources(self._address[0]).values():
                same_group = peer.get("network_security_group_name") == body.get(
                    "network_security_group_name"
                )
                if (
                    same_group
                    and (peer.get("direction"), peer.get("access")) == ("Inbound", "Allow")
                    and set(_values(peer, "destination_port_range", "destination_port_ranges"))
                    & set(ports)
                ):
                    peers += _values(peer, "source_address_prefix", "source_address_prefixes")
        if internet_with(sources, peers):
            if set(ports) <= INTERNET_PORTS:
                return Verdict.passed(f"internet to {ports}")
            return Verdict.failed(f"internet ingress to {ports}; only 443 and 80 are allowed")
        if sources == ["GatewayManager"] and ports != [GATEWAY_MANAGER_PORTS]:
            return Verdict.failed(f"GatewayManager needs only {GATEWAY_MANAGER_PORTS}, got {ports}")
        return Verdict.passed(f"{sources} to {ports}")


check = AzureIngressWhitelist()
