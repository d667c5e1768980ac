"""Builds CKV_GW_OBS_41: the six OBS-2 alerts exist with their thresholds and severities, and
every alert policy carries a severity (OBS-2). A missing or changed alert fails every alert
policy of the stack, so the finding names the stack's alerting as a whole.

Each policy is also judged on what it measures:
- a condition on Cloud Run's per-container CPU or memory selects one container
  (`metric.label.container_name`): otherwise a sidecar's utilization (the Cloud SQL Auth
  Proxy) counts as the app's (https://cloud.google.com/monitoring/api/metrics_gcp_p_z#gcp-run);
- the database-connection-error condition counts errors over a 2-to-10-minute rolling
  window (alignment period, a look-back that slides every minute:
  https://cloud.google.com/monitoring/alerts/concepts-indepth, "Alignment period") with a
  summing aligner, fires as soon as the count is above 0 (COMPARISON_GT 0: OBS-2 asks for
  "any database connection error", critical), and holds for less than that window. The
  metric is log-based: a minute with no error has no point, so a 60 s window held for 5
  minutes fires only when every minute has errors, and a single error or a 4-minute burst
  never pages.
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
    "/database_connection_errors": (0, "CRITICAL", "any database connection error"),
}
SEVERITIES = {"CRITICAL", "ERROR", "WARNING"}
PER_CONTAINER = ("run.googleapis.com/container/cpu/", "run.googleapis.com/container/memory/")
DB_ERRORS_SECONDS = (120, 600)  # the rolling window that counts database errors
COUNTING = ("ALIGN_SUM", "ALIGN_DELTA", "ALIGN_COUNT")


def seconds(value: Any) -> int | None:
    text = str(value)
    return int(text[:-1]) if re.fullmatch(r"\d+s", text) else None


def counts_errors(threshold: dict[str, Any]) -> Verdict | None:
    """A failure unless the condition counts errors over a rolling window and fires at once."""
    low, high = DB_ERRORS_SECONDS
    aggregations = blocks(threshold, "aggregations")
    window = seconds(aggregations[0].get("alignment_period")) if aggregations else None
    aligner = aggregations[0].get("per_series_aligner") if aggregations else None
    held = seconds(threshold.get("duration", "0s"))
    if window is None or not low <= window <= high or aligner not in COUNTING:
        return Verdict.failed(
            f"database errors are not counted over a {low}-{high} s window ({aligner} over "
            f"{window} s): a log-based metric has no point in a minute without errors"
        )
    value, comparison = threshold.get("threshold_value"), threshold.get("comparison")
    if comparison != "COMPARISON_GT" or not isinstance(value, (int, float)) or value != 0:
        return Verdict.failed(
            f"database errors page when {comparison} {value}, not on the first one "
            "(COMPARISON_GT 0): OBS-2 asks for any database connection error"
        )
    if held is None or held >= window:
        return Verdict.failed(
            f"database errors must pass the threshold for {threshold.get('duration')}, not "
            f"less than the {window} s window: a single error or a short burst never pages"
        )
    return None


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
            if "/database_connection_errors" in flt and (v := counts_errors(threshold)):
                verdicts.append(v)
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
