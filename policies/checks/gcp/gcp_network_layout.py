"""Builds CKV_GW_NET_40: the VPC is custom-mode with public, app and data subnets inside the
environment's CIDR, and Cloud NAT has one address per zone where the config asks for it (NET-1).

A subnet's tier is the suffix of its name (`<app>-<env>-public|app|data`). GCP subnets are
regional (they span every zone), so the zone count shows only in the NAT: `nat_gateways:
per_zone` means one manually allocated NAT address per zone used.
"""

import ipaddress
from typing import Any

from groundwork_policy import (
    GroundworkCheck,
    Stack,
    Verdict,
    address_of,
    combine,
    floor_verdicts,
)

TIERS = ("public", "app", "data")


class NetworkLayout(GroundworkCheck):
    id = "CKV_GW_NET_40"
    name = "VPC is custom-mode with public, app and data subnets in the environment's CIDR"
    requirement = "NET-1"
    severity = "HIGH"
    resource_types = ("google_compute_network",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        network = stack.config.network
        cidr = ipaddress.ip_network(network.cidr)
        verdicts = []
        if body.get("auto_create_subnetworks") is not False:
            verdicts.append(Verdict.failed("auto_create_subnetworks must be false"))
        subnets = {
            name: sub
            for name, sub in stack.resources("google_compute_subnetwork").items()
            if address_of(sub.get("network")) == self.address
        }
        for tier in TIERS:
            found = [s for s in subnets.values() if str(s.get("name", "")).endswith(f"-{tier}")]
            if not found:
                verdicts.append(Verdict.failed(f"no {tier} subnet in this network"))
        for name, sub in subnets.items():
            try:
                inside = ipaddress.ip_network(sub.get("ip_cidr_range")).subnet_of(cidr)
            except (TypeError, ValueError):
                inside = False
            if not inside:
                verdicts.append(
                    Verdict.failed(f"subnet {name} {sub.get('ip_cidr_range')} is outside {cidr}")
                )
        nats = list(stack.resources("google_compute_router_nat").values())
        if not nats:
            verdicts.append(Verdict.failed("no Cloud NAT for the app tier's egress"))
        for nat in nats:
            ips = nat.get("nat_ips") or []
            shape = "per_zone" if len(ips) >= network.zones else "single"
            if network.nat_gateways == "per_zone" and shape != "per_zone":
                verdicts.append(
                    Verdict.failed(f"NAT has {len(ips)} addresses; per_zone wants {network.zones}")
                )
            verdicts.extend(floor_verdicts(stack, "NET-1", "network.nat_gateways", shape))
        verdicts.extend(floor_verdicts(stack, "NET-1", "network.zones", network.zones))
        return combine(verdicts or [Verdict.passed(f"three tiers inside {cidr}")])


check = NetworkLayout()
