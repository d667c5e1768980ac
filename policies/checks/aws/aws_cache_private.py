"""Builds CKV_GW_CACHE_3: Redis sits only in private subnets without a route to the internet,
and its security groups admit 6379 only from the app's security group (CACHE-3).

The app's security group is the one the stack's ECS service runs its tasks in.
"""

from typing import Any

from groundwork_policy import (
    GroundworkCheck,
    Stack,
    Verdict,
    address_of,
    blocks,
    combine,
    references_to,
)

CACHE_PORT = 6379
ANYWHERE = frozenset({"0.0.0.0/0", "::/0"})


def _app_groups(stack: Stack) -> set[str]:
    groups = set()
    for body in stack.resources("aws_ecs_service").values():
        for network in blocks(body, "network_configuration"):
            groups.update(filter(None, map(address_of, network.get("security_groups") or [])))
    return groups


def _subnet_verdict(stack: Stack, subnet: str) -> Verdict:
    """A subnet of the cache: private, and no route of its route table leaves the VPC."""
    if not subnet.startswith("aws_subnet."):
        return Verdict.unknown(f"subnet {subnet} is not a subnet of this stack")
    body = stack.resources("aws_subnet").get(subnet.split(".", 1)[1])
    if body is None:
        return Verdict.unknown(f"{subnet} is not in this stack")
    if body.get("map_public_ip_on_launch") in (True, "true"):
        return Verdict.failed(f"{subnet} assigns public IPs")
    tables = {
        address_of(association.get("route_table_id"))
        for association in stack.resources("aws_route_table_association").values()
        if address_of(association.get("subnet_id")) == subnet
    }
    if not tables or None in tables:
        return Verdict.unknown(f"{subnet} has no route table of this stack (main route table)")
    verdicts = []
    for table in sorted(t for t in tables if t):
        name = table.split(".", 1)[1]
        routes = list(blocks(stack.resources("aws_route_table").get(name, {}), "route"))
        routes += [
            stack.resources("aws_route")[route]
            for route in references_to(stack, "aws_route", "route_table_id", table)
        ]
        for route in routes:
            destination = {
                route.get("destination_cidr_block"),
                route.get("cidr_block"),
                route.get("destination_ipv6_cidr_block"),
                route.get("ipv6_cidr_block"),
            }
            if destination & ANYWHERE:
                target = next((str(v) for k, v in route.items()
                               if k.endswith(("gateway_id", "_id")) and v), "?")  # fmt: skip
                verdicts.append(Verdict.failed(f"{subnet} routes to the internet via {target}"))
    return combine(verdicts or [Verdict.passed(f"{subnet} has no route out")])


def _ingress_verdict(rule: dict[str, Any], where: str, app_groups: set[str]) -> Verdict:
    protocol = str(rule.get("ip_protocol", rule.get("protocol", "")))
    low, high = rule.get("from_port"), rule.get("to_port")
    if protocol not in ("tcp", "6") or low != CACHE_PORT or high != CACHE_PORT:
        return Verdict.failed(f"{where} admits {protocol} {low}-{high}, not only {CACHE_PORT}")
    sources = [rule.get("referenced_security_group_id"), rule.get("source_security_group_id")]
    sources += list(rule.get("security_groups") or [])
    groups = {address_of(source) for source in sources if source}
    cidrs = [rule.get("cidr_ipv4"), rule.get("cidr_ipv6"), rule.get("prefix_list_id")]
    cidrs += list(rule.get("cidr_blocks") or []) + list(rule.get("ipv6_cidr_blocks") or [])
    if any(cidrs) or rule.get("self") in (True, "true"):
        return Verdict.failed(f"{where} admits addresses, not only the app's security group")
    if not groups or not groups <= app_groups:
        return Verdict.failed(f"{where} admits {sorted(map(str, groups))}, not the app's group")
    return Verdict.passed(f"{where}: {CACHE_PORT} from the app")


def _group_verdicts(stack: Stack, group: str, app_groups: set[str]) -> list[Verdict]:
    if not group.startswith("aws_security_group."):
        return [Verdict.unknown(f"security group {group} is not in this stack")]
    body = stack.resources("aws_security_group").get(group.split(".", 1)[1])
    if body is None:
        return [Verdict.unknown(f"{group} is not in this stack")]
    verdicts = [_ingress_verdict(rule, f"{group} inline", app_groups)
                for rule in blocks(body, "ingress")]  # fmt: skip
    for name in references_to(stack, "aws_vpc_security_group_ingress_rule", "security_group_id",
                              group):  # fmt: skip
        rule = stack.resources("aws_vpc_security_group_ingress_rule")[name]
        verdicts.append(_ingress_verdict(rule, name, app_groups))
    for name in references_to(stack, "aws_security_group_rule", "security_group_id", group):
        rule = stack.resources("aws_security_group_rule")[name]
        if rule.get("type") == "ingress":
            verdicts.append(_ingress_verdict(rule, name, app_groups))
    return verdicts


class CachePrivate(GroundworkCheck):
    id = "CKV_GW_CACHE_3"
    name = "Redis is only in private subnets with no internet route; 6379 only from the app"
    requirement = "CACHE-3"
    severity = "HIGH"
    resource_types = ("aws_elasticache_replication_group",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        subnet_group = body.get("subnet_group_name")
        if not subnet_group:
            return Verdict.failed("no subnet_group_name: the cache would use the default VPC")
        group_address = address_of(subnet_group)
        if not group_address or not group_address.startswith("aws_elasticache_subnet_group."):
            return Verdict.unknown(f"subnet group {subnet_group} is not in this stack")
        group_body = stack.resources("aws_elasticache_subnet_group").get(
            group_address.split(".", 1)[1]
        )
        if group_body is None:
            return Verdict.unknown(f"{group_address} is not in this stack")
        subnets = [address_of(s) or str(s) for s in group_body.get("subnet_ids") or []]
        verdicts = [_subnet_verdict(stack, subnet) for subnet in subnets]
        if not subnets:
            verdicts.append(Verdict.failed(f"{group_address} lists no subnets"))
        security_groups = [address_of(g) or str(g) for g in body.get("security_group_ids") or []]
        if not security_groups:
            verdicts.append(Verdict.failed("no security_group_ids: the VPC's default group"))
        app_groups = _app_groups(stack)
        if not app_groups:
            verdicts.append(Verdict.unknown("no ECS service names the app's security group"))
        for group in security_groups:
            verdicts += _group_verdicts(stack, group, app_groups)
        return combine(verdicts)


check = CachePrivate()
