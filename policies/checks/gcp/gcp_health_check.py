"""Builds CKV_GW_EDGE_43: each Cloud Run service's container probes `GET <its health path>` on its
own port (synth/app.py), the startup (readiness) probe every `interval_seconds` (at most 240,
Cloud Run's limit) and the liveness probe three times as long apart (at most 3600), each with
the described `timeout_seconds` (EDGE-4; https://cloud.google.com/run/docs/configuring/
healthchecks). Today's service: every 10 s and 30 s.

Cloud Run gives instances a fixed 10 s after SIGTERM and drains requests itself; the 30 s
request timeout bounds what an instance still serves. Neither has another switch to check.
"""

from typing import Any

from gcp_app_services import described
from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks, combine


class HealthProbes(GroundworkCheck):
    id = "CKV_GW_EDGE_43"
    name = "Cloud Run probes its described health path: readiness and liveness at its interval"
    requirement = "EDGE-4"
    severity = "MEDIUM"
    resource_types = ("google_cloud_run_v2_service",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        service = described(stack.config, body)
        if service is None:
            return Verdict.failed(f"{body.get('name')!r} is no described service (APP-7)")
        port = service.port
        interval = service.health.interval_seconds
        periods = {"startup_probe": min(interval, 240), "liveness_probe": min(3 * interval, 3600)}
        verdicts = []
        # The serving container is the one with a port; sidecars (the Cloud SQL Auth Proxy)
        # take no traffic and are sized and probed for their own job.
        containers = [
            c
            for t in blocks(body, "template")
            for c in blocks(t, "containers")
            if blocks(c, "ports") or len(blocks(t, "containers")) == 1
        ]
        if not containers:
            return Verdict.failed("no container in the template")
        for container in containers:
            for probe_name, period in periods.items():
                probe = (blocks(container, probe_name) or [None])[0]
                if probe is None:
                    verdicts.append(Verdict.failed(f"{probe_name} is not set"))
                    continue
                http = (blocks(probe, "http_get") or [{}])[0]
                if http.get("path") != service.health.path:
                    verdicts.append(Verdict.failed(f"{probe_name} path is {http.get('path')}"))
                if http.get("port") not in (None, port):
                    verdicts.append(Verdict.failed(f"{probe_name} port {http.get('port')}"))
                if probe.get("timeout_seconds") != service.health.timeout_seconds:
                    verdicts.append(
                        Verdict.failed(
                            f"{probe_name} timeout {probe.get('timeout_seconds')} s; want "
                            f"{service.health.timeout_seconds} s"
                        )
                    )
                if probe.get("period_seconds") != period:
                    verdicts.append(
                        Verdict.failed(
                            f"{probe_name} every {probe.get('period_seconds')} s; want {period} s"
                        )
                    )
        return combine(
            verdicts or [Verdict.passed(f"{service.health.path} probes every {periods} s")]
        )


check = HealthProbes()
