"""Builds CKV_GW_OBS_43: an uptime check probes `https://<domain>/health` from outside (OBS-4)."""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks, combine


class UptimeCheck(GroundworkCheck):
    id = "CKV_GW_OBS_43"
    name = "Uptime check probes https://<domain>/health"
    requirement = "OBS-4"
    severity = "MEDIUM"
    resource_types = ("google_monitoring_uptime_check_config",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        http = (blocks(body, "http_check") or [{}])[0]
        resource = (blocks(body, "monitored_resource") or [{}])[0]
        host = (resource.get("labels") or {}).get("host")
        verdicts = []
        if http.get("path") != "/health":
            verdicts.append(Verdict.failed(f"path is {http.get('path')!r}"))
        if http.get("use_ssl") is not True:
            verdicts.append(Verdict.failed("the check does not use HTTPS"))
        if host != stack.config.domain:
            verdicts.append(Verdict.failed(f"host {host!r}; want {stack.config.domain}"))
        return combine(verdicts or [Verdict.passed(f"https://{host}/health")])


check = UptimeCheck()
