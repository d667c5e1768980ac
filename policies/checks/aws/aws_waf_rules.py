"""Builds CKV_GW_EDGE_2: the web ACL runs AWS's managed common rule set and blocks each IP
above the environment's rate limit per minute (EDGE-2), where the IP is the viewer's.

Behind CloudFront (a `aws_cloudfront_distribution` of the stack whose origin is the ALB a
REGIONAL web ACL is associated with), every request reaches the ALB from a CloudFront edge
server, and WAF's IP for a request is "the IP address of the last proxy", not the viewer's
(https://docs.aws.amazon.com/waf/latest/developerguide/waf-rule-statement-forwarded-ip-address.html):
a per-IP rate limit there makes every viewer behind one edge server share one allowance. So:
- a CLOUDFRONT web ACL, and a REGIONAL one in front of an ALB no distribution fronts, need
  the common rule set and the per-IP limit;
- a REGIONAL web ACL of an ALB a distribution fronts needs the common rule set and must NOT
  carry an IP-keyed rate rule; the per-IP limit must be on the fronting distribution's web
  ACL (judged there by this check).
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, blocks, combine

COMMON_RULES = "AWSManagedRulesCommonRuleSet"
DEFAULT_WINDOW_SEC = 300  # WAF's evaluation window when none is set


def _rules(body: dict[str, Any]) -> list[dict[str, Any]]:
    return blocks(body, "rule")


def _rates(body: dict[str, Any]) -> list[dict[str, Any]]:
    statements = [rule.get("statement") or {} for rule in _rules(body)]
    return [s["rate_based_statement"] for s in statements if "rate_based_statement" in s]


def _fronting_distributions(stack: Stack, acl: str) -> list[str]:
    """The distributions of this stack whose origin is an ALB the web ACL `acl` is
    associated with: every request that ACL sees comes from CloudFront."""
    balancers = {
        address_of(association.get("resource_arn"))
        for association in stack.resources("aws_wafv2_web_acl_association").values()
        if address_of(association.get("web_acl_arn")) == acl
    } - {None}
    return [
        name
        for name, distribution in stack.resources("aws_cloudfront_distribution").items()
        if any(
            address_of(origin.get("domain_name")) in balancers
            for origin in blocks(distribution, "origin")
        )
    ]


class WafRules(GroundworkCheck):
    id = "CKV_GW_EDGE_2"
    name = "WAF web ACL has the managed common rule set and the per-viewer-IP rate limit"
    requirement = "EDGE-2"
    severity = "HIGH"
    resource_types = ("aws_wafv2_web_acl",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        wanted = stack.config.edge.rate_limit_per_minute
        statements = [rule.get("statement") or {} for rule in _rules(body)]
        verdicts = []
        managed = [s.get("managed_rule_group_statement") or {} for s in statements]
        if not any(
            m.get("name") == COMMON_RULES and m.get("vendor_name") == "AWS" for m in managed
        ):
            verdicts.append(Verdict.failed(f"no {COMMON_RULES} rule"))
        rates = _rates(body)
        fronted_by = (
            _fronting_distributions(stack, self.address)
            if body.get("scope", "REGIONAL") == "REGIONAL"
            else []
        )
        if fronted_by:
            return combine(verdicts + self._behind_cloudfront(stack, rates, fronted_by, wanted))
        if not rates:
            verdicts.append(Verdict.failed("no rate-based rule"))
        verdicts += self._limits(rates, wanted)
        return combine(verdicts or [Verdict.passed(f"common rules, {wanted}/min per IP")])

    @staticmethod
    def _limits(rates: list[dict[str, Any]], wanted: int) -> list[Verdict]:
        verdicts = []
        for rate in rates:
            window = rate.get("evaluation_window_sec", DEFAULT_WINDOW_SEC)
            per_minute = rate.get("limit", 0) * 60 / window
            if rate.get("aggregate_key_type", "IP") != "IP":
                verdicts.append(Verdict.failed("rate limit is not per IP"))
            elif per_minute != wanted:
                verdicts.append(
                    Verdict.failed(
                        f"rate limit is {per_minute:g}/min; edge.rate_limit_per_minute wants "
                        f"{wanted}"
                    )
                )
        return verdicts

    @staticmethod
    def _behind_cloudfront(
        stack: Stack, rates: list[dict[str, Any]], fronted_by: list[str], wanted: int
    ) -> list[Verdict]:
        verdicts = []
        if any(rate.get("aggregate_key_type", "IP") == "IP" for rate in rates):
            verdicts.append(
                Verdict.failed(
                    "an IP-keyed rate rule on an ALB that CloudFront "
                    f"({', '.join(fronted_by)}) fronts counts edge servers, not viewers"
                )
            )
        acls = stack.resources("aws_wafv2_web_acl")
        for name in fronted_by:
            acl = address_of(stack.resources("aws_cloudfront_distribution")[name].get("web_acl_id"))
            edge = acls.get((acl or "").removeprefix("aws_wafv2_web_acl.")) or {}
            edge_rates = _rates(edge) if (acl or "").startswith("aws_wafv2_web_acl.") else []
            if not edge_rates or WafRules._limits(edge_rates, wanted):
                verdicts.append(
                    Verdict.failed(f"{name}: no {wanted}/min per-IP rate limit on its web ACL")
                )
        return verdicts or [
            Verdict.passed(
                f"common rules; the {wanted}/min per-viewer limit is on the web ACL of "
                f"{', '.join(fronted_by)}"
            )
        ]


check = WafRules()
