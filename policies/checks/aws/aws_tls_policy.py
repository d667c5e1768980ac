"""Builds CKV_GW_EDGE_1: HTTPS listeners use a TLS 1.2+ policy and HTTP listeners only
redirect to HTTPS (EDGE-1)."""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks

# ELB security policies that refuse TLS 1.0 and 1.1.
TLS12_POLICIES = frozenset(
    {
        "ELBSecurityPolicy-TLS13-1-2-2021-06",
        "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
        "ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06",
        "ELBSecurityPolicy-TLS13-1-2-Ext2-2021-06",
        "ELBSecurityPolicy-TLS13-1-3-2021-06",
        "ELBSecurityPolicy-TLS-1-2-2017-01",
        "ELBSecurityPolicy-TLS-1-2-Ext-2018-06",
        "ELBSecurityPolicy-FS-1-2-2019-08",
        "ELBSecurityPolicy-FS-1-2-Res-2019-08",
        "ELBSecurityPolicy-FS-1-2-Res-2020-10",
    }
)


class ListenerTls(GroundworkCheck):
    id = "CKV_GW_EDGE_1"
    name = "Load balancer HTTPS listeners use a TLS 1.2+ policy; HTTP listeners only redirect"
    requirement = "EDGE-1"
    severity = "HIGH"
    resource_types = ("aws_lb_listener",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        protocol = body.get("protocol")
        if protocol == "HTTPS":
            policy = body.get("ssl_policy")
            if policy not in TLS12_POLICIES:
                return Verdict.failed(f"ssl_policy {policy} allows TLS below 1.2 or is unset")
            return Verdict.passed(f"ssl_policy {policy}")
        if protocol == "HTTP":
            actions = blocks(body, "default_action")
            redirects = [a for a in actions if a.get("type") == "redirect"]
            if len(redirects) != len(actions) or not actions:
                return Verdict.failed("HTTP listener does something other than redirect")
            targets = [(blocks(a, "redirect") or [{}])[0].get("protocol") for a in redirects]
            if targets != ["HTTPS"] * len(targets):
                return Verdict.failed("HTTP listener redirects somewhere other than HTTPS")
            return Verdict.passed("HTTP redirects to HTTPS")
        return Verdict.failed(f"listener protocol {protocol} is neither HTTPS nor HTTP")


check = ListenerTls()
