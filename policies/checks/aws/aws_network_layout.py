"""Builds CKV_GW_NET_1: the VPC has the environment's CIDR, three subnet tiers over its zones
and its NAT gateways (NET-1; zone and NAT floors from synth.config.FLOORS)."""

from typing import Any

from groundwork_policy import (
    GroundworkCheck,
    Stack,
    Verdict,
    combine,
    expect_equal,
    floor_verdicts,
    references_to,
)

TIERS = 3  # public, private-app, private-data


class NetworkLayout(GroundworkCheck):
    id = "CKV_GW_NET_1"
    name = "VPC uses the environment's CIDR with three subnet tiers per zone and its NAT layout"
    requirement = "NET-1"
    severity = "HIGH"
    resource_types = ("aws_vpc",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        network = stack.config.network
        subnets = references_to(stack, "aws_subnet", "vpc_id", self.address)
        zones = {stack.resources("aws_subnet")[name].get("availability_zone") for name in subnets}
        nats = len(stack.resources("aws_nat_gateway"))
        wanted_nats = network.zones if network.nat_gateways == "per_zone" else 1
        layout = "per_zone" if nats == len(zones) and nats > 1 else "single"
        return combine(
            [
                expect_equal("cidr_block", body.get("cidr_block"), network.cidr, "network.cidr"),
                expect_equal("subnets", len(subnets), TIERS * network.zones,
                             "3 tiers x network.zones"),
                *floor_verdicts(stack, "NET-1", "network.zones", len(zones)),
                expect_equal("NAT gateways", nats, wanted_nats, "network.nat_gateways"),
                *floor_verdicts(stack, "NET-1", "network.nat_gateways", layout),
            ]
        )  # fmt: skip


check = NetworkLayout()
