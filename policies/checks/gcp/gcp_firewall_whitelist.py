"""Builds CKV_GW_NET_41: every firewall rule that allows traffic is one path of NET-3's
whitelist: Google's load-balancer ranges to the app port in; app to HTTPS, the database
(5432) and the cache (6379) out. Deny rules may be as wide as they like. Source ranges that
together cover the internet (synth/cidrs.py) are named as such.

NET-3's letter names 5432 and 6379. On GCP the right ports differ: a Cloud SQL connector (the
Auth Proxy) reaches the instance's server-side proxy on 3307, never 5432
(https://cloud.google.com/sql/docs/postgres/sql-proxy, "How the Cloud SQL Auth Proxy
works"), and Memorystore serves Redis with in-transit encryption on 6378
(https://cloud.google.com/memorystore/docs/redis/in-transit-encryption). Those ports fail
here with that said, so the rule that opens them carries a construct waiver with the reason
(constructs/gcp/network.py) and NET-3 reports waived, never a silent pass.
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks, combine

from synth.cidrs import covers_internet

# Google front ends and health checkers: the only sources a serverless NEG's traffic comes from.
LB_RANGES = {"35.191.0.0/16", "130.211.0.0/22"}
EGRESS_PORTS = {"443", "5432", "6379"}  # NET-3's letter
# Right on GCP but not NET-3's letter: fail with why, for a construct waiver to say so.
OFF_LETTER = {
    "3307": "3307 (Cloud SQL connectors to the server-side proxy) is not NET-3's 5432",
    "6378": "6378 (Memorystore with TLS) is not NET-3's 6379",
}


class FirewallWhitelist(GroundworkCheck):
    id = "CKV_GW_NET_41"
    name = "Firewall allow rules are only the NET-3 paths (LB to app port; app to 443/5432/6379)"
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
        else:
            verdicts += [Verdict.failed(OFF_LETTER[p]) for p in sorted(ports) if p in OFF_LETTER]
            if ports - EGRESS_PORTS - set(OFF_LETTER):
                others = sorted(ports - EGRESS_PORTS - set(OFF_LETTER))
                verdicts.append(Verdict.failed(f"egress ports {others} allowed"))
        if not body.get("target_tags") and not body.get("target_service_accounts"):
            verdicts.append(Verdict.failed("allow rule targets every instance (no target_tags)"))
        return combine(verdicts or [Verdict.passed(f"{direction} {sorted(ports)}")])


check = FirewallWhitelist()
