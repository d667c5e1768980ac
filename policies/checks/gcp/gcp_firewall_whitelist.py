"""Builds CKV_GW_NET_41: every firewall rule that allows traffic is one path of NET-3's
whitelist: Google's load-balancer ranges to the app port in; app to HTTPS, the database
(5432, or 3307 for the Cloud SQL connectors) and Memorystore (6379, or 6378 with TLS) out.
Deny rules may be as wide as they like. Source ranges that together cover the internet
(synth/cidrs.py) are named as such. That 3307 and 6378 are not NET-3's letter is
CKV_GW_NET_42's to say (and the construct's waiver to explain), so a waiver of it never
hides a rule this check fails.
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks, combine

from synth.cidrs import covers_internet

# Google front ends and health checkers: the only sources a serverless NEG's traffic comes from.
LB_RANGES = {"35.191.0.0/16", "130.211.0.0/22"}
EGRESS_PORTS = {"443", "3307", "5432", "6378", "6379"}  # 3307: Cloud SQL connectors


class FirewallWhitelist(GroundworkCheck):
    id = "CKV_GW_NET_41"
    name = "Firewall allow rules are only the NET-3 paths (LB to app port; app to 443/3307/Redis)"
    requirement = "NET-3"
    severity = "HIGH"
    resource_types = ("google_compute_firewall",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        allows = blocks(body, "allow")
        if not allows:
            return Verdict.passed("deny rule")
        direction = body.get("direction", "INGRESS")
        ports = {str(p) for a in allows for p in (a.get("ports") or ["all"])}
        protocols = {a.get("protocol") for a in allows}
        verdicts = []
        if protocols - {"tcp"}:
            verdicts.append(Verdict.failed(f"allows protocols {sorted(protocols)}; only tcp"))
        if direction == "INGRESS":
            sources = set(body.get("source_ranges") or [])
            # Routed services' ports (APP-7): internal ones take nothing from the LB.
            wanted = {str(s.port) for s in stack.config.services if s.route is not None}
            if covers_internet(sources):
                verdicts.append(Verdict.failed(f"ingress from the internet ({sorted(sources)})"))
            elif not sources or sources - LB_RANGES:
                verdicts.append(Verdict.failed(f"ingress from {sorted(sources)}; only LB ranges"))
            if ports != wanted:
                verdicts.append(Verdict.failed(f"ingress ports {sorted(ports)}; only {wanted}"))
        elif ports - EGRESS_PORTS:
            verdicts.append(Verdict.failed(f"egress ports {sorted(ports - EGRESS_PORTS)} allowed"))
        if not body.get("target_tags") and not body.get("target_service_accounts"):
            verdicts.append(Verdict.failed("allow rule targets every instance (no target_tags)"))
        return combine(verdicts or [Verdict.passed(f"{direction} {sorted(ports)}")])


check = FirewallWhitelist()
