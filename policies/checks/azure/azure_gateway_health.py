"""Builds CKV_GW_EDGE_74: the Application Gateway probes each routed service on GET of its
described health path at its described interval and drains connections for 30 s before taking a
backend out (EDGE-4, the load balancer's side). A backend setting's service is the Container App
(tag `groundwork-service`, synth/app.py) in the pools the gateway pairs it with, by rule or path
rule; settings paired with no described service fail."""

from typing import Any

from azure_app_description import described
from groundwork_policy import (
    GroundworkCheck,
    Stack,
    Verdict,
    address_of,
    blocks,
    combine,
    expect_equal,
)

from synth.app import Service


def settings_services(body: dict[str, Any], stack: Stack) -> dict[str, set[str | None]]:
    """`{backend settings name: described services}` of a gateway: the services whose apps are
    in the pools each setting is paired with (rules and path rules)."""
    apps = stack.resources("azurerm_container_app")
    pool_services: dict[str, set[str | None]] = {}
    for pool in blocks(body, "backend_address_pool"):
        found = pool_services.setdefault(pool.get("name"), set())
        for fqdn in pool.get("fqdns") or []:
            address = address_of(fqdn) or ""
            app = (
                apps.get(address.split(".", 1)[-1])
                if address.startswith("azurerm_container_app.")
                else None
            )
            service = described(stack, app) if app is not None else None
            found.add(service.name if service is not None else None)
    pairs = [
        (rule.get("backend_address_pool_name"), rule.get("backend_http_settings_name"))
        for rule in blocks(body, "request_routing_rule")
    ]
    for path_map in blocks(body, "url_path_map"):
        pairs.append(
            (
                path_map.get("default_backend_address_pool_name"),
                path_map.get("default_backend_http_settings_name"),
            )
        )
        pairs += [
            (rule.get("backend_address_pool_name"), rule.get("backend_http_settings_name"))
            for rule in blocks(path_map, "path_rule")
        ]
    paired: dict[str, set[str | None]] = {}
    for pool, settings in pairs:
        if pool is not None and settings is not None:
            paired.setdefault(settings, set()).update(pool_services.get(pool, {None}))
    return paired


class AzureGatewayHealth(GroundworkCheck):
    id = "CKV_GW_EDGE_74"
    name = "Application Gateway probes each service's health path and drains for 30 s"
    requirement = "EDGE-4"
    severity = "MEDIUM"
    resource_types = ("azurerm_application_gateway",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        probes = {p.get("name"): p for p in blocks(body, "probe")}
        settings = blocks(body, "backend_http_settings")
        if not settings:
            return Verdict.failed("no backend_http_settings")
        assert stack.config is not None
        services: dict[str, Service] = {s.name: s for s in stack.config.services}
        paired = settings_services(body, stack)
        verdicts = []
        for setting in settings:
            name = setting.get("name")
            probe = probes.get(setting.get("probe_name"))
            behind = paired.get(name, set())
            if len(behind) != 1 or None in behind:
                verdicts.append(
                    Verdict.failed(f"{name}: serves {sorted(map(str, behind))}, not one service")
                )
                continue
            service = services[next(iter(behind))]  # type: ignore[index]
            if probe is None:
                verdicts.append(Verdict.failed(f"{name}: no custom health probe"))
            else:
                verdicts += [
                    expect_equal(f"{name} probe path", probe.get("path"), service.health.path,
                                 f"{service.name} health.path"),
                    expect_equal(f"{name} probe interval", probe.get("interval"),
                                 service.health.interval_seconds,
                                 f"{service.name} health.interval_seconds"),
                ]  # fmt: skip
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
