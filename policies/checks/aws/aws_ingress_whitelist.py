"""Builds CKV_GW_NET_3: internet ingress only to the load balancer on 443 and 80, and no
all-ports or all-protocols ingress anywhere (NET-3).

A rule is "to the load balancer" when its security group is one an aws_lb lists. Internet is
any set of ranges that covers 0.0.0.0/0 or ::/0 (synth/cidrs.py), however it is split.
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Outcome, Stack, Verdict, address_of, blocks

from synth.cidrs import internet_with

INTERNET_PORTS = frozenset({443, 80})


def _lb_groups(stack: Stack) -> set[str]:
    groups = set()
    for body in stack.resources("aws_lb").values():
        groups.update(filter(None, map(address_of, body.get("security_groups") or [])))
    return groups


def _sources(rule: dict[str, Any]) -> set[Any]:
    sources = {rule.get("cidr_ipv4"), rule.get("cidr_ipv6")}
    sources.update(rule.get("cidr_blocks") or [])
    sources.update(rule.get("ipv6_cidr_blocks") or [])
    return sources - {None}


def _group_rules(stack: Stack, group: str) -> list[dict[str, Any]]:
    """Every ingress rule of one security group, inline or standalone."""
    name = group.split(".", 1)[1]
    rules = blocks(stack.resources("aws_security_group").get(name) or {}, "ingress")
    for kind in ("aws_vpc_security_group_ingress_rule", "aws_security_group_rule"):
        for body in stack.resources(kind).values():
            ingress = body.get("type", "ingress") == "ingress"
            if ingress and address_of(body.get("security_group_id")) == group:
                rules.append(body)
    return rules


def _judge(rule: dict[str, Any], group: str | None, stack: Stack) -> Verdict:
    protocol = str(rule.get("ip_protocol", rule.get("protocol", "")))
    low, high = rule.get("from_port"), rule.get("to_port")
    if protocol in ("-1", "all") or low is None or high is None:
        return Verdict.failed(f"ingress on all ports (protocol {protocol})")
    if low != high:
        return Verdict.failed(f"ingress on a port range {low}-{high}")
    sources = _sources(rule)
    peers: set[Any] = set()
    if sources and group is not None:
        # Ranges split over several rules of the group on this port add up (0.0.0.0/1 in one
        # rule and 128.0.0.0/1 in another is the internet).
        for peer in _group_rules(stack, group):
            if peer.get("from_port") == low and peer.get("to_port") == high:
                peers |= _sources(peer)
    if internet_with(sources, peers):
        if group is None or group not in _lb_groups(stack):
            return Verdict.failed(f"internet ingress on {low} to a non-load-balancer group")
        if low not in INTERNET_PORTS:
            return Verdict.failed(f"internet ingress to the load balancer on port {low}")
    return Verdict.passed(f"{protocol} {low}")


class IngressWhitelist(GroundworkCheck):
    id = "CKV_GW_NET_3"
    name = "Only the load balancer takes internet ingress, on 443/80; no all-ports ingress"
    requirement = "NET-3"
    severity = "CRITICAL"
    resource_types = (
        "aws_vpc_security_group_ingress_rule",
        "aws_security_group_rule",
        "aws_security_group",
    )
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        kind = self._address[0]
        if kind == "aws_security_group":
            for rule in blocks(body, "ingress"):
                verdict = _judge(rule, self.address, stack)
                if verdict.outcome is not Outcome.PASS:
                    return verdict
            return Verdict.passed("inline ingress rules whitelisted")
        if kind == "aws_security_group_rule" and body.get("type") != "ingress":
            return Verdict.passed("egress rule")
        return _judge(body, address_of(body.get("security_group_id")), stack)


check = IngressWhitelist()
