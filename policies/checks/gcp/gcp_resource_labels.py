"""Builds CKV_GW_TAG_41: every resource whose labels are `user_labels` carries the TAG-1 labels
on the resource itself.

The provider's `default_labels` fill only fields named `labels`
(terraform-provider-google#16375). In provider 6.50 four types the stacks use label through
`user_labels` instead, so TAG-1 is judged on the resource: Cloud SQL instances
(`settings.user_labels`), and Cloud Monitoring alert policies, uptime checks and
notification channels (top-level `user_labels`; a channel's `labels` is its address).
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks, combine

# resource type -> the block path holding its user_labels ("" = the resource itself)
USER_LABELS = {
    "google_sql_database_instance": "settings",
    "google_monitoring_alert_policy": "",
    "google_monitoring_uptime_check_config": "",
    "google_monitoring_notification_channel": "",
}


class UserLabels(GroundworkCheck):
    id = "CKV_GW_TAG_41"
    name = "Resources labelled by user_labels carry the environment's five required labels"
    requirement = "TAG-1"
    severity = "MEDIUM"
    resource_types = tuple(USER_LABELS)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        path = USER_LABELS[self.address.split(".")[0]]
        holder = (blocks(body, path) or [{}])[0] if path else body
        labels = holder.get("user_labels") or {}
        where = f"{path}.user_labels" if path else "user_labels"
        verdicts = [
            Verdict.failed(f"{where} {key} is {labels.get(key)!r}, want {value!r}")
            for key, value in stack.config.tags.items()
            if labels.get(key) != value
        ]
        return combine(verdicts or [Verdict.passed(f"all TAG-1 labels in {where}")])


check = UserLabels()
