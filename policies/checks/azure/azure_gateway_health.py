"""Builds CKV_GW_EDGE_74: the Application Gateway probes the app on GET /health every 10 s and
drains connections for 30 s before taking a backend out (EDGE-4, the load balancer's side)."""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks, combine, expect_equal


class AzureGatewayHealth(GroundworkCheck):
    id = "CKV_GW_EDGE_74"
    name = "Application Gateway probes /health every 10 s and drains for 30 s"
    requirement = "EDGE-4"
    severity = "MEDIUM"
    resource_types = ("azurerm_application_gateway",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        probes = {p.get("name"): p for p in blocks(body, "probe")}
        settings = blocks(body, "backend_http_settings")
        if not settings:
            return Verdict.failed("no backend_http_settings")
        verdicts = []
        for setting in settings:
            name = setting.get("name")
            probe = probes.get(setting.get("probe_name"))
            if probe is None:
                verdicts.append(Verdict.failed(f"{name}: no custom health probe"))
            else:
                verdicts += [
                    expect_equal(f"{name} probe path", probe.get("path"), "/health", "EDGE-4"),
                    expect_equal(f"{name} probe interval", probe.get("interval"), 10, "EDGE-4"),
                ]
            draining = (blocks(setting, "connection_draining") or [{}])[0]
            if draining.get("enabled") is not True:
                verdicts.append(Verdict.failed(f"{name}: connection draining is off"))
            else:
                verdicts.append(
                    expect_equal(
                        f"{name} drain_timeout_sec", draining.get("drain_timeout_sec"), 30, "EDGE-4"
                    )
                )
        return combine(verdicts)


check = AzureGatewayHealth()
