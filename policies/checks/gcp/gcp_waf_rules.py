"""Builds CKV_GW_EDGE_41: the backend behind the load balancer has a Cloud Armor policy with
Google's preconfigured WAF rules (SQLi, XSS at least) and a per-IP rate-based ban at the
environment's `edge.rate_limit_per_minute` (EDGE-2).

A backend with Cloud CDN on fails as well: a Cloud Armor backend policy (CLOUD_ARMOR) filters
requests "before they hit the origin servers", an edge policy (CLOUD_ARMOR_EDGE) "before the
request is served from Google's cache" (Compute API, SecurityPolicy.type:
https://cloud.google.com/compute/docs/reference/rest/v1/securityPolicies), so a cache hit is
served without the WAF rules and the rate-based ban; edge policies take neither of those rules
(https://cloud.google.com/armor/docs/security-policy-overview, "Edge security policies").
GCP offers no policy that meets EDGE-2 on cache hits, so the construct that switches Cloud
CDN on waives this failure on that backend with the reason (constructs/gcp/edge.py), and the
gate reports it as waived, never as a pass."""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, blocks, combine

REQUIRED_WAF = ("sqli-", "xss-")


class WafRules(GroundworkCheck):
    id = "CKV_GW_EDGE_41"
    name = "Backend has Cloud Armor with preconfigured WAF rules and the per-IP rate limit"
    requirement = "EDGE-2"
    severity = "HIGH"
    resource_types = ("google_compute_backend_service",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        address = address_of(body.get("security_policy"))
        if not address or not address.startswith("google_compute_security_policy."):
            return Verdict.failed("no Cloud Armor security_policy attached")
        policy = stack.resources("google_compute_security_policy").get(address.split(".", 1)[1])
        if policy is None:
            return Verdict.unknown(f"{address} is not in the stack")
        rules = blocks(policy, "rule")
        expressions = " ".join(
            str(expr.get("expression"))
            for rule in rules
            if str(rule.get("action", "")).startswith("deny")
            for match in blocks(rule, "match")
            for expr in blocks(match, "expr")
        )
        verdicts = [
            Verdict.failed(f"no deny rule evaluates the preconfigured WAF set {name}*")
            for name in REQUIRED_WAF
            if f"evaluatePreconfiguredWaf('{name}" not in expressions
        ]
        wanted = stack.config.edge.rate_limit_per_minute
        limits = []
        for rule in rules:
            if rule.get("action") not in ("rate_based_ban", "throttle"):
                continue
            for options in blocks(rule, "rate_limit_options"):
                threshold = (blocks(options, "rate_limit_threshold") or [{}])[0]
                if options.get("enforce_on_key", "ALL") != "IP":
                    continue
                count, interval = threshold.get("count"), threshold.get("interval_sec")
                if count is not None and interval:
                    limits.append(float(count) * 60 / float(interval))
        if not limits:
            verdicts.append(Verdict.failed("no per-IP rate-based rule"))
        elif min(limits) > wanted:
            verdicts.append(Verdict.failed(f"per-IP limit {min(limits):g}/min; want {wanted}/min"))
        if body.get("enable_cdn") is True:
            verdicts.append(
                Verdict.failed(
                    "Cloud CDN is on: cache hits are served before the Cloud Armor backend "
                    "policy, so neither its WAF rules nor its rate limit judges them"
                )
            )
        return combine(verdicts or [Verdict.passed(f"WAF rules and {wanted}/min per IP")])


check = WafRules()
