"""Builds CKV_GW_NET_74: egress survives the loss of a zone where the environment asks for
NAT per zone (NET-1; floor `network.nat_gateways: per_zone` from synth.config.FLOORS):
one zonal NAT gateway per zone used, each attached to the app subnet's egress."""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, combine, floor_verdicts


class AzureNatPerZone(GroundworkCheck):
    id = "CKV_GW_NET_74"
    name = "One zonal NAT gateway per zone where the config asks for per-zone NAT"
    requirement = "NET-1"
    severity = "HIGH"
    resource_types = ("azurerm_virtual_network",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        network = stack.config.network
        zones = {z for nat in stack.resources("azurerm_nat_gateway").values()
                 for z in nat.get("zones") or []}  # fmt: skip
        built = "per_zone" if len(zones) >= network.zones else "single"
        verdicts = floor_verdicts(stack, "NET-1", "network.nat_gateways", built)
        if network.nat_gateways == "per_zone" and built != "per_zone":
            verdicts.append(
                Verdict.failed(
                    f"NAT gateways cover zones {sorted(zones)}; network.nat_gateways is per_zone "
                    f"over {network.zones} zones"
                )
            )
        return combine(verdicts or [Verdict.passed(f"NAT {built} ({sorted(zones)})")])


check = AzureNatPerZone()
