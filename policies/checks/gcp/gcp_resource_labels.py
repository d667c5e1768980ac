"""Builds CKV_GW_TAG_41: Cloud SQL instances carry the TAG-1 labels on the resource itself.

The provider's `default_labels` do not reach `google_sql_database_instance`: its labels are
`settings.user_labels`, outside the provider's label handling
(terraform-provider-google#16375), so TAG-1 is judged on the resource.
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks, combine


class SqlLabels(GroundworkCheck):
    id = "CKV_GW_TAG_41"
    name = "Cloud SQL settings.user_labels carry the environment's five required labels"
    requirement = "TAG-1"
    severity = "MEDIUM"
    resource_types = ("google_sql_database_instance",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        labels = (blocks(body, "settings") or [{}])[0].get("user_labels") or {}
        verdicts = [
            Verdict.failed(f"user_labels {key} is {labels.get(key)!r}, want {value!r}")
            for key, value in stack.config.tags.items()
            if labels.get(key) != value
        ]
        return combine(verdicts or [Verdict.passed("all TAG-1 labels in user_labels")])


check = SqlLabels()
