"""Builds CKV_GW_OBS_40: the project's _Default log bucket keeps logs for the environment's
`logs.retention_days`, with the production floor (OBS-1). Cloud Logging encrypts at rest."""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, combine, expect_equal, floor_verdicts


class LogRetention(GroundworkCheck):
    id = "CKV_GW_OBS_40"
    name = "Log bucket retention equals the environment's logs.retention_days"
    requirement = "OBS-1"
    severity = "MEDIUM"
    resource_types = ("google_logging_project_bucket_config",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        days = body.get("retention_days")
        return combine(
            [
                expect_equal("retention_days", days, stack.config.logs.retention_days,
                             "logs.retention_days"),
                *floor_verdicts(stack, "OBS-1", "logs.retention_days", days),
            ]
        )  # fmt: skip


check = LogRetention()
