"""Builds CKV_GW_IAM_2: no resource of any cloud grants access to the public (IAM-1).

One judgement for every cloud and resource type (synth/public_access.py, which cites each
cloud's documentation): allUsers / allAuthenticatedUsers members, `*` principals in AWS policy
documents and permissions, public canned / predefined ACLs, anonymous blob access, and Azure
firewall rules or IP rules open to every address. It reports only on resources that can grant
access at all, so it does not count as judging the others.
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict

from synth.public_access import grants


class NoPublicGrants(GroundworkCheck):
    id = "CKV_GW_IAM_2"
    name = "No resource grants access to the public (all users, '*' principals, anonymous)"
    requirement = "IAM-1"
    severity = "CRITICAL"
    resource_types = ("*",)
    needs_config = False

    def applies(self, body: dict[str, Any], stack: Stack) -> bool:
        return grants(self._address[0], body, stack.document)[0]  # it can grant access

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        _, problems = grants(self._address[0], body, stack.document)
        if problems:
            return Verdict.failed("; ".join(problems))
        return Verdict.passed("grants only to named principals")


check = NoPublicGrants()
