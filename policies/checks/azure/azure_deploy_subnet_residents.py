"""Builds CKV_GW_DEPLOY_89: every resource placed in a subnet depends on every association of
that subnet and on every rule of the NSG associated with it (DEPLOY-2).

An NSG, NAT gateway or route table association is a PUT on the subnet that runs after the
subnet exists. A resource placed in the subnet meanwhile fails with "Cannot proceed with
operation because resource .../subnets/... is not in Succeeded state. Resource is in Updating
state and the last operation that updated/is updating the resource is PutSubnetOperation"
(hashicorp/terraform-provider-azurerm #17649) or "AnotherOperationInProgress"
(pulumi/pulumi-azure-native #699, #1024). The NSG's rules decide what the resource is created
behind: Application Gateway v2 refuses a subnet whose NSG blocks GatewayManager on
65200-65535 (https://learn.microsoft.com/azure/application-gateway/
configuration-infrastructure), which happens while a deny exists and its allow does not yet.

The rule: every Container Apps environment, PostgreSQL flexible server, private endpoint and
Application Gateway depends (through references or `depends_on`, transitively) on each
association of each subnet it is placed in, and on each `azurerm_network_security_rule` of the
NSGs associated with that subnet.
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, blocks

ASSOCIATIONS = (
    "azurerm_subnet_network_security_group_association",
    "azurerm_subnet_nat_gateway_association",
    "azurerm_subnet_route_table_association",
)
# The resource type -> the attribute (or block.attribute) naming the subnet it is placed in.
PLACED = {
    "azurerm_container_app_environment": "infrastructure_subnet_id",
    "azurerm_postgresql_flexible_server": "delegated_subnet_id",
    "azurerm_private_endpoint": "subnet_id",
    "azurerm_application_gateway": "gateway_ip_configuration.subnet_id",
}


def _subnets(body: dict[str, Any], attribute: str) -> list[str]:
    block, _, name = attribute.rpartition(".")
    values = [b.get(name) for b in blocks(body, block)] if block else [body.get(attribute)]
    found = [address_of(v) for v in values]
    return [a for a in found if a is not None and a.startswith("azurerm_subnet.")]


def _prerequisites(subnet: str, stack: Stack) -> list[str]:
    """Addresses of the subnet's associations and of its associated NSGs' rules."""
    needed, groups = [], []
    for kind in ASSOCIATIONS:
        for name, association in stack.resources(kind).items():
            if address_of(association.get("subnet_id")) == subnet:
                needed.append(f"{kind}.{name}")
                nsg = address_of(association.get("network_security_group_id"))
                if nsg is not None:
                    groups.append(nsg)
    for name, rule in stack.resources("azurerm_network_security_rule").items():
        if address_of(rule.get("network_security_group_name")) in groups:
            needed.append(f"azurerm_network_security_rule.{name}")
    return needed


class SubnetResidentsWait(GroundworkCheck):
    id = "CKV_GW_DEPLOY_89"
    name = "Every resource placed in a subnet waits for the subnet's associations and NSG rules"
    requirement = "DEPLOY-2"
    severity = "HIGH"
    resource_types = tuple(PLACED)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        subnets = _subnets(body, PLACED[self._address[0]])
        if not subnets:
            return Verdict.passed("placed in no subnet of this stack")
        missing = [
            needed
            for subnet in subnets
            for needed in _prerequisites(subnet, stack)
            if not stack.graph.needs(self.address, needed)
        ]
        if missing:
            return Verdict.failed(
                f"may start before {sorted(missing)} (PutSubnetOperation, #17649)"
            )
        return Verdict.passed(f"waits for every association and NSG rule of {subnets}")


check = SubnetResidentsWait()
