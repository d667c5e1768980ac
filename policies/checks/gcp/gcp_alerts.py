"""Builds CKV_GW_OBS_41: the six OBS-2 alerts exist with their thresholds and severities, and
every alert policy carries a severity (OBS-2). A missing or changed alert fails every alert
policy of the stack, so the finding names the stack's alerting as a whole.

Each policy is also judged on what it measures:
- a condition on Cloud Run's per-container CPU or memory selects one container
  (`metric.label.container_name`): otherwise a sidecar's utilization (the Cloud SQL Auth
  Proxy) counts as the app's (https://cloud.google.com/monitoring/api/metrics_gcp_p_z#gcp-run);
- the database-connection-error condition holds for 2 to 10 minutes before it fires: with
  Direct VPC egress a new instance may wait "a minute or more" for connections
  (https://cloud.google.com/run/docs/configuring/vpc-direct-vpc, Limitations), so a 0 s
  condition pages on every scale-out, while more than 10 minutes lets an outage go unseen.
"""

import re
from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks, combine

# metric filter fragment -> (threshold, severity, what it is)
ALERTS = {
    "run.googleapis.com/container/cpu/utilizations": (0.8, "WARNING", "CPU > 80 %"),
    "run.googleapis.com/container/memory/utilizations": (0.85, "WARNING", "memory > 85 %"),
    "https/total_latencies": (2000, "WARNING", "p95 latency > 2 s"),
    "https/request_count": (0.01, "CRITICAL", "5xx > 1 %"),
    "/failed_logins": (10, "WARNING", "failed logins > 10/min per IP"),
    "/database_connection_errors": (0, "CRITICAL", "database connection errors"),
}
SEVERITIES = {"CRITICAL", "ERROR", "WARNING"}
PER_CONTAINER = ("run.googleapis.com/container/cpu/", "run.googleapis.com/container/memory/")
DB_ERRORS_SECONDS = (120, 600)


def own_conditions(body: dict[str, Any]) -> list[Verdict]:
    """What this policy's own conditions measure (see the module docstring)."""
    verdicts = []
    for condition in blocks(body, "conditions"):
        for threshold in blocks(condition, "condition_threshold"):
            flt = str(threshold.get("filter"))
            if any(p in flt for p in PER_CONTAINER) and "metric.label.container_name" not in flt:
                verdicts.append(
                    Verdict.failed("per-container utilization of every container, sidecars too")
                )
            if "/database_connection_errors" in flt:
                duration = str(threshold.get("duration", "0s"))
                seconds = int(duration[:-1]) if re.fullmatch(r"\d+s", duration) else None
                low, high = DB_ERRORS_SECONDS
                if seconds is None or not low <= seconds <= high:
                    verdicts.append(
                        Verdict.failed(
                            f"database errors fire after {duration}, not {low}-{high} s: "
                            "every scale-out's first minute would page, or an outage would not"
                        )
                    )
    return verdicts


class Alerts(GroundworkCheck):
    id = "CKV_GW_OBS_41"
    name = "The six OBS-2 alerts exist with their thresholds and severities"
    requirement = "OBS-2"
    severity = "HIGH"
    resource_types = ("google_monitoring_alert_policy",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        verdicts = own_conditions(body)
        if body.get("severity") not in SEVERITIES:
            verdicts.append(Verdict.failed(f"severity is {body.get('severity')!r}"))
        found: dict[str, list[tuple[Any, Any]]] = {fragment: [] for fragment in ALERTS}
        for policy in stack.resources("google_monitoring_alert_policy").values():
            for condition in blocks(policy, "conditions"):
                for threshold in blocks(condition, "condition_threshold"):
                    for fragment in ALERTS:
                        if fragment in str(threshold.get("filter")):
                            found[fragment].append(
                                (threshold.get("threshold_value"), policy.get("severity"))
                            )
        for fragment, (value, severity, label) in ALERTS.items():
            if not found[fragment]:
                verdicts.append(Verdict.failed(f"no alert on {label}"))
            elif not any(
                actual is not None and float(actual) <= value and actual_severity == severity
                for actual, actual_severity in found[fragment]
            ):
                verdicts.append(
                    Verdict.failed(f"{label}: {found[fragment]}, want <= {value} at {severity}")
                )
        return combine(verdicts or [Verdict.passed("six OBS-2 alerts with severities")])


check = Alerts()
