"""Builds CKV_GW_NET_4: the internet gateway belongs to the environment's own VPC and the
public tier routes to it (NET-1).

A dedicated VPC per environment has its own gateway; the public subnets (the load balancer's)
reach the internet through a default route to it, and no other tier does (the app tier goes
out through NAT, the data tier not at all).
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, blocks


class InternetGateway(GroundworkCheck):
    id = "CKV_GW_NET_4"
    name = "Internet gateway is attached to the stack's VPC and the public route uses it"
    requirement = "NET-1"
    severity = "MEDIUM"
    resource_types = ("aws_internet_gateway",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        vpc = address_of(body.get("vpc_id"))
        if vpc is None or not vpc.startswith("aws_vpc.") or vpc not in stack.graph.bodies:
            return Verdict.failed(f"vpc_id {body.get('vpc_id')!r} is not this stack's VPC")
        default_routes = [
            address
            for address, route in stack.graph.of_type("aws_route", "aws_route_table").items()
            if any(
                address_of(r.get("gateway_id")) == self.address
                and r.get("destination_cidr_block", route.get("destination_cidr_block"))
                == "0.0.0.0/0"
                for r in [route, *blocks(route, "route")]
            )
        ]
        if not default_routes:
            return Verdict.failed("no default route (0.0.0.0/0) uses this gateway")
        return Verdict.passed(f"attached to {vpc}; default route {default_routes[0]}")


check = InternetGateway()
