"""Builds CKV_GW_DEPLOY_11: everything that starts work in VPC subnets during the apply
depends on those subnets' way out (the default route and the route-table association) and
on every rule of the security groups the work runs in (DEPLOY-2): an apply-time invocation,
a rotation run at creation, and every ECS service (its first tasks start as soon as the
service exists).

A VPC Lambda reaches AWS APIs (Secrets Manager, ECS) and a Fargate task reaches public
registries only through the NAT route of its subnets ("Giving Lambda functions access to
resources in an Amazon VPC",
https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html#vpc-internet). Terraform
creates routes in parallel with everything that does not refer to them, so a rotation with
`rotate_immediately` or an `aws_lambda_invocation` could run before the route exists and
fail, or time out, on the first apply. Judged on `aws_secretsmanager_secret_rotation` (with
`rotate_immediately`, the default) and `aws_lambda_invocation`: the subnets are those of the
invoked function's `vpc_config` and those named in the invocation's input. An
`aws_ecs_service`'s are its `network_configuration`'s: its tasks pull their images, read
their secrets, reach the database and answer the load balancer's checks through them, and a
task that fails its first health checks or migration before the rules exist is stopped and
counted against the deployment circuit breaker.

Security groups: Terraform removes the default allow-all egress rule of every
`aws_security_group` it creates ("NOTE on Egress rules",
https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/security_group),
so the work reaches nothing until its group's standalone rules exist. The groups are those of
the function's `vpc_config`, those named in the invocation's input (a task it starts) and an
ECS service's `network_configuration.security_groups`; the rules are every
`aws_vpc_security_group_{ingress,egress}_rule` / `aws_security_group_rule` of those groups,
and every rule of another group that names them (the database's ingress from them, the load
balancer's egress to them).
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, blocks, combine


def _subnets(stack: Stack, values: list[Any]) -> set[str]:
    graph = stack.graph
    found: set[str] = set()
    for value in values:
        for text in value if isinstance(value, list) else [value]:
            found |= {a for a in graph.bodies if a.startswith("aws_subnet.") and a in str(text)}
    return found


RULE_TYPES = (
    "aws_vpc_security_group_egress_rule",
    "aws_vpc_security_group_ingress_rule",
    "aws_security_group_rule",
)


def _groups(stack: Stack, values: list[Any]) -> set[str]:
    graph = stack.graph
    found: set[str] = set()
    for value in values:
        for text in value if isinstance(value, list) else [value]:
            found |= {
                a
                for a in graph.bodies
                if a.startswith("aws_security_group.") and f"{a}." in str(text)
            }
    return found


def _rules(stack: Stack, groups: set[str]) -> list[str]:
    """The rules of `groups`, and the rules of other groups that name them."""
    graph = stack.graph
    found = []
    for kind in RULE_TYPES:
        for address, rule in graph.of_type(kind).items():
            own = address_of(rule.get("security_group_id")) in groups
            peer = address_of(rule.get("referenced_security_group_id")) in groups or (
                address_of(rule.get("source_security_group_id")) in groups
            )
            if own or peer:
                found.append(address)
    return found


class EgressFirst(GroundworkCheck):
    id = "CKV_GW_DEPLOY_11"
    name = "Apply-time work in VPC subnets waits for their NAT route and security-group rules"
    requirement = "DEPLOY-2"
    severity = "HIGH"
    resource_types = (
        "aws_secretsmanager_secret_rotation",
        "aws_lambda_invocation",
        "aws_ecs_service",
    )
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        graph = stack.graph
        if self._address[0] == "aws_ecs_service":
            configs = blocks(body, "network_configuration")
            subnets = _subnets(stack, [c.get("subnets") for c in configs])
            if not subnets:
                return Verdict.passed("the service's tasks run outside any VPC subnet here")
            groups = _groups(stack, [c.get("security_groups") for c in configs])
            return self._verdict(stack, subnets, groups)
        if self._address[0] == "aws_secretsmanager_secret_rotation":
            if body.get("rotate_immediately") is False:
                return Verdict.passed("no rotation runs at apply time")
            function = address_of(body.get("rotation_lambda_arn"))
        else:
            function = address_of(body.get("function_name"))
        if function is None or function not in graph.bodies:
            return Verdict.unknown("the invoked function is not in this stack")
        configs = blocks(graph.bodies[function], "vpc_config")
        vpc = [c.get("subnet_ids") for c in configs]
        subnets = _subnets(stack, [*vpc, body.get("input")])
        if not subnets:
            return Verdict.passed("the work runs outside any VPC subnet of this stack")
        groups = _groups(
            stack, [*(c.get("security_group_ids") for c in configs), body.get("input")]
        )
        return self._verdict(stack, subnets, groups)

    def _verdict(self, stack: Stack, subnets: set[str], groups: set[str]) -> Verdict:
        graph = stack.graph
        verdicts = [
            Verdict.failed(f"runs before {rule} opens its security group's path")
            for rule in _rules(stack, groups)
            if not graph.needs(self.address, rule)
        ]
        for association, assoc in graph.of_type("aws_route_table_association").items():
            if address_of(assoc.get("subnet_id")) not in subnets:
                continue
            table = address_of(assoc.get("route_table_id"))
            routes = [
                a
                for a, r in graph.of_type("aws_route").items()
                if address_of(r.get("route_table_id")) == table
                and r.get("destination_cidr_block") == "0.0.0.0/0"
            ]
            for needed in [association, *routes]:
                if not graph.needs(self.address, needed):
                    verdicts.append(Verdict.failed(f"runs before {needed} exists"))
        return (
            combine(verdicts)
            if verdicts
            else Verdict.passed(
                f"waits for the routes of {len(subnets)} subnets and the rules of"
                f" {len(groups)} security groups"
            )
        )


check = EgressFirst()
