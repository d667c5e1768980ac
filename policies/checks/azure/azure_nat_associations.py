"""Builds CKV_GW_NET_75: every NAT gateway association joins this stack's NAT gateway to this
stack's app subnet or public IP (NET-1).

The app tier's egress is the NAT gateway: the subnet association is what routes the app
subnet through it, and the public IP association is its address. An association to a subnet
of another tier (gateway, data, endpoints) or to a resource outside the stack breaks the
tier layout (https://learn.microsoft.com/azure/nat-gateway/nat-overview).
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of

TARGETS = {
    "azurerm_subnet_nat_gateway_association": ("subnet_id", "azurerm_subnet."),
    "azurerm_nat_gateway_public_ip_association": ("public_ip_address_id", "azurerm_public_ip."),
}


class NatAssociations(GroundworkCheck):
    id = "CKV_GW_NET_75"
    name = "NAT gateway associations join the stack's NAT gateway to its app subnet and IP"
    requirement = "NET-1"
    severity = "MEDIUM"
    resource_types = tuple(TARGETS)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        nat = address_of(body.get("nat_gateway_id"))
        if (
            nat is None
            or not nat.startswith("azurerm_nat_gateway.")
            or nat not in stack.graph.bodies
        ):
            return Verdict.failed(
                f"nat_gateway_id {body.get('nat_gateway_id')!r} is not this stack's"
            )
        attribute, prefix = TARGETS[self._address[0]]
        target = address_of(body.get(attribute))
        if target is None or not target.startswith(prefix) or target not in stack.graph.bodies:
            return Verdict.failed(f"{attribute} {body.get(attribute)!r} is not in this stack")
        if prefix == "azurerm_subnet.":
            delegations = stack.graph.bodies[target].get("delegation") or []
            delegations = delegations if isinstance(delegations, list) else [delegations]
            services = {
                d.get("service_delegation", {}).get("name")
                for d in delegations
                if isinstance(d, dict)
            }
            if "Microsoft.App/environments" not in services:
                return Verdict.failed(f"{target} is not the app (Container Apps) subnet")
        return Verdict.passed(f"{nat} -> {target}")


check = NatAssociations()
