"""Builds CKV_GW_DEPLOY_25: the web ACL's rule order lets every managed rule run, and the app's
large bodies get through without switching the common rule set off (DEPLOY-6, EDGE-2).

- No `allow` rule comes before a managed rule group: a terminating allow skips the rest.
- A rule that matches a label comes after the rule group that adds it (labels are visible only
  to rules evaluated later: "Label matching rule statement",
  https://docs.aws.amazon.com/waf/latest/developerguide/waf-rule-statement-type-label-match.html).
- The common rule set's SizeRestrictions_BODY blocks bodies over 8 KB
  (https://docs.aws.amazon.com/waf/latest/developerguide/aws-managed-rule-groups-baseline.html):
  with `edge.large_body_paths` it is overridden to count and a later rule blocks its label
  outside those paths; without them it is not overridden.
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks, combine

LABEL = "awswaf:managed:aws:core-rule-set:SizeRestrictions_Body"


def _managed(rule: dict[str, Any]) -> dict[str, Any] | None:
    statement = rule.get("statement") or {}
    statement = statement[0] if isinstance(statement, list) and statement else statement
    found = statement.get("managed_rule_group_statement") if isinstance(statement, dict) else None
    found = found[0] if isinstance(found, list) and found else found
    return found if isinstance(found, dict) else None


class WafRuleOrder(GroundworkCheck):
    id = "CKV_GW_DEPLOY_25"
    name = "Web ACL rule order lets every managed rule run; large bodies pass only where allowed"
    requirement = "DEPLOY-6"
    severity = "HIGH"
    resource_types = ("aws_wafv2_web_acl",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        rules = sorted(blocks(body, "rule"), key=lambda r: int(r.get("priority", 0)))
        verdicts = []
        seen_groups: list[str] = []
        for rule in rules:
            group = _managed(rule)
            if group is not None:
                seen_groups.append(str(group.get("name")))
                continue
            if any("allow" in a for a in blocks(rule, "action")) and len(seen_groups) < sum(
                1 for r in rules if _managed(r) is not None
            ):
                verdicts.append(Verdict.failed(f"{rule.get('name')} allows before a managed group"))
            if (
                LABEL in str(rule.get("statement"))
                and "AWSManagedRulesCommonRuleSet" not in seen_groups
            ):
                verdicts.append(Verdict.failed(f"{rule.get('name')} reads a label not yet added"))
        common = next(
            (
                _managed(r)
                for r in rules
                if (_managed(r) or {}).get("name") == "AWSManagedRulesCommonRuleSet"
            ),
            None,
        )
        overrides = str((common or {}).get("rule_action_override", ""))
        counted = "SizeRestrictions_BODY" in overrides
        paths = stack.config.edge.large_body_paths
        label_rules = [r for r in rules if LABEL in str(r.get("statement"))]
        if paths and not counted:
            verdicts.append(Verdict.failed("edge.large_body_paths set, yet bodies over 8 KB block"))
        if counted and not label_rules:
            verdicts.append(Verdict.failed("SizeRestrictions_BODY counts, and nothing blocks it"))
        if counted and not paths:
            verdicts.append(
                Verdict.failed("SizeRestrictions_BODY overridden without large_body_paths")
            )
        missing = [
            p for p in paths if label_rules and p not in str(label_rules[0].get("statement"))
        ]
        if missing:
            verdicts.append(Verdict.failed(f"large_body_paths {missing} are not exempted"))
        return combine(verdicts) if verdicts else Verdict.passed("every managed rule runs in order")


check = WafRuleOrder()
