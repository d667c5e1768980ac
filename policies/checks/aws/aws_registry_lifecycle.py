"""Builds CKV_GW_APP_6: the registry's lifecycle policy belongs to the stack's repository,
expires untagged images and never expires tagged releases by age (APP-6).

Tags are immutable, so a release tag names one image for good; expiring every tagged image
by age could delete the image a running service (or a rollback) needs. An age rule may
select only named tags (`tagStatus: tagged` with a `tagPatternList` / `tagPrefixList`: the
pipeline's disposable builds); which tags those may be is CKV_GW_DEPLOY_32's concern.
Untagged images are build leftovers and expire
(https://docs.aws.amazon.com/AmazonECR/latest/userguide/LifecyclePolicies.html).
"""

import json
from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, is_reference


class RegistryLifecycle(GroundworkCheck):
    id = "CKV_GW_APP_6"
    name = "ECR lifecycle policy expires untagged images and keeps tagged releases"
    requirement = "APP-6"
    severity = "MEDIUM"
    resource_types = ("aws_ecr_lifecycle_policy",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        repository = address_of(body.get("repository"))
        if repository is None or repository not in stack.graph.bodies:
            return Verdict.failed(f"repository {body.get('repository')!r} is not in this stack")
        policy = body.get("policy")
        if is_reference(policy):
            return Verdict.unknown(f"policy is an expression ({policy})")
        try:
            rules = json.loads(policy)["rules"]
        except (TypeError, ValueError, KeyError):
            return Verdict.failed("policy is not a lifecycle policy document")
        untagged = [r for r in rules if r["selection"]["tagStatus"] == "untagged"]
        by_age = [
            r
            for r in rules
            if r["selection"]["tagStatus"] != "untagged"
            and r["selection"]["countType"] == "sinceImagePushed"
            and not (
                r["selection"]["tagStatus"] == "tagged"
                and (r["selection"].get("tagPatternList") or r["selection"].get("tagPrefixList"))
            )
        ]
        if not untagged:
            return Verdict.failed("no rule expires untagged images")
        if by_age:
            return Verdict.failed(f"rule {by_age[0]['rulePriority']} expires tagged images by age")
        return Verdict.passed("untagged images expire; tagged releases are not expired by age")


check = RegistryLifecycle()
