"""Builds CKV_GW_TAG_1: the AWS provider tags every resource with the environment's TAG-1 tags
(app, environment, managed-by, owner, cost-center) through `default_tags`."""

from typing import Any

from groundwork_policy import GroundworkProviderCheck, Stack, Verdict, blocks, combine


class ProviderDefaultTags(GroundworkProviderCheck):
    id = "CKV_GW_TAG_1"
    name = "AWS provider default_tags carry the environment's five required tags"
    requirement = "TAG-1"
    severity = "MEDIUM"
    providers = ("aws",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        tags: dict[str, Any] = {}
        for block in blocks(body, "default_tags"):
            tags.update(block.get("tags") or {})
        verdicts = [
            Verdict.failed(f"tag {key} is {tags.get(key)!r}, want {value!r}")
            for key, value in stack.config.tags.items()
            if tags.get(key) != value
        ]
        return combine(verdicts or [Verdict.passed("all TAG-1 tags in default_tags")])


check = ProviderDefaultTags()
