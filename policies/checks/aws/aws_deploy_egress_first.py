"""Builds CKV_GW_DEPLOY_11: every apply-time invocation of work that runs in VPC subnets
depends on those subnets' way out: the default route and the route-table association
(DEPLOY-2).

A VPC Lambda reaches AWS APIs (Secrets Manager, ECS) and a Fargate task reaches public
registries only through the NAT route of its subnets ("Giving Lambda functions access to
resources in an Amazon VPC",
https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html#vpc-internet). Terraform
creates routes in parallel with everything that does not refer to them, so a rotation with
`rotate_immediately` or an `aws_lambda_invocation` could run before the route exists and
fail, or time out, on the first apply. Judged on `aws_secretsmanager_secret_rotation` (with
`rotate_immediately`, the default) and `aws_lambda_invocation`: the subnets are those of the
invoked function's `vpc_config` and those named in the invocation's input.
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


class EgressFirst(GroundworkCheck):
    id = "CKV_GW_DEPLOY_11"
    name = "Apply-time work in VPC subnets waits for their NAT route"
    requirement = "DEPLOY-2"
    severity = "HIGH"
    resource_types = ("aws_secretsmanager_secret_rotation", "aws_lambda_invocation")
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        graph = stack.graph
        if self._address[0] == "aws_secretsmanager_secret_rotation":
            if body.get("rotate_immediately") is False:
                return Verdict.passed("no rotation runs at apply time")
            function = address_of(body.get("rotation_lambda_arn"))
        else:
            function = address_of(body.get("function_name"))
        if function is None or function not in graph.bodies:
            return Verdict.unknown("the invoked function is not in this stack")
        vpc = [c.get("subnet_ids") for c in blocks(graph.bodies[function], "vpc_config")]
        subnets = _subnets(stack, [*vpc, body.get("input")])
        if not subnets:
            return Verdict.passed("the work runs outside any VPC subnet of this stack")
        verdicts = []
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
            else Verdict.passed(f"waits for the routes of {len(subnets)} subnets")
        )


check = EgressFirst()
