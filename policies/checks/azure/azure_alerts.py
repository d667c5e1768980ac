"""Builds CKV_GW_OBS_71: the alert action group receives the six OBS-2 alerts, each at its
severity (Azure: 0 critical, 2 warning): failed logins per IP, 5xx rate > 1 %, database
connection errors, p95 latency > 2 s, CPU > 80 % and memory > 85 % over 5 minutes (OBS-2).
Alerts are found by their construct names (`observability/<alert>`, `<alert>-<service>` for a
service other than the default). The alerts about a service exist once per Container App (one
per described service, APP-7): its CPU and memory alerts are scoped to it and its failed-logins
query reads its logs; the others are the environment's.

Behind Azure Front Door (CDN-1) the gateway's access log misses the errors Front Door returns
itself (origin unreachable, origin certificate refused), so a stack with a Front Door profile
also needs `front-door-5xx-rate` (constructs/azure/cdn.py): critical, over 1 %, to the same
action group, on the profile's `Percentage5XX` metric (namespace Microsoft.Cdn/profiles,
https://learn.microsoft.com/azure/azure-monitor/reference/supported-metrics/
microsoft-cdn-profiles-metrics), which exists from the profile's creation; a log query would
need a table that a fresh workspace does not have yet."""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, blocks, combine

ALERT_TYPES = ("azurerm_monitor_metric_alert", "azurerm_monitor_scheduled_query_rules_alert_v2")
# alert construct name -> (severity, threshold)
EXPECTED = {
    "failed-logins": (2, 0),  # the query itself keeps IPs with > 10 failures per minute
    "http-5xx-rate": (0, 1),
    "database-connection-errors": (0, 0),
    "latency-p95": (2, 2),
    "app-cpu": (2, 80),
    "app-memory": (2, 85),
}
# With a Front Door profile: the 5xx alert on its metric (name -> severity, threshold).
FRONT_DOOR_EXPECTED = {"front-door-5xx-rate": (0, 1)}
FRONT_DOOR_METRIC = ("Microsoft.Cdn/profiles", "Percentage5XX")
# One per Container App: whose scope (metric) or query (logs) names the app.
PER_APP = ("failed-logins", "app-cpu", "app-memory")


def watches(alert: dict[str, Any], app: str) -> bool:
    """Whether an alert is about Container App `app` (an address)."""
    if any(address_of(scope) == app for scope in alert.get("scopes") or []):
        return True
    return any(f"${{{app}." in str(c.get("query", "")) for c in blocks(alert, "criteria"))


def action_groups(alert: dict[str, Any]) -> set[str | None]:
    found = set()
    for action in blocks(alert, "action"):
        found.add(address_of(action.get("action_group_id")))
        found.update(address_of(group) for group in action.get("action_groups") or [])
    return found


class AzureAlerts(GroundworkCheck):
    id = "CKV_GW_OBS_71"
    name = "The six OBS-2 alerts exist with their severities and thresholds"
    requirement = "OBS-2"
    severity = "HIGH"
    resource_types = ("azurerm_monitor_action_group",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        expected = dict(EXPECTED)
        if stack.resources("azurerm_cdn_frontdoor_profile"):
            expected.update(FRONT_DOOR_EXPECTED)
        alerts: dict[str, list[dict[str, Any]]] = {}
        for kind in ALERT_TYPES:
            for alert in stack.resources(kind).values():
                path = str(alert.get("//", {}).get("metadata", {}).get("path", ""))
                if self.address not in action_groups(alert):
                    continue
                segment = path.split("/")[-1]
                for name in expected:
                    if segment == name or (name in PER_APP and segment.startswith(f"{name}-")):
                        alerts.setdefault(name, []).append(alert)
        apps = [f"azurerm_container_app.{n}" for n in stack.resources("azurerm_container_app")]
        profiles = {
            f"azurerm_cdn_frontdoor_profile.{n}"
            for n in stack.resources("azurerm_cdn_frontdoor_profile")
        }
        verdicts = []
        for name, (severity, threshold) in expected.items():
            found = alerts.get(name, [])
            if not found:
                verdicts.append(Verdict.failed(f"no {name} alert to this action group"))
                continue
            if name in PER_APP:
                verdicts += [
                    Verdict.failed(f"no {name} alert watches {app}")
                    for app in apps
                    if not any(watches(alert, app) for alert in found)
                ]
            for alert in found:
                if alert.get("severity") != severity:
                    verdicts.append(
                        Verdict.failed(f"{name}: severity {alert.get('severity')}, want {severity}")
                    )
                thresholds = [c.get("threshold") for c in blocks(alert, "criteria")]
                if threshold not in thresholds:
                    verdicts.append(
                        Verdict.failed(f"{name}: thresholds {thresholds}, want {threshold}")
                    )
                if alert.get("enabled") is False:
                    verdicts.append(Verdict.failed(f"{name} is disabled"))
                if name in FRONT_DOOR_EXPECTED and not any(
                    (c.get("metric_namespace"), c.get("metric_name")) == FRONT_DOOR_METRIC
                    and address_of(scope) in profiles
                    for c in blocks(alert, "criteria")
                    for scope in alert.get("scopes") or []
                ):
                    verdicts.append(
                        Verdict.failed(f"{name} does not watch a profile's {FRONT_DOOR_METRIC[1]}")
                    )
        return combine(verdicts or [Verdict.passed(f"{len(expected)} OBS-2 alerts")])


check = AzureAlerts()
