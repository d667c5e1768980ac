"""Builds CKV_GW_OBS_40: logs are kept for the environment's `logs.retention_days` (OBS-1).

- The project's _Default log bucket keeps logs for `logs.retention_days`, with the production
  floor. Cloud Logging encrypts at rest.
- An access-log bucket (a bucket other buckets log to) deletes every log object, its live
  version and any noncurrent version, once it is `logs.retention_days` old. In a versioned
  bucket a Delete rule on live objects only turns each log into a noncurrent version that
  outlives the retention (https://cloud.google.com/storage/docs/lifecycle: `age` counts from
  creation; `isLive`/`with_state` selects live, noncurrent (ARCHIVED) or both (ANY)).
"""

from typing import Any

from groundwork_policy import (
    GroundworkCheck,
    Stack,
    Verdict,
    address_of,
    blocks,
    combine,
    expect_equal,
    floor_verdicts,
)


def is_log_bucket(stack: Stack, address: str, body: dict[str, Any]) -> bool:
    """Whether another bucket of the stack sends its usage logs to this one."""
    name = body.get("name")
    for other in stack.graph.of_type("google_storage_bucket").values():
        for logging in blocks(other, "logging"):
            target = logging.get("log_bucket")
            if address_of(target) == address or (name is not None and target == name):
                return True
    return False


def log_bucket_retention(body: dict[str, Any], days: int) -> Verdict:
    deletes = [
        (blocks(rule, "condition") or [{}])[0]
        for rule in blocks(body, "lifecycle_rule")
        if (blocks(rule, "action") or [{}])[0].get("type") == "Delete"
    ]
    states = {str(c.get("with_state")) for c in deletes if c.get("age") == days}
    verdicts = []
    if not states & {"LIVE", "ANY"}:
        verdicts.append(Verdict.failed(f"no rule deletes live logs at {days} days"))
    versioned = (blocks(body, "versioning") or [{}])[0].get("enabled") is True
    if versioned and not states & {"ARCHIVED", "ANY"}:
        verdicts.append(
            Verdict.failed(
                f"versioned, and no rule deletes noncurrent logs at {days} days: deleted logs "
                "outlive the retention as noncurrent versions"
            )
        )
    return combine(verdicts or [Verdict.passed(f"every version of a log goes at {days} days")])


class LogRetention(GroundworkCheck):
    id = "CKV_GW_OBS_40"
    name = "Logs (log bucket, access-log buckets) are kept for logs.retention_days"
    requirement = "OBS-1"
    severity = "MEDIUM"
    resource_types = ("google_logging_project_bucket_config", "google_storage_bucket")

    def applies(self, body: dict[str, Any], stack: Stack) -> bool:
        if self._address[0] == "google_storage_bucket":
            return is_log_bucket(stack, self.address, body)
        return True

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        if self._address[0] == "google_storage_bucket":
            return log_bucket_retention(body, stack.config.logs.retention_days)
        days = body.get("retention_days")
        return combine(
            [
                expect_equal("retention_days", days, stack.config.logs.retention_days,
                             "logs.retention_days"),
                *floor_verdicts(stack, "OBS-1", "logs.retention_days", days),
            ]
        )  # fmt: skip


check = LogRetention()
