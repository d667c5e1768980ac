"""Builds CKV_GW_OBS_1: every log group keeps logs for the environment's retention, encrypted
with a customer-managed key (OBS-1; the production floor comes from synth.config.FLOORS)."""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, combine, expect_equal, floor_verdicts


class LogRetention(GroundworkCheck):
    id = "CKV_GW_OBS_1"
    name = "CloudWatch log groups keep the environment's log retention and use a KMS key"
    requirement = "OBS-1"
    severity = "MEDIUM"
    resource_types = ("aws_cloudwatch_log_group",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        # Absent means "never expire" to the provider: not the configured retention.
        retention = body.get("retention_in_days", 0)
        verdicts = [
            expect_equal("retention_in_days", retention, stack.config.logs.retention_days,
                         "logs.retention_days"),
            *floor_verdicts(stack, "OBS-1", "logs.retention_days", retention),
        ]  # fmt: skip
        if not body.get("kms_key_id"):
            verdicts.append(Verdict.failed("kms_key_id is not set"))
        return combine(verdicts)


check = LogRetention()
