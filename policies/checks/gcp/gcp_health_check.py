"""Builds CKV_GW_EDGE_43: the Cloud Run container probes `GET /health` on its own port, the
startup (readiness) probe every 10 s and the liveness probe every 30 s (EDGE-4).

Cloud Run gives instances a fixed 10 s after SIGTERM and drains requests itself; the 30 s
request timeout bounds what an instance still serves. Neither has another switch to check.
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks, combine

PROBES = {"startup_probe": 10, "liveness_probe": 30}


class HealthProbes(GroundworkCheck):
    id = "CKV_GW_EDGE_43"
    name = "Cloud Run probes GET /health: readiness every 10 s, liveness every 30 s"
    requirement = "EDGE-4"
    severity = "MEDIUM"
    resource_types = ("google_cloud_run_v2_service",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        port = stack.config.service.port
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
            for probe_name, period in PROBES.items():
                probe = (blocks(container, probe_name) or [None])[0]
                if probe is None:
                    verdicts.append(Verdict.failed(f"{probe_name} is not set"))
                    continue
                http = (blocks(probe, "http_get") or [{}])[0]
                if http.get("path") != "/health":
                    verdicts.append(Verdict.failed(f"{probe_name} path is {http.get('path')}"))
                if http.get("port") not in (None, port):
                    verdicts.append(Verdict.failed(f"{probe_name} port {http.get('port')}"))
                if probe.get("period_seconds") != period:
                    verdicts.append(
                        Verdict.failed(
                            f"{probe_name} every {probe.get('period_seconds')} s; want {period} s"
                        )
                    )
        return combine(verdicts or [Verdict.passed("/health probes every 10 s and 30 s")])


check = HealthProbes()
