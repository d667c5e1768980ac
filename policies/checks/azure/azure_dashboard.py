"""Builds CKV_GW_OBS_74: the environment's portal dashboard charts response times, errors and
throughput (OBS-5), recognised by the gateway metrics it plots."""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, is_reference

# What each OBS-5 view needs on the dashboard: any one of these metric names.
VIEWS = {
    "response times": ("ApplicationGatewayTotalTime", "BackendLastByteResponseTime", "TimeTaken"),
    "error rates": ("FailedRequests", "ResponseStatus", "HttpStatus"),
    "throughput": ("TotalRequests", "Throughput", "RequestCount"),
}


class AzureDashboard(GroundworkCheck):
    id = "CKV_GW_OBS_74"
    name = "Dashboard shows response times, error rates and throughput"
    requirement = "OBS-5"
    severity = "LOW"
    resource_types = ("azurerm_portal_dashboard",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        content = body.get("dashboard_properties")
        if not content:
            return Verdict.failed("dashboard_properties is empty")
        text = str(content)
        missing = [view for view, names in VIEWS.items() if not any(n in text for n in names)]
        if missing:
            if is_reference(text) and "jsonencode" not in text:
                return Verdict.unknown(f"dashboard_properties is an expression: {text[:60]}")
            return Verdict.failed(f"no chart for {missing}")
        return Verdict.passed("response times, error rates and throughput")


check = AzureDashboard()
