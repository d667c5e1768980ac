"""Builds CKV_GW_DEPLOY_46: every preconfigured WAF rule of a Cloud Armor policy is evaluated,
and the Log4j rule is among them (DEPLOY-6, covering CKV_GCP_73 that crashes on our JSON).

Cloud Armor evaluates rules by ascending priority and stops at the first match
(https://cloud.google.com/armor/docs/security-policy-overview#eval-order). A rule that
matches every request and ends evaluation (an `allow`, or a rate-based rule whose
`conform_action` is `allow`: https://cloud.google.com/armor/docs/rate-limiting-overview)
placed above a WAF rule means that rule never runs.
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks, combine

WAF = "evaluatePreconfiguredWaf"
LOG4J = "cve-canary"


def expression(rule: dict[str, Any]) -> str:
    return " ".join(
        str(e.get("expression", "")) for m in blocks(rule, "match") for e in blocks(m, "expr")
    )


def matches_all(rule: dict[str, Any]) -> bool:
    for match in blocks(rule, "match"):
        for config in blocks(match, "config"):
            if "*" in (config.get("src_ip_ranges") or []):
                return True
        if any(str(e.get("expression", "")).strip() == "true" for e in blocks(match, "expr")):
            return True
    return False


def ends_evaluation(rule: dict[str, Any]) -> bool:
    action = str(rule.get("action", ""))
    if action == "allow":
        return True
    if action in ("rate_based_ban", "throttle"):
        return any(o.get("conform_action") == "allow" for o in blocks(rule, "rate_limit_options"))
    return False


class WafRulesAllRun(GroundworkCheck):
    id = "CKV_GW_DEPLOY_46"
    name = "No rule that matches everything ends evaluation before a WAF rule"
    requirement = "DEPLOY-6"
    severity = "HIGH"
    resource_types = ("google_compute_security_policy",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        rules = sorted(blocks(body, "rule"), key=lambda r: int(r.get("priority", 0)))
        verdicts = []
        shadow = None
        log4j = False
        for rule in rules:
            if WAF in expression(rule):
                if shadow is not None:
                    verdicts.append(
                        Verdict.failed(
                            f"WAF rule at {rule.get('priority')} never runs: rule at "
                            f"{shadow.get('priority')} matches everything and ends evaluation"
                        )
                    )
                elif str(rule.get("action", "")).startswith("deny") and LOG4J in expression(rule):
                    log4j = True
            elif shadow is None and matches_all(rule) and ends_evaluation(rule):
                shadow = rule
        if not any(WAF in expression(r) for r in rules):
            verdicts.append(Verdict.failed("no preconfigured WAF rule"))
        elif not log4j:
            verdicts.append(Verdict.failed(f"no evaluated deny rule for {LOG4J} (Log4j)"))
        return combine(verdicts or [Verdict.passed("every WAF rule runs before any final allow")])


check = WafRulesAllRun()
