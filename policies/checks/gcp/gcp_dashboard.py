"""Builds CKV_GW_OBS_44: the environment's dashboard charts response times (latency), error
rates (5xx) and throughput (request count) (OBS-5)."""

import json
from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, combine, is_reference

SIGNALS = {
    "response times": "total_latencies",
    "error rates": "5xx",
    "throughput": "request_count",
}


class Dashboard(GroundworkCheck):
    id = "CKV_GW_OBS_44"
    name = "Dashboard shows response times, error rates and throughput"
    requirement = "OBS-5"
    severity = "LOW"
    resource_types = ("google_monitoring_dashboard",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        text = body.get("dashboard_json")
        if not text:
            return Verdict.failed("dashboard_json is empty")
        if not is_reference(text):
            json.loads(text)  # a malformed dashboard raises ValueError -> UNKNOWN
        verdicts = [
            Verdict.failed(f"no widget shows {label} ({needle})")
            for label, needle in SIGNALS.items()
            if needle not in text
        ]
        return combine(verdicts or [Verdict.passed("latency, errors and throughput charted")])


check = Dashboard()
