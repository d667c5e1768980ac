"""Builds CKV_GW_APP_76: the stack runs exactly the services the environment describes (APP-7).

Judged once per stack, on its Container Apps environment. Every `services:` entry (synth/app.py;
without one, today's single service) must be exactly one Container App tagged
`groundwork-service: <name>` (constructs/azure/service.py), and no Container App may run a
service the description does not name. Each one must have:
- its port: the ingress `target_port` and the `PORT` variable;
- its health path on the readiness and liveness probes;
- exactly its non-secret `environment` plus the platform wiring of what it uses
  (`PLATFORM_ENVIRONMENT["azure"]` in synth/app.py: nothing else, nothing missing);
- exactly the variables of the catalog secrets it lists (X, and X_PREVIOUS / X_NEXT for a
  generated X), each a secret reference, but an external secret whose entry says
  `value_set: false`, which it must not read yet (CKV_GW_DEPLOY_91);
- its replica bounds;
- its route: a routed service has ingress reachable from the VNet and is a backend of an
  Application Gateway rule for its host (a path rule for `/api` is `/api` and `/api/*`, the
  host's default for `/`); an internal service (`route: null`) has no VNet-facing ingress and
  is no gateway backend.
"""

from __future__ import annotations

from typing import Any

from groundwork_policy import (
    GroundworkCheck,
    Stack,
    Verdict,
    address_of,
    blocks,
    combine,
    expect_equal,
)

from synth.app import PLATFORM_ENVIRONMENT, Service, secret_variables, unset_external_secrets
from synth.config import azure_origin_host

SERVICE_TAG = "groundwork-service"
APP = "azurerm_container_app"
GATEWAY = "azurerm_application_gateway"


def service_of(app: dict[str, Any]) -> str | None:
    """The described service a Container App runs (its `groundwork-service` tag)."""
    tags = app.get("tags") or {}
    return tags.get(SERVICE_TAG) if isinstance(tags, dict) else None


def described(stack: Stack, app: dict[str, Any]) -> Service | None:
    """The config entry of the service a Container App runs; None if it names none."""
    assert stack.config is not None
    name = service_of(app)
    return next((s for s in stack.config.services if s.name == name), None)


def container_of(app: dict[str, Any]) -> dict[str, Any]:
    """The app's (first) container: the one the release pipeline deploys."""
    return (blocks((blocks(app, "template") or [{}])[0], "container") or [{}])[0]


