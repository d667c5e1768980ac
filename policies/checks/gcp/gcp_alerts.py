"""Builds CKV_GW_OBS_41: the six OBS-2 alerts exist with their thresholds and severities, and
every alert policy carries a severity (OBS-2). A missing or changed alert fails every alert
policy of the stack, so the finding names the stack's alerting as a whole."""

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


class Alerts(GroundworkCheck):
    id = "CKV_GW_OBS_41"
    name = "The six OBS-2 alerts exist with their thresholds and severities"
    requirement = "OBS-2"
    severity = "HIGH"
    resource_types = ("google_monitoring_alert_policy",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        verdicts = []
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
