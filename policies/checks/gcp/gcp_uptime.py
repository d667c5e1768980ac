"""Builds CKV_GW_OBS_43: an uptime check probes `https://<domain><health path>` from outside (the
health path of the service routed at `/` on the domain, synth/app.py) and an
alert policy watches it (OBS-4): an uptime check alone only draws a chart; someone is told
only through an alert policy on `uptime_check/check_passed` for its `check_id`
(https://cloud.google.com/monitoring/uptime-checks/uptime-alerting)."""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks, combine


class UptimeCheck(GroundworkCheck):
    id = "CKV_GW_OBS_43"
    name = "Uptime check probes the default route's health path and an alert policy watches it"
    requirement = "OBS-4"
    severity = "MEDIUM"
    resource_types = ("google_monitoring_uptime_check_config",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        http = (blocks(body, "http_check") or [{}])[0]
        resource = (blocks(body, "monitored_resource") or [{}])[0]
        host = (resource.get("labels") or {}).get("host")
        verdicts = []
        front = next(
            s
            for s in stack.config.services
            if s.route is not None
            and s.route.path_prefix == "/"
            and s.route.host in (None, stack.config.domain)
        )
        if http.get("path") != front.health.path:
            verdicts.append(Verdict.failed(f"path is {http.get('path')!r}"))
        if http.get("use_ssl") is not True:
            verdicts.append(Verdict.failed("the check does not use HTTPS"))
        if host != stack.config.domain:
            verdicts.append(Verdict.failed(f"host {host!r}; want {stack.config.domain}"))
        check_id = f"{self.address}.uptime_check_id"
        alerted = any(
            "uptime_check/check_passed" in str(policy) and check_id in str(policy)
            for policy in stack.resources("google_monitoring_alert_policy").values()
        )
        if not alerted:
            verdicts.append(Verdict.failed("no alert policy watches this uptime check"))
        return combine(verdicts or [Verdict.passed(f"https://{host}{front.health.path}")])


check = UptimeCheck()
