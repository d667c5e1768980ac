"""Builds CKV_GW_OBS_5: the CloudWatch dashboard shows response times, error rates and
throughput of the load balancer (OBS-5)."""

import json
from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, is_reference

# What OBS-5 asks for -> a predicate on a metric name of AWS/ApplicationELB.
PANELS = {
    "response times": lambda name: name == "TargetResponseTime",
    "error rates": lambda name: "5XX" in name,
    "throughput": lambda name: name == "RequestCount",
}


class Dashboard(GroundworkCheck):
    id = "CKV_GW_OBS_5"
    name = "CloudWatch dashboard shows response times, error rates and throughput"
    requirement = "OBS-5"
    severity = "LOW"
    resource_types = ("aws_cloudwatch_dashboard",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        text = body.get("dashboard_body")
        if text is None:
            return Verdict.failed("dashboard_body is not set")
        try:
            dashboard = json.loads(str(text))
        except ValueError:
            if is_reference(text):
                return Verdict.unknown("dashboard_body is an expression")
            return Verdict.failed("dashboard_body is not JSON")
        names = set()
        for widget in dashboard.get("widgets") or []:
            namespace = None
            for row in (widget.get("properties") or {}).get("metrics") or []:
                if len(row) < 2 or not isinstance(row[0], str):
                    continue  # a metric-math row
                namespace = namespace if row[0] == "." else row[0]  # "." repeats the row above
                if namespace == "AWS/ApplicationELB":
                    names.add(str(row[1]))
        missing = [panel for panel, wanted in PANELS.items() if not any(map(wanted, names))]
        if missing:
            return Verdict.failed(f"no widget shows {', '.join(missing)}")
        return Verdict.passed("response times, error rates and throughput")


check = Dashboard()
