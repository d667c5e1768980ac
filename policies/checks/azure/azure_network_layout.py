"""Builds CKV_GW_NET_70: the VNet is the environment's own (its configured CIDR) and holds the
public, private-app and private-data subnet tiers (NET-1).

Azure subnets span every zone of the region, so one subnet per tier covers the zones; NAT per
zone is a separate question (see the final report of this policy set)."""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, combine

TIERS = ("public", "app", "data")


class AzureNetworkLayout(GroundworkCheck):
    id = "CKV_GW_NET_70"
    name = "The VNet uses the environment's CIDR and has public, app and data subnets"
    requirement = "NET-1"
    severity = "HIGH"
    resource_types = ("azurerm_virtual_network",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        cidr = stack.config.network.cidr
        space = body.get("address_space")
        verdicts = []
        if space != [cidr]:
            verdicts.append(
                Verdict.failed(f"address_space is {space}; network.cidr wants [{cidr}]")
            )
        names = [
            str(subnet.get("name", ""))
            for subnet in stack.resources("azurerm_subnet").values()
            if address_of(subnet.get("virtual_network_name")) == self.address
        ]
        for tier in TIERS:
            if not any(name.endswith(f"-{tier}") for name in names):
                verdicts.append(Verdict.failed(f"no {tier} subnet in this VNet"))
        return combine(verdicts or [Verdict.passed(f"{cidr} with subnets {sorted(names)}")])


check = AzureNetworkLayout()
