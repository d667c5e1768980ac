"""Builds CKV_GW_DEPLOY_1: every name fits its cloud's length and character rules (DEPLOY-1).

The rules are the table in `synth/names.py` (one row per resource type and name attribute,
each with its source); this policy judges every resource type that table knows. A name that
interpolates a value of unknown length is UNKNOWN, which fails staging and production.
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, combine

from synth.names import RULES_BY_TYPE, check_name


class NamesFitTheirLimits(GroundworkCheck):
    id = "CKV_GW_DEPLOY_1"
    name = "Every resource name fits its cloud's length and character rules"
    requirement = "DEPLOY-1"
    severity = "HIGH"
    resource_types = tuple(sorted(RULES_BY_TYPE))
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        verdicts = []
        for rule in RULES_BY_TYPE[self._address[0]]:
            if rule.attribute not in body:
                continue
            problem = check_name(rule, self.address, body[rule.attribute])
            if problem is None:
                verdicts.append(Verdict.passed(f"{rule.attribute} fits"))
            elif problem.unknown:
                verdicts.append(Verdict.unknown(f"{rule.attribute} {problem.message}"))
            else:
                verdicts.append(Verdict.failed(problem.message))
        return combine(verdicts) if verdicts else Verdict.passed("no name attribute set")


check = NamesFitTheirLimits()
