"""Builds CKV_GW_EDGE_2: the web ACL runs AWS's managed common rule set and blocks each IP
above the environment's rate limit per minute (EDGE-2)."""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, combine

COMMON_RULES = "AWSManagedRulesCommonRuleSet"
DEFAULT_WINDOW_SEC = 300  # WAF's evaluation window when none is set


class WafRules(GroundworkCheck):
    id = "CKV_GW_EDGE_2"
    name = "WAF web ACL has the managed common rule set and the environment's per-IP rate limit"
    requirement = "EDGE-2"
    severity = "HIGH"
    resource_types = ("aws_wafv2_web_acl",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        wanted = stack.config.edge.rate_limit_per_minute
        rules = body.get("rule") or []
        rules = rules if isinstance(rules, list) else [rules]
        statements = [rule.get("statement") or {} for rule in rules]
        verdicts = []
        managed = [s.get("managed_rule_group_statement") or {} for s in statements]
        if not any(
            m.get("name") == COMMON_RULES and m.get("vendor_name") == "AWS" for m in managed
        ):
            verdicts.append(Verdict.failed(f"no {COMMON_RULES} rule"))
        rates = [s["rate_based_statement"] for s in statements if "rate_based_statement" in s]
        if not rates:
            verdicts.append(Verdict.failed("no rate-based rule"))
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
        return combine(verdicts or [Verdict.passed(f"common rules, {wanted}/min per IP")])


check = WafRules()
