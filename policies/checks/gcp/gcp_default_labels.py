"""Builds CKV_GW_TAG_40: the Google provider labels every resource with the environment's TAG-1
labels (app, environment, managed-by, owner, cost-center) through `default_labels`."""

from typing import Any

from groundwork_policy import GroundworkProviderCheck, Stack, Verdict, combine


class ProviderDefaultLabels(GroundworkProviderCheck):
    id = "CKV_GW_TAG_40"
    name = "Google provider default_labels carry the environment's five required labels"
    requirement = "TAG-1"
    severity = "MEDIUM"
    providers = ("google",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        labels = body.get("default_labels") or {}
        verdicts = [
            Verdict.failed(f"label {key} is {labels.get(key)!r}, want {value!r}")
            for key, value in stack.config.tags.items()
            if labels.get(key) != value
        ]
        return combine(verdicts or [Verdict.passed("all TAG-1 labels in default_labels")])


check = ProviderDefaultLabels()
