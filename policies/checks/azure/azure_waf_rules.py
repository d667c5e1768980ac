"""Builds CKV_GW_EDGE_71: the WAF policy prevents, runs Microsoft's managed default (or OWASP)
rule set and blocks each client IP above the environment's rate limit per minute (EDGE-2).

With Azure Front Door in front of the gateway (CDN-1, constructs/azure/cdn.py) the client
limit is Front Door's WAF's (`azurerm_cdn_frontdoor_firewall_policy`, judged here the same
way): the gateway then sees Front Door's addresses, so a per-address limit on the gateway
would count many clients as one and throttle them together; the gateway's policy must then
have none (https://learn.microsoft.com/azure/web-application-firewall/afds/
waf-front-door-rate-limit: Front Door counts per client socket IP).

A Front Door limit is judged as the requirement states it: `edge.rate_limit_per_minute` over
a one-minute window, matched on the connection's address (`SocketAddr`; `RemoteAddr` comes from
X-Forwarded-For, which the client writes). Front Door counts per edge server, so below about
200 a minute some requests above it get through (same page, "Rate limits and Azure Front Door
servers"); its more accurate five-minute form at five times the rate would admit 500 requests
in one minute, a looser limit by configuration, and fails here.
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks, combine, expect_equal

COMMON_RULE_SETS = {"Microsoft_DefaultRuleSet", "OWASP", "DefaultRuleSet"}
GATEWAY = "azurerm_web_application_firewall_policy"
FRONT_DOOR = "azurerm_cdn_frontdoor_firewall_policy"
FRONT_DOOR_WINDOW_MINUTES = 1


class AzureWafRules(GroundworkCheck):
    id = "CKV_GW_EDGE_71"
    name = "WAF policy: prevention mode, managed common rules and a per-IP rate limit"
    requirement = "EDGE-2"
    severity = "HIGH"
    resource_types = (GATEWAY, FRONT_DOOR)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        if self._address[0] == FRONT_DOOR:
            return self._front_door(body, stack)
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
        if stack.resources(FRONT_DOOR):
            per_address = [
                r.get("name") for r in limits if r.get("group_rate_limit_by") == "ClientAddr"
            ]
            if per_address:
                verdicts.append(Verdict.failed(
                    f"behind Front Door, rate limit {per_address} counts Front Door's addresses, "
                    "not clients'; Front Door's WAF limits each client"
                ))  # fmt: skip
            else:
                verdicts.append(Verdict.passed("the per-IP limit is Front Door's"))
            return combine(verdicts)
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

    def _front_door(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        verdicts = [
            # enabled defaults to true (azurerm cdn_frontdoor_firewall_policy)
            expect_equal("enabled", body.get("enabled", True), True, "EDGE-2"),
            expect_equal("mode", body.get("mode"), "Prevention", "EDGE-2"),
        ]
        managed = [
            rule.get("type")
            for rule in blocks(body, "managed_rule")
            if rule.get("action") == "Block"
        ]
        if not set(managed) & COMMON_RULE_SETS:
            verdicts.append(Verdict.failed(f"no blocking managed common rule set (have {managed})"))
        limits = [
            rule
            for rule in blocks(body, "custom_rule")
            if rule.get("type") == "RateLimitRule"
            and rule.get("action") == "Block"
            and rule.get("enabled", True) is True
        ]
        if not limits:
            verdicts.append(Verdict.failed("no blocking RateLimitRule"))
        per_window = stack.config.edge.rate_limit_per_minute * FRONT_DOOR_WINDOW_MINUTES
        for rule in limits:
            verdicts += [
                expect_equal("rate_limit_threshold", rule.get("rate_limit_threshold"),
                             per_window, "edge.rate_limit_per_minute"),
                expect_equal("rate_limit_duration_in_minutes",
                             rule.get("rate_limit_duration_in_minutes"), FRONT_DOOR_WINDOW_MINUTES,
                             "EDGE-2's per-minute limit"),
                expect_equal("match_condition[].match_variable",
                             sorted({c.get("match_variable")
                                     for c in blocks(rule, "match_condition")}),
                             ["SocketAddr"], "the connection's address, not X-Forwarded-For"),
            ]  # fmt: skip
        return combine(verdicts)


check = AzureWafRules()