def env_of(app: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """`{name: env item}` of the app's container."""
    return {item.get("name"): item for item in container_of(app).get("env") or []}


def wiring(stack: Stack, service: Service) -> set[str]:
    """The platform variables the Azure constructs set for `service` (synth/app.py)."""
    assert stack.config is not None
    uses = stack.config.service_uses(service)
    return {
        name
        for key, names in PLATFORM_ENVIRONMENT["azure"].items()
        if key == "always" or key in uses
        for name in names
    }


def secret_env(stack: Stack, service: Service) -> set[str]:
    """The variables of the catalog secrets `service` lists, but an external secret whose
    value nobody has set yet (`value_set: false`), which no service reads (DEPLOY-6)."""
    assert stack.config is not None
    catalog = stack.config.secrets.catalog
    unset = unset_external_secrets(stack.config)
    return {
        v
        for name in service.secrets
        if name not in unset
        for v in secret_variables(name, catalog[name])
    }


def gateway_paths(stack: Stack, app_address: str) -> dict[str, set[str]]:
    """`{host: path patterns}` under which a gateway sends requests to this app; a host's
    default backend (Basic rule or path map default) is `/*`."""
    found: dict[str, set[str]] = {}
    for gateway in stack.resources(GATEWAY).values():
        pools = {
            pool.get("name")
            for pool in blocks(gateway, "backend_address_pool")
            if any(address_of(fqdn) == app_address for fqdn in pool.get("fqdns") or [])
        }
        listeners = {
            listener.get("name"): listener.get("host_name")
            for listener in blocks(gateway, "http_listener")
        }
        maps = {m.get("name"): m for m in blocks(gateway, "url_path_map")}
        for rule in blocks(gateway, "request_routing_rule"):
            host = listeners.get(rule.get("http_listener_name"))
            if rule.get("backend_address_pool_name") in pools:
                found.setdefault(str(host), set()).add("/*")
            path_map = maps.get(rule.get("url_path_map_name"))
            if path_map is None:
                continue
            if path_map.get("default_backend_address_pool_name") in pools:
                found.setdefault(str(host), set()).add("/*")
            for path_rule in blocks(path_map, "path_rule"):
                if path_rule.get("backend_address_pool_name") in pools:
                    found.setdefault(str(host), set()).update(path_rule.get("paths") or [])
    return found


def expected_paths(stack: Stack, service: Service) -> dict[str, set[str]]:
    """What `gateway_paths` must be for `service`: its host and prefix, or nothing. The
    service at `/` on the domain is also the default of every route host that has no `/`
    service of its own (constructs/azure/edge.py)."""
    config = stack.config
    assert config is not None
    if service.route is None:
        return {}
    # Behind Front Door the gateway answers the domain's routes at the origin host.
    domain = azure_origin_host(config) or config.domain
    host = service.route.host or domain
    prefix = service.route.path_prefix
    wanted = {host: {"/*"} if prefix == "/" else {prefix, f"{prefix}/*"}}
    if prefix == "/" and host == domain:
        routed = [s.route for s in config.services if s.route is not None]
        for other in {r.host for r in routed if r.host not in (None, config.domain)}:
            if not any(r.host == other and r.path_prefix == "/" for r in routed):
                wanted[other] = {"/*"}
    return wanted


class AzureAppDescription(GroundworkCheck):
    id = "CKV_GW_APP_76"
    name = "Every described service runs once with its port, health, env, secrets, scale and route"
    requirement = "APP-7"
    severity = "HIGH"
    resource_types = ("azurerm_container_app_environment",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        apps = {
            name: app
            for name, app in stack.resources(APP).items()
            if address_of(app.get("container_app_environment_id")) == self.address
        }
        verdicts = []
        for name, app in apps.items():
            if described(stack, app) is None:
                verdicts.append(
                    Verdict.failed(
                        f"{APP}.{name} runs {service_of(app)!r}, not a described service"
                    )
                )
        for service in stack.config.services:
            running = [n for n, app in apps.items() if service_of(app) == service.name]
            if len(running) != 1:
                verdicts.append(
                    Verdict.failed(f"service {service.name!r} runs as {len(running)} apps")
                )
                continue
            verdicts += self._service(stack, service, running[0], apps[running[0]])
        return combine(verdicts or [Verdict.failed("no service described")])

    def _service(
        self, stack: Stack, service: Service, name: str, app: dict[str, Any]
    ) -> list[Verdict]:
        where = f"{service.name} ({APP}.{name})"
        ingress = (blocks(app, "ingress") or [{}])[0]
        template = (blocks(app, "template") or [{}])[0]
        container = container_of(app)
        env = env_of(app)
        verdicts = [
            expect_equal(f"{where} ingress.target_port", ingress.get("target_port"), service.port,
                         "port"),
            expect_equal(f"{where} PORT", (env.get("PORT") or {}).get("value"), str(service.port),
                         "port"),
            expect_equal(f"{where} min_replicas", template.get("min_replicas"),
                         service.min_replicas, "min_replicas"),
            expect_equal(f"{where} max_replicas", template.get("max_replicas"),
                         service.max_replicas, "max_replicas"),
        ]  # fmt: skip
        for kind in ("readiness_probe", "liveness_probe"):
            probes = blocks(container, kind) or [{}]
            verdicts.append(
                expect_equal(f"{where} {kind}.path", probes[0].get("path"), service.health.path,
                             "health.path")
            )  # fmt: skip
        secret_names = {n for n, item in env.items() if "secret_name" in item}
        plain = {n: item.get("value") for n, item in env.items() if "secret_name" not in item}
        wanted_plain = set(service.environment) | wiring(stack, service)
        if set(plain) != wanted_plain:
            verdicts.append(
                Verdict.failed(
                    f"{where} variables {sorted(plain)}; described {sorted(wanted_plain)}"
                )
            )
        for variable, value in service.environment.items():
            if variable in plain and plain[variable] != value:
                verdicts.append(
                    Verdict.failed(f"{where} {variable}={plain[variable]!r}; described {value!r}")
                )
        wanted_secrets = secret_env(stack, service)
        if secret_names != wanted_secrets:
            verdicts.append(
                Verdict.failed(
                    f"{where} secret variables {sorted(secret_names)}; described "
                    f"{sorted(wanted_secrets)}"
                )
            )
        routed = service.route is not None
        if ingress.get("external_enabled", False) is not routed:
            verdicts.append(
                Verdict.failed(
                    f"{where} ingress.external_enabled is {ingress.get('external_enabled')}; "
                    f"the service is {'routed' if routed else 'internal (route: null)'}"
                )
            )
        paths = gateway_paths(stack, f"{APP}.{name}")
        wanted_paths = expected_paths(stack, service)
        if paths != wanted_paths:
            verdicts.append(
                Verdict.failed(f"{where} gateway routes {paths}; described {wanted_paths}")
            )
        if not any(v.outcome.name == "FAIL" for v in verdicts):
            verdicts.append(Verdict.passed(f"{where} as described"))
        return verdicts


check = AzureAppDescription()
