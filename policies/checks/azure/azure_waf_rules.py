"""Builds CKV_GW_EDGE_71: the WAF policy prevents, runs Microsoft's managed default (or OWASP)
rule set and blocks each client IP above the environment's rate limit per minute (EDGE-2)."""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks, combine, expect_equal

COMMON_RULE_SETS = {"Microsoft_DefaultRuleSet", "OWASP"}


class AzureWafRules(GroundworkCheck):
    id = "CKV_GW_EDGE_71"
    name = "WAF policy: prevention mode, managed common rules and a per-IP rate limit"
    requirement = "EDGE-2"
    severity = "HIGH"
    resource_types = ("azurerm_web_application_firewall_policy",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        settings = (blocks(body, "policy_settings") or [{}])[0]
        verdicts = [
            expect_equal("policy_settings.enabled", settings.get("enabled"), True, "EDGE-2"),
            expect_equal("policy_settings.mode", settings.get("mode"), "Prevention", "EDGE-2"),
        ]
        managed = [
            rule_set.get("type", "OWASP")  # the provider's default type is OWASP
            for group in blocks(body, "managed_rules")
            for rule_set in blocks(group, "managed_rule_set")
        ]
        if not set(managed) & COMMON_RULE_SETS:
            verdicts.append(Verdict.failed(f"no managed common rule set (have {managed})"))
        limits = [
            rule
            for rule in blocks(body, "custom_rules")
            if rule.get("rule_type") == "RateLimitRule" and rule.get("action") == "Block"
        ]
        if not limits:
            verdicts.append(Verdict.failed("no blocking RateLimitRule"))
        for rule in limits:
            verdicts += [
                expect_equal("rate_limit_threshold", rule.get("rate_limit_threshold"),
                             stack.config.edge.rate_limit_per_minute, "edge.rate_limit_per_minute"),
                expect_equal("rate_limit_duration", rule.get("rate_limit_duration"), "OneMin",
                             "EDGE-2"),
                expect_equal("group_rate_limit_by", rule.get("group_rate_limit_by"), "ClientAddr",
                             "EDGE-2 (per IP)"),
            ]  # fmt: skip
        return combine(verdicts)


check = AzureWafRules()
